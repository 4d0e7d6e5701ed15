package jobs_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/parley-chat/parley/channels/sms"
	"github.com/parley-chat/parley/internal/smtpsink"
	"github.com/parley-chat/parley/jobs"
	"github.com/parley-chat/parley/jobs/task"
	"github.com/parley-chat/parley/models"
	"github.com/redis/go-redis/v9"
)

// The demo inbox's number, as stored (E.164) and as Vonage's form carries it.
const (
	demoNumber       = "+15550100100"
	demoNumberDigits = "15550100100"
)

// testLog discards the worker's logs unless PARLEY_TEST_LOG=1.
func testLog() *slog.Logger {
	if os.Getenv("PARLEY_TEST_LOG") == "1" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// phoneSeq hands out recipient numbers no other test of the run uses.
var phoneSeq atomic.Int64

func newPhone() string { return fmt.Sprintf("+1555020%04d", phoneSeq.Add(1)) }

// vonageDigits is a number as Vonage's form carries it: no '+'.
func vonageDigits(e164 string) string { return e164[1:] }

// --- fake Vonage SMS API ---

// vonageReq is one POST /sms/json the fake received.
type vonageReq struct {
	Form url.Values
	At   time.Time
	ID   string // the message-id the fake would answer with, if it accepts
}

// fakeSeq makes message-ids unique across the run's fakes: messages and
// message_parts hold (provider, provider_message_id) unique, as Vonage's
// ids are.
var fakeSeq atomic.Int64

// answerFunc answers the n-th request (1-based); id is a fresh message-id.
type answerFunc func(n int, id string, form url.Values) (status int, body string)

// fakeVonage speaks Vonage's SMS API: it records each send and answers
// with what answer returns.
type fakeVonage struct {
	*httptest.Server
	prefix string
	mu     sync.Mutex
	reqs   []vonageReq
	got    chan vonageReq
	answer answerFunc
}

// vonageOK accepts a one-part message with the message-id id.
func vonageOK(_ int, id string, form url.Values) (int, string) {
	return http.StatusOK, fmt.Sprintf(`{"message-count":"1","messages":[{"to":%q,"message-id":%q,"status":"0","remaining-balance":"10.0","message-price":"0.0333","network":"12345"}]}`,
		form.Get("to"), id)
}

// vonageRefused refuses with status 6 and text.
func vonageRefused(text string) answerFunc {
	return func(_ int, _ string, form url.Values) (int, string) {
		return http.StatusOK, fmt.Sprintf(`{"message-count":"1","messages":[{"to":%q,"status":"6","error-text":%q}]}`, form.Get("to"), text)
	}
}

func newFakeVonage(t *testing.T, answer answerFunc) *fakeVonage {
	t.Helper()
	f := &fakeVonage{prefix: fmt.Sprintf("F%d-", fakeSeq.Add(1)), got: make(chan vonageReq, 1024), answer: answer}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		at := time.Now()
		if r.Method != http.MethodPost || r.URL.Path != "/sms/json" {
			http.NotFound(w, r)
			return
		}
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		n := len(f.reqs) + 1
		req := vonageReq{Form: r.PostForm, At: at, ID: fmt.Sprintf("%s%06d", f.prefix, n)}
		f.reqs = append(f.reqs, req)
		f.mu.Unlock()
		select {
		case f.got <- req:
		default:
		}
		status, body := f.answer(n, req.ID, r.PostForm)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(f.Close)
	return f
}

// requests returns a copy of what the fake received so far.
func (f *fakeVonage) requests() []vonageReq {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]vonageReq(nil), f.reqs...)
}

func (f *fakeVonage) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.reqs)
}

// next waits for the fake's next request.
func (f *fakeVonage) next(t *testing.T, within time.Duration) vonageReq {
	t.Helper()
	select {
	case r := <-f.got:
		return r
	case <-time.After(within):
		t.Fatalf("no request reached the fake Vonage within %s (%d so far)", within, f.count())
		return vonageReq{}
	}
}

// sender is the production Vonage sender pointed at the fake.
func (f *fakeVonage) sender(t *testing.T) jobs.SMSSender {
	t.Helper()
	s, err := sms.NewVonageSender(sms.VonageConfig{APIKey: "abcd1234", APISecret: "s", BaseURL: f.URL, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.CloseIdleConnections)
	return jobs.VonageSMS(s)
}

// --- recording notifier ---

type recorder struct {
	mu      sync.Mutex
	changes []*models.Change
}

func (r *recorder) Notify(ch *models.Change) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.changes = append(r.changes, ch)
}

// statusEvents returns the message_status events raised for msgID, in order.
func (r *recorder) statusEvents(msgID int64) []models.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []models.Event
	for _, ch := range r.changes {
		for _, ev := range ch.Events {
			if ev.Kind == models.EvMessageStatus && ev.MessageID != nil && *ev.MessageID == msgID {
				out = append(out, ev)
			}
		}
	}
	return out
}

// --- harness: a store, the demo tenant, Redis, the fake, the notifier ---

type harness struct {
	t      *testing.T
	ctx    context.Context
	store  *models.Store
	demo   *models.DemoResult
	scope  models.Scope
	opt    asynq.RedisConnOpt
	rdb    *redis.Client
	insp   *asynq.Inspector
	vonage *fakeVonage
	notes  *recorder
	// mail is the SMTP server email:send reaches through the real relay
	// (see emailSink for the addresses it refuses).
	mail *smtpsink.Sink
}

// newHarness connects to the package's database and Redis DB. When the
// test ends, its workers and relays stop first, then the Redis DB is
// flushed and outbox rows left open are closed, so no task or entry leaks
// into the next test.
func newHarness(t *testing.T, answer answerFunc) *harness {
	t.Helper()
	ctx := context.Background()
	db, err := models.OpenDB(ctx, env.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	store := models.NewStore(db)
	demo, err := store.SeedDemo(ctx, models.DemoOptions{
		AdminEmail: "admin@demo.parley.test", AdminPassword: "correct horse battery",
		AgentEmail: "agent@demo.parley.test", AgentPassword: "agent password 1",
		SMSNumber: demoNumber, EmailAddress: "demo@inbound.parley.test",
		PlanCredits: models.MaxPlanCredits, // tests of sending, not of credits
	})
	if err != nil {
		t.Fatal(err)
	}
	opt, err := asynq.ParseRedisURI(env.RedisURL)
	if err != nil {
		t.Fatal(err)
	}
	ropt, err := redis.ParseURL(env.RedisURL)
	if err != nil {
		t.Fatal(err)
	}
	if ropt.DB == 0 {
		t.Fatalf("refusing to use Redis DB 0 (%s): testenv hands out 1-15", env.RedisURL)
	}
	rdb := redis.NewClient(ropt)
	h := &harness{
		t: t, ctx: ctx, store: store, demo: demo, opt: opt, rdb: rdb,
		scope:  models.Scope{OrgID: demo.Org.ID, UserID: demo.Agent.ID, Role: models.RoleAgent},
		insp:   asynq.NewInspector(opt),
		vonage: newFakeVonage(t, answer),
		notes:  &recorder{},
		mail:   emailSink(t),
	}
	// Registered first, so it runs after every worker and relay has stopped.
	t.Cleanup(func() {
		h.flushRedis()
		if _, err := db.ExecContext(context.Background(),
			"UPDATE outbox SET done_at = now(), enqueued_at = coalesce(enqueued_at, now()), last_error = 'closed by test cleanup' WHERE done_at IS NULL"); err != nil {
			t.Errorf("close leftover outbox rows: %v", err)
		}
		h.insp.Close()
		rdb.Close()
		db.Close()
	})
	h.flushRedis()
	return h
}

// flushRedis empties the package's exclusive Redis DB (never DB 0).
func (h *harness) flushRedis() {
	h.t.Helper()
	if err := h.rdb.FlushDB(context.Background()).Err(); err != nil {
		h.t.Fatalf("flush redis: %v", err)
	}
}

// stopper runs a component until stop is called (or the test ends).
func stopper(t *testing.T, name string, run func(ctx context.Context) error) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("%s stopped with %v", name, err)
				}
			case <-time.After(15 * time.Second):
				t.Errorf("%s did not stop", name)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// startWorker runs a worker sending through the fake Vonage; configure,
// if given, adjusts its WorkerConfig (e.g. RetryDelay).
func (h *harness) startWorker(concurrency int, smsCfg jobs.SMSConfig, configure ...func(*jobs.WorkerConfig)) (stop func()) {
	h.t.Helper()
	if smsCfg.Provider == "" {
		smsCfg.Provider = "vonage"
	}
	cfg := jobs.WorkerConfig{
		Concurrency: concurrency, TaskCheckInterval: 10 * time.Millisecond,
		ShutdownTimeout: 5 * time.Second, Logger: testLog(),
	}
	for _, c := range configure {
		c(&cfg)
	}
	return h.startWorkerStore(h.store, cfg, smsCfg)
}

// startWorkerStore runs a worker on store (a wrapper of h.store, say).
func (h *harness) startWorkerStore(store jobs.Store, cfg jobs.WorkerConfig, smsCfg jobs.SMSConfig) (stop func()) {
	h.t.Helper()
	if smsCfg.Provider == "" {
		smsCfg.Provider = "vonage"
	}
	w, err := jobs.NewWorker(h.opt, cfg, jobs.Deps{Store: store, SMS: h.vonage.sender(h.t), Notify: h.notes, SMSCfg: smsCfg,
		Email: h.relay(), EmailCfg: testEmailCfg})
	if err != nil {
		h.t.Fatal(err)
	}
	return stopper(h.t, "worker", w.Run)
}

// startRelay runs an outbox relay; kick it after committing entries.
// configure, if given, adjusts the relay before it runs (Poll,
// SweepEvery, SweepAge).
func (h *harness) startRelay(configure ...func(*jobs.Relay)) (*jobs.Relay, func()) {
	h.t.Helper()
	client := asynq.NewClient(h.opt)
	r := jobs.NewRelay(h.store, client, testLog())
	r.Inspector = h.insp
	for _, c := range configure {
		c(r)
	}
	stop := stopper(h.t, "relay", r.Run)
	h.t.Cleanup(func() { client.Close() }) // runs after stop (LIFO)
	return r, stop
}

// fastSweep makes a relay sweep every 20 ms for entries enqueued before
// the sweep's transaction began (StaleOutbox counts whole seconds, so any
// age under 1 s is 0).
func fastSweep(r *jobs.Relay) {
	r.SweepEvery = 20 * time.Millisecond
	r.SweepAge = 0
}

// --- making messages ---

// inboundHello has the recipient text the demo inbox, opening a conversation.
func (h *harness) inboundHello(phone string) int64 {
	h.t.Helper()
	res, err := h.store.ReceiveSMS(h.ctx, models.InboundSMS{Provider: "vonage", ProviderMessageID: "in-" + phone,
		From: phone, To: demoNumber, Body: "Hi, is my table ready?", ReceivedAt: time.Now()})
	if err != nil {
		h.t.Fatal(err)
	}
	if res.Change == nil {
		h.t.Fatalf("inbound hello from %s changed nothing: %+v", phone, res)
	}
	return res.Change.Conversation.ID
}

// reply queues an agent's reply on a conversation and returns its message id.
func (h *harness) reply(convID int64, body string) int64 {
	h.t.Helper()
	ch, err := h.store.Reply(h.ctx, h.scope, convID, body, false)
	if err != nil {
		h.t.Fatal(err)
	}
	return messageOf(h.t, ch)
}

// start queues the first message of a new conversation.
func (h *harness) start(phone, body string) int64 {
	h.t.Helper()
	ch, err := h.store.StartConversation(h.ctx, h.scope, models.StartInput{InboxID: h.demo.Inbox.ID, To: phone, Body: body})
	if err != nil {
		h.t.Fatal(err)
	}
	return messageOf(h.t, ch)
}

// messageOf is the id of the (last) message a change added.
func messageOf(t *testing.T, ch *models.Change) int64 {
	t.Helper()
	for i := len(ch.Events) - 1; i >= 0; i-- {
		if ev := ch.Events[i]; ev.Kind == models.EvMessage && ev.MessageID != nil {
			return *ev.MessageID
		}
	}
	t.Fatalf("change has no message event: %+v", ch.Events)
	return 0
}

// --- reading state ---

func (h *harness) message(id int64) *models.Message {
	h.t.Helper()
	m := new(models.Message)
	if err := h.store.DB().NewSelect().Model(m).Where("id = ?", id).Scan(h.ctx); err != nil {
		h.t.Fatalf("load message %d: %v", id, err)
	}
	return m
}

type outboxRow struct {
	ID         int64      `bun:"id"`
	EnqueuedAt *time.Time `bun:"enqueued_at"`
	DoneAt     *time.Time `bun:"done_at"`
	Attempts   int        `bun:"attempts"`
	LastError  string     `bun:"last_error"`
}

// outbox is the outbox entry that sends message msgID.
func (h *harness) outbox(msgID int64) outboxRow {
	h.t.Helper()
	var rows []outboxRow
	if err := h.store.DB().NewRaw(`SELECT id, enqueued_at, done_at, attempts, last_error FROM outbox
		WHERE task_type IN (?, ?) AND (payload->>'message_id')::bigint = ?`, task.TypeSMSSend, task.TypeEmailSend, msgID).Scan(h.ctx, &rows); err != nil {
		h.t.Fatalf("load outbox of message %d: %v", msgID, err)
	}
	if len(rows) != 1 {
		h.t.Fatalf("message %d has %d outbox rows, want 1", msgID, len(rows))
	}
	return rows[0]
}

type partRow struct {
	Provider          string `bun:"provider"`
	ProviderMessageID string `bun:"provider_message_id"`
}

func (h *harness) parts(msgID int64) []partRow {
	h.t.Helper()
	var rows []partRow
	if err := h.store.DB().NewRaw("SELECT provider, provider_message_id FROM message_parts WHERE message_id = ? ORDER BY id",
		msgID).Scan(h.ctx, &rows); err != nil && !errors.Is(err, sql.ErrNoRows) {
		h.t.Fatalf("load parts of message %d: %v", msgID, err)
	}
	return rows
}

// taskInfo is the asynq task of an outbox entry, or nil when none exists.
func (h *harness) taskInfo(outboxID int64) *asynq.TaskInfo {
	h.t.Helper()
	info, err := h.insp.GetTaskInfo(task.QueueCritical, taskID(outboxID))
	if errors.Is(err, asynq.ErrTaskNotFound) || errors.Is(err, asynq.ErrQueueNotFound) {
		return nil
	}
	if err != nil {
		h.t.Fatalf("task of outbox %d: %v", outboxID, err)
	}
	return info
}

func taskID(outboxID int64) string { return "outbox-" + strconv.FormatInt(outboxID, 10) }

// waitUntil polls cond every 10 ms until it holds or within passes.
func waitUntil(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitDone waits for the message's outbox entry to be done: its task has
// run to an end (sent, refused, or not sendable).
func (h *harness) waitDone(msgID int64, within time.Duration) outboxRow {
	h.t.Helper()
	var row outboxRow
	waitUntil(h.t, within, fmt.Sprintf("outbox of message %d to be done", msgID), func() bool {
		row = h.outbox(msgID)
		return row.DoneAt != nil
	})
	return row
}

// quiet asserts the fake's request count stays at want for d: the
// bounded window in which a wrongly retried task would show up. Used
// only after the task's end is known by a signal (outbox done, task
// archived), as a belt-and-braces check.
func (h *harness) quiet(want int, d time.Duration) {
	h.t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if n := h.vonage.count(); n != want {
			h.t.Fatalf("fake Vonage got %d requests, want %d", n, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
