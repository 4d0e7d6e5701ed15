package jobs_test

// Outbound email throughput: a burst of queued email replies through the
// whole path (outbox relay → asynq → email:send: claim, build, send over
// SMTP, record) to a local go-smtp sink that discards, against the same
// sink fed directly by a bare net/smtp client at the same concurrency
// (the ceiling), in the same run:
//
//	go test -run '^$' -bench EmailSendBurst -benchtime 1x ./jobs/ -args -b3.n=1000
//
// One iteration is one burst of -b3.n messages; the rates are metrics.

import (
	"context"
	"fmt"
	"net/smtp"
	"testing"
	"time"

	"github.com/parley-chat/parley/channels/email"
	"github.com/parley-chat/parley/internal/smtpsink"
	"github.com/parley-chat/parley/jobs"
	"github.com/parley-chat/parley/models"
)

func BenchmarkEmailSendBurst(b *testing.B) {
	ctx := context.Background()
	n := *b3N
	opt, rdb := benchRedis(b)
	db, err := models.OpenDB(ctx, env.DatabaseURL)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	store := models.NewStore(db)
	demo, err := store.SeedDemo(ctx, models.DemoOptions{
		AdminEmail: "admin@demo.parley.test", AdminPassword: "correct horse battery",
		AgentEmail: "agent@demo.parley.test", AgentPassword: "agent password 1",
		SMSNumber: demoNumber, EmailAddress: demoInboxAddr,
		PlanCredits: models.MaxPlanCredits, // thousands of sends
	})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "UPDATE outbox SET done_at = now(), enqueued_at = coalesce(enqueued_at, now()), last_error = 'closed by benchmark setup' WHERE done_at IS NULL"); err != nil {
		b.Fatal(err)
	}
	scope := models.Scope{OrgID: demo.Org.ID, UserID: demo.Agent.ID, Role: models.RoleAgent}
	sink := smtpsink.Start(b, smtpsink.Options{Discard: true})
	relaySender, err := email.NewRelay("smtp://"+sink.Addr, email.RelayOptions{Timeout: 10 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	// One conversation per message, from senders no other run used.
	run0 := time.Now().UnixNano()
	convs := make([]int64, n)
	if err := parallel(4, n, func(k int) error {
		r, err := store.ReceiveEmail(ctx, models.InboundEmail{To: demoInboxAddr, From: fmt.Sprintf("b%d-%d@mail.example", run0, k),
			Subject: "Hello", HeaderID: fmt.Sprintf("bench-%d-%d@mail.example", run0, k), Text: "hi", FullText: "hi",
			Raw: []byte("Subject: Hello\r\n\r\nhi"), ReceivedAt: time.Now()})
		if err != nil {
			return err
		}
		convs[k] = r.Change.Conversation.ID
		return nil
	}); err != nil {
		b.Fatal(err)
	}

	b.Run("worker", func(b *testing.B) {
		for range b.N {
			flushBench(b, rdb)
			before := sink.Count()
			if err := parallel(*b3Agents, n, func(k int) error {
				_, err := store.Reply(ctx, scope, convs[k], fmt.Sprintf("Your table is ready (%d)", k), false)
				return err
			}); err != nil {
				b.Fatal(err)
			}
			w, err := jobs.NewWorker(opt, benchWorkerConfig(), jobs.Deps{Store: store, SMS: noSMS{}, Notify: nopNotifier{},
				Email: relaySender, EmailCfg: testEmailCfg})
			if err != nil {
				b.Fatal(err)
			}
			start := time.Now()
			stopWorker := run(b, "worker", w.Run)
			f := &burstFixture{b: b, opt: opt, sender: store}
			stopRelay := f.startRelay()
			deadline := time.Now().Add(burstTimeout)
			for sink.Count()-before < int64(n) {
				if time.Now().After(deadline) {
					b.Fatalf("%d of %d emails reached the sink in %s", sink.Count()-before, n, burstTimeout)
				}
				sink.Wait(100 * time.Millisecond)
			}
			elapsed := time.Since(start)
			stopRelay()
			stopWorker()
			b.ReportMetric(float64(n)/elapsed.Seconds(), "sends/s")
		}
	})

	b.Run("net-smtp", func(b *testing.B) {
		raw, err := email.Build(email.Outbound{From: email.Address{Name: "Front Desk", Email: demoInboxAddr},
			To: []email.Address{{Email: "pat@mail.example"}}, Subject: "Hello", Text: "Your table is ready", Domain: "parley.test"})
		if err != nil {
			b.Fatal(err)
		}
		for range b.N {
			before := sink.Count()
			start := time.Now()
			if err := parallel(*b3Concurrency, n, func(k int) error {
				return bareSMTP(sink.Addr, "bounce@parley.test", fmt.Sprintf("b%d@mail.example", k), raw)
			}); err != nil {
				b.Fatal(err)
			}
			elapsed := time.Since(start)
			if got := sink.Count() - before; got != int64(n) {
				b.Fatalf("the sink took %d of %d", got, n)
			}
			b.ReportMetric(float64(n)/elapsed.Seconds(), "sends/s")
		}
	})
}

// bareSMTP is one SMTP session by the standard library's client.
func bareSMTP(addr, from, to string, raw []byte) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Mail(from); err != nil {
		return err
	}
	if err := c.Rcpt(to); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(raw); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// noSMS is an SMS sender for a worker that sends only email.
type noSMS struct{}

func (noSMS) SendSMS(context.Context, jobs.SMS) ([]string, error) {
	return nil, fmt.Errorf("no SMS expected")
}
