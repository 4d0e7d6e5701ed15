package models

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/uptrace/bun"
)

// Idempotency keys (spec/api.md): a POST that creates a message carries an
// Idempotency-Key; the same key from the same user within 24 hours gets
// the first response again and creates nothing new.
//
// The key is inserted (ON CONFLICT DO NOTHING) in the same transaction as
// the action, which joins it (inTx), and its response is stored before the
// commit: the message and its key exist together or not at all. A second
// request with the same key while the first is running waits on the
// uncommitted key row, then replays the first's response (or, if the
// first failed and rolled back, runs itself). A failed action stores
// nothing, so a retry after fixing the cause runs again.

// IdempotencyTTL is how long a key is remembered.
const IdempotencyTTL = "24 hours"

// maxIdempotencyKey bounds a key's length (the table's check).
const maxIdempotencyKey = 255

// ErrIdempotencyMismatch: the key was first used with another request.
var ErrIdempotencyMismatch = errors.New("idempotency key used with another request")

// outerTxKey carries the transaction Idempotent runs its action in.
type outerTxKey struct{}

// IdempotentResult is the response an action gave (or gave the first time).
type IdempotentResult struct {
	Status int
	Body   []byte
	// Replayed: the response is the stored one; nothing ran.
	Replayed bool
}

// Idempotent runs fn at most once per (user, key) within IdempotencyTTL.
// request names the request (method and path); the same key with another
// request is ErrIdempotencyMismatch. fn must do its work through this
// store with the ctx it is given (its transaction is then this one) and
// return the response to store; its error rolls everything back.
func (s *Store) Idempotent(ctx context.Context, userID int64, key, request string,
	fn func(ctx context.Context) (status int, body []byte, err error)) (*IdempotentResult, error) {
	key = strings.TrimSpace(key)
	if key == "" || len(key) > maxIdempotencyKey || checkText("Idempotency-Key", "The key", key) != nil {
		return nil, fieldErr("Idempotency-Key", "The key must be 1 to %d characters of text.", maxIdempotencyKey)
	}
	var res *IdempotentResult
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		res = nil
		// Forget this user's expired keys (in line: a handful of rows).
		if _, err := tx.NewRaw(`DELETE FROM idempotency_keys WHERE user_id = ? AND created_at < now() - ?::interval`,
			userID, IdempotencyTTL).Exec(ctx); err != nil {
			return fmt.Errorf("prune keys: %w", err)
		}
		r, err := tx.NewRaw(`INSERT INTO idempotency_keys (user_id, key, request) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
			userID, key, request).Exec(ctx)
		if err != nil {
			return fmt.Errorf("insert key: %w", err)
		}
		if n, _ := r.RowsAffected(); n == 0 {
			var first struct {
				Request string `bun:"request"`
				Status  *int   `bun:"status"`
				Body    []byte `bun:"body"`
			}
			if err := tx.NewRaw(`SELECT request, status, body FROM idempotency_keys WHERE user_id = ? AND key = ?`,
				userID, key).Scan(ctx, &first); err != nil {
				return fmt.Errorf("read key: %w", err)
			}
			if first.Request != request {
				return ErrIdempotencyMismatch
			}
			if first.Status == nil { // not possible: a key commits with its response
				return fmt.Errorf("idempotency key without a response: %w", ErrConflict)
			}
			res = &IdempotentResult{Status: *first.Status, Body: first.Body, Replayed: true}
			return nil
		}
		status, body, err := fn(context.WithValue(ctx, outerTxKey{}, tx))
		if err != nil {
			return err
		}
		if _, err := tx.NewRaw(`UPDATE idempotency_keys SET status = ?, body = ? WHERE user_id = ? AND key = ?`,
			status, body, userID, key).Exec(ctx); err != nil {
			return fmt.Errorf("store response: %w", err)
		}
		res = &IdempotentResult{Status: status, Body: body}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: idempotent %s: %w", request, err)
	}
	return res, nil
}
