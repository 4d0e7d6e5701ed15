package hub

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"
)

// A burst makes many subscribers briefly slow: they are kept, each told
// once where to catch up from, and then get frames again. None is dropped,
// and none of the readers that kept up notices.
func TestBurstLagsSubscribersInsteadOfDropping(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := New(Config{})
		defer closeHub(t, h)
		const slowN, fastN, buffer, burst = 90, 10, 8, 30
		var slow, fast []*Subscriber
		for i := range slowN + fastN {
			s := h.NewSubscriber(Member{UserID: int64(i)}, buffer)
			join(t, h, "loc:1", s)
			if i < slowN {
				slow = append(slow, s)
			} else {
				fast = append(fast, s)
			}
		}
		fastGot := make(chan int, fastN)
		for _, s := range fast {
			go func() {
				f, err := collect(s, burst+1)
				if err != nil {
					t.Errorf("fast reader: %v", err)
				}
				fastGot <- len(f)
			}()
		}
		// The slow ones do not read during the burst (seqs 101..130).
		for i := range burst {
			publish(t, h, "loc:1", 0, 101+i)
			synctest.Wait()
		}
		for i, s := range slow {
			_, err := s.Next(context.Background())
			var lag *LagError
			if !errors.As(err, &lag) || !errors.Is(err, ErrLagging) {
				t.Fatalf("slow %d: Next error = %v, want a *LagError", i, err)
			}
		}
		publish(t, h, "loc:1", 0, 131) // still skipped: not resumed yet
		synctest.Wait()
		for i, s := range slow {
			if lag := s.Resume(); lag.Since != 100 || lag.Skipped != burst+1 {
				t.Fatalf("slow %d: lag = %+v, want Since 100 (before the first skipped) and %d skipped", i, lag, burst+1)
			}
		}
		publish(t, h, "loc:1", 0, 132)
		synctest.Wait()
		for i, s := range slow {
			if got := queued(t, s); fmt.Sprint(got) != "[<loc:1/0/132>]" {
				t.Fatalf("slow %d after its catch-up: %q, want the next frame", i, got)
			}
		}
		for range fastN {
			if n := <-fastGot; n != burst+1 {
				t.Errorf("a fast reader got %d frames, want %d", n, burst+1)
			}
		}
		st := h.Stats()
		if st.SubscribersDropped != 0 || st.SubscribersLagged != slowN || st.Subscribers != slowN+fastN {
			t.Errorf("stats = %+v, want %d lagged, none dropped", st, slowN)
		}
	})
}

// Only a subscriber behind persistently is dropped: its MaxLags-th lag
// within LagWindow. Lags older than the window are forgotten.
func TestRepeatedLagsDropSubscriber(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := New(Config{})
		defer closeHub(t, h)
		s := h.NewSubscriber(Member{UserID: 1}, 2)
		join(t, h, "loc:1", s)
		seq := 0
		lag := func() error {
			for range 3 { // one more than the buffer
				seq++
				publish(t, h, "loc:1", 0, seq)
			}
			synctest.Wait()
			_, err := s.Next(context.Background())
			if errors.Is(err, ErrLagging) {
				s.Resume()
			}
			return err
		}
		for i := range DefaultMaxLags - 1 {
			if err := lag(); !errors.Is(err, ErrLagging) {
				t.Fatalf("lag %d: %v, want ErrLagging", i+1, err)
			}
		}
		time.Sleep(DefaultLagWindow) // the earlier lags age out
		for i := range DefaultMaxLags - 1 {
			if err := lag(); !errors.Is(err, ErrLagging) {
				t.Fatalf("lag %d after the window: %v, want ErrLagging", i+1, err)
			}
		}
		if err := lag(); !errors.Is(err, ErrTooSlow) {
			t.Fatalf("lag %d within the window: %v, want ErrTooSlow", DefaultMaxLags, err)
		}
		if st := h.Stats(); st.SubscribersDropped != 1 || st.SubscribersLagged != 2*(DefaultMaxLags-1) {
			t.Errorf("stats = %+v", st)
		}
	})
}

// The catch-up starts before the lowest Seq skipped, whatever the topic
// order; frames without a Seq (typing, presence) give no start.
func TestLagSince(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := New(Config{})
		defer closeHub(t, h)
		s := h.NewSubscriber(Member{UserID: 1}, 2)
		join(t, h, "loc:1", s)
		join(t, h, "conv:1", s)
		publish(t, h, "conv:1", 0, 0)
		publish(t, h, "loc:1", 0, 9)
		publish(t, h, "conv:1", 0, 7) // overflows: all three skipped
		publish(t, h, "loc:1", 0, 8)
		synctest.Wait()
		if _, err := s.Next(context.Background()); !errors.Is(err, ErrLagging) {
			t.Fatalf("Next = %v, want a lag", err)
		}
		if lag := s.Resume(); lag.Since != 6 || lag.Skipped != 4 {
			t.Fatalf("Resume = %+v, want a lag since 6 with 4 skipped", lag)
		}
		for range 3 {
			publish(t, h, "conv:1", 0, 0)
		}
		synctest.Wait()
		if _, err := s.Next(context.Background()); !errors.Is(err, ErrLagging) {
			t.Fatalf("Next = %v, want a lag", err)
		}
		if lag := s.Resume(); lag.Since != -1 {
			t.Fatalf("Resume = %+v, want a lag since -1 (nothing with a Seq skipped)", lag)
		}
		if lag := s.Resume(); lag.Since != -1 || lag.Skipped != 0 {
			t.Fatalf("Resume when not lagging = %+v", lag)
		}
	})
}

// Next reuses its coalescing buffer: the result of one call is valid until
// the next, and a later result holds its own frames.
func TestNextReusesBuffer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := New(Config{})
		defer closeHub(t, h)
		s := h.NewSubscriber(Member{UserID: 1}, 0)
		join(t, h, "loc:1", s)
		for round := range 3 {
			for i := range 4 {
				publish(t, h, "loc:1", round, i)
			}
			synctest.Wait()
			b, err := s.Next(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			want := ""
			for i := range 4 {
				want += string(frame("loc:1", round, i))
			}
			if string(b) != want {
				t.Fatalf("round %d: %q, want %q", round, b, want)
			}
		}
	})
}
