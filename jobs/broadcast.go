package jobs

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/hibiken/asynq"
	"github.com/parley-chat/parley/jobs/task"
	"github.com/parley-chat/parley/models"
)

// BroadcastStore is what fanning broadcasts out needs from the database.
type BroadcastStore interface {
	FanoutBroadcast(ctx context.Context, id int64, progress func(orgID int64)) (models.FanoutReport, error)
	QueueDueBroadcasts(ctx context.Context) (int, error)
	MarkOutboxDone(ctx context.Context, id int64, lastErr string) error
}

// broadcastFanout runs broadcast:fanout: it starts the broadcast if due
// and messages every row due now (FanoutBroadcast is idempotent: a
// retried task, or two at once, message each row once), then closes its
// outbox entry. Rows held for quiet hours are picked up by
// broadcast:tick when they come due.
type broadcastFanout struct {
	out    sendOutcome
	st     BroadcastStore
	notify BroadcastNotifier // may be nil
	log    *slog.Logger
}

func (h *broadcastFanout) ProcessTask(ctx context.Context, t *asynq.Task) error {
	p, err := decodeSend[task.BroadcastFanout](ctx, h.out, t)
	if err != nil {
		return err
	}
	progress := func(org int64) {
		if h.notify != nil && org != 0 {
			h.notify.BroadcastProgress(org, p.BroadcastID)
		}
	}
	rep, err := h.st.FanoutBroadcast(ctx, p.BroadcastID, progress)
	if err != nil {
		return fmt.Errorf("jobs: fan out broadcast %d: %w", p.BroadcastID, err)
	}
	if rep.Messaged+rep.Skipped > 0 || rep.Status != models.BroadcastSending {
		h.log.Info("broadcast fan-out", "broadcast_id", p.BroadcastID, "status", rep.Status, "messaged", rep.Messaged,
			"skipped", rep.Skipped, "held", rep.Held)
	}
	h.out.done(ctx, p.Outbox(), "")
	return nil
}

// broadcastTickHandler runs broadcast:tick: it queues a fan-out for every
// broadcast with work due (a scheduled one whose time came, rows held for
// quiet hours that came due). Every node schedules it; duplicates are
// harmless (fan-out is idempotent) and coalesce in the relay.
func broadcastTickHandler(st BroadcastStore, log *slog.Logger) asynq.HandlerFunc {
	return func(ctx context.Context, _ *asynq.Task) error {
		n, err := st.QueueDueBroadcasts(ctx)
		if err != nil {
			return fmt.Errorf("jobs: due broadcasts: %w", err)
		}
		if n > 0 {
			log.Info("broadcasts due", "count", n)
		}
		return nil
	}
}
