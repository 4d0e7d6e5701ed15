package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
	"github.com/parley-chat/parley/jobs/task"
)

// WorkerConfig sets up the asynq server.
type WorkerConfig struct {
	Concurrency       int
	TaskCheckInterval time.Duration // 0 means DefaultTaskCheckInterval
	ShutdownTimeout   time.Duration // how long in-flight tasks may finish; the rest are re-queued
	// RetryDelay overrides asynq's exponential backoff (tests use a short one).
	RetryDelay func(n int, err error, t *asynq.Task) time.Duration
	// DelayedTaskCheckInterval is how often due retries return to their
	// queue (asynq's default 5 s; tests shorten it).
	DelayedTaskCheckInterval time.Duration
	Logger                   *slog.Logger
}

// Store is what the worker's handlers need from the database.
type Store interface {
	DeleteExpiredSessions(ctx context.Context) (int64, error)
	SMSStore
	EmailStore
	CreditsStore
	AlertStore
	BroadcastStore
}

// Deps are the worker's collaborators, passed in.
type Deps struct {
	Store Store
	// SMS is required: without it sms:send has no handler, and NewWorker
	// refuses to build a worker (main always configures Vonage or the
	// simulator).
	SMS    SMSSender
	Notify Notifier
	SMSCfg SMSConfig
	// Email is required like SMS (email:send's handler): the relay, or
	// the mailbox simulator's address. EmailCfg.Domain must be set.
	Email    EmailSender
	EmailCfg EmailConfig
}

// Worker processes tasks and runs the periodic schedule.
type Worker struct {
	srv   *asynq.Server
	mux   *asynq.ServeMux
	sched *asynq.Scheduler
	log   *slog.Logger
}

// ServerConfig is the asynq server configuration NewWorker runs with.
// Benchmarks build a no-op server from it, so their ceiling has the same
// concurrency, queues and task-check interval as Parley's worker.
func (cfg WorkerConfig) ServerConfig() asynq.Config {
	if cfg.TaskCheckInterval == 0 {
		cfg.TaskCheckInterval = DefaultTaskCheckInterval
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	log := cfg.Logger.With("component", "worker")
	return asynq.Config{
		Concurrency:              cfg.Concurrency,
		Queues:                   task.Queues(),
		TaskCheckInterval:        cfg.TaskCheckInterval,
		ShutdownTimeout:          cfg.ShutdownTimeout,
		RetryDelayFunc:           leaseRetryDelay(cfg.RetryDelay),
		DelayedTaskCheckInterval: cfg.DelayedTaskCheckInterval,
		Logger:                   asynqLogger{log},
		LogLevel:                 asynq.WarnLevel,
		ErrorHandler: asynq.ErrorHandlerFunc(func(ctx context.Context, t *asynq.Task, err error) {
			id, _ := asynq.GetTaskID(ctx)
			log.Warn("task failed", "type", t.Type(), "task_id", id, "err", err)
		}),
	}
}

// schedule is the periodic work: each task type with its cron spec. Its
// queue, retries and uniqueness come from the catalogue.
func schedule() []struct{ Type, Spec string } {
	return []struct{ Type, Spec string }{
		{task.TypeSessionSweep, "@every 1h"},
		{task.TypeCreditsRenew, "@every 1m"},
		{task.TypeBroadcastTick, "@every 30s"},
	}
}

// NewWorker wires a handler for every task type in the catalogue, and
// refuses (naming them) when any has none.
func NewWorker(redis asynq.RedisConnOpt, cfg WorkerConfig, d Deps) (*Worker, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	log := cfg.Logger.With("component", "worker")
	mux, err := newMux(d, log)
	if err != nil {
		return nil, err
	}
	srv := asynq.NewServer(redis, cfg.ServerConfig())
	sched := asynq.NewScheduler(redis, &asynq.SchedulerOpts{Logger: asynqLogger{log}, LogLevel: asynq.WarnLevel})
	// Every node registers the schedule; each kind's Unique keeps one task per period.
	for _, s := range schedule() {
		k, ok := task.Lookup(s.Type)
		if !ok {
			return nil, fmt.Errorf("jobs: schedule %s: %w", s.Type, task.ErrUnknownType)
		}
		if _, err := sched.Register(s.Spec, asynq.NewTask(k.Type, nil), kindOptions(k)...); err != nil {
			return nil, fmt.Errorf("jobs: schedule %s: %w", k.Type, err)
		}
	}
	return &Worker{srv: srv, mux: mux, sched: sched, log: log}, nil
}

// newMux registers the handlers and checks that every task type in the
// catalogue has one.
func newMux(d Deps, log *slog.Logger) (*asynq.ServeMux, error) {
	mux := asynq.NewServeMux()
	mux.HandleFunc(task.TypeSessionSweep, sessionSweepHandler(d.Store, log))
	mux.HandleFunc(task.TypeCreditsRenew, creditsRenewHandler(d.Store, log))
	mux.Handle(task.TypeCreditsCharge, &creditsCharge{out: sendOutcome{d.Store, d.Notify, log}, st: d.Store, log: log})
	mux.Handle(task.TypeCreditsAlert, &creditsAlert{out: sendOutcome{d.Store, d.Notify, log}, st: d.Store,
		sender: d.Email, cfg: d.EmailCfg, notify: d.Notify, log: log})
	bn, _ := d.Notify.(BroadcastNotifier)
	mux.Handle(task.TypeBroadcastFanout, &broadcastFanout{out: sendOutcome{d.Store, d.Notify, log}, st: d.Store, notify: bn, log: log})
	mux.HandleFunc(task.TypeBroadcastTick, broadcastTickHandler(d.Store, log))
	if d.SMS != nil {
		if d.SMSCfg.Rate <= 0 {
			d.SMSCfg.Rate = DefaultSMSRate
		}
		mux.Handle(task.TypeSMSSend, &smsSend{cfg: d.SMSCfg, store: d.Store, sender: d.SMS, sendOutcome: sendOutcome{d.Store, d.Notify, log}})
	}
	if d.Email != nil {
		if d.EmailCfg.Domain == "" {
			return nil, errors.New("jobs: email sending needs EmailConfig.Domain")
		}
		mux.Handle(task.TypeEmailSend, &emailSend{cfg: d.EmailCfg, store: d.Store, sender: d.Email, sendOutcome: sendOutcome{d.Store, d.Notify, log}})
	}
	if err := checkHandlers(mux, task.Catalogue()); err != nil {
		return nil, err
	}
	return mux, nil
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
