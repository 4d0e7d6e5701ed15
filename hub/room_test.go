package hub

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

func TestOrderPerTopicUnderConcurrentPublishers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := New(Config{MailboxSize: 4}) // small: publishers really wait
		defer closeHub(t, h)

		const topics, publishersPerTopic, perPublisher = 4, 2, 300
		const want = publishersPerTopic * perPublisher
		type result struct {
			topic string
			got   []string
			err   error
		}
		results := make(chan result, topics*2)
		var readers sync.WaitGroup
		for i := range topics {
			topic := fmt.Sprintf("conv:%d", i)
			for range 2 {
				s := h.NewSubscriber(Member{UserID: int64(i)}, 10*want)
				join(t, h, topic, s)
				readers.Go(func() {
					got, err := collect(s, want)
					results <- result{topic, got, err}
				})
			}
		}

		var publishers sync.WaitGroup
		for i := range topics {
			for p := range publishersPerTopic {
				publishers.Go(func() {
					topic := fmt.Sprintf("conv:%d", i)
					for seq := range perPublisher {
						if err := h.Publish(context.Background(), Event{Topic: topic, Seq: int64(seq), Frame: frame(topic, p, seq)}); err != nil {
							t.Errorf("publish: %v", err)
							return
						}
					}
				})
			}
		}
		publishers.Wait()
		readers.Wait()
		close(results)

		for r := range results {
			if r.err != nil {
				t.Fatalf("%s: next: %v", r.topic, r.err)
			}
			if len(r.got) != want {
				t.Fatalf("%s: got %d frames, want %d", r.topic, len(r.got), want)
			}
			next := make([]int, publishersPerTopic)
			for _, f := range r.got {
				var topic string
				var p, seq int
				if _, err := fmt.Sscanf(strings.NewReplacer("<", "", ">", "", "/", " ").Replace(f), "%s %d %d", &topic, &p, &seq); err != nil {
					t.Fatalf("%s: bad frame %q: %v", r.topic, f, err)
				}
				if topic != r.topic {
					t.Fatalf("%s: got a frame of %s", r.topic, topic)
				}
				if seq != next[p] {
					t.Fatalf("%s: publisher %d: got seq %d, want %d", r.topic, p, seq, next[p])
				}
				next[p]++
			}
		}
		if got, want := h.Stats().FramesDelivered, uint64(topics*2*want); got != want {
			t.Errorf("FramesDelivered = %d, want %d", got, want)
		}
	})
}

func TestIdleRoomStopsAndRestarts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const idle = 10 * time.Second
		h := New(Config{IdleTimeout: idle})
		defer closeHub(t, h)
		base := runtime.NumGoroutine()

		s := h.NewSubscriber(Member{UserID: 1}, 0)
		join(t, h, "conv:1", s)
		synctest.Wait()
		if got := h.Stats().Rooms; got != 1 {
			t.Fatalf("Rooms = %d after join, want 1", got)
		}
		if got := runtime.NumGoroutine(); got != base+1 {
			t.Fatalf("goroutines = %d after join, want %d", got, base+1)
		}

		time.Sleep(3 * idle) // a room with a subscriber never idles out
		synctest.Wait()
		if got := h.Stats().Rooms; got != 1 {
			t.Fatalf("Rooms = %d with a subscriber, want 1", got)
		}

		leave(t, h, "conv:1", s)
		time.Sleep(idle - time.Second)
		synctest.Wait()
		if got := h.Stats().Rooms; got != 1 {
			t.Fatalf("Rooms = %d before IdleTimeout, want 1", got)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if got := h.Stats().Rooms; got != 0 {
			t.Fatalf("Rooms = %d after IdleTimeout, want 0", got)
		}
		if got := runtime.NumGoroutine(); got != base {
			t.Fatalf("goroutines = %d after idle stop, want %d", got, base)
		}

		// Publishing to a topic nobody here watches starts nothing.
		publish(t, h, "conv:1", 0, 1)
		synctest.Wait()
		if got := h.Stats().Rooms; got != 0 {
			t.Fatalf("Rooms = %d after publishing to an empty topic, want 0", got)
		}

		join(t, h, "conv:1", s)
		publish(t, h, "conv:1", 0, 2)
		synctest.Wait()
		if got := queued(t, s); !slices.Equal(got, []string{"<conv:1/0/2>"}) {
			t.Fatalf("after restart got %q", got)
		}
		if got := h.Stats().Rooms; got != 1 {
			t.Fatalf("Rooms = %d after rejoin, want 1", got)
		}
	})
}
