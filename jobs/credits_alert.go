package jobs

import (
	"context"
	"log/slog"

	"github.com/hibiken/asynq"
	"github.com/parley-chat/parley/jobs/task"
)

// creditsAlert runs credits:alert: a location's usage reached a threshold
// of its plan's credits.
type creditsAlert struct {
	out sendOutcome
	log *slog.Logger
}

func (h *creditsAlert) ProcessTask(ctx context.Context, t *asynq.Task) error {
	p, err := decodeSend[task.CreditsAlert](ctx, h.out, t)
	if err != nil {
		return err
	}
	h.log.Info("credit usage alert", "location_id", p.LocationID, "level", p.Level)
	h.out.done(ctx, p.Outbox(), "")
	return nil
}
