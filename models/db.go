package models

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// OpenDB connects to PostgreSQL through pgx's database/sql driver and wraps
// the pool in bun. It checks the connection before returning.
func OpenDB(ctx context.Context, url string) (*bun.DB, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("models: parse database URL: %w", err)
	}
	// bun formats arguments into the SQL text itself, so nearly every
	// statement is unique: pgx's default (prepare and cache each one) only
	// adds round trips and cache churn. The simple protocol sends each once.
	cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	sqldb := sql.OpenDB(stdlib.GetConnector(*cfg))
	// Web requests, the hub and the worker share one pool per process.
	sqldb.SetMaxOpenConns(40)
	sqldb.SetMaxIdleConns(20)
	sqldb.SetConnMaxIdleTime(5 * time.Minute)
	db := bun.NewDB(sqldb, pgdialect.New())
	pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		db.Close()
		return nil, fmt.Errorf("models: connect to database: %w", err)
	}
	return db, nil
}
