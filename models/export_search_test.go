package models

import (
	"context"

	"github.com/uptrace/bun"
)

// LockConversationsOf exposes lockConversationsOf to the tests.
func LockConversationsOf(ctx context.Context, tx bun.Tx, orgID, rcptID int64) error {
	return lockConversationsOf(ctx, tx, orgID, rcptID)
}
