package jobs

import (
	"log/slog"

	"github.com/hibiken/asynq"
)

// MuxOf exposes the worker's handlers (newMux), so tests can run a task
// through the real handler without a server.
func MuxOf(d Deps, log *slog.Logger) (*asynq.ServeMux, error) { return newMux(d, log) }
