package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/uptrace/bun"
)

// SMSReceipt is one delivery receipt for one part of an outbound SMS.
type SMSReceipt struct {
	Provider, ProviderMessageID string
	// ClientRef is our message id, echoed by the provider: it finds the
	// message when a worker died before recording the provider's ids.
	ClientRef string
	// Status is the provider's: delivered, accepted, buffered, expired,
	// failed, rejected, unknown.
	Status  string
	ErrCode int
}

// errCodeOptOut in a receipt means the recipient's carrier reports them
// as having opted out (the rule: err-code 9 marks the opt-out).
const errCodeOptOut = 9

// ApplyReceipt moves a part, then its message, forward: the message is
// delivered when every part is, failed when any part failed. Stale
// receipts change nothing (nil change).
//
// A receipt for a part nobody recorded yet is not lost: when its
// client-ref names one of our outbound SMS, the part is adopted for that
// message; otherwise it is stored as a pending part (a message_parts row
// without a message), which RecordSent adopts, with its status, when it
// records that provider id. Either way it is committed before the caller
// acknowledges it, and it changes no message until its part is known.
//
// Locks are taken in RecordSent's order, the message first and then its
// parts, so the two cannot deadlock; a transaction PostgreSQL aborts for
// another reason (a deadlock with some other path) is run again, up to
// receiveAttempts times, rather than answered 5xx.
func (s *Store) ApplyReceipt(ctx context.Context, r SMSReceipt) (*Change, error) {
	for attempt := 1; ; attempt++ {
		ch, err := s.applyReceipt(ctx, r)
		if err == nil || attempt == receiveAttempts || !isTransient(err) || ctx.Err() != nil {
			return ch, err
		}
	}
}

// receiptPasses bounds applyReceipt's re-reads of a part that another
// transaction changed under it (recorded, adopted, or stored pending by
// a twin receipt): each re-read follows someone else's commit.
const receiptPasses = 4

// PendingReceiptAge is how long a pending receipt (one whose send was
// never recorded) is kept: RecordSent runs seconds after the provider
// accepted a message, so an older one will never be claimed.
const PendingReceiptAge = 24 * time.Hour

// PendingReceiptCap bounds how many pending receipts are kept (the newest),
// so a flood of receipts for ids nobody sent cannot grow the table.
const PendingReceiptCap = 10000

// partStatus maps a provider's receipt status to a part's.
func partStatus(status string) string {
	switch status {
	case "delivered":
		return "delivered"
	case "failed", "rejected", "expired":
		return "failed"
	}
	return "sent"
}

// applyReceipt is one attempt of ApplyReceipt.
func (s *Store) applyReceipt(ctx context.Context, r SMSReceipt) (*Change, error) {
	var ch *Change
	err := s.inTx(ctx, func(tx bun.Tx) error {
		status := partStatus(r.Status)
		for range receiptPasses {
			msgID, found, err := partMessage(ctx, tx, r)
			if err != nil {
				return err
			}
			var m *Message
			if msgID != 0 {
				if m, err = lockMessage(ctx, tx, msgID); err != nil {
					return err
				}
			} else if m, err = lockClientRef(ctx, tx, r.ClientRef); err != nil {
				return err
			}
			if m == nil && r.ClientRef != "" {
				// Parley sets client-ref on every send, so a receipt whose
				// client-ref names none of our messages is another
				// application's (on the same provider account): acknowledged,
				// not kept.
				return nil
			}
			if m == nil { // not attributable to a message yet: keep it pending
				done, err := keepPending(ctx, tx, r, status, found)
				if done || err != nil {
					return err
				}
				continue // the part changed under us: read it again
			}
			optOut := r.ErrCode == errCodeOptOut
			if msgID == 0 {
				// Found by client-ref (the worker has not recorded the
				// ids): adopt the part, pending or new, for the message
				// now locked. The record waits on that lock, then finds it.
				var adopted []int
				err := tx.NewRaw(`INSERT INTO message_parts (message_id, provider, provider_message_id) VALUES (?, ?, ?)
					ON CONFLICT (provider, provider_message_id) DO UPDATE SET message_id = excluded.message_id, updated_at = now()
					WHERE message_parts.message_id IS NULL
					RETURNING err_code`, m.ID, r.Provider, r.ProviderMessageID).Scan(ctx, &adopted)
				if err != nil && !errors.Is(err, sql.ErrNoRows) {
					return fmt.Errorf("adopt part: %w", err)
				}
				if len(adopted) == 0 {
					continue // a part of another message: read it again
				}
				optOut = optOut || adopted[0] == errCodeOptOut // an earlier receipt, kept pending
			}
			if _, err := tx.NewRaw(`UPDATE message_parts SET status = ?, err_code = ?, updated_at = now()
				WHERE provider = ? AND provider_message_id = ? AND message_id = ? AND status = 'sent' AND ? <> 'sent'`,
				status, r.ErrCode, r.Provider, r.ProviderMessageID, m.ID, status).Exec(ctx); err != nil {
				return fmt.Errorf("update part: %w", err)
			}
			if ch, err = settleMessage(ctx, tx, m); err != nil {
				return err
			}
			if optOut {
				return optOutByReceipt(ctx, tx, m)
			}
			return nil
		}
		return fmt.Errorf("part %s changed %d times while its receipt was applied", r.ProviderMessageID, receiptPasses)
	})
	if err != nil {
		return nil, fmt.Errorf("store: apply receipt: %w", err)
	}
	return ch, nil
}

// partMessage reads the part a receipt is for: its message (0 while it
// is pending) and whether the part exists at all.
func partMessage(ctx context.Context, tx bun.Tx, r SMSReceipt) (msgID int64, found bool, err error) {
	var id sql.NullInt64
	err = tx.NewRaw("SELECT message_id FROM message_parts WHERE provider = ? AND provider_message_id = ?",
		r.Provider, r.ProviderMessageID).Scan(ctx, &id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("find part: %w", err)
	}
	return id.Int64, true, nil
}

// lockMessage locks an outbound SMS for update (nil when there is none).
func lockMessage(ctx context.Context, tx bun.Tx, id int64) (*Message, error) {
	m := new(Message)
	err := tx.NewSelect().Model(m).Where("id = ? AND direction = 'outbound' AND channel = ?", id, ChannelSMS).
		For("UPDATE").Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("lock message: %w", err)
	}
	return m, nil
}

// lockClientRef locks the outbound SMS a receipt's client-ref names (our
// message id), or returns nil when it names none of ours.
func lockClientRef(ctx context.Context, tx bun.Tx, clientRef string) (*Message, error) {
	ref, err := strconv.ParseInt(clientRef, 10, 64)
	if err != nil || ref <= 0 {
		return nil, nil
	}
	return lockMessage(ctx, tx, ref)
}

// keepPending stores a receipt whose part no message owns yet, or moves
// an already pending one forward. It reports done=false when the part
// changed under it (the send was recorded, or a twin receipt stored it
// first): the caller reads the part again.
func keepPending(ctx context.Context, tx bun.Tx, r SMSReceipt, status string, exists bool) (done bool, err error) {
	if !exists {
		// DO NOTHING, not DO UPDATE: the latter would lock a recorded part
		// before its message, against the order RecordSent locks them in.
		res, err := tx.NewRaw(`INSERT INTO message_parts (provider, provider_message_id, status, err_code) VALUES (?, ?, ?, ?)
			ON CONFLICT (provider, provider_message_id) DO NOTHING`, r.Provider, r.ProviderMessageID, status, r.ErrCode).Exec(ctx)
		if err != nil {
			return false, fmt.Errorf("keep pending receipt: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return false, nil
		}
		if _, err := tx.NewRaw("DELETE FROM message_parts WHERE message_id IS NULL AND updated_at < now() - ?::interval",
			fmt.Sprintf("%d seconds", int(PendingReceiptAge.Seconds()))).Exec(ctx); err != nil {
			return false, fmt.Errorf("prune pending receipts: %w", err)
		}
		if _, err := tx.NewRaw(`DELETE FROM message_parts WHERE id IN (SELECT id FROM message_parts WHERE message_id IS NULL
			ORDER BY updated_at DESC OFFSET ?)`, PendingReceiptCap).Exec(ctx); err != nil {
			return false, fmt.Errorf("cap pending receipts: %w", err)
		}
		return true, nil
	}
	var ids []int64
	err = tx.NewRaw(`UPDATE message_parts SET status = CASE WHEN status = 'sent' THEN ? ELSE status END,
			err_code = CASE WHEN status = 'sent' AND ? <> 'sent' THEN ? ELSE err_code END, updated_at = now()
		WHERE provider = ? AND provider_message_id = ? AND message_id IS NULL RETURNING id`,
		status, status, r.ErrCode, r.Provider, r.ProviderMessageID).Scan(ctx, &ids)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return false, fmt.Errorf("update pending receipt: %w", err)
	}
	return len(ids) > 0, nil
}

// settleMessage moves a locked message to what its parts say: delivered
// when every part is, failed when any failed, otherwise sent. Parts whose
// ids were never learned count as not delivered.
func settleMessage(ctx context.Context, tx bun.Tx, m *Message) (*Change, error) {
	var agg struct {
		Total, Delivered, Failed int
		ErrCode                  int `bun:"err_code"`
	}
	if err := tx.NewRaw(`SELECT count(*) AS total, count(*) FILTER (WHERE status = 'delivered') AS delivered,
		count(*) FILTER (WHERE status = 'failed') AS failed, coalesce(max(err_code) FILTER (WHERE status = 'failed'), 0) AS err_code
		FROM message_parts WHERE message_id = ?`, m.ID).Scan(ctx, &agg); err != nil {
		return nil, fmt.Errorf("aggregate parts: %w", err)
	}
	if agg.Total < m.Segments {
		agg.Total = m.Segments
	}
	status, reason := MsgSent, ""
	switch {
	case agg.Failed > 0:
		status, reason = MsgFailed, fmt.Sprintf("Not delivered (carrier error %d)", agg.ErrCode)
	case agg.Delivered >= agg.Total:
		status = MsgDelivered
	}
	return setMessageStatus(ctx, tx, m, status, reason)
}

// optOutByReceipt records a carrier-reported opt-out for the message's recipient.
func optOutByReceipt(ctx context.Context, tx bun.Tx, m *Message) error {
	// The carrier's word is the recipient's: it takes over an opt-out
	// staff hold (consent_rules.go), and is left alone if already theirs.
	res, err := tx.NewRaw(`UPDATE recipients SET sms_opted_out_at = coalesce(sms_opted_out_at, now()), sms_opt_out_source = 'receipt', updated_at = now()
		WHERE id = (SELECT recipient_id FROM conversations WHERE id = ?)
		  AND (sms_opted_out_at IS NULL OR sms_opt_out_source IN (?, ?))`, m.ConversationID, ConsentByAgent, ConsentByImport).Exec(ctx)
	if err != nil {
		return fmt.Errorf("opt out by receipt: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil
	}
	_, err = tx.NewRaw(`INSERT INTO recipient_consent_events (org_id, recipient_id, channel, action, source, detail)
		SELECT c.org_id, c.recipient_id, 'sms', 'opt_out', 'receipt', 'carrier error 9' FROM conversations c WHERE c.id = ?`, m.ConversationID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("consent history: %w", err)
	}
	return nil
}
