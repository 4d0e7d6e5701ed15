package jobs_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/parley-chat/parley/jobs"
	"github.com/parley-chat/parley/jobs/task"
	"github.com/parley-chat/parley/models"
)

// chargeTask builds the credits:charge task the relay would enqueue for
// the newest open credits:charge outbox entry of location, and returns it
// with the entry's id.
func (h *harness) chargeTask(location int64) (*asynq.Task, int64) {
	h.t.Helper()
	var row models.OutboxEntry
	if err := h.store.DB().NewSelect().Model(&row).Where("task_type = ? AND (payload->>'location_id')::bigint = ? AND done_at IS NULL",
		task.TypeCreditsCharge, location).Order("id DESC").Limit(1).Scan(h.ctx); err != nil {
		h.t.Fatalf("credits:charge entry: %v", err)
	}
	payload, err := task.ForOutbox(row.TaskType, row.ID, row.Payload)
	if err != nil {
		h.t.Fatal(err)
	}
	return asynq.NewTask(row.TaskType, payload), row.ID
}

// chargesOf counts the ledger's charge entries of a message.
func (h *harness) chargesOf(msgID int64) int {
	h.t.Helper()
	var n int
	if err := h.store.DB().NewRaw("SELECT count(*) FROM credit_ledger WHERE message_id = ? AND kind IN ('inbound', 'outbound', 'forwarded')",
		msgID).Scan(h.ctx, &n); err != nil {
		h.t.Fatal(err)
	}
	return n
}

// booksBalance fails unless the location's account equals the sum of its
// ledger, part by part.
func (h *harness) booksBalance(location int64) {
	h.t.Helper()
	var plan, purchased, sumPlan, sumPurchased int64
	if err := h.store.DB().NewRaw(`SELECT a.plan_balance, a.purchased_balance,
			coalesce((SELECT sum(plan_delta) FROM credit_ledger WHERE location_id = a.location_id), 0),
			coalesce((SELECT sum(purchased_delta) FROM credit_ledger WHERE location_id = a.location_id), 0)
		FROM credit_accounts a WHERE a.location_id = ?`, location).Scan(h.ctx, &plan, &purchased, &sumPlan, &sumPurchased); err != nil {
		h.t.Fatal(err)
	}
	if plan != sumPlan || purchased != sumPurchased {
		h.t.Fatalf("account plan %d purchased %d, ledger plan %d purchased %d", plan, purchased, sumPlan, sumPurchased)
	}
}

// TestCreditsChargeTaskTwiceChargesOnce runs the real credits:charge
// handler (the worker's mux) with one task's payload: twice in a row, then
// twice at once for a new message, then after its work was committed by a
// run that died before closing the entry (ChargeLocation alone). Each
// message is charged once, the entry is closed, and the account still
// equals its ledger.
func TestCreditsChargeTaskTwiceChargesOnce(t *testing.T) {
	h := newHarness(t, vonageOK)
	mux, err := jobs.MuxOf(jobs.Deps{Store: h.store, SMS: h.vonage.sender(t), Notify: h.notes,
		Email: noSends{}, EmailCfg: testEmailCfg}, testLog())
	if err != nil {
		t.Fatal(err)
	}
	loc := h.demo.Location.ID
	receive := func() int64 {
		t.Helper()
		res, err := h.store.ReceiveSMS(h.ctx, models.InboundSMS{Provider: "vonage", ProviderMessageID: fmt.Sprintf("ct-%d", time.Now().UnixNano()),
			From: newPhone(), To: demoNumber, Body: "charge me once"})
		if err != nil || res.Change == nil {
			t.Fatalf("receive: %+v %v", res, err)
		}
		for _, ev := range res.Change.Events {
			if ev.Kind == models.EvMessage && ev.MessageID != nil {
				return *ev.MessageID
			}
		}
		t.Fatal("no message event")
		return 0
	}
	closed := func(id int64) bool {
		var done *time.Time
		if err := h.store.DB().NewRaw("SELECT done_at FROM outbox WHERE id = ?", id).Scan(h.ctx, &done); err != nil {
			t.Fatal(err)
		}
		return done != nil
	}

	// Twice in a row.
	msg := receive()
	tk, entry := h.chargeTask(loc)
	for i := range 2 {
		if err := mux.ProcessTask(h.ctx, tk); err != nil {
			t.Fatalf("run %d: %v", i+1, err)
		}
	}
	if n := h.chargesOf(msg); n != 1 || !closed(entry) {
		t.Fatalf("sequential runs: %d charges, entry closed %v; want 1, true", n, closed(entry))
	}

	// Twice at once.
	msg = receive()
	tk, entry = h.chargeTask(loc)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range 2 {
		wg.Go(func() { errs[i] = mux.ProcessTask(h.ctx, tk) })
	}
	wg.Wait()
	if errs[0] != nil || errs[1] != nil {
		t.Fatalf("concurrent runs: %v", errs)
	}
	if n := h.chargesOf(msg); n != 1 || !closed(entry) {
		t.Fatalf("concurrent runs: %d charges, entry closed %v; want 1, true", n, closed(entry))
	}

	// A run that committed the charges and died before closing its entry:
	// the retry finds nothing to charge and closes it.
	msg = receive()
	tk, entry = h.chargeTask(loc)
	if r, err := h.store.ChargeLocation(h.ctx, loc); err != nil || r.Charged < 1 {
		t.Fatalf("first run: %+v %v", r, err)
	}
	if closed(entry) {
		t.Fatal("the entry closed without its task")
	}
	if err := mux.ProcessTask(h.ctx, tk); err != nil {
		t.Fatal(err)
	}
	if n := h.chargesOf(msg); n != 1 || !closed(entry) {
		t.Fatalf("retry: %d charges, entry closed %v; want 1, true", n, closed(entry))
	}
	h.booksBalance(loc)
}

// TestRelayCoalescesChargeEntries: credits:charge entries of one location
// read in one batch become one task (the oldest entry's) and the others
// are closed as done ("coalesced"); another location's entries make their
// own task; other kinds are never coalesced.
func TestRelayCoalescesChargeEntries(t *testing.T) {
	h := newHarness(t, vonageOK)
	locA, locB := h.demo.Location.ID, h.demo.Location.ID+1_000_000 // B only needs to differ: no worker runs these
	insert := func(typ, payload string) int64 {
		t.Helper()
		var id int64
		if err := h.store.DB().NewRaw("INSERT INTO outbox (org_id, task_type, queue, payload) VALUES (?, ?, 'critical', ?::jsonb) RETURNING id",
			h.demo.Org.ID, typ, payload).Scan(h.ctx, &id); err != nil {
			t.Fatal(err)
		}
		return id
	}
	charge := func(loc int64) int64 { return insert(task.TypeCreditsCharge, fmt.Sprintf(`{"location_id": %d}`, loc)) }
	a := []int64{charge(locA), charge(locB), charge(locA), charge(locA), charge(locB)}
	send1 := insert(task.TypeSMSSend, `{"message_id": 987654321}`)
	send2 := insert(task.TypeSMSSend, `{"message_id": 987654321}`)

	relay, stop := h.startRelay()
	relay.Kick()
	state := func(id int64) (row outboxRow) {
		t.Helper()
		if err := h.store.DB().NewRaw("SELECT id, enqueued_at, done_at, attempts, last_error FROM outbox WHERE id = ?", id).Scan(h.ctx, &row); err != nil {
			t.Fatal(err)
		}
		return row
	}
	all := append(append([]int64{}, a...), send1, send2)
	waitUntil(t, 10*time.Second, "the batch to be relayed", func() bool {
		for _, id := range all {
			if r := state(id); r.EnqueuedAt == nil && r.DoneAt == nil {
				return false
			}
		}
		return true
	})
	stop()

	// Kept: the first entry of each location, and both sends.
	for _, id := range []int64{a[0], a[1], send1, send2} {
		r := state(id)
		if r.EnqueuedAt == nil || r.DoneAt != nil {
			t.Errorf("entry %d: %+v, want enqueued and open", id, r)
		}
		if h.taskInfo(id) == nil {
			t.Errorf("entry %d: no task in Redis", id)
		}
	}
	for _, id := range []int64{a[2], a[3], a[4]} {
		r := state(id)
		if r.DoneAt == nil || r.EnqueuedAt != nil || r.LastError != "coalesced" {
			t.Errorf("entry %d: %+v, want closed as coalesced, never enqueued", id, r)
		}
		if info := h.taskInfo(id); info != nil {
			t.Errorf("entry %d: a task reached Redis: %+v", id, info)
		}
	}
	for id, loc := range map[int64]int64{a[0]: locA, a[1]: locB} {
		if info := h.taskInfo(id); info != nil && string(info.Payload) != fmt.Sprintf(`{"outbox_id":%d,"location_id":%d}`, id, loc) {
			t.Errorf("task of entry %d: payload %s", id, info.Payload)
		}
	}
	q, err := h.insp.GetQueueInfo(task.QueueCritical)
	if err != nil || q.Size != 4 {
		t.Errorf("critical queue: %+v %v, want 4 tasks (2 charges, 2 sends)", q, err)
	}
}
