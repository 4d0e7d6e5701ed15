package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// Conversations: one inbox talking with one recipient on one channel, and
// the chats list.

// Channels a conversation runs on.
const (
	ChannelSMS   = "sms"
	ChannelEmail = "email"
)

// Conversation statuses.
const (
	StatusNew    = "new"
	StatusOpen   = "open"
	StatusClosed = "closed"
)

// Conversation origins.
const (
	OriginAgent     = "agent"
	OriginBroadcast = "broadcast"
	OriginRecipient = "recipient"
)

// previewLength is how much of the last message the list shows.
const previewLength = 140

// Conversation is one inbox talking with one recipient on one channel.
type Conversation struct {
	bun.BaseModel `bun:"table:conversations"`

	ID                 int64      `bun:"id,pk,autoincrement"`
	OrgID              int64      `bun:"org_id"`
	InboxID            int64      `bun:"inbox_id"`
	RecipientID        int64      `bun:"recipient_id"`
	Channel            string     `bun:"channel"`
	Status             string     `bun:"status"`
	Origin             string     `bun:"origin"`
	AssigneeID         *int64     `bun:"assignee_id"`
	BroadcastID        *int64     `bun:"broadcast_id"`
	PreviousID         *int64     `bun:"previous_id"`
	LastMessageAt      time.Time  `bun:"last_message_at,nullzero,default:now()"`
	LastMessagePreview string     `bun:"last_message_preview"`
	UnreadCount        int        `bun:"unread_count"`
	CreatedAt          time.Time  `bun:"created_at,nullzero,default:now()"`
	UpdatedAt          time.Time  `bun:"updated_at,nullzero,default:now()"`
	ClosedAt           *time.Time `bun:"closed_at"`
	// SearchText is a copy of the recipient's (name, email and phone,
	// lower-cased) that triggers keep for the list's search; read only
	// where a statement returns every column (RETURNING *).
	SearchText string `bun:"search_text,scanonly"`
	// Listed is false for a broadcast's own conversation, never reopened:
	// the Chats list leaves it out (a stored generated column).
	Listed bool `bun:"listed,scanonly"`
}

// ConversationRow is a conversation with what the list and thread show of
// its recipient, inbox and assignee.
type ConversationRow struct {
	Conversation
	RecipientName  string  `bun:"recipient_name"`
	RecipientPhone *string `bun:"recipient_phone"`
	RecipientEmail *string `bun:"recipient_email"`
	OptedOut       bool    `bun:"opted_out"` // on this conversation's channel
	InboxName      string  `bun:"inbox_name"`
	LocationID     int64   `bun:"location_id"`
	AssigneeName   *string `bun:"assignee_name"`
	// Subject is an email conversation's thread subject (without "Re: ");
	// "" for SMS, or an email thread without one.
	Subject string `bun:"subject"`

	// hitAt, for a row a search found by its messages alone, is when its
	// newest matching message was written: the row is listed by it.
	hitAt time.Time
}

// sortAt is the time the row is listed by: its newest matching message's
// for a row a search found by its messages alone, else its last activity.
func (r *ConversationRow) sortAt() time.Time {
	if !r.hitAt.IsZero() {
		return r.hitAt
	}
	return r.LastMessageAt
}

// DisplayName is how the recipient is named in lists: name, else address.
func (r ConversationRow) DisplayName() string {
	switch {
	case r.RecipientName != "":
		return r.RecipientName
	case r.Channel == ChannelSMS && r.RecipientPhone != nil:
		return *r.RecipientPhone
	case r.RecipientEmail != nil:
		return *r.RecipientEmail
	case r.RecipientPhone != nil:
		return *r.RecipientPhone
	}
	return "Unknown"
}

// Address is the recipient's address on this conversation's channel.
func (r ConversationRow) Address() string {
	if r.Channel == ChannelSMS && r.RecipientPhone != nil {
		return *r.RecipientPhone
	}
	if r.RecipientEmail != nil {
		return *r.RecipientEmail
	}
	return ""
}

// ConversationFilter narrows the chats list.
type ConversationFilter struct {
	Status   string // "active" (new + open, the default), "new", "open", "closed" or "all"
	Assignee string // "" (anyone), "mine" or "unassigned"
	// AssigneeID: only conversations assigned to this user (0: any).
	AssigneeID int64
	InboxID    int64  // 0: every visible inbox
	Query      string // substring of the recipient's name, email or phone
	// Keyset cursor: rows older than (BeforeAt, BeforeID).
	BeforeAt time.Time
	BeforeID int64
	Limit    int
}

// ConversationPage is one page of the chats list.
type ConversationPage struct {
	Rows []ConversationRow
	// More is set when older rows exist; NextAt and NextID are then the
	// next page's cursor (ConversationFilter's BeforeAt and BeforeID): the
	// last row's last activity and id, or for a row a search found by its
	// messages alone, its newest matching message's time.
	More   bool
	NextAt time.Time
	NextID int64
	// Matches holds, for a search, the message that matched in each row
	// found by its messages' text (search_messages.go), by conversation id.
	Matches map[int64]MessageMatch
}

// conversationRows selects ConversationRow columns within a scope; read
// them with selectConversationRows.
func conversationRows(db bun.IDB, sc Scope) *bun.SelectQuery {
	q := db.NewSelect().TableExpr("conversations AS c").ColumnExpr(conversationRowColumns).Join(conversationRowJoins).
		Where("c.org_id = ?", sc.OrgID)
	return visibleInboxes(q, sc, "c.inbox_id")
}

// selectConversationRows runs a conversationRows query.
func selectConversationRows(ctx context.Context, q *bun.SelectQuery) ([]ConversationRow, error) {
	rows, err := q.Rows(ctx)
	if err != nil {
		return nil, err
	}
	return scanConversationRows(rows)
}

// ConversationByID loads one conversation the scope may see, else ErrNotFound.
func (s *Store) ConversationByID(ctx context.Context, sc Scope, id int64) (*ConversationRow, error) {
	return s.conversationRow(ctx, s.db, sc, id)
}

func (s *Store) conversationRow(ctx context.Context, db bun.IDB, sc Scope, id int64) (*ConversationRow, error) {
	rows, err := selectConversationRows(ctx, conversationRows(db, sc).Where("c.id = ?", id))
	if err != nil {
		return nil, fmt.Errorf("store: conversation: %w", err)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("store: conversation %d: %w", id, ErrNotFound)
	}
	return &rows[0], nil
}

// ConversationInboxID returns the inbox of a conversation, unscoped: for
// internal fan-out (presence) of a conversation already authorized.
func (s *Store) ConversationInboxID(ctx context.Context, id int64) (int64, error) {
	var inboxID int64
	if err := s.db.NewSelect().Model((*Conversation)(nil)).Column("inbox_id").Where("id = ?", id).Scan(ctx, &inboxID); err != nil {
		return 0, notFound("conversation inbox", err)
	}
	return inboxID, nil
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
