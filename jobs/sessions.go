package jobs

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/hibiken/asynq"
)

// TypeSessionSweep deletes expired login sessions.
const TypeSessionSweep = "session:sweep"

// NewSessionSweepTask makes a session sweep task (no payload).
func NewSessionSweepTask() *asynq.Task { return asynq.NewTask(TypeSessionSweep, nil) }

func sessionSweepHandler(store Store, log *slog.Logger) asynq.HandlerFunc {
	return func(ctx context.Context, _ *asynq.Task) error {
		n, err := store.DeleteExpiredSessions(ctx)
		if err != nil {
			return fmt.Errorf("jobs: session sweep: %w", err)
		}
		if n > 0 {
			log.Info("expired sessions deleted", "count", n)
		}
		return nil
	}
}
