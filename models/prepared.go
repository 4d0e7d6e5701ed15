package models

import (
	"context"
	"database/sql"

	"github.com/jackc/pgx/v5"
)

// Hot paths (inbound group commits, the send worker) run their statements
// as prepared statements cached on each connection, with $n parameters:
// bun inlines its arguments, so every call would otherwise be a new text,
// parsed and planned again (planning cost several times the execution).

// execer is a *sql.DB or *sql.Tx.
type execer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// queryCached runs a query as a cached prepared statement.
func queryCached(ctx context.Context, db execer, query string, args ...any) (*sql.Rows, error) {
	return db.QueryContext(ctx, query, append([]any{pgx.QueryExecModeCacheStatement}, args...)...)
}

// execCached runs a statement as a cached prepared statement.
func execCached(ctx context.Context, db execer, query string, args ...any) (sql.Result, error) {
	return db.ExecContext(ctx, query, append([]any{pgx.QueryExecModeCacheStatement}, args...)...)
}
