package hub

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"testing/synctest"
	"time"
)

func TestShutdownEndsSubscribers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		broker := NewMemoryBroker()
		h := New(Config{Broker: broker, OnPresence: func(string, []Member) {}})
		other := New(Config{Broker: broker}) // a second node, so the relay runs both ways
		defer closeHub(t, other)
		synctest.Wait() // both nodes have subscribed to the broker

		a := h.NewSubscriber(Member{UserID: 1}, 0)
		b := h.NewSubscriber(Member{UserID: 2}, 0)
		idle := h.NewSubscriber(Member{UserID: 3}, 0) // joined nothing
		join(t, h, "conv:1", a)
		join(t, h, "loc:1", a)
		join(t, h, "loc:1", b)
		nextErr := make(chan error, 1)
		go func() { _, err := a.Next(context.Background()); nextErr <- err }()
		publish(t, other, "loc:1", 0, 1)
		synctest.Wait()

		if err := h.Shutdown(context.Background()); err != nil {
			t.Fatalf("shutdown: %v", err)
		}
		if err := h.Shutdown(context.Background()); err != nil {
			t.Fatalf("second shutdown: %v", err)
		}
		if err := <-nextErr; err != nil {
			t.Errorf("Next before shutdown: %v (the relayed event should have arrived)", err)
		}
		for i, s := range []*Subscriber{a, b, idle} {
			select {
			case <-s.Done():
			default:
				t.Errorf("subscriber %d: Done not closed", i)
			}
			if !errors.Is(s.Err(), ErrShutdown) {
				t.Errorf("subscriber %d: Err() = %v, want ErrShutdown", i, s.Err())
			}
			if _, err := s.Next(context.Background()); !errors.Is(err, ErrShutdown) {
				t.Errorf("subscriber %d: Next error = %v, want ErrShutdown", i, err)
			}
		}
		if st := h.Stats(); st.Rooms != 0 || st.Subscribers != 0 {
			t.Errorf("stats after shutdown = %+v, want no rooms and no subscribers", st)
		}

		if err := h.Join(context.Background(), "conv:1", h.NewSubscriber(Member{}, 0)); !errors.Is(err, ErrShutdown) {
			t.Errorf("Join after shutdown = %v, want ErrShutdown", err)
		}
		if err := h.Publish(context.Background(), Event{Topic: "conv:1"}); !errors.Is(err, ErrShutdown) {
			t.Errorf("Publish after shutdown = %v, want ErrShutdown", err)
		}
		if _, err := h.Members(context.Background(), "conv:1"); !errors.Is(err, ErrShutdown) {
			t.Errorf("Members after shutdown = %v, want ErrShutdown", err)
		}
		if s := h.NewSubscriber(Member{}, 0); !errors.Is(s.Err(), ErrShutdown) {
			t.Errorf("NewSubscriber after shutdown: Err() = %v, want ErrShutdown", s.Err())
		}
		a.Close()                        // after shutdown: harmless
		publish(t, other, "loc:1", 0, 2) // a node that shut down ignores relayed events
		// synctest.Test fails if any goroutine of either hub is still alive.
	})
}

func TestSubscriberClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := New(Config{})
		defer closeHub(t, h)
		s := h.NewSubscriber(Member{UserID: 1}, 0)
		join(t, h, "conv:1", s)
		join(t, h, "loc:1", s)
		s.Close()
		s.Close()
		if !errors.Is(s.Err(), ErrClosed) {
			t.Errorf("Err() = %v, want ErrClosed", s.Err())
		}
		for _, topic := range []string{"conv:1", "loc:1"} {
			if m := membersOf(t, h, topic); len(m) != 0 {
				t.Errorf("%s members = %v after Close", topic, m)
			}
		}
		if err := h.Join(context.Background(), "conv:2", s); !errors.Is(err, ErrClosed) {
			t.Errorf("Join after Close = %v, want ErrClosed", err)
		}
		if got := h.Stats().Subscribers; got != 0 {
			t.Errorf("Subscribers = %d after Close, want 0", got)
		}
	})
}

func TestPublishWaitsOnlyUntilContextEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := New(Config{MailboxSize: 2})
		defer closeHub(t, h)
		// A room whose goroutine never runs, so its mailbox stays full.
		stuck := newRoom(h, "conv:1")
		h.mu.Lock()
		h.rooms["conv:1"] = stuck
		h.mu.Unlock()
		for range 2 {
			stuck.mailbox <- message{}
		}

		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		start := time.Now()
		err := h.Publish(ctx, Event{Topic: "conv:1", Frame: []byte("x")})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Publish to a full mailbox = %v, want DeadlineExceeded", err)
		}
		if waited := time.Since(start); waited != 3*time.Second {
			t.Errorf("Publish waited %v, want exactly the context's 3s", waited)
		}
		if p := stuck.pending.Load(); p != 0 {
			t.Errorf("pending = %d after a failed send, want 0", p)
		}
		h.mu.Lock()
		delete(h.rooms, "conv:1")
		h.mu.Unlock()
	})
}

// TestNoGoroutineLeft runs a busy hub on the real scheduler and checks that
// shutdown returns the process to the goroutines it had before.
func TestNoGoroutineLeft(t *testing.T) {
	base := runtime.NumGoroutine()
	broker := NewMemoryBroker()
	presence := func(string, []Member) {}
	a := New(Config{Broker: broker, OnPresence: presence, IdleTimeout: time.Millisecond})
	b := New(Config{Broker: broker, OnPresence: presence})
	ctx := context.Background()

	readers := make(chan error, 20)
	for i := range 20 {
		h := []*Hub{a, b}[i%2]
		s := h.NewSubscriber(Member{UserID: int64(i)}, 4)
		if err := h.Join(ctx, "loc:1", s); err != nil {
			t.Fatal(err)
		}
		go func() {
			for {
				if _, err := s.Next(ctx); err != nil && !errors.Is(err, ErrLagging) {
					readers <- err
					return
				}
			}
		}()
	}
	for seq := range 1000 {
		h := []*Hub{a, b}[seq%2]
		if err := h.Publish(ctx, Event{Topic: "loc:1", Seq: int64(seq), Frame: []byte("<p>x</p>")}); err != nil {
			t.Fatal(err)
		}
		_ = h.Publish(ctx, Event{Topic: "conv:nobody"}) // no room
	}
	for _, h := range []*Hub{a, b} {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		if err := h.Shutdown(sctx); err != nil {
			t.Fatal(err)
		}
		cancel()
	}
	for range 20 {
		if err := <-readers; !errors.Is(err, ErrShutdown) && !errors.Is(err, ErrTooSlow) {
			t.Errorf("reader ended with %v", err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > base {
		buf := make([]byte, 1<<16)
		t.Fatalf("%d goroutines after shutdown, %d before:\n%s", n, base, buf[:runtime.Stack(buf, true)])
	}
}
