package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// OutboundSMS is what the worker needs to send one queued message.
type OutboundSMS struct {
	MessageID int64  `bun:"message_id"`
	From      string `bun:"from"` // E.164
	To        string `bun:"to"`   // E.164
	Body      string `bun:"body"`
}

// ErrNotSendable: the message must not go out (already sent, failed,
// opted out, plan inactive). The reason is recorded on the message.
var ErrNotSendable = errors.New("message not sendable")

// ClaimSMS re-checks the compliance gate for a queued message and marks
// it sending. A message already past queued is not claimed again, except
// one stuck in sending by a worker that died mid-call: that one is sent
// again, which is the one way a duplicate can reach a recipient (bounded
// by the task's retries; see jobs).
func (s *Store) ClaimSMS(ctx context.Context, msgID int64) (*OutboundSMS, *Change, error) {
	// The common case in one statement (its own transaction, one round
	// trip): lock the message, check the gate, mark it sending. Anything
	// else (not found, past sending, the gate closed) takes the full path
	// below, which locks and checks again and records the reason.
	var fast []OutboundSMS
	err := s.db.NewRaw(`WITH m0 AS (
			SELECT m.id, m.body, r.phone, i.sms_number
			FROM messages m JOIN conversations c ON c.id = m.conversation_id
			JOIN recipients r ON r.id = c.recipient_id JOIN inboxes i ON i.id = c.inbox_id JOIN locations l ON l.id = i.location_id
			WHERE m.id = ? AND m.direction = 'outbound' AND m.channel = 'sms' AND NOT m.is_note
			  AND m.status IN (?, ?) AND (r.sms_opted_out_at IS NULL OR m.compliance) AND l.plan_status = ?
			  AND r.phone IS NOT NULL AND i.sms_number IS NOT NULL
			FOR UPDATE OF m
		)
		UPDATE messages SET status = ? FROM m0 WHERE messages.id = m0.id
		RETURNING m0.id AS message_id, m0.sms_number AS "from", m0.phone AS "to", m0.body`,
		msgID, MsgQueued, MsgSending, PlanActive, MsgSending).Scan(ctx, &fast)
	if err == nil && len(fast) == 1 {
		return &fast[0], nil, nil
	}
	return s.claimSMSChecked(ctx, msgID)
}

// claimSMSChecked is ClaimSMS in a transaction, step by step.
func (s *Store) claimSMSChecked(ctx context.Context, msgID int64) (*OutboundSMS, *Change, error) {
	var out *OutboundSMS
	var ch *Change
	err := s.inTx(ctx, func(tx bun.Tx) error {
		var row struct {
			Message
			Phone      *string    `bun:"phone"`
			OptedOutAt *time.Time `bun:"opted_out_at"`
			SMSNumber  *string    `bun:"sms_number"`
			Plan       string     `bun:"plan_status"`
		}
		err := tx.NewRaw(`SELECT m.*, r.phone, r.sms_opted_out_at AS opted_out_at, i.sms_number, l.plan_status
			FROM messages m JOIN conversations c ON c.id = m.conversation_id
			JOIN recipients r ON r.id = c.recipient_id JOIN inboxes i ON i.id = c.inbox_id JOIN locations l ON l.id = i.location_id
			WHERE m.id = ? AND m.direction = 'outbound' AND m.channel = 'sms' AND NOT m.is_note
			FOR UPDATE OF m`, msgID).Scan(ctx, &row)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("message %d: %w", msgID, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("load message: %w", err)
		}
		if row.Status != MsgQueued && row.Status != MsgSending {
			return fmt.Errorf("message %d is %s: %w", msgID, row.Status, ErrNotSendable)
		}
		reason := ""
		switch {
		case row.OptedOutAt != nil && !row.Compliance:
			reason = "Recipient opted out"
		case row.Plan != PlanActive:
			reason = "Chat plan not active"
		case row.Phone == nil || row.SMSNumber == nil:
			reason = "No SMS number on the recipient or inbox"
		}
		if reason != "" {
			ch, err = setMessageStatus(ctx, tx, &row.Message, MsgFailed, reason)
			if err != nil {
				return err
			}
			return fmt.Errorf("message %d: %s: %w", msgID, reason, ErrNotSendable)
		}
		if _, err := tx.NewRaw("UPDATE messages SET status = 'sending' WHERE id = ?", msgID).Exec(ctx); err != nil {
			return fmt.Errorf("mark sending: %w", err)
		}
		out = &OutboundSMS{MessageID: msgID, From: *row.SMSNumber, To: *row.Phone, Body: row.Body}
		return nil
	})
	if err != nil && ch == nil {
		return nil, nil, fmt.Errorf("store: claim sms: %w", err)
	}
	if err != nil {
		return nil, ch, fmt.Errorf("store: claim sms: %w", err)
	}
	return out, nil, nil
}

// RecordSent stores the provider's ids for a sent message (one per part)
// and moves it to sent.
func (s *Store) RecordSent(ctx context.Context, msgID int64, provider string, ids []string) (*Change, error) {
	var ch *Change
	err := s.inTx(ctx, func(tx bun.Tx) error {
		m := new(Message)
		if err := tx.NewSelect().Model(m).Where("id = ?", msgID).For("UPDATE").Scan(ctx); err != nil {
			return notFound("message", err)
		}
		for _, id := range ids {
			if _, err := tx.NewRaw(`INSERT INTO message_parts (message_id, provider, provider_message_id) VALUES (?, ?, ?)
				ON CONFLICT (provider, provider_message_id) DO NOTHING`, msgID, provider, id).Exec(ctx); err != nil {
				return fmt.Errorf("record part: %w", err)
			}
		}
		first := ""
		if len(ids) > 0 {
			first = ids[0]
		}
		if _, err := tx.NewRaw(`UPDATE messages SET provider = ?, provider_message_id = coalesce(provider_message_id, NULLIF(?, '')),
			sent_at = coalesce(sent_at, now()) WHERE id = ?`, provider, first, msgID).Exec(ctx); err != nil {
			return fmt.Errorf("record provider id: %w", err)
		}
		var err error
		ch, err = setMessageStatus(ctx, tx, m, MsgSent, "")
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: record sent: %w", err)
	}
	return ch, nil
}

// RecordSendFailed marks a message failed with the provider's reason.
func (s *Store) RecordSendFailed(ctx context.Context, msgID int64, reason string) (*Change, error) {
	var ch *Change
	err := s.inTx(ctx, func(tx bun.Tx) error {
		m := new(Message)
		if err := tx.NewSelect().Model(m).Where("id = ?", msgID).For("UPDATE").Scan(ctx); err != nil {
			return notFound("message", err)
		}
		var err error
		ch, err = setMessageStatus(ctx, tx, m, MsgFailed, reason)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: record send failed: %w", err)
	}
	return ch, nil
}

// statusRank orders delivery states; a status only ever moves forward
// (a late "buffered" receipt never overwrites "delivered").
var statusRank = map[string]int{MsgQueued: 0, MsgSending: 1, MsgSent: 2, MsgDelivered: 3, MsgFailed: 3}

// setMessageStatus moves a locked message forward to status and records a
// message_status event; it returns nil when the status would go backward
// or stay the same.
func setMessageStatus(ctx context.Context, tx bun.Tx, m *Message, status, reason string) (*Change, error) {
	if statusRank[status] <= statusRank[m.Status] && !(status == MsgFailed && m.Status == MsgSending) {
		return nil, nil
	}
	q := tx.NewUpdate().Model(m).Set("status = ?, status_reason = ?", status, reason).WherePK()
	if status == MsgDelivered {
		q = q.Set("delivered_at = now()")
	}
	if _, err := q.Exec(ctx); err != nil {
		return nil, fmt.Errorf("set status: %w", err)
	}
	m.Status, m.StatusReason = status, reason
	conv := new(Conversation)
	if err := tx.NewSelect().Model(conv).Where("id = ?", m.ConversationID).Scan(ctx); err != nil {
		return nil, fmt.Errorf("load conversation: %w", err)
	}
	ev, err := insertEvent(ctx, tx, conv, EvMessageStatus, &m.ID, nil, map[string]any{"status": status})
	if err != nil {
		return nil, err
	}
	ev.Message = m
	ch := &Change{Events: []Event{*ev}}
	// The row is loaded unscoped: the caller is the worker or a webhook.
	row := new(ConversationRow)
	if err := conversationRows(tx, Scope{OrgID: conv.OrgID}).Where("c.id = ?", conv.ID).Scan(ctx, row); err != nil {
		return nil, fmt.Errorf("load conversation row: %w", err)
	}
	ch.Conversation = *row
	return ch, nil
}
