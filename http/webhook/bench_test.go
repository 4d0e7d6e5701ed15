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
)

// benchSenders spreads inbound messages over this many conversations
// (quality.md B2: 5,000 conversations).
const benchSenders = 5000

// BenchmarkInboundWebhook measures signed Vonage inbound webhooks through
// the real handler, each committed (synchronous_commit on) before its 200:
// B2's "sustained inbound". Compare with BenchmarkInsertCeiling from the
// same run: the goal is at least 0.5 of it.
func BenchmarkInboundWebhook(b *testing.B) {
	benchInbound(b, newFixture(b, signedConfig(sms.SignatureMD5Hash)))
}

// BenchmarkInboundWebhookSingle is the same with one transaction per
// message (no group commit): what the batcher is measured against.
func BenchmarkInboundWebhookSingle(b *testing.B) {
	st, _ := sharedStore(b)
	benchInbound(b, newFixture(b, signedConfig(sms.SignatureMD5Hash), st))
}

func benchInbound(b *testing.B, f *fixture) {
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
