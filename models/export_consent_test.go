package models

import (
	"context"

	"github.com/uptrace/bun"
)

// OptOutByImport exposes the importer's opt-out, in a transaction of its own.
func (s *Store) OptOutByImport(ctx context.Context, orgID int64, ids []int64, channel, detail string) (int, error) {
	var n int
	err := s.inTx(ctx, func(tx bun.Tx) error {
		var err error
		n, err = optOutByImport(ctx, tx, orgID, ids, channel, detail)
		return err
	})
	return n, err
}

// UnsubscribeTokenFor gives a recipient an unsubscribe token and returns it.
func (s *Store) UnsubscribeTokenFor(ctx context.Context, recipientID int64) (string, error) {
	var tok string
	err := s.inTx(ctx, func(tx bun.Tx) error {
		var err error
		tok, err = ensureUnsubscribeToken(ctx, tx, recipientID)
		return err
	})
	return tok, err
}
