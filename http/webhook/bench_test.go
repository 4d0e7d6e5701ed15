package webhook_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley/channels/sms"
	"github.com/parley-chat/parley/http/webhook"
)

// benchSenders spreads inbound messages over this many conversations
// (quality.md B2: 5,000 conversations).
const benchSenders = 5000

// BenchmarkInboundWebhook measures signed Vonage inbound webhooks through
// the real handler, each committed (synchronous_commit on) before its 200:
// B2's "sustained inbound". Compare with BenchmarkInsertCeiling from the
// same run: the goal is at least 0.5 of it.
func BenchmarkInboundWebhook(b *testing.B) {
	for _, committers := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("committers=%d", committers), func(b *testing.B) {
			st, _ := sharedStore(b)
			batcher := webhook.NewBatcher(st, webhook.BatcherOptions{Committers: committers}, testLogger())
			b.Cleanup(batcher.Close)
			benchInbound(b, newFixture(b, signedConfig(sms.SignatureMD5Hash), batcher))
		})
	}
}

// BenchmarkInboundWebhookSingle is the same with one transaction per
// message (no group commit): what the batcher is measured against.
func BenchmarkInboundWebhookSingle(b *testing.B) {
	st, _ := sharedStore(b)
	benchInbound(b, newFixture(b, signedConfig(sms.SignatureMD5Hash), st))
}

func benchInbound(b *testing.B, f *fixture) {
	steadyState(b, f)
	bodies := make([]string, b.N)
	for i := range bodies {
		p := f.sign(inbound(newID("bench"), fmt.Sprintf("+1555030%04d", i%benchSenders), "benchmark message"))
		bodies[i] = p.Encode()
	}
	var next, failed atomic.Int64
	b.SetParallelism(16) // 32 concurrent callers on 2 cores, as Vonage fans out
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1) - 1
			resp, err := f.http.Post(f.url+inboundPath, "application/x-www-form-urlencoded", strings.NewReader(bodies[i]))
			if err != nil || resp.StatusCode != http.StatusOK {
				failed.Add(1)
			}
			if resp != nil {
				resp.Body.Close()
			}
		}
	})
	b.StopTimer()
	if failed.Load() > 0 {
		b.Fatalf("%d of %d webhooks failed", failed.Load(), b.N)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
	if f.batcher != nil {
		st := f.batcher.Stats()
		b.ReportMetric(float64(st.Messages)/float64(max(st.Batches, 1)), "msgs/commit")
		if st.Fallbacks > 0 {
			b.Errorf("%d group commits failed and fell back to one by one", st.Fallbacks)
		}
	}
}

// BenchmarkInsertCeiling is the same database's single-row insert commit
// rate with the same concurrency: the ceiling B2 is measured against.
func BenchmarkInsertCeiling(b *testing.B) {
	st, _ := sharedStore(b)
	ctx := context.Background()
	if _, err := st.DB().ExecContext(ctx, "CREATE TABLE IF NOT EXISTS bench_ceiling (id bigserial PRIMARY KEY, body text NOT NULL)"); err != nil {
		b.Fatal(err)
	}
	b.SetParallelism(16)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := st.DB().NewRaw("INSERT INTO bench_ceiling (body) VALUES (?)", "benchmark message").Exec(ctx); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "inserts/s")
}

// steadyState gives the database what a running deployment has before the
// measured traffic: the 5,000 senders as recipients, each with an open
// conversation holding 10 earlier messages, and fresh planner statistics.
// Without it the benchmark would measure a cold start: an empty messages
// table, whose first cached plans scan it.
func steadyState(b *testing.B, f *fixture) {
	b.Helper()
	ctx := context.Background()
	db := f.store.DB()
	org, inbox := f.demo.Org.ID, f.demo.Inbox.ID
	for _, q := range []string{
		`INSERT INTO recipients (org_id, phone) SELECT ?, '+1555030' || lpad(g::text, 4, '0') FROM generate_series(0, ? - 1) AS g
			ON CONFLICT (org_id, phone) WHERE phone IS NOT NULL DO NOTHING`,
		`INSERT INTO conversations (org_id, inbox_id, recipient_id, channel, status, origin)
			SELECT r.org_id, ?, r.id, 'sms', 'open', 'recipient' FROM recipients AS r
			WHERE r.org_id = ? AND r.phone LIKE '+1555030%'
			ON CONFLICT (inbox_id, recipient_id, channel) WHERE status <> 'closed' DO NOTHING`,
		`INSERT INTO messages (org_id, conversation_id, direction, channel, body, author_type, status, provider, provider_message_id, encoding, segments)
			SELECT c.org_id, c.id, 'inbound', 'sms', 'earlier message', 'recipient', 'received', 'vonage', 'steady-' || c.id || '-' || g, 'text', 1
			FROM conversations AS c, generate_series(1, 10) AS g WHERE c.inbox_id = ?
			ON CONFLICT (provider, provider_message_id) WHERE provider_message_id IS NOT NULL DO NOTHING`,
		`ANALYZE`,
	} {
		var args []any
		switch {
		case strings.HasPrefix(q, "INSERT INTO recipients"):
			args = []any{org, benchSenders}
		case strings.HasPrefix(q, "INSERT INTO conversations"):
			args = []any{inbox, org}
		case strings.HasPrefix(q, "INSERT INTO messages"):
			args = []any{inbox}
		}
		if _, err := db.NewRaw(q, args...).Exec(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
