package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"

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
// delivered when every part is, failed when any part failed. Unknown ids
// and stale receipts change nothing (nil change).
func (s *Store) ApplyReceipt(ctx context.Context, r SMSReceipt) (*Change, error) {
	var ch *Change
	err := s.inTx(ctx, func(tx bun.Tx) error {
		var msgID int64
		err := tx.NewRaw("SELECT message_id FROM message_parts WHERE provider = ? AND provider_message_id = ?",
			r.Provider, r.ProviderMessageID).Scan(ctx, &msgID)
		if errors.Is(err, sql.ErrNoRows) {
			ref, perr := strconv.ParseInt(r.ClientRef, 10, 64)
			if perr != nil || ref <= 0 {
				return nil // not ours
			}
			res, err := tx.NewRaw(`INSERT INTO message_parts (message_id, provider, provider_message_id)
				SELECT id, ?, ? FROM messages WHERE id = ? AND direction = 'outbound' AND channel = 'sms'
				ON CONFLICT DO NOTHING`, r.Provider, r.ProviderMessageID, ref).Exec(ctx)
			if err != nil {
				return fmt.Errorf("adopt part: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return nil
			}
			msgID = ref
		} else if err != nil {
			return fmt.Errorf("find part: %w", err)
		}
		part := "sent"
		switch r.Status {
		case "delivered":
			part = "delivered"
		case "failed", "rejected", "expired":
			part = "failed"
		}
		if _, err := tx.NewRaw(`UPDATE message_parts SET status = ?, err_code = ?, updated_at = now()
			WHERE provider = ? AND provider_message_id = ? AND status = 'sent' AND ? <> 'sent'`,
			part, r.ErrCode, r.Provider, r.ProviderMessageID, part).Exec(ctx); err != nil {
			return fmt.Errorf("update part: %w", err)
		}
		m := new(Message)
		if err := tx.NewSelect().Model(m).Where("id = ?", msgID).For("UPDATE").Scan(ctx); err != nil {
			return notFound("message", err)
		}
		var agg struct {
			Total, Delivered, Failed int
			ErrCode                  int `bun:"err_code"`
		}
		if err := tx.NewRaw(`SELECT count(*) AS total, count(*) FILTER (WHERE status = 'delivered') AS delivered,
			count(*) FILTER (WHERE status = 'failed') AS failed, coalesce(max(err_code) FILTER (WHERE status = 'failed'), 0) AS err_code
			FROM message_parts WHERE message_id = ?`, msgID).Scan(ctx, &agg); err != nil {
			return fmt.Errorf("aggregate parts: %w", err)
		}
		if agg.Total < m.Segments {
			agg.Total = m.Segments // parts whose ids we never learned are not delivered yet
		}
		status, reason := MsgSent, ""
		switch {
		case agg.Failed > 0:
			status, reason = MsgFailed, fmt.Sprintf("Not delivered (carrier error %d)", agg.ErrCode)
		case agg.Delivered >= agg.Total:
			status = MsgDelivered
		}
		if ch, err = setMessageStatus(ctx, tx, m, status, reason); err != nil {
			return err
		}
		if r.ErrCode == errCodeOptOut {
			return optOutByReceipt(ctx, tx, m)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: apply receipt: %w", err)
	}
	return ch, nil
}

// optOutByReceipt records a carrier-reported opt-out for the message's recipient.
func optOutByReceipt(ctx context.Context, tx bun.Tx, m *Message) error {
	res, err := tx.NewRaw(`UPDATE recipients SET sms_opted_out_at = now(), updated_at = now()
		WHERE id = (SELECT recipient_id FROM conversations WHERE id = ?) AND sms_opted_out_at IS NULL`, m.ConversationID).Exec(ctx)
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
