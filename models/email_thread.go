package models

import (
	"context"
	"fmt"

	"github.com/parley-chat/parley/channels/email"
	"github.com/uptrace/bun"
)

// ensureEmailThread returns a conversation's email thread, made with a
// fresh reply token and subject when it has none yet (the first mail in
// or out). An existing thread keeps its token; it takes subject only if
// it had none.
func ensureEmailThread(ctx context.Context, db bun.IDB, orgID, convID int64, subject string) (*EmailThread, error) {
	t := new(EmailThread)
	if err := db.NewRaw(`INSERT INTO email_threads AS t (conversation_id, org_id, token, subject) VALUES (?, ?, ?, ?)
		ON CONFLICT (conversation_id) DO UPDATE SET subject = CASE WHEN t.subject = '' THEN EXCLUDED.subject ELSE t.subject END
		RETURNING *`, convID, orgID, email.NewToken(), subject).Scan(ctx, t); err != nil {
		return nil, fmt.Errorf("email thread of conversation %d: %w", convID, err)
	}
	return t, nil
}
