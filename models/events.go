package models

import (
	"context"
	"fmt"

	"time"

	"github.com/uptrace/bun"
)

// Events: a conversation's timeline, whose ids are the live sequence
// browsers resume from.

// Event kinds of a conversation's timeline.
const (
	EvCreated       = "created"
	EvMessage       = "message"
	EvMessageStatus = "message_status"
	EvAssigned      = "assigned"
	EvUnassigned    = "unassigned"
	EvOpened        = "opened"
	// EvRead marks a conversation read; no timeline shows it (Hidden).
	EvRead     = "read"
	EvClosed   = "closed"
	EvReopened = "reopened"
	EvOptedOut = "opted_out"
	EvOptedIn  = "opted_in"
	// EvRecipientUpdated: the recipient's name, phone or email changed;
	// no timeline shows it (Hidden): it carries the new name to screens.
	EvRecipientUpdated = "recipient_updated"
)

// Event is one row of a conversation's timeline; its ID is the live sequence.
type Event struct {
	bun.BaseModel `bun:"table:conversation_events,alias:e"`

	ID             int64          `bun:"id,pk,autoincrement"`
	OrgID          int64          `bun:"org_id"`
	InboxID        int64          `bun:"inbox_id"`
	ConversationID int64          `bun:"conversation_id"`
	Kind           string         `bun:"kind"`
	MessageID      *int64         `bun:"message_id"`
	ActorUserID    *int64         `bun:"actor_user_id"`
	Detail         map[string]any `bun:"detail,type:jsonb"`
	CreatedAt      time.Time      `bun:"created_at,nullzero,default:now()"`

	ActorName *string  `bun:"actor_name,scanonly"`
	Message   *Message `bun:"-"`
}

// Hidden reports whether the event is bookkeeping no timeline shows: a
// message's status (shown as the message's ticks) or a read mark.
func (e *Event) Hidden() bool {
	return e.Kind == EvMessageStatus || e.Kind == EvRead || e.Kind == EvRecipientUpdated
}

// Change is what one chat action did, for the caller to render and publish
// after the commit.
type Change struct {
	Conversation ConversationRow
	Events       []Event
}

// LastSeq is the id of the newest event of the change.
func (c *Change) LastSeq() int64 {
	if len(c.Events) == 0 {
		return 0
	}
	return c.Events[len(c.Events)-1].ID
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

// Timeline returns a conversation's events with their messages, oldest
// first, after the given event id (0: from the start). The caller has
// checked the conversation is in scope.
func (s *Store) Timeline(ctx context.Context, sc Scope, convID, afterID int64) ([]Event, error) {
	var evs []Event
	q := s.db.NewSelect().Model(&evs).
		ColumnExpr("e.*, u.name AS actor_name").
		Join("LEFT JOIN users AS u ON u.id = e.actor_user_id").
		Where("e.org_id = ? AND e.conversation_id = ? AND e.id > ?", sc.OrgID, convID, afterID).
		Where("e.kind NOT IN (?, ?, ?)", EvMessageStatus, EvRead, EvRecipientUpdated)
	if err := visibleInboxes(q, sc, "e.inbox_id").OrderExpr("e.id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: timeline: %w", err)
	}
	return evs, s.attachMessages(ctx, sc, evs)
}

// EventsSince returns the scope's events after seq, oldest first, at most
// limit of them, with their messages: what a reconnecting browser missed.
func (s *Store) EventsSince(ctx context.Context, sc Scope, seq int64, limit int) ([]Event, error) {
	var evs []Event
	q := s.db.NewSelect().Model(&evs).
		ColumnExpr("e.*, u.name AS actor_name").
		Join("LEFT JOIN users AS u ON u.id = e.actor_user_id").
		Where("e.org_id = ? AND e.id > ?", sc.OrgID, seq)
	q = visibleInboxes(q, sc, "e.inbox_id")
	if err := q.OrderExpr("e.id").Limit(int64(limit)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: events since: %w", err)
	}
	return evs, s.attachMessages(ctx, sc, evs)
}

// LatestSeq is the id of the scope's newest event (0 when there is none):
// a page rendered now has seen everything up to it.
func (s *Store) LatestSeq(ctx context.Context, sc Scope) (int64, error) {
	var id int64
	// A cached prepared statement: every Chats page and socket asks.
	q, args := `SELECT coalesce(max(id), 0) FROM conversation_events WHERE org_id = $1`, []any{sc.OrgID}
	if !sc.AllInboxes() {
		q, args = q+` AND inbox_id = ANY($2::bigint[])`, append(args, sc.InboxIDs)
	}
	rows, err := queryCached(ctx, s.db.DB, q, args...)
	if err == nil {
		err = s.db.ScanRows(ctx, rows, &id)
	}
	if err != nil {
		return 0, fmt.Errorf("store: latest seq: %w", err)
	}
	return id, nil
}
