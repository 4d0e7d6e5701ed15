package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/parley-chat/parley/jobs"
	"github.com/parley-chat/parley/jobs/task"
	"github.com/parley-chat/parley/models"
)

// The relay turns an outbox entry into one asynq task whose id is the
// outbox id and whose payload carries both ids; sweeping it again while
// the task exists is absorbed by the task id.
func TestRelayEnqueuesOutboxEntry(t *testing.T) {
	h := newHarness(t, vonageOK)
	msgID := h.start(newPhone(), "Welcome!")
	relay, stop := h.startRelay()
	relay.Kick()
	var row outboxRow
	waitUntil(t, 10*time.Second, "the entry to be relayed", func() bool {
		row = h.outbox(msgID)
		return row.EnqueuedAt != nil
	})
	stop()
	if row.DoneAt != nil || row.Attempts != 1 {
		t.Errorf("relayed entry: %+v, want not done, 1 attempt", row)
	}
	info := h.taskInfo(row.ID)
	if info == nil {
		t.Fatal("no task in Redis for the relayed entry")
	}
	if info.Type != task.TypeSMSSend || info.Queue != task.QueueCritical || info.State != asynq.TaskStatePending || info.MaxRetry != 8 {
		t.Errorf("task %+v", info)
	}
	// The wire form tasks queued before the catalogue carry.
	if want := fmt.Sprintf(`{"outbox_id":%d,"message_id":%d}`, row.ID, msgID); string(info.Payload) != want {
		t.Errorf("payload %s, want %s", info.Payload, want)
	}

	// A relay sweeping every 20 ms with age 0 enqueues the entry again and
	// again (no worker runs it); the task id keeps it one task.
	h.startRelay(fastSweep)
	waitUntil(t, 10*time.Second, "two sweeps of the entry", func() bool { return h.outbox(msgID).Attempts >= 3 })
	// (The reply's credits:charge entry is a task of its own.)
	tasks, err := h.insp.ListPendingTasks(task.QueueCritical)
	sends := 0
	for _, ti := range tasks {
		if ti.Type == task.TypeSMSSend {
			sends++
		}
	}
	if err != nil || sends != 1 {
		t.Errorf("sms:send tasks after repeated sweeps: %d of %d (%v), want 1", sends, len(tasks), err)
	}
}

// R5 flavour: Redis loses its data after the relay enqueued an entry and
// before a worker ran it. The entry stays open in Postgres (enqueued, not
// done): PendingOutbox no longer sees it, StaleOutbox does once it is old
// enough, and the relay's sweep enqueues it again; it is sent exactly once.
func TestRelayRedisFlushIsRecoveredBySweep(t *testing.T) {
	h := newHarness(t, vonageOK)
	phone := newPhone()
	msgID := h.start(phone, "Your prescription is ready")
	relay, stopRelay := h.startRelay()
	relay.Kick()
	waitUntil(t, 10*time.Second, "the entry to be relayed", func() bool { return h.outbox(msgID).EnqueuedAt != nil })
	stopRelay()
	row := h.outbox(msgID)
	if h.taskInfo(row.ID) == nil {
		t.Fatal("no task in Redis after relaying")
	}

	// Redis loses everything (only the package's own DB).
	h.flushRedis()
	if h.taskInfo(row.ID) != nil {
		t.Fatal("task survived FLUSHDB")
	}
	row = h.outbox(msgID)
	if row.EnqueuedAt == nil || row.DoneAt != nil {
		t.Fatalf("after the flush the entry is %+v, want enqueued and not done", row)
	}

	// The store side, without stamping anything (fn hands nothing over).
	seen := func(query func(fn func([]models.OutboxEntry) (models.OutboxOutcome, error)) error) []models.OutboxEntry {
		t.Helper()
		var got []models.OutboxEntry
		if err := query(func(rows []models.OutboxEntry) (models.OutboxOutcome, error) {
			for _, r := range rows {
				if r.ID == row.ID {
					got = append(got, r)
				}
			}
			return models.OutboxOutcome{}, nil
		}); err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := seen(func(fn func([]models.OutboxEntry) (models.OutboxOutcome, error)) error {
		return h.store.PendingOutbox(h.ctx, 100, fn)
	}); len(got) != 0 {
		t.Error("PendingOutbox returned an entry already enqueued")
	}
	if got := seen(func(fn func([]models.OutboxEntry) (models.OutboxOutcome, error)) error {
		return h.store.StaleOutbox(h.ctx, 10*time.Minute, 100, fn)
	}); len(got) != 0 {
		t.Error("StaleOutbox(10m, the production age) returned an entry enqueued just now")
	}
	got := seen(func(fn func([]models.OutboxEntry) (models.OutboxOutcome, error)) error {
		return h.store.StaleOutbox(h.ctx, 0, 100, fn)
	})
	if len(got) != 1 || got[0].TaskType != task.TypeSMSSend || got[0].Queue != task.QueueCritical {
		t.Fatalf("StaleOutbox(0) = %+v, want the flushed entry", got)
	}
	if after := h.outbox(msgID); after.Attempts != 1 || !after.EnqueuedAt.Equal(*row.EnqueuedAt) {
		t.Errorf("an fn handing nothing over changed the entry: %+v", after)
	}

	// The relay's own sweep (shortened) puts it back; a worker sends it once.
	h.startRelay(fastSweep)
	h.startWorker(2, jobs.SMSConfig{})
	done := h.waitDone(msgID, 15*time.Second)
	if done.LastError != "" || done.Attempts < 2 {
		t.Errorf("outbox entry %+v, want done without error after a re-enqueue", done)
	}
	if m := h.message(msgID); m.Status != models.MsgSent {
		t.Errorf("message is %q, want sent", m.Status)
	}
	if got := seen(func(fn func([]models.OutboxEntry) (models.OutboxOutcome, error)) error {
		return h.store.StaleOutbox(h.ctx, 0, 100, fn)
	}); len(got) != 0 {
		t.Error("StaleOutbox returned a done entry")
	}
	// The sweep keeps running every 20 ms: nothing more reaches Vonage.
	h.quiet(1, 300*time.Millisecond)
}

// Redis loses its data (FLUSHDB here, FLUSHALL or a restart without
// persistence in production) after the relay enqueued an entry: the relay
// notices its marker is gone and enqueues the entry again long before the
// sweep would (the sweep is off here), and a worker sends it once.
func TestRelayNoticesRedisLoss(t *testing.T) {
	h := newHarness(t, vonageOK)
	msgID := h.start(newPhone(), "Your repair is finished")
	relay, _ := h.startRelay(func(r *jobs.Relay) {
		r.Redis = h.rdb
		r.LossCheck = 20 * time.Millisecond
		r.SweepEvery = time.Hour // only the loss check can bring it back
	})
	relay.Kick()
	waitUntil(t, 10*time.Second, "the entry to be relayed", func() bool { return h.outbox(msgID).EnqueuedAt != nil })
	row := h.outbox(msgID)
	if h.taskInfo(row.ID) == nil {
		t.Fatal("no task in Redis after relaying")
	}
	h.flushRedis()
	waitUntil(t, 30*time.Second, "the lost task to be enqueued again", func() bool { return h.taskInfo(row.ID) != nil })
	h.startWorker(2, jobs.SMSConfig{})
	done := h.waitDone(msgID, 30*time.Second)
	if done.LastError != "" || done.Attempts < 2 {
		t.Errorf("outbox entry %+v, want done without error after a re-enqueue", done)
	}
	if m := h.message(msgID); m.Status != models.MsgSent {
		t.Errorf("message is %q, want sent", m.Status)
	}
	h.quiet(1, 300*time.Millisecond)
}

// The sweep re-enqueues entries that are not done, which includes one
// whose task is running right now; the task id must absorb that, or a
// slow send would go out twice.
func TestRelaySweepDoesNotDuplicateLiveTask(t *testing.T) {
	release := make(chan struct{})
	var once sync.Once
	unblock := func() { once.Do(func() { close(release) }) }
	defer unblock() // before the cleanups stop the worker and the fake
	h := newHarness(t, func(n int, id string, form url.Values) (int, string) {
		<-release // Vonage is slow: the send is in flight while sweeps run
		return vonageOK(n, id, form)
	})
	msgID := h.start(newPhone(), "Your order is on its way")
	relay, _ := h.startRelay(fastSweep)
	relay.Kick()
	h.startWorker(2, jobs.SMSConfig{})
	h.vonage.next(t, 15*time.Second)
	start := h.outbox(msgID).Attempts
	waitUntil(t, 10*time.Second, "sweeps while the send is in flight", func() bool { return h.outbox(msgID).Attempts >= start+3 })
	unblock()
	h.waitDone(msgID, 15*time.Second)
	if m := h.message(msgID); m.Status != models.MsgSent {
		t.Errorf("message is %q, want sent", m.Status)
	}
	h.quiet(1, 300*time.Millisecond)
}

// failingClaims fails ClaimSMS the first n times (Postgres unreachable,
// say), then behaves.
type failingClaims struct {
	*models.Store
	left atomic.Int64
}

func (f *failingClaims) ClaimSMS(ctx context.Context, id int64) (*models.OutboundSMS, *models.Change, error) {
	if f.left.Add(-1) >= 0 {
		return nil, nil, errors.New("store: claim sms: connection refused")
	}
	return f.Store.ClaimSMS(ctx, id)
}

// A task that exhausts its retries on an error other than the send (the
// store unreachable for longer than the retry span) is archived while its
// outbox entry stays open and its message queued. The sweep should bring
// it back; today the archived task's id makes the sweep's enqueue a
// conflict, which the relay counts as handed over, so the message is
// never sent nor failed (until asynq drops the archived task, 90 days by
// default). See the report (jobs/relay.go, enqueue). Run with
func TestRelaySweepRevivesArchivedTask(t *testing.T) {
	h := newHarness(t, vonageOK)
	msgID := h.start(newPhone(), "Your table is ready")
	store := &failingClaims{Store: h.store}
	store.left.Store(9) // the first run and its 8 retries
	relay, _ := h.startRelay()
	relay.Kick()
	h.startWorkerStore(store, jobs.WorkerConfig{Concurrency: 2, TaskCheckInterval: 10 * time.Millisecond,
		ShutdownTimeout: 5 * time.Second, Logger: testLog(),
		RetryDelay: func(int, error, *asynq.Task) time.Duration { return 10 * time.Millisecond }}, jobs.SMSConfig{})
	row := h.outbox(msgID)
	// asynq's forwarder moves due retries every 5 s; release them at once.
	waitUntil(t, 30*time.Second, "the task to be archived after its retries", func() bool {
		info := h.taskInfo(row.ID)
		if info != nil && info.State == asynq.TaskStateRetry {
			_ = h.insp.RunTask(task.QueueCritical, info.ID)
		}
		return info != nil && info.State == asynq.TaskStateArchived
	})
	if row = h.outbox(msgID); row.DoneAt != nil {
		t.Fatalf("entry done although the task never ran to an end: %+v", row)
	}
	if m := h.message(msgID); m.Status != models.MsgQueued {
		t.Fatalf("message is %q", m.Status)
	}
	// Postgres is back; the sweep runs.
	h.startRelay(fastSweep)
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) && h.outbox(msgID).DoneAt == nil {
		time.Sleep(20 * time.Millisecond)
	}
	row = h.outbox(msgID)
	if row.DoneAt == nil {
		t.Errorf("after %d sweeps the entry is still open and the message %q: the archived task blocks the re-enqueue",
			row.Attempts-1, h.message(msgID).Status)
	}
}

// syncBuffer is a log sink the relay's goroutines can share.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// An entry that can never run (a type the catalogue does not know, such
// as a type from a newer Parley during a rolling upgrade, or a
// payload that does not decode) is closed with the reason and logged, so
// it is neither enqueued nor offered again by the sweep; entries beside
// it in the batch are relayed as usual.
func TestRelayClosesEntriesThatCanNeverRun(t *testing.T) {
	h := newHarness(t, vonageOK)
	good := h.start(newPhone(), "Your table is ready")
	bad := map[string]struct {
		typ, payload, reason string
	}{
		"unknown type":    {"fax:send", `{"message_id": 1}`, `task "fax:send": unknown task type`},
		"wrong field":     {task.TypeSMSSend, `{"message_id": "0"}`, "malformed task payload"},
		"missing message": {task.TypeSMSSend, `{}`, "malformed task payload"},
	}
	ids := map[string]int64{}
	for name, b := range bad {
		var id int64
		if err := h.store.DB().NewRaw("INSERT INTO outbox (org_id, task_type, queue, payload) VALUES (?, ?, 'critical', ?::jsonb) RETURNING id",
			h.demo.Org.ID, b.typ, b.payload).Scan(h.ctx, &id); err != nil {
			t.Fatal(err)
		}
		ids[name] = id
	}

	logs := &syncBuffer{}
	client := asynq.NewClient(h.opt)
	t.Cleanup(func() { client.Close() })
	relay := jobs.NewRelay(h.store, client, slog.New(slog.NewTextHandler(logs, nil)))
	relay.SweepEvery, relay.SweepAge = 20*time.Millisecond, 0 // sweeps keep running meanwhile
	stop := stopper(t, "relay", relay.Run)
	relay.Kick()
	state := func(id int64) (row outboxRow) {
		t.Helper()
		if err := h.store.DB().NewRaw("SELECT id, enqueued_at, done_at, attempts, last_error FROM outbox WHERE id = ?", id).Scan(h.ctx, &row); err != nil {
			t.Fatal(err)
		}
		return row
	}
	waitUntil(t, 10*time.Second, "the batch to be relayed", func() bool {
		if h.outbox(good).EnqueuedAt == nil {
			return false
		}
		for _, id := range ids {
			if state(id).DoneAt == nil {
				return false
			}
		}
		return true
	})
	waitUntil(t, 10*time.Second, "a sweep after the refusals", func() bool { return h.outbox(good).Attempts >= 2 })
	stop()

	if info := h.taskInfo(h.outbox(good).ID); info == nil || info.Type != task.TypeSMSSend {
		t.Errorf("the good entry's task: %+v", info)
	}
	for name, id := range ids {
		row := state(id)
		if !strings.Contains(row.LastError, bad[name].reason) || row.EnqueuedAt != nil || row.Attempts != 0 {
			t.Errorf("%s: entry %+v, want done, never enqueued, last_error containing %q", name, row, bad[name].reason)
		}
		if info := h.taskInfo(id); info != nil {
			t.Errorf("%s: a task reached Redis: %+v", name, info)
		}
		if !strings.Contains(logs.String(), fmt.Sprintf("outbox_id=%d ", id)) {
			t.Errorf("%s: the refusal of entry %d was not logged:\n%s", name, id, logs)
		}
	}
}

// An entry naming another of the catalogue's queues than its kind's (a
// broadcast's sends, on the bulk queue) is enqueued on that queue; one
// naming no known queue goes on its kind's.
func TestRelayHonoursTheEntrysQueue(t *testing.T) {
	h := newHarness(t, vonageOK)
	msgID := h.start(newPhone(), "Welcome!")
	var bulk, unknown int64
	for _, c := range []struct {
		queue string
		id    *int64
	}{{task.QueueBulk, &bulk}, {"no-such-queue", &unknown}} {
		if err := h.store.DB().NewRaw(`INSERT INTO outbox (task_type, queue, payload) VALUES (?, ?, ?) RETURNING id`,
			task.TypeSMSSend, c.queue, fmt.Sprintf(`{"message_id": %d}`, msgID)).Scan(context.Background(), c.id); err != nil {
			t.Fatal(err)
		}
	}
	relay, stop := h.startRelay()
	relay.Kick()
	waitUntil(t, 10*time.Second, "the entries to be relayed", func() bool {
		_, err1 := h.insp.GetTaskInfo(task.QueueBulk, taskID(bulk))
		return err1 == nil && h.taskInfo(unknown) != nil
	})
	stop()
	if info := h.taskInfo(bulk); info != nil {
		t.Errorf("the bulk entry is on the critical queue too: %+v", info)
	}
}
