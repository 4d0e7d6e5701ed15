package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/parley-chat/parley/channels/email"
	"github.com/parley-chat/parley/internal/testenv"
	"github.com/parley-chat/parley/jobs"
	"github.com/parley-chat/parley/jobs/task"
)

var env testenv.Env

func TestMain(m *testing.M) { os.Exit(testenv.Main(m, "jobs", &env)) }

// sweepStore records each sweep on a channel.
type sweepStore struct {
	jobs.Store
	swept chan struct{}
}

func (s sweepStore) DeleteExpiredSessions(context.Context) (int64, error) {
	s.swept <- struct{}{}
	return 3, nil
}

// noSends is an SMS sender for workers that must send nothing.
type noSends struct{ t *testing.T }

func (n noSends) SendSMS(context.Context, jobs.SMS) ([]string, error) {
	n.t.Error("a worker that had nothing to send sent an SMS")
	return nil, errors.New("no sends expected")
}

func (n noSends) Send(context.Context, email.Envelope, []byte) error {
	n.t.Error("a worker that had nothing to send sent an email")
	return errors.New("no sends expected")
}

func TestWorkerRunsTasksAndStops(t *testing.T) {
	opt, err := asynq.ParseRedisURI(env.RedisURL)
	if err != nil {
		t.Fatal(err)
	}
	store := sweepStore{swept: make(chan struct{}, 4)}
	w, err := jobs.NewWorker(opt, jobs.WorkerConfig{
		Concurrency: 2, ShutdownTimeout: 2 * time.Second,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}, jobs.Deps{Store: store, SMS: noSends{t}, Email: noSends{t}, EmailCfg: testEmailCfg})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- w.Run(ctx) }()

	client := asynq.NewClient(opt)
	defer client.Close()
	info, err := client.Enqueue(asynq.NewTask(task.TypeSessionSweep, nil), asynq.Queue(task.QueueBulk))
	if err != nil {
		t.Fatal(err)
	}
	if info.Queue != task.QueueBulk || info.Type != task.TypeSessionSweep {
		t.Fatalf("enqueued %+v", info)
	}
	select {
	case <-store.swept:
	case <-time.After(10 * time.Second):
		t.Fatal("the worker did not run the sweep task")
	}
	cancel()
	select {
	case err := <-stopped:
		if err != nil {
			t.Fatalf("worker stopped with %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("worker did not stop")
	}
}

// Without an SMS sender, sms:send would have no handler: its tasks would
// retry, be archived and be swept back forever. The worker refuses to
// start instead, naming the type.
func TestWorkerWithoutSMSSenderRefusesToStart(t *testing.T) {
	opt, err := asynq.ParseRedisURI(env.RedisURL)
	if err != nil {
		t.Fatal(err)
	}
	w, err := jobs.NewWorker(opt, jobs.WorkerConfig{Concurrency: 1}, jobs.Deps{Store: sweepStore{}, Email: noSends{t}, EmailCfg: testEmailCfg})
	var missing *jobs.MissingHandlersError
	if !errors.As(err, &missing) || w != nil {
		t.Fatalf("NewWorker without an SMS sender = %v, %v; want a missing-handler error", w, err)
	}
	if len(missing.Types) != 1 || missing.Types[0] != task.TypeSMSSend || !strings.Contains(err.Error(), task.TypeSMSSend) {
		t.Fatalf("error %q (types %v) should name %s and only it", err, missing.Types, task.TypeSMSSend)
	}
}

// TestLeaseExpiryRetriesAtOnce: a task taken back from a dead worker
// (asynq's ErrLeaseExpired) goes back to its queue after a second, not
// after asynq's backoff (15-44 s on a first retry); every other failure
// keeps the configured delay, or asynq's backoff when none is set.
func TestLeaseExpiryRetriesAtOnce(t *testing.T) {
	tk := asynq.NewTask(task.TypeSMSSend, nil)
	leaseErr := fmt.Errorf("recovered: %w", asynq.ErrLeaseExpired)
	for _, tc := range []struct {
		name  string
		delay func(int, error, *asynq.Task) time.Duration
	}{
		{"asynq's backoff", nil},
		{"configured delay", func(int, error, *asynq.Task) time.Duration { return time.Hour }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := jobs.WorkerConfig{RetryDelay: tc.delay}.ServerConfig().RetryDelayFunc
			if f == nil {
				t.Fatal("no retry delay function: asynq's backoff applies to lease expiries too")
			}
			for n := range 3 {
				if d := f(n, leaseErr, tk); d != time.Second {
					t.Errorf("retry %d after a lease expiry: %s, want 1s", n, d)
				}
			}
			d := f(0, errors.New("provider unreachable"), tk)
			if tc.delay != nil && d != time.Hour || tc.delay == nil && d < 15*time.Second {
				t.Errorf("retry after a send error: %s", d)
			}
		})
	}
}
