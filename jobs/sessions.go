package jobs

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/hibiken/asynq"
)

// sessionSweepHandler runs session:sweep: it deletes expired login
// sessions. Every node schedules it; the kind's Unique keeps one per
// period.
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
