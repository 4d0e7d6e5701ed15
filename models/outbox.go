package models

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/parley-chat/parley/jobs/task"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// OutboxEntry is work for the job queue, committed with the change that
// caused it. Its type, queue and payload come from the job catalogue
// (jobs/task); the relay decodes the payload with the same catalogue.
type OutboxEntry struct {
	bun.BaseModel `bun:"table:outbox"`

	ID       int64           `bun:"id,pk,autoincrement"`
	OrgID    int64           `bun:"org_id"`
	TaskType string          `bun:"task_type"`
	Queue    string          `bun:"queue"`
	Payload  json.RawMessage `bun:"payload,type:jsonb"`
}

// insertOutbox writes one outbox row per spec, in tx, so the work is
// queued if and only if the change that caused it commits.
func insertOutbox(ctx context.Context, tx bun.Tx, orgID int64, specs ...task.Spec) error {
	orgs := make([]int64, len(specs))
	for i := range orgs {
		orgs[i] = orgID
	}
	return insertOutboxRows(ctx, tx.Tx, orgs, specs)
}

// outboxArrays checks specs against the catalogue (a type the worker has
// no handler for cannot reach the table) and returns them as the arrays
// an unnest insert takes, every row for organization orgID.
func outboxArrays(orgID int64, specs []task.Spec) (orgs []int64, types, queues, payloads []string, err error) {
	orgs = make([]int64, len(specs))
	types, queues, payloads = make([]string, len(specs)), make([]string, len(specs)), make([]string, len(specs))
	for i, sp := range specs {
		if k, ok := task.Lookup(sp.Type); !ok || !k.Outbox {
			return nil, nil, nil, nil, fmt.Errorf("insert outbox: %q: %w", sp.Type, task.ErrUnknownType)
		}
		orgs[i], types[i], queues[i], payloads[i] = orgID, sp.Type, sp.Queue, string(sp.Payload)
	}
	return orgs, types, queues, payloads, nil
}

// insertOutboxRowsQuery writes many outbox rows in one statement.
const insertOutboxRowsQuery = `INSERT INTO outbox (org_id, task_type, queue, payload)
	SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::jsonb[])`

// insertOutboxRows writes specs[i] for organization orgs[i], in one
// statement. Every outbox row is written here, from a catalogue spec: a
// type the worker has no handler for cannot reach the table.
func insertOutboxRows(ctx context.Context, db execer, orgs []int64, specs []task.Spec) error {
	if len(specs) == 0 {
		return nil
	}
	_, types, queues, payloads, err := outboxArrays(0, specs)
	if err != nil {
		return err
	}
	if _, err := execCached(ctx, db, insertOutboxRowsQuery, orgs, types, queues, payloads); err != nil {
		return fmt.Errorf("insert outbox: %w", err)
	}
	return nil
}

// OutboxOutcome is what the relay did with a batch of entries.
type OutboxOutcome struct {
	// Enqueued are the entries handed to the queue.
	Enqueued []int64
	// Refused are entries that can never run: a task type the job
	// catalogue does not know, or a payload that does not decode. They are
	// closed with their reason, so no sweep offers them again.
	Refused []OutboxRefusal
	// Coalesced are entries whose work an enqueued entry of the same
	// batch covers (task.Kind.Coalesce): they are closed as done.
	Coalesced []int64
}

// OutboxRefusal is an entry the relay will never enqueue, and why.
type OutboxRefusal struct {
	ID     int64
	Reason string
}

// PendingOutbox returns up to limit entries never handed to the queue,
// oldest first. Several relays may run (one per node): each entry is
// locked while read, and concurrent relays skip locked ones.
func (s *Store) PendingOutbox(ctx context.Context, limit int, fn func([]OutboxEntry) (OutboxOutcome, error)) error {
	return s.outboxBatch(ctx, "done_at IS NULL AND enqueued_at IS NULL", limit, fn) // done_at: the partial index
}

// StaleOutbox returns entries handed to the queue longer than age ago and
// still not done: their task was lost (Redis flushed or restarted) or is
// still retrying; enqueueing again is safe because handlers are idempotent.
func (s *Store) StaleOutbox(ctx context.Context, age time.Duration, limit int, fn func([]OutboxEntry) (OutboxOutcome, error)) error {
	return s.outboxBatch(ctx, fmt.Sprintf("done_at IS NULL AND enqueued_at < now() - interval '%d seconds'", int(age.Seconds())), limit, fn)
}

// EnqueuedOutbox returns up to limit entries after id afterID, oldest
// first, that were handed to the queue and are not done, whatever their
// age: after Redis lost its data, those are the tasks it lost (or, for
// any still there, a re-enqueue their task id absorbs). The caller pages
// through by id, because handing an entry over stamps it afresh.
func (s *Store) EnqueuedOutbox(ctx context.Context, afterID int64, limit int, fn func([]OutboxEntry) (OutboxOutcome, error)) error {
	return s.outboxBatch(ctx, fmt.Sprintf("done_at IS NULL AND enqueued_at IS NOT NULL AND id > %d", afterID), limit, fn)
}

// outboxBatch locks a batch and lets fn enqueue it; in the same
// transaction it stamps enqueued_at on the entries fn handed over and
// closes those it refused. The batch's rows stay locked until then, so
// the refusals cannot be written from another connection.
//
// An error from fn (some entries failed to enqueue) does not undo the marks
// of those that made it: it is returned after the commit.
func (s *Store) outboxBatch(ctx context.Context, where string, limit int, fn func([]OutboxEntry) (OutboxOutcome, error)) error {
	var fnErr error
	err := s.inTx(ctx, func(tx bun.Tx) error {
		var rows []OutboxEntry
		err := tx.NewSelect().Model(&rows).Where(where).Order("id").Limit(int64(limit)).For("UPDATE SKIP LOCKED").Scan(ctx)
		if err != nil {
			return fmt.Errorf("store: outbox batch: %w", err)
		}
		if len(rows) == 0 {
			return nil
		}
		var out OutboxOutcome
		out, fnErr = fn(rows)
		if len(out.Enqueued) > 0 {
			if _, uerr := tx.NewUpdate().Model((*OutboxEntry)(nil)).
				Set("enqueued_at = now(), attempts = attempts + 1").
				Where("id = ANY(?)", pgdialect.Array(out.Enqueued)).Exec(ctx); uerr != nil {
				return fmt.Errorf("store: mark enqueued: %w", uerr)
			}
		}
		if len(out.Coalesced) > 0 {
			if _, uerr := tx.NewUpdate().Model((*OutboxEntry)(nil)).
				Set("done_at = now(), last_error = 'coalesced'").
				Where("id = ANY(?)", pgdialect.Array(out.Coalesced)).Exec(ctx); uerr != nil {
				return fmt.Errorf("store: close coalesced outbox entries: %w", uerr)
			}
		}
		if len(out.Refused) > 0 {
			ids := make([]int64, len(out.Refused))
			reasons := make([]string, len(out.Refused))
			for i, r := range out.Refused {
				ids[i], reasons[i] = r.ID, r.Reason
			}
			if _, uerr := tx.NewRaw(`UPDATE outbox AS o SET done_at = now(), last_error = r.reason
				FROM unnest(?::bigint[], ?::text[]) AS r(id, reason) WHERE o.id = r.id`,
				pgdialect.Array(ids), pgdialect.Array(reasons)).Exec(ctx); uerr != nil {
				return fmt.Errorf("store: close refused outbox entries: %w", uerr)
			}
		}
		return nil
	})
	return errors.Join(err, fnErr)
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
