package models

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// ConversationFilter narrows the chats list.
type ConversationFilter struct {
	Status   string // "active" (new + open, the default), "new", "open", "closed" or "all"
	Assignee string // "" (anyone), "mine" or "unassigned"
	InboxID  int64  // 0: every visible inbox
	Query    string // substring of the recipient's name, email or phone
	// Keyset cursor: rows older than (BeforeAt, BeforeID).
	BeforeAt time.Time
	BeforeID int64
	Limit    int
}

// ConversationPage is one page of the chats list.
type ConversationPage struct {
	Rows []ConversationRow
	// More is set when older rows exist; pass the last row's
	// LastMessageAt and ID as the next cursor.
	More bool
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

// Conversations lists conversations newest activity first.
func (s *Store) Conversations(ctx context.Context, sc Scope, f ConversationFilter) (*ConversationPage, error) {
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	q := conversationRows(s.db, sc)
	switch f.Status {
	case "", "active":
		q = q.Where("c.status IN ('new', 'open')")
	case StatusNew, StatusOpen, StatusClosed:
		q = q.Where("c.status = ?", f.Status)
	case "all":
	default:
		return nil, fieldErr("status", "unknown status %q", f.Status)
	}
	switch f.Assignee {
	case "":
	case "mine":
		q = q.Where("c.assignee_id = ?", sc.UserID)
	case "unassigned":
		q = q.Where("c.assignee_id IS NULL")
	default:
		return nil, fieldErr("assignee", "unknown assignee filter %q", f.Assignee)
	}
	if f.InboxID != 0 {
		q = q.Where("c.inbox_id = ?", f.InboxID)
	}
	if query := strings.TrimSpace(f.Query); query != "" {
		// The same expression as the recipients_search_trgm index.
		q = q.Where("(r.name || ' ' || coalesce(r.email, '') || ' ' || coalesce(r.phone, '')) ILIKE ?", "%"+escapeLike(query)+"%")
	}
	if f.BeforeID != 0 {
		q = q.Where("(c.last_message_at, c.id) < (?, ?)", f.BeforeAt, f.BeforeID)
	}
	page := &ConversationPage{}
	var err error
	page.Rows, err = selectConversationRows(ctx, q.OrderExpr("c.last_message_at DESC, c.id DESC").Limit(int64(f.Limit+1)))
	if err != nil {
		return nil, fmt.Errorf("store: conversations: %w", err)
	}
	if len(page.Rows) > f.Limit {
		page.Rows, page.More = page.Rows[:f.Limit], true
	}
	return page, nil
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

// Timeline returns a conversation's events with their messages, oldest
// first, after the given event id (0: from the start). The caller has
// checked the conversation is in scope.
func (s *Store) Timeline(ctx context.Context, sc Scope, convID, afterID int64) ([]Event, error) {
	var evs []Event
	err := s.db.NewSelect().Model(&evs).
		ColumnExpr("e.*, u.name AS actor_name").
		Join("LEFT JOIN users AS u ON u.id = e.actor_user_id").
		Where("e.org_id = ? AND e.conversation_id = ? AND e.id > ?", sc.OrgID, convID, afterID).
		Where("e.kind <> ?", EvMessageStatus).
		OrderExpr("e.id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: timeline: %w", err)
	}
	return evs, s.attachMessages(ctx, sc, evs)
}

// attachMessages loads the messages the events point at.
func (s *Store) attachMessages(ctx context.Context, sc Scope, evs []Event) error {
	var ids []int64
	for _, e := range evs {
		if e.MessageID != nil {
			ids = append(ids, *e.MessageID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	var msgs []Message
	if err := s.db.NewSelect().Model(&msgs).Where("org_id = ? AND id = ANY(?)", sc.OrgID, pgdialect.Array(ids)).Scan(ctx); err != nil {
		return fmt.Errorf("store: timeline messages: %w", err)
	}
	byID := make(map[int64]*Message, len(msgs))
	for i := range msgs {
		byID[msgs[i].ID] = &msgs[i]
	}
	for i := range evs {
		if evs[i].MessageID != nil {
			evs[i].Message = byID[*evs[i].MessageID]
		}
	}
	return nil
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
	q := s.db.NewSelect().TableExpr("conversation_events").ColumnExpr("coalesce(max(id), 0)").Where("org_id = ?", sc.OrgID)
	q = visibleInboxes(q, sc, "inbox_id")
	if err := q.Scan(ctx, &id); err != nil {
		return 0, fmt.Errorf("store: latest seq: %w", err)
	}
	return id, nil
}

// Assignees lists who a conversation in the inbox may be assigned to:
// enabled users of the organization who can see the inbox.
func (s *Store) Assignees(ctx context.Context, sc Scope, inboxID int64) ([]User, error) {
	var users []User
	err := s.db.NewSelect().Model(&users).
		Where("org_id = ? AND disabled_at IS NULL", sc.OrgID).
		Where("(role <> 'agent' OR all_inboxes OR id IN (SELECT user_id FROM user_inboxes WHERE inbox_id = ?))", inboxID).
		Order("name", "id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: assignees: %w", err)
	}
	return users, nil
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
