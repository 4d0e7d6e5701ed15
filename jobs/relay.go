package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hibiken/asynq"
	"github.com/parley-chat/parley/models"
)

// Relay timing. Each says why.
const (
	// relayPoll: the safety net for entries committed on another node or
	// while no kick came; kicks make the normal path immediate.
	relayPoll = time.Second
	// sweepEvery / sweepAge: an entry enqueued but not done after sweepAge
	// is enqueued again (its task may be gone with Redis's data). Longer
	// than a task's normal retries so it rarely duplicates live work.
	sweepEvery = time.Minute
	sweepAge   = 10 * time.Minute
	relayBatch = 200
)

// OutboxStore is what the relay needs from the database.
type OutboxStore interface {
	PendingOutbox(ctx context.Context, limit int, fn func([]models.OutboxEntry) ([]int64, error)) error
	StaleOutbox(ctx context.Context, age time.Duration, limit int, fn func([]models.OutboxEntry) ([]int64, error)) error
}

// Relay moves committed outbox entries into asynq. The task id is the
// outbox id, so an entry relayed twice while its task exists is one task.
type Relay struct {
	// Poll, SweepEvery and SweepAge default to relayPoll, sweepEvery and
	// sweepAge; tests shorten them before Run.
	Poll, SweepEvery, SweepAge time.Duration
	// Inspector, when set, lets the sweep replace a task asynq archived
	// (out of retries) while its entry is still open; without it such an
	// entry waits until asynq drops the archived task.
	Inspector *asynq.Inspector

	store  OutboxStore
	client *asynq.Client
	kick   chan struct{}
	log    *slog.Logger
}

// NewRelay builds a relay enqueueing through client.
func NewRelay(store OutboxStore, client *asynq.Client, log *slog.Logger) *Relay {
	return &Relay{Poll: relayPoll, SweepEvery: sweepEvery, SweepAge: sweepAge,
		store: store, client: client, kick: make(chan struct{}, 1), log: log.With("component", "outbox")}
}

// Kick asks the relay to look now (after a commit that added entries).
// It never blocks.
func (r *Relay) Kick() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// Run relays until ctx ends.
func (r *Relay) Run(ctx context.Context) error {
	poll := time.NewTicker(r.Poll)
	defer poll.Stop()
	sweep := time.NewTicker(r.SweepEvery)
	defer sweep.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-r.kick:
		case <-poll.C:
		case <-sweep.C:
			if err := r.store.StaleOutbox(ctx, r.SweepAge, relayBatch, r.enqueue); err != nil {
				r.log.Warn("outbox sweep", "err", err)
			}
			continue
		}
		full := false
		err := r.store.PendingOutbox(ctx, relayBatch, func(rows []models.OutboxEntry) ([]int64, error) {
			full = len(rows) == relayBatch
			return r.enqueue(rows)
		})
		if err != nil && ctx.Err() == nil {
			r.log.Warn("outbox relay", "err", err)
		}
		if full {
			r.Kick() // more are waiting: go again at once, not after a poll
		}
	}
}

// TaskPayload is what every outbox task carries: ids only.
type TaskPayload struct {
	OutboxID  int64 `json:"outbox_id"`
	MessageID int64 `json:"message_id,omitempty"`
}

// relayEnqueuers is how many enqueues of a batch are in flight at once.
// The batch's outbox rows stay locked until every task is in Redis, and a
// worker that finishes one of them waits on that lock to mark it done:
// one Redis round trip after another kept 200 rows locked for tens of
// milliseconds under a burst (B3).
const relayEnqueuers = 16

// enqueue hands a batch to asynq and reports which entries made it.
func (r *Relay) enqueue(rows []models.OutboxEntry) ([]int64, error) {
	var (
		mu   sync.Mutex
		done = make([]int64, 0, len(rows))
		errs []error
		next atomic.Int64
		wg   sync.WaitGroup
	)
	for range min(relayEnqueuers, len(rows)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(rows) {
					return
				}
				err := r.enqueueOne(rows[i])
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				} else {
					done = append(done, rows[i].ID)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return done, errors.Join(errs...)
}

// enqueueOne hands one entry to asynq; an entry whose task already
// exists counts as handed over.
func (r *Relay) enqueueOne(row models.OutboxEntry) error {
	p := TaskPayload{OutboxID: row.ID}
	if v, ok := row.Payload["message_id"].(float64); ok {
		p.MessageID = int64(v)
	}
	b, _ := json.Marshal(p)
	id := "outbox-" + strconv.FormatInt(row.ID, 10)
	task := asynq.NewTask(row.TaskType, b)
	opts := []asynq.Option{asynq.Queue(row.Queue), asynq.TaskID(id), asynq.MaxRetry(maxRetry(row.TaskType))}
	_, err := r.client.Enqueue(task, opts...)
	if errors.Is(err, asynq.ErrTaskIDConflict) && r.Inspector != nil {
		// An archived task (out of retries) blocks its id; replace it.
		if info, ierr := r.Inspector.GetTaskInfo(row.Queue, id); ierr == nil && info.State == asynq.TaskStateArchived {
			if derr := r.Inspector.DeleteTask(row.Queue, id); derr == nil {
				_, err = r.client.Enqueue(task, opts...)
			}
		}
	}
	if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return fmt.Errorf("enqueue outbox %d: %w", row.ID, err)
	}
	return nil
}

// maxRetry bounds a task's attempts. For SMS it also bounds duplicates:
// a send is repeated only when the provider accepted it but recording that
// failed (the worker died, or the database refused the write).
func maxRetry(taskType string) int {
	if taskType == models.TaskSMSSend {
		return 8
	}
	return 12
}
