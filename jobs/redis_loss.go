package jobs

import (
	"context"
	"fmt"
	"strings"

	"github.com/parley-chat/parley/jobs/task"
	"github.com/parley-chat/parley/models"
	"github.com/redis/go-redis/v9"
)

// redisMarkerKey is a key the relay keeps in asynq's Redis database. Its
// absence means Redis lost its data since the relay last looked (FLUSHALL,
// FLUSHDB, a restart without persistence, eviction): every task asynq held
// then went with it.
const redisMarkerKey = "parley:relay:redis-marker"

// lossWatch notices that Redis lost the relay's tasks: its marker key is
// gone, or the server's run_id changed (a restart, or a failover to a
// replica, which may have come back without the newest writes even with
// persistence on).
type lossWatch struct {
	rdb   redis.UniversalClient
	runID string // the run_id last seen; "" until known (or when INFO is refused)
}

// lost reports whether Redis lost data since the last call, and arms the
// marker for the next one. The first call after start-up reports a loss
// when the marker is missing: Redis may have lost data while no relay ran.
func (w *lossWatch) lost(ctx context.Context) (bool, error) {
	set, err := w.rdb.SetNX(ctx, redisMarkerKey, "1", 0).Result()
	if err != nil {
		return false, fmt.Errorf("jobs: redis marker: %w", err)
	}
	runID := w.serverRunID(ctx)
	restarted := runID != "" && w.runID != "" && runID != w.runID
	if runID != "" {
		w.runID = runID
	}
	return set || restarted, nil
}

// serverRunID is Redis's run_id (new on every start), or "" when INFO is
// not allowed (some managed services rename or disable it): the marker
// alone then detects losses.
func (w *lossWatch) serverRunID(ctx context.Context) string {
	info, err := w.rdb.Info(ctx, "server").Result()
	if err != nil {
		return ""
	}
	for line := range strings.SplitSeq(info, "\n") {
		if v, ok := strings.CutPrefix(line, "run_id:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// asynqQueuesKey is the set of queue names asynq's Inspector (the
// dashboard, the queue metrics, the sweep's archived-task check) reads.
// An asynq client adds a queue to it only on its first enqueue there, per
// process, so after Redis lost its data the queues stay unknown to the
// Inspector until the relay names them again.
const asynqQueuesKey = "asynq:queues"

// republishQueues names the catalogue's queues to asynq again.
func (w *lossWatch) republishQueues(ctx context.Context) error {
	names := make([]any, 0, len(task.Queues()))
	for q := range task.Queues() {
		names = append(names, q)
	}
	if err := w.rdb.SAdd(ctx, asynqQueuesKey, names...).Err(); err != nil {
		return fmt.Errorf("jobs: republish queues: %w", err)
	}
	return nil
}

// recoverLost enqueues again every entry handed to the queue and not done,
// oldest first, in pages by id; entries whose task survived are absorbed
// by their task id. It returns how many entries it handed over.
func (r *Relay) recoverLost(ctx context.Context) (int, error) {
	var after int64
	total := 0
	for {
		n := 0
		err := r.store.EnqueuedOutbox(ctx, after, relayBatch, func(rows []models.OutboxEntry) (models.OutboxOutcome, error) {
			n = len(rows)
			after = rows[len(rows)-1].ID
			out, err := r.enqueue(rows)
			total += len(out.Enqueued)
			return out, err
		})
		if err != nil {
			return total, err
		}
		if n < relayBatch {
			return total, nil
		}
		if err := ctx.Err(); err != nil {
			return total, err
		}
	}
}
