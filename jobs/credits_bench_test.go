package jobs_test

// How fast charging drains a backlog, against the inbound rate of B2 and
// the outbound burst of B3 (issue 12: "charging must keep up"):
//
//	go test -run '^$' -bench ChargeDrain -benchtime 1x ./jobs/ -args -b3.n=20000
//
// -b3.n inbound texts are stored first (group commits of 50, as the
// webhook's batcher does under load), each with its pending charge and one
// credits:charge outbox entry per batch. Then:
//   - store: one goroutine calls Store.ChargeLocation until nothing is
//     pending (the task's own work, without the queue).
//   - worker: the real relay (which coalesces a location's entries) and
//     worker drain it; the clock stops when no charge is pending.

import (
	"fmt"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/parley-chat/parley/jobs"
	"github.com/parley-chat/parley/models"
)

func BenchmarkChargeDrain(b *testing.B) {
	b.Run("store", func(b *testing.B) { chargeDrain(b, false) })
	b.Run("worker", func(b *testing.B) { chargeDrain(b, true) })
}

var drainRun int

func chargeDrain(b *testing.B, viaWorker bool) {
	n := *b3N
	opt, _ := benchRedis(b)
	st, _ := openCounted(b, false)
	ctx := b.Context()
	demo, err := st.SeedDemo(ctx, models.DemoOptions{
		AdminEmail: "admin@demo.parley.test", AdminPassword: "correct horse battery",
		AgentEmail: "agent@demo.parley.test", AgentPassword: "agent password 1",
		SMSNumber: demoNumber, EmailAddress: "demo@inbound.parley.test",
		PlanCredits: models.MaxPlanCredits,
	})
	if err != nil {
		b.Fatal(err)
	}
	loc := demo.Location.ID
	// Charges or entries earlier benchmarks and tests left would join in.
	if _, err := st.ChargeLocation(ctx, loc); err != nil {
		b.Fatal(err)
	}
	if _, err := st.DB().ExecContext(ctx,
		"UPDATE outbox SET done_at = now(), enqueued_at = coalesce(enqueued_at, now()), last_error = 'closed by benchmark setup' WHERE done_at IS NULL"); err != nil {
		b.Fatal(err)
	}
	var drain time.Duration
	for range b.N {
		b.StopTimer()
		drainRun++
		const batch = 50
		for k := 0; k < n; k += batch {
			ins := make([]models.Inbound, 0, batch)
			for j := k; j < min(k+batch, n); j++ {
				ins = append(ins, models.Inbound{Channel: models.ChannelSMS, Provider: "vonage",
					ProviderMessageID: fmt.Sprintf("drain-%d-%d-%d", time.Now().UnixNano(), drainRun, j),
					From:              fmt.Sprintf("+1557%07d", benchPhones.Add(1)), To: demoNumber, Body: "Is the pharmacy open today?",
					ReceivedAt: time.Now()})
			}
			if _, err := st.ReceiveBatch(ctx, ins); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		start := time.Now()
		if viaWorker {
			w, err := jobs.NewWorker(opt, benchWorkerConfig(), jobs.Deps{Store: st, SMS: noSMS{}, Notify: nopNotifier{},
				SMSCfg: jobs.SMSConfig{Provider: "vonage"}, Email: noEmail{}, EmailCfg: testEmailCfg})
			if err != nil {
				b.Fatal(err)
			}
			stopWorker := run(b, "worker", w.Run)
			client := asynq.NewClient(opt)
			r := jobs.NewRelay(st, client, testLog())
			stopRelay := run(b, "relay", r.Run)
			r.Kick()
			waitNonePending(b, st, loc)
			drain += time.Since(start)
			b.StopTimer()
			stopRelay()
			stopWorker()
			client.Close()
		} else {
			for {
				r, err := st.ChargeLocation(ctx, loc)
				if err != nil {
					b.Fatal(err)
				}
				if r.Charged == 0 {
					break
				}
			}
			drain += time.Since(start)
			b.StopTimer()
		}
		waitNonePending(b, st, loc)
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(float64(n*b.N)/drain.Seconds(), "charges/s")
	var bal, sum int64
	if err := st.DB().NewRaw(`SELECT a.plan_balance + a.purchased_balance,
		(SELECT coalesce(sum(plan_delta + purchased_delta), 0) FROM credit_ledger l WHERE l.location_id = a.location_id)
		FROM credit_accounts a WHERE a.location_id = ?`, loc).Scan(ctx, &bal, &sum); err != nil || bal != sum {
		b.Fatalf("balance %d, ledger sum %d (%v)", bal, sum, err)
	}
}

// waitNonePending waits until the location has no pending charge.
func waitNonePending(b *testing.B, st *models.Store, loc int64) {
	deadline := time.Now().Add(burstTimeout)
	for {
		var left int
		if err := st.DB().NewRaw("SELECT count(*) FROM credit_pending WHERE location_id = ?", loc).Scan(b.Context(), &left); err != nil {
			b.Fatal(err)
		}
		if left == 0 {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d charges still pending after %s", left, burstTimeout)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
