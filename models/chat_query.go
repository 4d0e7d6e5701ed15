package models

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"
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

// conversationRows selects ConversationRow columns within a scope.
func conversationRows(db bun.IDB, sc Scope) *bun.SelectQuery {
	q := conversationRowSelect(db).Where("c.org_id = ?", sc.OrgID)
	if !sc.AllInboxes() {
		q = q.Where("c.inbox_id IN (?)", bun.In(append([]int64{0}, sc.InboxIDs...)))
	}
	return q
}

// conversationRowSelect selects ConversationRow columns, unscoped: for
// internal callers that already know which conversations they touched.
func conversationRowSelect(db bun.IDB) *bun.SelectQuery {
	return db.NewSelect().
		TableExpr("conversations AS c").
		ColumnExpr("c.*").
		ColumnExpr("r.name AS recipient_name, r.phone AS recipient_phone, r.email AS recipient_email").
		ColumnExpr("(CASE WHEN c.channel = 'sms' THEN r.sms_opted_out_at ELSE r.email_opted_out_at END) IS NOT NULL AS opted_out").
		ColumnExpr("i.name AS inbox_name, i.location_id").
		ColumnExpr("u.name AS assignee_name").
		Join("JOIN recipients AS r ON r.id = c.recipient_id").
		Join("JOIN inboxes AS i ON i.id = c.inbox_id").
		Join("LEFT JOIN users AS u ON u.id = c.assignee_id")
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
	if err := q.OrderExpr("c.last_message_at DESC, c.id DESC").Limit(int64(f.Limit+1)).Scan(ctx, &page.Rows); err != nil {
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
	row := new(ConversationRow)
	if err := conversationRows(db, sc).Where("c.id = ?", id).Scan(ctx, row); err != nil {
		return nil, notFound("conversation", err)
	}
	return row, nil
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
	if err := s.db.NewSelect().Model(&msgs).Where("org_id = ? AND id IN (?)", sc.OrgID, bun.In(ids)).Scan(ctx); err != nil {
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
	if !sc.AllInboxes() {
		q = q.Where("e.inbox_id IN (?)", bun.In(append([]int64{0}, sc.InboxIDs...)))
	}
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
	if !sc.AllInboxes() {
		q = q.Where("inbox_id IN (?)", bun.In(append([]int64{0}, sc.InboxIDs...)))
	}
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
