package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/hibiken/asynq"
	"github.com/parley-chat/parley/jobs"
	"github.com/parley-chat/parley/jobs/task"
	"github.com/parley-chat/parley/models"
)

// A queued reply goes out once through Vonage's API with the fields the
// API expects, and the message, its parts, its outbox entry and the
// agents' screens all show it sent.
func TestSMSSendEndToEnd(t *testing.T) {
	h := newHarness(t, vonageOK)
	phone := newPhone()
	conv := h.inboundHello(phone)
	msgID := h.reply(conv, "Your table is ready.")
	if m := h.message(msgID); m.Status != models.MsgQueued {
		t.Fatalf("new reply is %q, want queued", m.Status)
	}

	relay, _ := h.startRelay()
	relay.Kick()
	h.startWorker(2, jobs.SMSConfig{})

	req := h.vonage.next(t, 15*time.Second)
	want := map[string]string{
		"api_key": "abcd1234", "api_secret": "s",
		"from": demoNumberDigits, "to": vonageDigits(phone),
		"text": "Your table is ready.", "type": "text",
		"client-ref": strconv.FormatInt(msgID, 10),
	}
	for k, v := range want {
		if got := req.Form.Get(k); got != v {
			t.Errorf("form %s = %q, want %q", k, got, v)
		}
	}

	row := h.waitDone(msgID, 15*time.Second)
	if row.LastError != "" {
		t.Errorf("outbox last_error = %q, want empty", row.LastError)
	}
	m := h.message(msgID)
	if m.Status != models.MsgSent || m.Provider != "vonage" || m.ProviderMessageID == nil || *m.ProviderMessageID != req.ID || m.SentAt == nil {
		t.Errorf("message after send: status %q provider %q id %v sent_at %v", m.Status, m.Provider, m.ProviderMessageID, m.SentAt)
	}
	if p := h.parts(msgID); len(p) != 1 || p[0] != (partRow{"vonage", req.ID}) {
		t.Errorf("message_parts = %+v, want one vonage/%s", p, req.ID)
	}
	evs := h.notes.statusEvents(msgID)
	if len(evs) != 1 || evs[0].Detail["status"] != models.MsgSent {
		t.Errorf("notified status events = %+v, want one with status sent", evs)
	}
	// The task is gone (asynq deletes a finished task) and nothing else
	// reaches the provider.
	if info := h.taskInfo(row.ID); info != nil {
		t.Errorf("task still in Redis after success: %+v", info)
	}
	h.quiet(1, 300*time.Millisecond)
}

// Vonage refusing a message (status 6) fails it with Vonage's text and
// ends the task: archived, never retried.
func TestSMSRefusalIsPermanent(t *testing.T) {
	h := newHarness(t, vonageRefused("Message was refused by the test"))
	msgID := h.start(newPhone(), "Hello from the front desk")
	relay, _ := h.startRelay()
	relay.Kick()
	h.startWorker(2, jobs.SMSConfig{})

	row := h.waitDone(msgID, 15*time.Second)
	m := h.message(msgID)
	if m.Status != models.MsgFailed || !strings.Contains(m.StatusReason, "Message was refused by the test") {
		t.Errorf("message is %q (%q), want failed with Vonage's error-text", m.Status, m.StatusReason)
	}
	t.Logf("status_reason shown to agents: %q", m.StatusReason)
	if !strings.Contains(row.LastError, "Message was refused by the test") {
		t.Errorf("outbox last_error = %q", row.LastError)
	}
	if evs := h.notes.statusEvents(msgID); len(evs) != 1 || evs[0].Detail["status"] != models.MsgFailed {
		t.Errorf("notified status events = %+v, want one with status failed", evs)
	}
	var info *asynq.TaskInfo
	waitUntil(t, 10*time.Second, "the refused task to be archived", func() bool {
		info = h.taskInfo(row.ID)
		return info != nil && info.State == asynq.TaskStateArchived
	})
	if info.Retried != 0 {
		t.Errorf("archived task was retried %d times", info.Retried)
	}
	h.quiet(1, 300*time.Millisecond)
}

// A 5xx from Vonage is retried until it succeeds. WorkerConfig.RetryDelay
// shortens asynq's backoff to 20 ms; when asynq asks for each delay the
// failed attempt has just ended, so that is where the message (sending)
// and the outbox entry (open) are checked. A due retry still waits for
// asynq's forwarder, which runs every 5 s (asynq.Config's
// DelayedTaskCheckInterval, not settable through WorkerConfig): this test
// takes about 10 s.
func TestSMSServerErrorIsRetried(t *testing.T) {
	h := newHarness(t, func(n int, id string, form url.Values) (int, string) {
		if n <= 2 {
			return http.StatusInternalServerError, `{"error":"boom"}`
		}
		return vonageOK(n, id, form)
	})
	msgID := h.start(newPhone(), "Your order shipped")
	type retry struct {
		n         int
		err       string
		status    string
		outboxErr bool
	}
	retries := make(chan retry, 10)
	relay, _ := h.startRelay()
	relay.Kick()
	h.startWorker(2, jobs.SMSConfig{}, func(c *jobs.WorkerConfig) {
		c.RetryDelay = func(n int, err error, task *asynq.Task) time.Duration {
			// asynq's goroutine: no t.Fatal here, report through the channel.
			r := retry{n: n, err: err.Error()}
			m := new(models.Message)
			if qerr := h.store.DB().NewSelect().Model(m).Where("id = ?", msgID).Scan(context.Background()); qerr == nil {
				r.status = m.Status
			}
			var done *time.Time
			r.outboxErr = h.store.DB().NewRaw("SELECT done_at FROM outbox WHERE (payload->>'message_id')::bigint = ?", msgID).
				Scan(context.Background(), &done) != nil || done != nil
			retries <- r
			return 20 * time.Millisecond
		}
	})
	h.waitDone(msgID, 30*time.Second)
	close(retries)
	var got []retry
	for r := range retries {
		got = append(got, r)
	}
	if len(got) != 2 {
		t.Fatalf("asynq asked for %d retry delays, want 2: %+v", len(got), got)
	}
	for i, r := range got {
		if r.n != i || !strings.Contains(r.err, "500") || r.status != models.MsgSending || r.outboxErr {
			t.Errorf("retry %d: %+v, want n=%d, the HTTP 500, message sending, outbox open", i+1, r, i)
		}
	}
	reqs := h.vonage.requests()
	if len(reqs) != 3 {
		t.Fatalf("fake got %d requests, want 3", len(reqs))
	}
	if m := h.message(msgID); m.Status != models.MsgSent || m.ProviderMessageID == nil || *m.ProviderMessageID != reqs[2].ID {
		t.Errorf("message is %q id %v, want sent with %s", m.Status, m.ProviderMessageID, reqs[2].ID)
	}
	for i, r := range reqs {
		if r.Form.Get("client-ref") != strconv.FormatInt(msgID, 10) {
			t.Errorf("request %d client-ref %q", i+1, r.Form.Get("client-ref"))
		}
	}
	if evs := h.notes.statusEvents(msgID); len(evs) != 1 || evs[0].Detail["status"] != models.MsgSent {
		t.Errorf("notified status events = %+v, want one: sent", evs)
	}
	h.quiet(3, 300*time.Millisecond)
}

// With asynq's default backoff (production: WorkerConfig.RetryDelay nil)
// a failed send waits in the retry set for tens of seconds, the message
// 'sending' and its outbox entry open. The test does not wait: each retry
// is released through the Inspector (RunTask keeps the retry count).
func TestSMSServerErrorWaitsInRetrySet(t *testing.T) {
	h := newHarness(t, func(n int, id string, form url.Values) (int, string) {
		if n <= 2 {
			return http.StatusInternalServerError, `{"error":"boom"}`
		}
		return vonageOK(n, id, form)
	})
	msgID := h.start(newPhone(), "Your order shipped")
	relay, _ := h.startRelay()
	relay.Kick()
	h.startWorker(2, jobs.SMSConfig{})

	var outboxID int64
	waitUntil(t, 10*time.Second, "the outbox entry to be relayed", func() bool {
		row := h.outbox(msgID)
		outboxID = row.ID
		return row.EnqueuedAt != nil
	})
	for attempt := 1; attempt <= 2; attempt++ {
		var info *asynq.TaskInfo
		waitUntil(t, 15*time.Second, fmt.Sprintf("failure %d to put the task in the retry set", attempt), func() bool {
			info = h.taskInfo(outboxID)
			return info != nil && info.State == asynq.TaskStateRetry && info.Retried == attempt
		})
		if !strings.Contains(info.LastErr, "500") {
			t.Errorf("retry %d: last error %q, want the HTTP 500", attempt, info.LastErr)
		}
		if info.MaxRetry != 8 {
			t.Errorf("task MaxRetry = %d, want 8", info.MaxRetry)
		}
		t.Logf("failure %d: asynq's default delay scheduled the retry %s later", attempt, time.Until(info.NextProcessAt).Round(time.Second))
		m := h.message(msgID)
		if m.Status != models.MsgSending {
			t.Errorf("after failure %d the message is %q, want sending", attempt, m.Status)
		}
		if row := h.outbox(msgID); row.DoneAt != nil {
			t.Errorf("after failure %d the outbox entry is done", attempt)
		}
		if n := h.vonage.count(); n != attempt {
			t.Errorf("after failure %d the fake got %d requests", attempt, n)
		}
		if err := h.insp.RunTask(task.QueueCritical, taskID(outboxID)); err != nil {
			t.Fatalf("release retry %d: %v", attempt, err)
		}
	}
	h.waitDone(msgID, 15*time.Second)
	reqs := h.vonage.requests()
	if len(reqs) != 3 {
		t.Fatalf("fake got %d requests, want 3", len(reqs))
	}
	if m := h.message(msgID); m.Status != models.MsgSent || m.ProviderMessageID == nil || *m.ProviderMessageID != reqs[2].ID {
		t.Errorf("message is %q id %v, want sent with %s", m.Status, m.ProviderMessageID, reqs[2].ID)
	}
	for i, r := range reqs {
		if r.Form.Get("client-ref") != strconv.FormatInt(msgID, 10) {
			t.Errorf("request %d client-ref %q", i+1, r.Form.Get("client-ref"))
		}
	}
	h.quiet(3, 300*time.Millisecond)
}

// R7: a STOP committed while a reply is queued (worker not yet running)
// lets only the STOP confirmation out; the reply fails "Recipient opted out".
func TestSMSStopBeforeSendSendsOnlyConfirmation(t *testing.T) {
	h := newHarness(t, vonageOK)
	phone := newPhone()
	conv := h.inboundHello(phone)
	replyID := h.reply(conv, "Here is our weekend offer")
	relay, _ := h.startRelay()
	relay.Kick()
	waitUntil(t, 10*time.Second, "the reply to be relayed to asynq", func() bool { return h.outbox(replyID).EnqueuedAt != nil })

	res, err := h.store.ReceiveSMS(h.ctx, models.InboundSMS{Provider: "vonage", ProviderMessageID: "stop-" + phone,
		From: phone, To: demoNumber, Body: "STOP", ReceivedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if res.Keyword != models.KeywordStop || res.Change == nil {
		t.Fatalf("STOP not applied: %+v", res)
	}
	confirmID := messageOf(t, res.Change)
	relay.Kick()

	h.startWorker(4, jobs.SMSConfig{})
	h.waitDone(replyID, 15*time.Second)
	h.waitDone(confirmID, 15*time.Second)

	reqs := h.vonage.requests()
	if len(reqs) != 1 {
		t.Fatalf("fake got %d requests, want only the STOP confirmation: %+v", len(reqs), reqs)
	}
	if f := reqs[0].Form; f.Get("client-ref") != strconv.FormatInt(confirmID, 10) || f.Get("to") != vonageDigits(phone) ||
		!strings.Contains(f.Get("text"), "unsubscribed") {
		t.Errorf("sent %v, want the STOP confirmation to %s", f, phone)
	}
	if m := h.message(replyID); m.Status != models.MsgFailed || m.StatusReason != "Recipient opted out" {
		t.Errorf("reply is %q (%q), want failed: Recipient opted out", m.Status, m.StatusReason)
	}
	if m := h.message(confirmID); m.Status != models.MsgSent || !m.Compliance {
		t.Errorf("confirmation is %q compliance=%v, want sent compliance", m.Status, m.Compliance)
	}
	h.quiet(1, 300*time.Millisecond)
}

// R7, the window before the send: the worker has taken the reply's task
// and waits for the rate limit; a STOP committed during that wait must
// still stop the send. It does not today: ProcessTask claims (re-checking
// the opt-out) before h.wait, so a claimed send goes out after the STOP,
// and the message even stays 'failed: Recipient opted out' although it
// was delivered. See the report (jobs/sms_send.go). Run with
func TestSMSStopDuringRateLimitWait(t *testing.T) {
	h := newHarness(t, vonageOK)
	phone := newPhone()
	conv := h.inboundHello(phone)
	replyID := h.reply(conv, "Here is our weekend offer")

	// Hold the limiter's bucket ~3 s in the future, so the worker that
	// takes the task waits.
	limiter := redis_rate.NewLimiter(h.rdb)
	const provider = "vonage"
	if _, err := limiter.Allow(h.ctx, "parley:rate:sms:"+provider, redis_rate.Limit{Rate: 1, Period: 3 * time.Second, Burst: 1}); err != nil {
		t.Fatal(err)
	}
	relay, _ := h.startRelay()
	relay.Kick()
	waitUntil(t, 10*time.Second, "the reply to be relayed", func() bool { return h.outbox(replyID).EnqueuedAt != nil })
	outboxID := h.outbox(replyID).ID
	h.startWorker(2, jobs.SMSConfig{Provider: provider, Rate: 1, Limiter: limiter})
	// The worker holds the task; whichever order it claims and waits in,
	// give it 300 ms (or the claim) to get into the wait.
	var activeAt time.Time
	waitUntil(t, 10*time.Second, "the worker to take the task and wait", func() bool {
		if activeAt.IsZero() {
			if info := h.taskInfo(outboxID); info != nil && info.State == asynq.TaskStateActive {
				activeAt = time.Now()
			}
			return false
		}
		return h.message(replyID).Status == models.MsgSending || time.Since(activeAt) > 300*time.Millisecond
	})
	if n := h.vonage.count(); n != 0 {
		t.Fatalf("the limiter did not hold the send: %d requests", n)
	}

	stopAt := time.Now()
	res, err := h.store.ReceiveSMS(h.ctx, models.InboundSMS{Provider: "vonage", ProviderMessageID: "stop-" + phone,
		From: phone, To: demoNumber, Body: "STOP", ReceivedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	confirmID := messageOf(t, res.Change)
	relay.Kick()
	h.waitDone(replyID, 20*time.Second)
	h.waitDone(confirmID, 20*time.Second)
	for _, r := range h.vonage.requests() {
		if r.Form.Get("client-ref") == strconv.FormatInt(replyID, 10) {
			t.Errorf("the reply reached Vonage %s after the STOP was committed", r.At.Sub(stopAt).Round(time.Millisecond))
		}
	}
	if m := h.message(replyID); m.Status != models.MsgFailed || m.StatusReason != "Recipient opted out" {
		t.Errorf("reply is %q (%q), want failed: Recipient opted out", m.Status, m.StatusReason)
	}
	if p := h.parts(replyID); len(p) != 0 {
		t.Errorf("reply has sent parts %+v although it shows failed", p)
	}
}

// A multipart message whose first part Vonage accepted and whose second
// it refused is failed (a retry would resend the accepted part), but the
// accepted part went out and is charged: its id must be recorded so its
// receipt matches. sms.Sender.Send returns those ids with the error;
// jobs.VonageSMS drops them (see the report, jobs/vonage.go). Run with
func TestSMSPartialRefusalKeepsAcceptedParts(t *testing.T) {
	h := newHarness(t, func(_ int, id string, form url.Values) (int, string) {
		return http.StatusOK, fmt.Sprintf(`{"message-count":"2","messages":[{"to":%q,"message-id":%q,"status":"0"},{"to":%q,"status":"6","error-text":"Invalid message"}]}`,
			form.Get("to"), id, form.Get("to"))
	})
	msgID := h.start(newPhone(), strings.Repeat("Two parts long. ", 12))
	relay, _ := h.startRelay()
	relay.Kick()
	h.startWorker(2, jobs.SMSConfig{})
	h.waitDone(msgID, 15*time.Second)
	reqs := h.vonage.requests()
	if len(reqs) != 1 {
		t.Fatalf("fake got %d requests, want 1 (a partial refusal is permanent)", len(reqs))
	}
	m := h.message(msgID)
	if m.Status != models.MsgFailed {
		t.Errorf("message is %q, want failed", m.Status)
	}
	if p := h.parts(msgID); len(p) != 1 || p[0].ProviderMessageID != reqs[0].ID {
		t.Errorf("parts = %+v, want the accepted part %s", p, reqs[0].ID)
	}
}

// B3 / rate limit: 40 messages queued at once with 20 worker slots and a
// limit of 10/s all go out, never faster than redis_rate's GCRA allows,
// and none fails.
//
// The honest bounds. redis_rate.PerSecond(10) is Rate 10, Period 1 s,
// Burst 10: emission interval T = 100 ms, and an idle bucket lets Burst
// requests through at once. GCRA guarantees:
//
//   - cumulative: with the first request at t0, request k (0-based) is
//     allowed no earlier than t0 + (k-Burst+1)·T for k >= Burst. A late
//     waiter does not shift the schedule, so this holds however the
//     workers are scheduled. Checked on arrival times at the fake, which
//     lag the limiter's decision by a few ms of HTTP: eps = 50 ms.
//   - any window W holds at most Burst + W/T requests: 20 per second
//     (+1 for a request on each edge of a closed window) = 21.
//
// "At most Rate+1 = 11 in any 1 s window after the burst" is NOT a GCRA
// guarantee: if waiters are late for their slots (a GC or -race pause),
// GCRA lets them catch up at once, up to the schedule above. Measured it
// is 11, sometimes 12 under -race; it is logged, not asserted.
func TestSMSRateLimitHeldUnderBurst(t *testing.T) {
	const (
		n           = 40
		rate        = 10
		burst       = rate // redis_rate.PerSecond sets Burst = Rate
		concurrency = 20
		T           = time.Second / rate
		eps         = 50 * time.Millisecond
	)
	h := newHarness(t, vonageOK)
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = h.start(newPhone(), fmt.Sprintf("Flash sale message %d", i))
	}
	// All 40 tasks are in Redis before any worker runs: a true burst.
	relay, _ := h.startRelay()
	relay.Kick()
	waitUntil(t, 15*time.Second, "all entries to be relayed", func() bool {
		for _, id := range ids {
			if h.outbox(id).EnqueuedAt == nil {
				return false
			}
		}
		return true
	})
	// Their charges settled first, as the credits:charge task usually
	// does: the test measures the limiter, and a claim that settles its
	// own charge (the account's lock, contended by 20 workers at once)
	// would delay the first arrivals behind their grants by hundreds of
	// milliseconds (446 ms seen in CI), squeezing the arrival windows.
	if _, err := h.store.ChargeLocation(h.ctx, h.demo.Location.ID); err != nil {
		t.Fatal(err)
	}

	limiter := redis_rate.NewLimiter(h.rdb)
	start := time.Now()
	h.startWorker(concurrency, jobs.SMSConfig{Provider: "vonage", Rate: rate, Limiter: limiter})
	waitUntil(t, 30*time.Second, "all 40 sends to reach the fake", func() bool { return h.vonage.count() >= n })
	for _, id := range ids {
		h.waitDone(id, 15*time.Second)
	}

	// (a) all sent, (c) none failed: bursts queue, they do not fail.
	for _, id := range ids {
		if m := h.message(id); m.Status != models.MsgSent {
			t.Errorf("message %d is %q (%q), want sent", id, m.Status, m.StatusReason)
		}
	}
	reqs := h.vonage.requests()
	if len(reqs) != n {
		t.Fatalf("fake got %d requests, want %d", len(reqs), n)
	}
	at := make([]time.Duration, n) // since the first arrival, in arrival order
	for i, r := range reqs {
		at[i] = r.At.Sub(reqs[0].At)
	}

	// (b) never ahead of the GCRA schedule. The schedule starts when the
	// limiter grants the first token, which is after the worker starts and
	// before the first request arrives; anchoring at that arrival instead
	// counts the first send's own latency (a cold connection, a loaded
	// machine: tens of milliseconds) against every later request.
	minSlack := time.Hour
	for k := burst; k < n; k++ {
		slot := time.Duration(k-burst+1) * T
		sinceStart := reqs[k].At.Sub(start)
		minSlack = min(minSlack, sinceStart-slot)
		if sinceStart < slot-eps {
			t.Errorf("request %d arrived %s after the worker started, its GCRA slot is %s", k+1, sinceStart, slot)
		}
	}
	// (b) sliding 1-second windows, one starting at each arrival.
	maxAll, maxAfterBurst := 0, 0
	for i := range at {
		c := 0
		for j := i; j < n && at[j]-at[i] < time.Second; j++ {
			c++
		}
		maxAll = max(maxAll, c)
		if i >= burst {
			maxAfterBurst = max(maxAfterBurst, c)
		}
	}
	// GCRA grants at most Burst+Rate+1 in any 1 s window, but this counts
	// arrivals, which lag their grants by however long the send took to
	// be scheduled. The burst's requests are granted together, so the
	// spread of their arrivals is the jitter seen in this run (0.3 s
	// with -race on a quiet machine, 0.9 s under load in CI, where 23
	// arrived in one window): a window of arrivals spans grants from 1 s
	// plus that spread. A limiter that let everything through would put
	// all 40 in one window.
	jitter := at[burst-1]
	bound := burst + int(math.Ceil(float64(rate)*(time.Second+jitter).Seconds())) + 1
	if maxAll > bound {
		t.Errorf("a 1 s window held %d requests, GCRA bound Burst+Rate+1 = %d, %d with the burst's arrival spread %s",
			maxAll, burst+rate+1, bound, jitter.Round(time.Millisecond))
	}

	total := at[n-1]
	sustained := float64(n-burst) / total.Seconds() // slots after the burst over the whole span
	t.Logf("rate limit %d/s (burst %d), %d msgs queued at once, concurrency %d: first request %s after worker start; "+
		"first %d in %s; all %d in %s (ideal %s); sustained %.2f msg/s after the burst (overall %.2f msg/s); "+
		"max per 1 s window %d overall, %d after the burst; min slack to the GCRA schedule from the worker start %s",
		rate, burst, n, concurrency, reqs[0].At.Sub(start).Round(time.Millisecond),
		burst, at[burst-1].Round(time.Millisecond), n, total.Round(time.Millisecond), time.Duration(n-burst)*T,
		sustained, float64(n)/total.Seconds(), maxAll, maxAfterBurst, minSlack.Round(time.Millisecond))
	// Faster than the account's rate gets messages throttled at Vonage
	// (already implied by the schedule check; stated for the B3 figure).
	if sustained > rate*1.05 {
		t.Errorf("sustained rate %.2f/s exceeds %d/s by more than 5%%", sustained, rate)
	}
	// Slower is safe but wastes throughput; B3 asks for ±5 %, allow 10 %
	// here so a loaded machine (and -race) does not flake.
	if sustained < rate*0.90 {
		t.Errorf("sustained rate %.2f/s is more than 10%% under %d/s", sustained, rate)
	}
}

// R4, the documented duplicate: a worker that dies after Vonage accepted
// a message but before RecordSent leaves it 'sending'; the task's retry
// claims it again and sends it once more. The recipient gets it twice,
// and only the second send's id is recorded (the first was never
// committed; its receipt will not match a part).
func TestSMSCrashMidSendIsSentAgain(t *testing.T) {
	h := newHarness(t, vonageOK)
	phone := newPhone()
	msgID := h.start(phone, "Your appointment is tomorrow at 9")

	// The first worker: claims, sends, dies before recording.
	out, failed, err := h.store.ClaimSMS(h.ctx, msgID)
	if err != nil || failed != nil {
		t.Fatalf("first claim: %v %v", err, failed)
	}
	if _, err := h.vonage.sender(t).SendSMS(h.ctx, jobs.SMS{From: out.From, To: out.To, Text: out.Body, ClientRef: strconv.FormatInt(msgID, 10)}); err != nil {
		t.Fatal(err)
	}
	if m := h.message(msgID); m.Status != models.MsgSending {
		t.Fatalf("after the crash the message is %q, want sending", m.Status)
	}
	// While the dead worker's claim is young, nobody sends it again (it
	// might still be sending: a copy of the task re-enqueued after Redis
	// lost its data must not send twice). Then the claim runs out.
	if _, _, err := h.store.ClaimSMS(h.ctx, msgID); !errors.Is(err, models.ErrClaimed) {
		t.Fatalf("claim of a freshly claimed message: %v, want ErrClaimed", err)
	}
	h.ageClaim(msgID)

	// The task runs again (here: relayed for the first time; in production
	// asynq's lease recoverer re-queues it, consuming a retry).
	relay, _ := h.startRelay()
	relay.Kick()
	h.startWorker(2, jobs.SMSConfig{})
	h.waitDone(msgID, 15*time.Second)

	reqs := h.vonage.requests()
	if len(reqs) != 2 {
		t.Fatalf("fake got %d requests, want 2 (the documented duplicate)", len(reqs))
	}
	for i, r := range reqs {
		if r.Form.Get("client-ref") != strconv.FormatInt(msgID, 10) || r.Form.Get("to") != vonageDigits(phone) {
			t.Errorf("request %d: %v", i+1, r.Form)
		}
	}
	m := h.message(msgID)
	if m.Status != models.MsgSent || m.ProviderMessageID == nil || *m.ProviderMessageID != reqs[1].ID {
		t.Errorf("message is %q id %v, want sent with the second send's id", m.Status, m.ProviderMessageID)
	}
	if p := h.parts(msgID); len(p) != 1 {
		t.Errorf("parts = %+v, want only the recorded send's", p)
	}
	h.quiet(2, 300*time.Millisecond)
}

// The store side of the crash policy: ClaimSMS lets a 'sending' message
// through again (and nothing past it), and recording two sends leaves one
// sent message with both sends' part ids and one status event.
func TestClaimAndRecordSentTwice(t *testing.T) {
	h := newHarness(t, vonageOK)
	msgID := h.start(newPhone(), "Reminder: bring your ID")
	for i := 1; i <= 2; i++ {
		out, failed, err := h.store.ClaimSMS(h.ctx, msgID)
		if err != nil || failed != nil || out == nil || out.MessageID != msgID || out.From != demoNumber {
			t.Fatalf("claim %d: %+v %v %v", i, out, failed, err)
		}
		h.ageClaim(msgID) // the first worker's claim ran out
	}
	ch, err := h.store.RecordSent(h.ctx, msgID, "vonage", []string{"first-a", "first-b"})
	if err != nil || ch == nil {
		t.Fatalf("first RecordSent: %v %v", ch, err)
	}
	ch, err = h.store.RecordSent(h.ctx, msgID, "vonage", []string{"second-a", "second-b"})
	if err != nil {
		t.Fatal(err)
	}
	if ch != nil {
		t.Errorf("second RecordSent raised a change: %+v", ch.Events)
	}
	m := h.message(msgID)
	if m.Status != models.MsgSent || m.ProviderMessageID == nil || *m.ProviderMessageID != "first-a" {
		t.Errorf("message is %q id %v, want sent with the first id", m.Status, m.ProviderMessageID)
	}
	var got []string
	for _, p := range h.parts(msgID) {
		got = append(got, p.ProviderMessageID)
	}
	if strings.Join(got, ",") != "first-a,first-b,second-a,second-b" {
		t.Errorf("parts = %v, want both sends' ids", got)
	}
	var events int
	if err := h.store.DB().NewRaw("SELECT count(*) FROM conversation_events WHERE message_id = ? AND kind = ?",
		msgID, models.EvMessageStatus).Scan(h.ctx, &events); err != nil {
		t.Fatal(err)
	}
	if events != 1 {
		t.Errorf("%d message_status events, want 1", events)
	}
	// A sent message is never claimed again.
	if _, _, err := h.store.ClaimSMS(h.ctx, msgID); !errors.Is(err, models.ErrNotSendable) {
		t.Errorf("claim after sent: %v, want ErrNotSendable", err)
	}
}

// A task in Redis whose payload the catalogue cannot decode (not one the
// relay builds: it decodes every entry first) is archived at once, never
// retried, and its outbox entry closed with the reason; nothing is sent.
func TestSMSSendMalformedTaskIsClosed(t *testing.T) {
	h := newHarness(t, vonageOK)
	var outboxID int64
	if err := h.store.DB().NewRaw("INSERT INTO outbox (org_id, task_type, queue, payload) VALUES (?, ?, ?, '{}') RETURNING id",
		h.demo.Org.ID, task.TypeSMSSend, task.QueueCritical).Scan(h.ctx, &outboxID); err != nil {
		t.Fatal(err)
	}
	client := asynq.NewClient(h.opt)
	t.Cleanup(func() { client.Close() })
	if _, err := client.Enqueue(asynq.NewTask(task.TypeSMSSend, []byte(fmt.Sprintf(`{"outbox_id":%d}`, outboxID))),
		asynq.Queue(task.QueueCritical), asynq.TaskID(taskID(outboxID)), asynq.MaxRetry(8)); err != nil {
		t.Fatal(err)
	}
	h.startWorker(2, jobs.SMSConfig{})
	var lastErr string
	waitUntil(t, 15*time.Second, "the malformed task's entry to be closed", func() bool {
		var done bool
		if err := h.store.DB().NewRaw("SELECT done_at IS NOT NULL, last_error FROM outbox WHERE id = ?", outboxID).Scan(h.ctx, &done, &lastErr); err != nil {
			t.Fatal(err)
		}
		return done
	})
	if !strings.Contains(lastErr, "malformed task payload") {
		t.Errorf("last_error %q, want the decoding error", lastErr)
	}
	waitUntil(t, 10*time.Second, "the task to be archived", func() bool {
		info := h.taskInfo(outboxID)
		return info != nil && info.State == asynq.TaskStateArchived && info.Retried == 0
	})
	if n := h.vonage.count(); n != 0 {
		t.Errorf("%d requests reached Vonage", n)
	}
}

// ageClaim moves a message's claim back past models.SendClaimLease, as if
// the worker holding it died that long ago.
func (h *harness) ageClaim(msgID int64) {
	h.t.Helper()
	if _, err := h.store.DB().NewRaw("UPDATE messages SET claimed_at = now() - ? * interval '1 second' - interval '1 second' WHERE id = ?",
		int(models.SendClaimLease/time.Second), msgID).Exec(h.ctx); err != nil {
		h.t.Fatal(err)
	}
}
