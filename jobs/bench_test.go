package jobs_test

// B3 (../shared/spec/quality.md): outbound burst throughput, reply queued →
// provider request, against a no-op asynq handler's rate on the same Redis
// with the same server settings. Run both in one run so the ratio is honest:
//
//	go test -run '^$' -bench 'NoopAsynq|SMSSendBurst' -benchtime 1x ./jobs/ -args -b3.n=3000
//
// One benchmark iteration is one burst of -b3.n messages (ns/op is a
// burst's wall time, which is why the rates are reported as metrics).

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/hibiken/asynq"
	"github.com/parley-chat/parley/channels/sms"
	"github.com/parley-chat/parley/jobs"
	"github.com/parley-chat/parley/jobs/task"
	"github.com/parley-chat/parley/models"
	"github.com/redis/go-redis/v9"
	"github.com/uptrace/bun"
)

var (
	b3N           = flag.Int("b3.n", 2000, "B3 benchmarks: messages per burst")
	b3Concurrency = flag.Int("b3.concurrency", 20, "B3 benchmarks: worker concurrency (PARLEY_WORKER_CONCURRENCY's default is 20)")
	b3Agents      = flag.Int("b3.agents", 8, "B3 benchmarks: agents committing replies at once, and goroutines enqueueing no-op tasks")
)

// benchRate is the SMS rate limit during a burst: far above what two cores
// reach, so the shared limiter stays on the path (one Redis call per send,
// as in production) but never makes a send wait.
const benchRate = 1_000_000

// burstTimeout bounds one burst; a burst that stalls fails the benchmark.
const burstTimeout = 3 * time.Minute

// benchWorkerConfig is what main.go passes to jobs.NewWorker: the
// concurrency, the shutdown grace and the default task-check interval.
func benchWorkerConfig() jobs.WorkerConfig {
	return jobs.WorkerConfig{Concurrency: *b3Concurrency, ShutdownTimeout: 5 * time.Second, Logger: testLog()}
}

// benchRedis is the package's exclusive Redis DB, flushed.
func benchRedis(b *testing.B) (asynq.RedisConnOpt, *redis.Client) {
	b.Helper()
	opt, err := asynq.ParseRedisURI(env.RedisURL)
	if err != nil {
		b.Fatal(err)
	}
	ropt, err := redis.ParseURL(env.RedisURL)
	if err != nil {
		b.Fatal(err)
	}
	if ropt.DB == 0 {
		b.Fatalf("refusing to use Redis DB 0 (%s)", env.RedisURL)
	}
	rdb := redis.NewClient(ropt)
	b.Cleanup(func() { rdb.Close() })
	flushBench(b, rdb)
	return opt, rdb
}

func flushBench(b *testing.B, rdb *redis.Client) {
	b.Helper()
	if err := rdb.FlushDB(context.Background()).Err(); err != nil {
		b.Fatalf("flush redis: %v", err)
	}
}

// parallel runs fn(0..n-1) on workers goroutines.
func parallel(workers, n int, fn func(k int) error) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w := range workers {
		wg.Go(func() {
			for {
				k := int(next.Add(1) - 1)
				if k >= n {
					return
				}
				if err := fn(k); err != nil {
					errs[w] = err
					return
				}
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// countdown closes its channel when add has been called target times
// since arm, and remembers when the last call came.
type countdown struct {
	mu      sync.Mutex
	n       int
	target  int
	first   time.Time
	last    time.Time
	reached chan struct{}
}

func (c *countdown) arm(target int) <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n, c.target, c.first, c.last, c.reached = 0, target, time.Time{}, time.Time{}, make(chan struct{})
	return c.reached
}

func (c *countdown) add(at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == 0 {
		c.first = at
	}
	c.n++
	c.last = at
	if c.n == c.target {
		close(c.reached)
	}
}

// span is read with the first call's time too.
func (c *countdown) span() (int, time.Time, time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n, c.first, c.last
}

func (c *countdown) read() (int, time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n, c.last
}

func waitFor(b *testing.B, ch <-chan struct{}, what string) {
	b.Helper()
	select {
	case <-ch:
	case <-time.After(burstTimeout):
		b.Fatalf("timed out after %s waiting for %s", burstTimeout, what)
	}
}

// BenchmarkNoopAsynq is B3's ceiling: N sms:send tasks enqueued the way the
// relay enqueues them (queue, task id, max retry), then drained by a no-op
// handler on an asynq server with the worker's own configuration
// (jobs.WorkerConfig.ServerConfig: concurrency, queues and weights,
// task-check interval).
func BenchmarkNoopAsynq(b *testing.B) {
	opt, rdb := benchRedis(b)
	n := *b3N
	client := asynq.NewClient(opt)
	b.Cleanup(func() { client.Close() })
	var enqueueTime, processTime, processCPU, processRedisCPU time.Duration
	rpid := redisPID(rdb)
	var handled countdown
	mux := asynq.NewServeMux()
	mux.HandleFunc(task.TypeSMSSend, func(context.Context, *asynq.Task) error {
		handled.add(time.Now())
		return nil
	})
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		flushBench(b, rdb)
		b.StartTimer()
		start := time.Now()
		err := parallel(*b3Agents, n, func(k int) error {
			p, _ := task.ForOutbox(task.TypeSMSSend, int64(k+1), task.NewSMSSend(int64(k+1)).Payload)
			_, err := client.Enqueue(asynq.NewTask(task.TypeSMSSend, p), asynq.Queue(task.QueueCritical),
				asynq.TaskID(fmt.Sprintf("outbox-%d-%d", i, k+1)), asynq.MaxRetry(8))
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		enqueueTime += time.Since(start)

		all := handled.arm(n)
		srv := asynq.NewServer(opt, benchWorkerConfig().ServerConfig())
		cpu0, rcpu0 := selfCPU(), procCPU(rpid)
		start = time.Now()
		if err := srv.Start(mux); err != nil {
			b.Fatal(err)
		}
		waitFor(b, all, "the no-op handler to process every task")
		_, last := handled.read()
		processTime += last.Sub(start)
		processCPU += selfCPU() - cpu0
		processRedisCPU += procCPU(rpid) - rcpu0
		b.StopTimer()
		srv.Shutdown()
		b.StartTimer()
	}
	b.StopTimer()
	total := float64(n * b.N)
	b.ReportMetric(total/enqueueTime.Seconds(), "enqueues/s")
	b.ReportMetric(total/processTime.Seconds(), "processed/s")
	b.ReportMetric(float64(processCPU.Microseconds())/total, "go-cpu-µs/task")
	b.ReportMetric(float64(processRedisCPU.Microseconds())/total, "redis-cpu-µs/task")
}

// --- the burst's edges: a Vonage SMS API fake and a counting store ---

// benchVonage answers every POST /sms/json like Vonage accepting a one-part
// message, and counts the requests.
type benchVonage struct {
	*httptest.Server
	seq   atomic.Int64
	conns atomic.Int64 // TCP connections the sender opened
	reqs  countdown
}

func newBenchVonage(b *testing.B) *benchVonage {
	f := &benchVonage{}
	prefix := fmt.Sprintf("B%d-", fakeSeq.Add(1))
	f.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		at := time.Now()
		if r.Method != http.MethodPost || r.URL.Path != "/sms/json" {
			http.NotFound(w, r)
			return
		}
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f.reqs.add(at)
		id := fmt.Sprintf("%s%07d", prefix, f.seq.Add(1))
		w.Header().Set("Content-Type", "application/json")
		_, _ = fmt.Fprintf(w, `{"message-count":"1","messages":[{"to":%q,"message-id":%q,"status":"0","remaining-balance":"10.0","message-price":"0.0333","network":"12345"}]}`,
			r.PostForm.Get("to"), id)
	}))
	f.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			f.conns.Add(1)
		}
	}
	f.Start()
	b.Cleanup(f.Close)
	return f
}

// doneStore counts recorded sends: the signal that a burst's sends have
// all run to their end.
type doneStore struct {
	*models.Store
	done *countdown
	lat  *latencies
}

// latencies sums the time spent in each step of a send, to tell where a
// task's time goes.
type latencies struct{ claim, send, record, count atomic.Int64 }

func (l *latencies) read() (claim, send, record time.Duration, n int64) {
	return time.Duration(l.claim.Load()), time.Duration(l.send.Load()), time.Duration(l.record.Load()), l.count.Load()
}

func (s doneStore) ClaimSMS(ctx context.Context, msgID int64) (*models.OutboundSMS, *models.Change, error) {
	start := time.Now()
	out, ch, err := s.Store.ClaimSMS(ctx, msgID)
	s.lat.claim.Add(int64(time.Since(start)))
	return out, ch, err
}

// timedSender times the provider call.
type timedSender struct {
	jobs.SMSSender
	lat *latencies
}

func (t timedSender) SendSMS(ctx context.Context, m jobs.SMS) ([]string, error) {
	start := time.Now()
	ids, err := t.SMSSender.SendSMS(ctx, m)
	t.lat.send.Add(int64(time.Since(start)))
	return ids, err
}

// RecordSent counts recorded sends (not MarkOutboxDone: credits:charge
// tasks close entries too).
func (s doneStore) RecordSent(ctx context.Context, msgID int64, provider string, ids []string) (*models.Change, error) {
	start := time.Now()
	ch, err := s.Store.RecordSent(ctx, msgID, provider, ids)
	s.lat.record.Add(int64(time.Since(start)))
	s.lat.count.Add(1)
	if err == nil {
		s.done.add(time.Now())
	}
	return ch, err
}

type nopNotifier struct{}

func (nopNotifier) Notify(*models.Change) {}

// stmtCounter counts the statements a database handle runs, each a round
// trip (BEGIN and COMMIT included: bun reports them to hooks too), and the
// explicit transactions among them. A statement outside a transaction
// commits on its own.
type stmtCounter struct{ all, txs atomic.Int64 }

func (c *stmtCounter) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }

func (c *stmtCounter) AfterQuery(_ context.Context, e *bun.QueryEvent) {
	c.all.Add(1)
	if e.Query == "BEGIN" {
		c.txs.Add(1)
	}
}

func (c *stmtCounter) read() (int64, int64) { return c.all.Load(), c.txs.Load() }

// burstFixture is the send path with everything real but the provider:
// the store, the outbox relay, the worker with its sms:send handler and
// the shared rate limiter, the production Vonage sender.
type burstFixture struct {
	b          *testing.B
	ctx        context.Context
	opt        asynq.RedisConnOpt
	agents     *models.Store // the web side: replies
	sender     *models.Store // the relay's and the worker's store
	agentStmts *stmtCounter
	sendStmts  *stmtCounter
	scope      models.Scope
	inboxID    int64
	redisPID   int
	vonage     *benchVonage
	done       countdown
	lat        latencies
	convs      []int64
	relay      *jobs.Relay // the running relay, nil while none runs
}

var b3Async = flag.Bool("b3.async", false, "experiment: the relay's and worker's connections commit asynchronously")

func openCounted(b *testing.B, async bool) (*models.Store, *stmtCounter) {
	b.Helper()
	url := env.DatabaseURL
	if async {
		url += "&options=-c%20synchronous_commit%3Doff"
	}
	db, err := models.OpenDB(context.Background(), url)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	c := &stmtCounter{}
	return models.NewStore(db.WithQueryHook(c)), c
}

// benchPhones hands out recipient numbers no test of the run uses.
var benchPhones atomic.Int64

func newBurstFixture(b *testing.B, n int) *burstFixture {
	b.Helper()
	return newBurstFixtureAt(b, n, benchRate)
}

// newBurstFixtureAt is newBurstFixture with the SMS rate limit at rate
// sends a second.
func newBurstFixtureAt(b *testing.B, n, rate int) *burstFixture {
	b.Helper()
	f := &burstFixture{b: b, ctx: context.Background()}
	var rdb *redis.Client
	f.opt, rdb = benchRedis(b)
	f.redisPID = redisPID(rdb)
	f.agents, f.agentStmts = openCounted(b, false)
	f.sender, f.sendStmts = openCounted(b, *b3Async)
	demo, err := f.agents.SeedDemo(f.ctx, models.DemoOptions{
		AdminEmail: "admin@demo.parley.test", AdminPassword: "correct horse battery",
		AgentEmail: "agent@demo.parley.test", AgentPassword: "agent password 1",
		SMSNumber: demoNumber, EmailAddress: "demo@inbound.parley.test",
		PlanCredits: models.MaxPlanCredits, // thousands of sends
	})
	if err != nil {
		b.Fatal(err)
	}
	f.scope = models.Scope{OrgID: demo.Org.ID, UserID: demo.Agent.ID, Role: models.RoleAgent}
	f.inboxID = demo.Inbox.ID
	// Entries other benchmarks or tests left open would join the burst.
	if _, err := f.agents.DB().ExecContext(f.ctx,
		"UPDATE outbox SET done_at = now(), enqueued_at = coalesce(enqueued_at, now()), last_error = 'closed by benchmark setup' WHERE done_at IS NULL"); err != nil {
		b.Fatal(err)
	}

	f.vonage = newBenchVonage(b)
	s, err := sms.NewVonageSender(sms.VonageConfig{APIKey: "abcd1234", APISecret: "s", BaseURL: f.vonage.URL, Timeout: 10 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(s.CloseIdleConnections)
	w, err := jobs.NewWorker(f.opt, benchWorkerConfig(), jobs.Deps{
		Store: doneStore{Store: f.sender, done: &f.done, lat: &f.lat}, SMS: timedSender{jobs.VonageSMS(s), &f.lat}, Notify: nopNotifier{},
		SMSCfg: jobs.SMSConfig{Provider: "vonage", Rate: rate, Limiter: redis_rate.NewLimiter(rdb)},
		Email:  noEmail{}, EmailCfg: testEmailCfg,
	})
	if err != nil {
		b.Fatal(err)
	}
	run(b, "worker", w.Run)

	// n conversations, each opened by a first message that goes through
	// the whole path once: the warm-up (pools, connections, caches).
	f.convs = make([]int64, n)
	all := f.done.arm(n)
	stopRelay := f.startRelay()
	err = parallel(*b3Agents, n, func(k int) error {
		ch, err := f.agents.StartConversation(f.ctx, f.scope, models.StartInput{InboxID: f.inboxID,
			To: fmt.Sprintf("+1556%07d", benchPhones.Add(1)), Body: "Welcome to the benchmark"})
		if err != nil {
			return err
		}
		f.convs[k] = ch.Conversation.ID
		f.relay.Kick()
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	waitFor(b, all, "the warm-up messages to be sent")
	stopRelay()
	return f
}

// run runs a component until the benchmark ends; it returns its stop.
func run(b *testing.B, name string, fn func(context.Context) error) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- fn(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					b.Errorf("%s stopped with %v", name, err)
				}
			case <-time.After(15 * time.Second):
				b.Errorf("%s did not stop", name)
			}
		})
	}
	b.Cleanup(stop)
	return stop
}

// startRelay runs an outbox relay set up as main.go sets it up, kicked
// once; it returns its stop.
func (f *burstFixture) startRelay() (stop func()) {
	client := asynq.NewClient(f.opt)
	insp := asynq.NewInspector(f.opt)
	r := jobs.NewRelay(f.sender, client, testLog())
	r.Inspector = insp
	f.relay = r
	stopRun := run(f.b, "relay", r.Run)
	r.Kick()
	return func() {
		stopRun()
		client.Close()
		insp.Close()
	}
}

// reply commits one agent reply through the web handler's store call and
// kicks the relay, as the web server's publish does.
func (f *burstFixture) reply(k int) (int64, time.Time, error) {
	ch, err := f.agents.Reply(f.ctx, f.scope, f.convs[k], fmt.Sprintf("Your table is ready (%d)", k), false)
	at := time.Now()
	if err != nil {
		return 0, at, err
	}
	if f.relay != nil {
		f.relay.Kick()
	}
	for _, ev := range ch.Events {
		if ev.Kind == models.EvMessage && ev.MessageID != nil {
			return *ev.MessageID, at, nil
		}
	}
	return 0, at, fmt.Errorf("reply %d added no message", k)
}

// waitCharged waits until every message in ids is charged (no pending
// charge left; the claim settles one the task did not reach first) and
// returns when it saw that.
func (f *burstFixture) waitCharged(ids []int64) time.Time {
	deadline := time.Now().Add(burstTimeout)
	for {
		var left int
		if err := f.agents.DB().NewRaw("SELECT count(*) FROM credit_pending WHERE message_id IN (?)", bun.List(ids)).Scan(f.ctx, &left); err != nil {
			f.b.Fatal(err)
		}
		if left == 0 {
			return time.Now()
		}
		if time.Now().After(deadline) {
			f.b.Fatalf("%d charges still pending after %s", left, burstTimeout)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// cpuTime is the CPU time used so far by this process, by the PostgreSQL
// backends serving the benchmark's database (read from /proc: the server
// must be on this machine, else it reads 0) and by the Redis server.
type cpuTime struct{ self, pg, redis time.Duration }

func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(fields) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(fields[11], 10, 64)
	st, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond // USER_HZ = 100
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func redisPID(rdb *redis.Client) int {
	info, err := rdb.Info(context.Background(), "server").Result()
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "process_id:"); ok {
			pid, _ := strconv.Atoi(v)
			return pid
		}
	}
	return 0
}

// cpu reads the three figures; backends are those connected to the
// benchmark's database at the time (the pools keep theirs open).
func (f *burstFixture) cpu() cpuTime {
	c := cpuTime{self: selfCPU(), redis: procCPU(f.redisPID)}
	var pids []int
	_ = f.agents.DB().NewRaw("SELECT pid FROM pg_stat_activity WHERE datname = current_database()").Scan(f.ctx, &pids)
	for _, pid := range pids {
		c.pg += procCPU(pid)
	}
	return c
}

// walStats is PostgreSQL's WAL counters (pg_stat_wal, the whole server:
// anything else writing at the time is counted too).
type walStats struct{ bytes, syncs, fpi int64 }

func (f *burstFixture) wal() walStats {
	var w walStats
	_ = f.agents.DB().QueryRowContext(f.ctx, "SELECT wal_bytes::bigint, wal_sync, wal_fpi FROM pg_stat_wal").Scan(&w.bytes, &w.syncs, &w.fpi)
	return w
}

// BenchmarkSMSSendBurst is B3's burst: N agent replies queued through
// Store.Reply (message and outbox row in one transaction), relayed into
// asynq by the outbox relay, sent by the worker's sms:send handler (rate
// limiter on, at benchRate) through the production Vonage sender to a
// fake Vonage SMS API on httptest. Agents' screens are not updated (the
// notifier is a no-op), so the hub's rendering is not in the figure.
//
//   - live: -b3.agents agents commit the replies while relay and worker
//     run; sends/s is N over first commit → last provider request.
//     replies/s is the agents' own commit rate in the same run, which
//     bounds sends/s from above.
//   - prequeued: all N replies are committed first, then the relay starts;
//     sends/s is N over relay start → last provider request: the drain
//     rate of the outbox relay and the worker alone.
//
// Diagnostics, per send, over the same window (live: agents included):
// bunstmts/send and txs/send are the relay's and worker's statements and
// explicit transactions as bun's query hook sees them (the prepared
// statements of ClaimSMS, RecordSent and MarkOutboxDone bypass bun: one,
// two and one more per send); claim-ms, http-ms and record-ms are the mean time a task spends
// in each step; conns/send is new TCP connections to the provider;
// go-cpu, pg-cpu (this database's backends) and redis-cpu are CPU time
// per send; wal-* are the server's WAL counters (anything else writing to
// the server is counted too).
func BenchmarkSMSSendBurst(b *testing.B) {
	b.Run("live", func(b *testing.B) { smsBurst(b, false) })
	b.Run("prequeued", func(b *testing.B) { smsBurst(b, true) })
}

func smsBurst(b *testing.B, prequeued bool) {
	n := *b3N
	f := newBurstFixture(b, n)
	stats := func() (agent, send, sendTxs int64) {
		agent, _ = f.agentStmts.read()
		send, sendTxs = f.sendStmts.read()
		return agent, send, sendTxs
	}
	var sendTime, commitTime, chargeTime time.Duration
	var agentStmts, sendStmts, sendTxs, conns, tasks int64
	var claimLat, sendLat, recordLat time.Duration
	var wal walStats
	var cpu cpuTime
	ids := make([]int64, n)
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		requests := f.vonage.reqs.arm(n)
		all := f.done.arm(n)
		// The send side's counters, from the first commit (live) or from
		// the relay's start (prequeued) to the end of the burst.
		type snapshot struct {
			stmts, txs, conns int64
			claim, send, rec  time.Duration
			tasks             int64
			wal               walStats
			cpu               cpuTime
		}
		snap := func() snapshot {
			var x snapshot
			_, x.stmts, x.txs = stats()
			x.conns = f.vonage.conns.Load()
			x.claim, x.send, x.rec, x.tasks = f.lat.read()
			x.wal, x.cpu = f.wal(), f.cpu()
			return x
		}
		var s0 snapshot
		a0, _, _ := stats()
		var stopRelay func()
		if !prequeued {
			stopRelay = f.startRelay()
			s0 = snap()
			b.StartTimer() // prequeued: only the drain is timed
		}

		var mu sync.Mutex
		var first, last time.Time
		err := parallel(*b3Agents, n, func(k int) error {
			id, at, err := f.reply(k)
			if err != nil {
				return err
			}
			ids[k] = id
			mu.Lock()
			if first.IsZero() || at.Before(first) {
				first = at
			}
			if at.After(last) {
				last = at
			}
			mu.Unlock()
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		a1, _, _ := stats()
		commitTime += last.Sub(first)
		if prequeued {
			s0 = snap()
			b.StartTimer()
			first = time.Now()
			stopRelay = f.startRelay()
		}
		waitFor(b, requests, "every reply to reach the fake Vonage")
		_, lastReq := f.vonage.reqs.read()
		sendTime += lastReq.Sub(first)
		waitFor(b, all, "every reply to be recorded sent")
		chargedAt := f.waitCharged(ids)
		chargeTime += chargedAt.Sub(first)
		b.StopTimer()
		s1 := snap()
		stopRelay()
		f.relay = nil
		agentStmts += a1 - a0
		sendStmts += s1.stmts - s0.stmts
		sendTxs += s1.txs - s0.txs
		conns += s1.conns - s0.conns
		claimLat += s1.claim - s0.claim
		sendLat += s1.send - s0.send
		recordLat += s1.rec - s0.rec
		tasks += s1.tasks - s0.tasks
		wal.bytes += s1.wal.bytes - s0.wal.bytes
		wal.syncs += s1.wal.syncs - s0.wal.syncs
		wal.fpi += s1.wal.fpi - s0.wal.fpi
		cpu.self += s1.cpu.self - s0.cpu.self
		cpu.pg += s1.cpu.pg - s0.cpu.pg
		cpu.redis += s1.cpu.redis - s0.cpu.redis

		// Every reply went out once and is recorded sent.
		if got, _ := f.vonage.reqs.read(); got != n {
			b.Fatalf("the fake got %d requests, want %d", got, n)
		}
		var sent int
		if err := f.agents.DB().NewRaw("SELECT count(*) FROM messages WHERE id IN (?) AND status = 'sent'",
			bun.List(ids)).Scan(f.ctx, &sent); err != nil {
			b.Fatal(err)
		}
		if sent != n {
			b.Fatalf("%d of %d replies are sent", sent, n)
		}
		b.StartTimer()
	}
	b.StopTimer()
	total := float64(n * b.N)
	b.ReportMetric(total/sendTime.Seconds(), "sends/s")
	b.ReportMetric(total/chargeTime.Seconds(), "charged/s")
	if !prequeued {
		b.ReportMetric(total/commitTime.Seconds(), "replies/s")
	}
	b.ReportMetric(float64(sendStmts)/total, "bunstmts/send")
	b.ReportMetric(float64(sendTxs)/total, "txs/send")
	b.ReportMetric(float64(agentStmts)/total, "stmts/reply")
	b.ReportMetric(float64(conns)/total, "conns/send")
	perSend := func(d time.Duration) float64 { return float64(d.Microseconds()) / total }
	b.ReportMetric(perSend(cpu.self), "go-cpu-µs/send")
	b.ReportMetric(perSend(cpu.pg), "pg-cpu-µs/send")
	b.ReportMetric(perSend(cpu.redis), "redis-cpu-µs/send")
	if wal.syncs > 0 {
		b.ReportMetric(float64(wal.bytes)/total, "wal-B/send")
		b.ReportMetric(float64(wal.syncs)/total, "wal-syncs/send")
		b.ReportMetric(float64(wal.fpi)/total, "wal-fpi/send")
	}
	if tasks > 0 {
		ms := func(d time.Duration) float64 { return d.Seconds() * 1000 / float64(tasks) }
		b.ReportMetric(ms(claimLat), "claim-ms")
		b.ReportMetric(ms(sendLat), "http-ms")
		b.ReportMetric(ms(recordLat), "record-ms")
	}
}
