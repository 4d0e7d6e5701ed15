package models

import (
	"context"
	"fmt"
)

// MessagePage is one page of a conversation's messages, newest first.
type MessagePage struct {
	Messages []Message
	// NextBefore is the id to pass as before for the next page; 0 at the end.
	NextBefore int64
}

// ConversationMessages lists the messages and notes of a conversation the
// scope may see, newest first, older than before (0: from the newest),
// an email's headers and attachments with each (fillEmail).
func (s *Store) ConversationMessages(ctx context.Context, sc Scope, convID, before int64, limit int) (*MessagePage, error) {
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	if _, err := s.ConversationByID(ctx, sc, convID); err != nil {
		return nil, err
	}
	page := &MessagePage{}
	q := s.db.NewSelect().Model(&page.Messages).Where("org_id = ? AND conversation_id = ?", sc.OrgID, convID)
	if before > 0 {
		q = q.Where("id < ?", before)
	}
	if err := q.OrderExpr("id DESC").Limit(int64(limit + 1)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: conversation messages: %w", err)
	}
	if len(page.Messages) > limit {
		page.Messages = page.Messages[:limit]
		page.NextBefore = page.Messages[limit-1].ID
	}
	ptrs := make([]*Message, len(page.Messages))
	for i := range page.Messages {
		ptrs[i] = &page.Messages[i]
	}
	if err := fillEmail(ctx, s.db, sc.OrgID, ptrs); err != nil {
		return nil, err
	}
	return page, nil
}
