package hub

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"
)

// BenchmarkFanout publishes 200-byte frames to one topic watched by many
// subscribers, each drained by its own goroutine calling Next (as a socket
// writer would, minus the socket). One op is one published event; the
// deliveries/s metric is frames handed to subscribers per second, waiting
// until every subscriber has all of them (quality.md B1's hub share).
func BenchmarkFanout(b *testing.B) {
	for _, subs := range []int{100, 2000} {
		b.Run(fmt.Sprintf("subscribers=%d", subs), func(b *testing.B) { benchFanout(b, subs) })
	}
}

func benchFanout(b *testing.B, subs int) {
	const frameSize = 200
	// Buffers large enough that a reader descheduled for a moment is not
	// dropped: this measures throughput, not the slow-socket policy.
	h := New(Config{SubscriberBuffer: 1 << 16, SubscriberMaxBytes: 1 << 26})
	defer h.Close()
	ctx := context.Background()
	frame := make([]byte, frameSize)
	for i := range frame {
		frame[i] = 'x'
	}

	var done sync.WaitGroup
	var mu sync.Mutex
	var writes int // Next calls: how well coalescing batches
	for i := range subs {
		s := h.NewSubscriber(Member{UserID: int64(i)}, 0)
		if err := h.Join(ctx, "loc:1", s); err != nil {
			b.Fatal(err)
		}
		done.Go(func() {
			got, calls := 0, 0
			for got < b.N {
				buf, err := s.Next(ctx)
				if err != nil {
					b.Errorf("subscriber %d: %v after %d of %d frames", i, err, got, b.N)
					return
				}
				got += len(buf) / frameSize
				calls++
			}
			mu.Lock()
			writes += calls
			mu.Unlock()
		})
	}

	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for seq := range b.N {
		if err := h.Publish(ctx, Event{Topic: "loc:1", Seq: int64(seq), Frame: frame}); err != nil {
			b.Fatal(err)
		}
	}
	done.Wait()
	elapsed := time.Since(start)
	b.StopTimer()

	if d := h.Stats().SubscribersDropped; d > 0 {
		b.Fatalf("%d subscribers dropped", d)
	}
	deliveries := float64(b.N) * float64(subs)
	b.ReportMetric(deliveries/elapsed.Seconds(), "deliveries/s")
	b.ReportMetric(deliveries/float64(writes), "frames/Next")
}

// BenchmarkPublishNoSubscribers is the cost of publishing to a topic nobody
// on this node watches: most conversations, most of the time.
func BenchmarkPublishNoSubscribers(b *testing.B) {
	h := New(Config{})
	defer h.Close()
	ctx := context.Background()
	ev := Event{Topic: "conv:42", Seq: 1, Frame: make([]byte, 200)}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := h.Publish(ctx, ev); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := h.Publish(ctx, ev); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	if r := h.Stats().Rooms; r != 0 {
		b.Fatalf("%d rooms started by publishing to an empty topic", r)
	}
}

// BenchmarkIdleSubscriberMemory reports the heap one idle socket costs the
// hub: a subscriber joined to two location feeds (quality.md B4's hub share).
func BenchmarkIdleSubscriberMemory(b *testing.B) {
	const n = 10_000
	for b.Loop() {
		h := New(Config{})
		ctx := context.Background()
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		subs := make([]*Subscriber, n)
		for i := range subs {
			subs[i] = h.NewSubscriber(Member{UserID: int64(i)}, 0)
			for _, topic := range []string{"loc:1", "loc:2"} {
				if err := h.Join(ctx, topic, subs[i]); err != nil {
					b.Fatal(err)
				}
			}
		}
		if _, err := h.Members(ctx, "loc:2"); err != nil { // both rooms have caught up
			b.Fatal(err)
		}
		if _, err := h.Members(ctx, "loc:1"); err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "B/subscriber")
		runtime.KeepAlive(subs)
		h.Close()
	}
}

// BenchmarkNextCoalesced is one socket write's share of the hub at a busy
// feed: 15 queued 200-byte frames (what BenchmarkFanout coalesces per Next)
// taken in one buffer. allocs/op is the point: a buffer per write made
// allocation and GC a quarter of the CPU at 800k deliveries/s.
func BenchmarkNextCoalesced(b *testing.B) {
	h := New(Config{})
	defer h.Close()
	s := h.NewSubscriber(Member{UserID: 1}, 0)
	frame := make([]byte, 200)
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		for j := range 15 {
			s.push(frame, int64(i*15+j+1))
		}
		out, err := s.Next(ctx)
		if err != nil || len(out) != 15*200 {
			b.Fatalf("Next = %d bytes, %v", len(out), err)
		}
	}
}
