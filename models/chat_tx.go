package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/parley-chat/parley/jobs/task"
	"github.com/uptrace/bun"
)

// Conversation origins.
const (
	OriginAgent     = "agent"
	OriginBroadcast = "broadcast"
	OriginRecipient = "recipient"
)

// previewLength is how much of the last message the list shows.
const previewLength = 140

// inboxInScope loads an inbox of the scope's organization.
func inboxInScope(ctx context.Context, tx bun.Tx, sc Scope, inboxID int64) (*Inbox, error) {
	inbox := new(Inbox)
	if err := tx.NewSelect().Model(inbox).Where("id = ? AND org_id = ?", inboxID, sc.OrgID).Scan(ctx); err != nil {
		return nil, notFound("inbox", err)
	}
	return inbox, nil
}

// findOrCreateRecipient returns the organization's recipient with this
// phone (or email), creating it if new. Concurrent callers get one row.
func findOrCreateRecipient(ctx context.Context, tx bun.Tx, orgID int64, phone, email string) (*Recipient, error) {
	r := &Recipient{OrgID: orgID}
	q := tx.NewInsert().Model(r)
	if phone != "" {
		r.Phone = &phone
		q = q.On("CONFLICT (org_id, phone) WHERE phone IS NOT NULL DO UPDATE SET org_id = excluded.org_id")
	} else {
		r.Email = &email
		q = q.On("CONFLICT (org_id, email) WHERE email IS NOT NULL DO UPDATE SET org_id = excluded.org_id")
	}
	// DO UPDATE (a no-op) rather than DO NOTHING so RETURNING yields the existing row.
	if _, err := q.Returning("*").Exec(ctx); err != nil {
		return nil, fmt.Errorf("find or create recipient: %w", err)
	}
	return r, nil
}

// findOrOpenConversation returns the active conversation of (inbox,
// recipient, channel), locked, or opens one linked to the last closed one.
func findOrOpenConversation(ctx context.Context, tx bun.Tx, orgID, inboxID, rcptID int64, channel, origin string) (*Conversation, bool, error) {
	for attempt := 0; attempt < 2; attempt++ {
		conv := new(Conversation)
		err := tx.NewSelect().Model(conv).
			Where("inbox_id = ? AND recipient_id = ? AND channel = ? AND status <> 'closed'", inboxID, rcptID, channel).
			For("UPDATE").Scan(ctx)
		if err == nil {
			return conv, false, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return nil, false, fmt.Errorf("find conversation: %w", err)
		}
		var prev *int64
		var prevID int64
		err = tx.NewSelect().Model((*Conversation)(nil)).Column("id").
			Where("inbox_id = ? AND recipient_id = ? AND channel = ?", inboxID, rcptID, channel).
			OrderExpr("id DESC").Limit(1).Scan(ctx, &prevID)
		if err == nil {
			prev = &prevID
		} else if !errors.Is(err, sql.ErrNoRows) {
			return nil, false, fmt.Errorf("previous conversation: %w", err)
		}
		status := StatusNew
		if origin == OriginAgent {
			status = StatusOpen // the agent's first message answers it
		}
		conv = &Conversation{OrgID: orgID, InboxID: inboxID, RecipientID: rcptID, Channel: channel,
			Status: status, Origin: origin, PreviousID: prev}
		res, err := tx.NewInsert().Model(conv).
			On("CONFLICT (inbox_id, recipient_id, channel) WHERE status <> 'closed' DO NOTHING").
			Returning("*").Exec(ctx)
		if err != nil {
			return nil, false, fmt.Errorf("open conversation: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			return conv, true, nil
		}
		// Someone opened it between our look and our insert: look again.
	}
	return nil, false, fmt.Errorf("open conversation: %w", ErrConflict)
}

// insertEvent appends one event to a conversation's timeline.
func insertEvent(ctx context.Context, tx bun.Tx, conv *Conversation, kind string, msgID, actor *int64, detail map[string]any) (*Event, error) {
	if detail == nil {
		detail = map[string]any{}
	}
	ev := &Event{OrgID: conv.OrgID, InboxID: conv.InboxID, ConversationID: conv.ID, Kind: kind,
		MessageID: msgID, ActorUserID: actor, Detail: detail}
	// The actor's name comes back with the row, so the caller can render
	// "Sam closed this" without another query.
	if _, err := tx.NewInsert().Model(ev).Returning("id, created_at, (SELECT u.name FROM users AS u WHERE u.id = conversation_events.actor_user_id) AS actor_name").Exec(ctx); err != nil {
		return nil, fmt.Errorf("insert %s event: %w", kind, err)
	}
	return ev, nil
}

// updateConversation writes the named columns and bumps updated_at.
func updateConversation(ctx context.Context, tx bun.Tx, conv *Conversation, cols ...string) error {
	if _, err := tx.NewUpdate().Model(conv).Column(cols...).Set("updated_at = now()").WherePK().Exec(ctx); err != nil {
		return fmt.Errorf("update conversation: %w", err)
	}
	return nil
}

// reopen opens a closed conversation again; a newer active conversation
// of the same recipient, inbox and channel makes that a conflict.
func reopen(ctx context.Context, tx bun.Tx, conv *Conversation, actor int64) (*Event, error) {
	_, err := tx.NewUpdate().Model(conv).Set("status = 'open', closed_at = NULL, updated_at = now()").WherePK().Exec(ctx)
	if isUniqueViolation(err) {
		return nil, fieldErr("status", "A newer conversation with this recipient is already open; continue there.")
	}
	if err != nil {
		return nil, fmt.Errorf("reopen: %w", err)
	}
	conv.Status = StatusOpen
	return insertEvent(ctx, tx, conv, EvReopened, nil, &actor, nil)
}

// errEmailUnavailable refuses to queue an email. No worker sends email
// yet: a queued one used to be retried, archived and re-enqueued by the
// sweep forever while the agent saw "Queued" with no explanation. field
// is the form field the message belongs next to.
func errEmailUnavailable(field string) error {
	if field == "to" {
		return fieldErr(field, "Email is not available yet on this Parley. Enter a phone number to send a text message instead.")
	}
	return fieldErr(field, "Email is not available yet on this Parley, so this reply cannot be sent. Leave an internal note, or start a chat with the recipient's phone number instead.")
}

// addOutbound records an agent's message (queued for the worker through
// the outbox) or note on a locked conversation, and its events.
func (s *Store) addOutbound(ctx context.Context, tx bun.Tx, sc Scope, conv *Conversation, body string, note bool) ([]Event, error) {
	var evs []Event
	if !note {
		if conv.Channel == ChannelEmail {
			return nil, errEmailUnavailable("body")
		}
		// The same gate the worker checks again when it sends.
		if err := composeGate(ctx, tx, conv.ID, conv.Channel, false); err != nil {
			return nil, err
		}
		if conv.Status == StatusClosed {
			ev, err := reopen(ctx, tx, conv, sc.UserID)
			if err != nil {
				return nil, err
			}
			evs = append(evs, *ev)
		}
	}
	msg := &Message{OrgID: conv.OrgID, ConversationID: conv.ID, Direction: "outbound", Channel: conv.Channel,
		IsNote: note, Body: body, AuthorType: "user", AuthorUserID: &sc.UserID, Status: MsgQueued}
	if note {
		msg.Status = MsgNone
	}
	if conv.Channel == ChannelSMS && !note {
		if err := checkSMSBody(body); err != nil {
			return nil, err
		}
		msg.Encoding, msg.Segments = smsShape(body)
	}
	if _, err := tx.NewInsert().Model(msg).Returning("*").Exec(ctx); err != nil {
		return nil, fmt.Errorf("insert message: %w", err)
	}
	if !note {
		if err := insertOutbox(ctx, tx, conv.OrgID, task.NewSMSSend(msg.ID)); err != nil {
			return nil, err
		}
		if _, err := tx.NewUpdate().Model(conv).
			Set("last_message_at = now(), last_message_preview = ?, unread_count = 0, updated_at = now()", preview(body)).
			Set("status = CASE WHEN status = 'new' THEN 'open' ELSE status END").
			WherePK().Exec(ctx); err != nil {
			return nil, fmt.Errorf("update conversation: %w", err)
		}
	}
	ev, err := insertEvent(ctx, tx, conv, EvMessage, &msg.ID, &sc.UserID, nil)
	if err != nil {
		return nil, err
	}
	ev.Message = msg
	return append(evs, *ev), nil
}
