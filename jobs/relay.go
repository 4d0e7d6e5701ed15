package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hibiken/asynq"
	"github.com/parley-chat/parley/jobs/task"
	"github.com/parley-chat/parley/models"
	"github.com/redis/go-redis/v9"
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
	// lossCheck: how often the relay looks for signs that Redis lost its
	// data (see lossWatch), so stranded tasks are enqueued again within
	// seconds rather than after sweepAge. One SETNX and one INFO each.
	lossCheck = 5 * time.Second
)

// OutboxStore is what the relay needs from the database.
type OutboxStore interface {
	PendingOutbox(ctx context.Context, limit int, fn func([]models.OutboxEntry) (models.OutboxOutcome, error)) error
	StaleOutbox(ctx context.Context, age time.Duration, limit int, fn func([]models.OutboxEntry) (models.OutboxOutcome, error)) error
	EnqueuedOutbox(ctx context.Context, afterID int64, limit int, fn func([]models.OutboxEntry) (models.OutboxOutcome, error)) error
}

// Relay moves committed outbox entries into asynq. The task id is the
// outbox id, so an entry relayed twice while its task exists is one task.
type Relay struct {
	// Poll, SweepEvery, SweepAge and LossCheck default to relayPoll,
	// sweepEvery, sweepAge and lossCheck; tests shorten them before Run.
	Poll, SweepEvery, SweepAge, LossCheck time.Duration
	// Inspector, when set, lets the sweep replace a task asynq archived
	// (out of retries) while its entry is still open; without it such an
	// entry waits until asynq drops the archived task.
	Inspector *asynq.Inspector
	// Redis, when set, is asynq's Redis database (the same URL): every
	// LossCheck the relay checks that it still holds the relay's marker
	// key and the same server run, and when not (flushed, restarted
	// without persistence, failed over), enqueues every open entry again
	// at once. Without it, tasks lost with Redis wait for the sweep.
	Redis redis.UniversalClient

	store  OutboxStore
	client *asynq.Client
	kick   chan struct{}
	log    *slog.Logger
}

// NewRelay builds a relay enqueueing through client.
func NewRelay(store OutboxStore, client *asynq.Client, log *slog.Logger) *Relay {
	return &Relay{Poll: relayPoll, SweepEvery: sweepEvery, SweepAge: sweepAge, LossCheck: lossCheck,
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
	var lossC <-chan time.Time
	var watch *lossWatch
	recovering := false // a loss was seen and its entries are not all back yet
	if r.Redis != nil {
		watch = &lossWatch{rdb: r.Redis}
		loss := time.NewTicker(r.LossCheck)
		defer loss.Stop()
		lossC = loss.C
		recovering = r.checkLoss(ctx, watch, recovering)
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-r.kick:
		case <-poll.C:
		case <-lossC:
			recovering = r.checkLoss(ctx, watch, recovering)
			continue
		case <-sweep.C:
			if err := r.store.StaleOutbox(ctx, r.SweepAge, relayBatch, r.enqueue); err != nil {
				r.log.Warn("outbox sweep", "err", err)
			}
			continue
		}
		full := false
		err := r.store.PendingOutbox(ctx, relayBatch, func(rows []models.OutboxEntry) (models.OutboxOutcome, error) {
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

// checkLoss asks watch whether Redis lost its data and, if so (or if an
// earlier recovery did not finish), enqueues every open entry again. It
// returns whether a recovery is still owed.
func (r *Relay) checkLoss(ctx context.Context, watch *lossWatch, recovering bool) bool {
	lost, err := watch.lost(ctx)
	if err != nil {
		if ctx.Err() == nil {
			r.log.Warn("redis loss check", "err", err)
		}
		return recovering
	}
	if lost {
		r.log.Warn("redis marker missing or server restarted (a first start, or redis lost its data): enqueueing every open outbox entry again")
	}
	if !lost && !recovering {
		return false
	}
	if err := watch.republishQueues(ctx); err != nil {
		if ctx.Err() == nil {
			r.log.Warn("outbox recovery after redis loss", "err", err)
		}
		return true
	}
	n, err := r.recoverLost(ctx)
	if err != nil {
		if ctx.Err() == nil {
			r.log.Warn("outbox recovery after redis loss", "enqueued", n, "err", err)
		}
		return true
	}
	if n > 0 {
		r.log.Info("outbox entries enqueued again after redis loss", "entries", n)
	}
	return false
}

// relayEnqueuers is how many enqueues of a batch are in flight at once.
// The batch's outbox rows stay locked until every task is in Redis, and a
// worker that finishes one of them waits on that lock to mark it done:
// one Redis round trip after another kept 200 rows locked for tens of
// milliseconds under a burst (B3).
const relayEnqueuers = 16

// enqueue hands a batch to asynq and reports which entries made it and
// which can never run (see enqueueOne).
func (r *Relay) enqueue(rows []models.OutboxEntry) (models.OutboxOutcome, error) {
	var (
		mu   sync.Mutex
		out  = models.OutboxOutcome{Enqueued: make([]int64, 0, len(rows))}
		errs []error
		next atomic.Int64
		wg   sync.WaitGroup
	)
	rows, out.Coalesced = coalesce(rows)
	for range min(relayEnqueuers, len(rows)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(rows) {
					return
				}
				refused, err := r.enqueueOne(rows[i])
				mu.Lock()
				switch {
				case refused != nil:
					out.Refused = append(out.Refused, models.OutboxRefusal{ID: rows[i].ID, Reason: refused.Error()})
				case err != nil:
					errs = append(errs, err)
				default:
					out.Enqueued = append(out.Enqueued, rows[i].ID)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

// coalesce keeps, of the entries of a coalescing kind (task.Kind.Coalesce)
// with the same type and payload, the first (the oldest: rows come in id
// order) and returns the others' ids. The kept entry's task runs after
// every one of them committed, so its work covers theirs; it stays open
// until that work is done, and is swept back if its task is lost.
func coalesce(rows []models.OutboxEntry) (keep []models.OutboxEntry, merged []int64) {
	seen := map[string]bool{}
	keep = rows[:0:0]
	for _, row := range rows {
		if k, ok := task.Lookup(row.TaskType); ok && k.Coalesce {
			key := row.TaskType + "\x00" + string(row.Payload)
			if seen[key] {
				merged = append(merged, row.ID)
				continue
			}
			seen[key] = true
		}
		keep = append(keep, row)
	}
	return keep, merged
}

// enqueueOne hands one entry to asynq as the catalogue describes its
// type (payload, queue unless the entry names another, retries); an entry whose task already exists
// counts as handed over. An entry that can never run (its type is not in
// the catalogue, its payload does not decode) is refused: closed with the
// reason and logged, rather than retried and swept back forever.
func (r *Relay) enqueueOne(row models.OutboxEntry) (refused, err error) {
	payload, err := task.ForOutbox(row.TaskType, row.ID, row.Payload)
	if err != nil {
		r.log.Error("outbox entry refused: it can never run", "outbox_id", row.ID, "type", row.TaskType, "err", err)
		return err, nil
	}
	k, _ := task.Lookup(row.TaskType) // ForOutbox found it
	// The row may name another of the catalogue's queues than its kind's
	// (a broadcast's sends go on the bulk queue, behind chats' replies).
	if task.KnownQueue(row.Queue) {
		k.Queue = row.Queue
	}
	id := "outbox-" + strconv.FormatInt(row.ID, 10)
	t := asynq.NewTask(k.Type, payload)
	opts := append(kindOptions(k), asynq.TaskID(id))
	_, err = r.client.Enqueue(t, opts...)
	if errors.Is(err, asynq.ErrTaskIDConflict) && r.Inspector != nil {
		// An archived task (out of retries) blocks its id; replace it.
		if info, ierr := r.Inspector.GetTaskInfo(k.Queue, id); ierr == nil && info.State == asynq.TaskStateArchived {
			if derr := r.Inspector.DeleteTask(k.Queue, id); derr == nil {
				_, err = r.client.Enqueue(t, opts...)
			}
		}
	}
	if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return nil, fmt.Errorf("enqueue outbox %d: %w", row.ID, err)
	}
	return nil, nil
}
