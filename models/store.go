package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/uptrace/bun"
)

// Store is the single gateway to PostgreSQL: every query and every
// transaction of the application goes through its methods.
type Store struct {
	db *bun.DB
	// followUp decides the jobs each stored inbound message triggers
	// besides its charge (nil: none yet; the auto-response and
	// forwarding issue fills it).
	followUp FollowUpFunc
	// sessionsEnded closes the sockets of ended logins (OnSessionsEnded).
	sessionsEnded SessionsEndedFunc
	// commonWords are the message words ANALYZE found common (search_words.go).
	commonWords commonWordCache
	// textWay, set only by tests, makes every message search take one way
	// ("walk" or "index"), with no fallback (listMessageMatches).
	textWay string
}

// NewStore wraps an open database.
func NewStore(db *bun.DB) *Store {
	return &Store{db: db}
}

// DB exposes the bun handle for migrations and tests.
func (s *Store) DB() *bun.DB { return s.db }

// Ping checks that PostgreSQL answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	return nil
}

// inTx runs fn in one transaction, committed only if fn returns nil. Inside
// Store.Idempotent it joins the transaction that holds the key, so an
// action and its idempotency record commit or fail together.
func (s *Store) inTx(ctx context.Context, fn func(tx bun.Tx) error) error {
	if tx, ok := ctx.Value(outerTxKey{}).(bun.Tx); ok {
		return fn(tx)
	}
	return s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		return fn(tx)
	})
}

// notFound turns sql.ErrNoRows into ErrNotFound and wraps anything else.
func notFound(op string, err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("store: %s: %w", op, ErrNotFound)
	}
	return fmt.Errorf("store: %s: %w", op, err)
}

// isUniqueViolation reports whether err is PostgreSQL's unique_violation.
func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505"
}

// isTransient reports whether PostgreSQL aborted the transaction to break
// a deadlock or a serialization conflict: running it again may succeed.
func isTransient(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "40P01" || pgErr.Code == "40001")
}
