package models

import (
	"context"
	"fmt"
)

// What a thread or an empty chats list shows besides its own rows: the
// earlier conversations of the same recipient, and how many conversations
// a status filter hides.

// EarlierConversation is a closed conversation of the same inbox,
// recipient and channel as a newer one, with its timeline.
type EarlierConversation struct {
	Conv  ConversationRow
	Items []Event
}

// earlierLimit bounds the earlier conversations a thread shows.
const earlierLimit = 5

// EarlierConversations returns the closed conversations of conv's inbox,
// recipient and channel older than conv, oldest first (at most the newest
// earlierLimit), each with its timeline: a reply to a closed chat opens a
// new conversation, and the history stays visible in it.
func (s *Store) EarlierConversations(ctx context.Context, sc Scope, conv *ConversationRow) ([]EarlierConversation, error) {
	q := conversationRows(s.db, sc).
		Where("c.inbox_id = ? AND c.recipient_id = ? AND c.channel = ? AND c.id < ? AND c.status = ?",
			conv.InboxID, conv.RecipientID, conv.Channel, conv.ID, StatusClosed).
		OrderExpr("c.id DESC").Limit(earlierLimit)
	rows, err := selectConversationRows(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("store: earlier conversations: %w", err)
	}
	out := make([]EarlierConversation, 0, len(rows))
	for i := len(rows) - 1; i >= 0; i-- {
		items, err := s.Timeline(ctx, sc, rows[i].ID, 0)
		if err != nil {
			return nil, err
		}
		out = append(out, EarlierConversation{Conv: rows[i], Items: items})
	}
	return out, nil
}

// StatusCounts counts the scope's conversations of each status (new,
// open, closed) that a filter's assignee and inbox allow, its status and
// search aside, each up to capAt: what an empty list can point to. A count
// equal to capAt means "at least".
func (s *Store) StatusCounts(ctx context.Context, sc Scope, f ConversationFilter, capAt int) (map[string]int, error) {
	out := map[string]int{}
	for _, st := range []string{StatusNew, StatusOpen, StatusClosed} {
		sub := s.db.NewSelect().TableExpr("conversations AS c").ColumnExpr("1").
			Where("c.org_id = ? AND c.status = ?", sc.OrgID, st)
		sub = visibleInboxes(sub, sc, "c.inbox_id")
		switch f.Assignee {
		case "mine":
			sub = sub.Where("c.assignee_id = ?", sc.UserID)
		case "unassigned":
			sub = sub.Where("c.assignee_id IS NULL")
		}
		if f.InboxID != 0 {
			sub = sub.Where("c.inbox_id = ?", f.InboxID)
		}
		var n int
		if err := s.db.NewSelect().TableExpr("(?) AS s", sub.Limit(int64(capAt))).ColumnExpr("count(*)").Scan(ctx, &n); err != nil {
			return nil, fmt.Errorf("store: status counts: %w", err)
		}
		out[st] = n
	}
	return out, nil
}
