package jobs

import (
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
