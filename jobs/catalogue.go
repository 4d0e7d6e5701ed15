package jobs

import (
	"strings"

	"github.com/hibiken/asynq"
	"github.com/parley-chat/parley/jobs/task"
)

// kindOptions are the asynq options every task of kind k is enqueued
// with: the catalogue, not the caller, decides its queue and retries.
func kindOptions(k task.Kind) []asynq.Option {
	opts := []asynq.Option{asynq.Queue(k.Queue), asynq.MaxRetry(k.MaxRetry)}
	if k.Unique > 0 {
		opts = append(opts, asynq.Unique(k.Unique))
	}
	return opts
}

// MissingHandlersError names the task types a worker has no handler for.
type MissingHandlersError struct{ Types []string }

func (e *MissingHandlersError) Error() string {
	return "jobs: no handler for task type " + strings.Join(e.Types, ", ") +
		": the worker refuses to start with a task it cannot run"
}

// checkHandlers refuses a mux that cannot run every kind: a task type
// without a handler would be retried, archived and swept back forever
// while its message showed "Queued" with no explanation.
func checkHandlers(mux *asynq.ServeMux, kinds []task.Kind) error {
	var missing []string
	for _, k := range kinds {
		// asynq matches handlers by prefix: only an exact pattern serves k.
		if _, pattern := mux.Handler(asynq.NewTask(k.Type, nil)); pattern != k.Type {
			missing = append(missing, k.Type)
		}
	}
	if len(missing) > 0 {
		return &MissingHandlersError{Types: missing}
	}
	return nil
}
