package models

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// PendingOutbox returns up to limit entries never handed to the queue,
// oldest first. Several relays may run (one per node): each entry is
// locked while read, and concurrent relays skip locked ones.
func (s *Store) PendingOutbox(ctx context.Context, limit int, fn func([]OutboxEntry) ([]int64, error)) error {
	return s.outboxBatch(ctx, "done_at IS NULL AND enqueued_at IS NULL", limit, fn) // done_at: the partial index
}

// StaleOutbox returns entries handed to the queue longer than age ago and
// still not done: their task was lost (Redis flushed or restarted) or is
// still retrying; enqueueing again is safe because handlers are idempotent.
func (s *Store) StaleOutbox(ctx context.Context, age time.Duration, limit int, fn func([]OutboxEntry) ([]int64, error)) error {
	return s.outboxBatch(ctx, fmt.Sprintf("done_at IS NULL AND enqueued_at < now() - interval '%d seconds'", int(age.Seconds())), limit, fn)
}

// outboxBatch locks a batch, lets fn enqueue it, and stamps enqueued_at
// on the ids fn reports as handed over, all in one transaction.
func (s *Store) outboxBatch(ctx context.Context, where string, limit int, fn func([]OutboxEntry) ([]int64, error)) error {
	return s.inTx(ctx, func(tx bun.Tx) error {
		var rows []OutboxEntry
		err := tx.NewSelect().Model(&rows).Where(where).Order("id").Limit(int64(limit)).For("UPDATE SKIP LOCKED").Scan(ctx)
		if err != nil {
			return fmt.Errorf("store: outbox batch: %w", err)
		}
		if len(rows) == 0 {
			return nil
		}
		done, err := fn(rows)
		if len(done) > 0 {
			if _, uerr := tx.NewUpdate().Model((*OutboxEntry)(nil)).
				Set("enqueued_at = now(), attempts = attempts + 1").
				Where("id IN (?)", bun.In(done)).Exec(ctx); uerr != nil {
				return fmt.Errorf("store: mark enqueued: %w", uerr)
			}
		}
		return err
	})
}

// MarkOutboxDone records that an entry's work is finished, for good.
//
// The worker calls it for every task, after the task's own outcome is
// committed (RecordSent, RecordSendFailed), so its commit does not wait
// for the WAL flush (synchronous_commit off for this transaction only):
// an entry whose mark a database crash loses is enqueued again by the
// sweep, and its handler finds the work already done. It runs as a
// prepared statement (see outbound.go).
func (s *Store) MarkOutboxDone(ctx context.Context, id int64, lastErr string) error {
	if _, err := execCached(ctx, s.db.DB, markOutboxDoneQuery, id, lastErr); err != nil {
		return fmt.Errorf("store: outbox done: %w", err)
	}
	return nil
}

const markOutboxDoneQuery = `UPDATE outbox SET done_at = coalesce(done_at, now()), last_error = $2::text
	FROM (SELECT set_config('synchronous_commit', 'off', true)) AS async WHERE id = $1`
