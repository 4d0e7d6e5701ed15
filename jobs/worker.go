package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
)

// WorkerConfig sets up the asynq server.
type WorkerConfig struct {
	Concurrency       int
	TaskCheckInterval time.Duration // 0 means DefaultTaskCheckInterval
	ShutdownTimeout   time.Duration // how long in-flight tasks may finish; the rest are re-queued
	Logger            *slog.Logger
}

// Store is what the worker's handlers need from the database.
type Store interface {
	DeleteExpiredSessions(ctx context.Context) (int64, error)
}

// Worker processes tasks and runs the periodic schedule.
type Worker struct {
	srv   *asynq.Server
	mux   *asynq.ServeMux
	sched *asynq.Scheduler
	log   *slog.Logger
}

// NewWorker wires the handlers for every task type.
func NewWorker(redis asynq.RedisConnOpt, cfg WorkerConfig, store Store) (*Worker, error) {
	if cfg.TaskCheckInterval == 0 {
		cfg.TaskCheckInterval = DefaultTaskCheckInterval
	}
	log := cfg.Logger.With("component", "worker")
	srv := asynq.NewServer(redis, asynq.Config{
		Concurrency:       cfg.Concurrency,
		Queues:            Queues(),
		TaskCheckInterval: cfg.TaskCheckInterval,
		ShutdownTimeout:   cfg.ShutdownTimeout,
		Logger:            asynqLogger{log},
		LogLevel:          asynq.WarnLevel,
		ErrorHandler: asynq.ErrorHandlerFunc(func(ctx context.Context, t *asynq.Task, err error) {
			id, _ := asynq.GetTaskID(ctx)
			log.Warn("task failed", "type", t.Type(), "task_id", id, "err", err)
		}),
	})
	mux := asynq.NewServeMux()
	mux.HandleFunc(TypeSessionSweep, sessionSweepHandler(store, log))

	sched := asynq.NewScheduler(redis, &asynq.SchedulerOpts{Logger: asynqLogger{log}, LogLevel: asynq.WarnLevel})
	// Every node registers the schedule; Unique keeps one task per period.
	if _, err := sched.Register("@every 1h", NewSessionSweepTask(), asynq.Queue(QueueBulk), asynq.Unique(50*time.Minute)); err != nil {
		return nil, fmt.Errorf("jobs: schedule session sweep: %w", err)
	}
	return &Worker{srv: srv, mux: mux, sched: sched, log: log}, nil
}

// Run processes tasks until ctx ends, then shuts down gracefully: tasks
// still running after the shutdown timeout go back to their queue.
func (w *Worker) Run(ctx context.Context) error {
	if err := w.srv.Start(w.mux); err != nil {
		return fmt.Errorf("jobs: start worker: %w", err)
	}
	if err := w.sched.Start(); err != nil {
		w.srv.Shutdown()
		return fmt.Errorf("jobs: start scheduler: %w", err)
	}
	w.log.Info("worker started")
	<-ctx.Done()
	w.sched.Shutdown()
	w.srv.Shutdown()
	w.log.Info("worker stopped")
	if errors.Is(ctx.Err(), context.Canceled) {
		return nil
	}
	return ctx.Err()
}
