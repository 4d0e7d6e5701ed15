package hub

import (
	"context"
	"errors"
	"slices"
	"testing"
	"testing/synctest"
	"time"
)

func TestNextCoalescesQueuedFrames(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := New(Config{})
		defer closeHub(t, h)
		s := h.NewSubscriber(Member{UserID: 1}, 0)
		join(t, h, "loc:7", s)

		for seq := range 5 {
			publish(t, h, "loc:7", 0, seq)
		}
		synctest.Wait() // the room has queued all five

		b, err := s.Next(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		want := "<loc:7/0/0><loc:7/0/1><loc:7/0/2><loc:7/0/3><loc:7/0/4>"
		if string(b) != want {
			t.Errorf("one Next returned %q, want %q", b, want)
		}

		publish(t, h, "loc:7", 0, 5)
		b, err = s.Next(context.Background())
		if err != nil || string(b) != "<loc:7/0/5>" {
			t.Errorf("Next = %q, %v; want the single frame", b, err)
		}
	})
}

// A subscriber that stops reading falls behind, and is dropped when it has
// not come back for its catch-up within LagTimeout; the others never notice.
func TestSlowSubscriberDroppedOthersUnaffected(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := New(Config{})
		defer closeHub(t, h)
		slow := h.NewSubscriber(Member{UserID: 1, Name: "slow"}, 4)
		fast := h.NewSubscriber(Member{UserID: 2, Name: "fast"}, 4)
		join(t, h, "conv:1", slow)
		join(t, h, "loc:1", slow)
		join(t, h, "conv:1", fast)

		const n = 50
		got := make(chan []string, 1)
		go func() {
			f, err := collect(fast, n)
			if err != nil {
				t.Errorf("fast subscriber: %v", err)
			}
			got <- f
		}()
		for seq := range n - 1 {
			publish(t, h, "conv:1", 0, seq)
			synctest.Wait() // the fast reader drains; the slow one never reads
		}
		if err := slow.Err(); err != nil {
			t.Fatalf("slow subscriber dropped at once (%v), want lagging first", err)
		}
		time.Sleep(DefaultLagTimeout + time.Second)
		publish(t, h, "conv:1", 0, n-1)
		synctest.Wait()

		select {
		case <-slow.Done():
		default:
			t.Fatal("slow subscriber not dropped")
		}
		if !errors.Is(slow.Err(), ErrTooSlow) {
			t.Errorf("slow.Err() = %v, want ErrTooSlow", slow.Err())
		}
		if _, err := slow.Next(context.Background()); !errors.Is(err, ErrTooSlow) {
			t.Errorf("slow.Next error = %v, want ErrTooSlow", err)
		}
		f := <-got
		if len(f) != n {
			t.Fatalf("fast subscriber got %d frames, want %d", len(f), n)
		}
		for i, fr := range f {
			if want := string(frame("conv:1", 0, i)); fr != want {
				t.Fatalf("fast frame %d = %q, want %q", i, fr, want)
			}
		}
		if m := membersOf(t, h, "conv:1"); !slices.Equal(m, []Member{{UserID: 2, Name: "fast"}}) {
			t.Errorf("conv:1 members = %v, want only fast", m)
		}
		if m := membersOf(t, h, "loc:1"); len(m) != 0 {
			t.Errorf("loc:1 members = %v, want none (dropped from every topic)", m)
		}
		st := h.Stats()
		if st.SubscribersDropped != 1 || st.Subscribers != 1 || st.SubscribersLagged != 1 {
			t.Errorf("stats = %+v, want 1 lagged, then dropped, and 1 live", st)
		}
	})
}

// With MaxLags 1 a full queue drops the subscriber at once; the byte limit
// fills it as the frame limit does.
func TestByteLimitDropsSubscriber(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := New(Config{SubscriberMaxBytes: 100, MaxLags: 1})
		defer closeHub(t, h)
		s := h.NewSubscriber(Member{UserID: 1}, 1000)
		join(t, h, "conv:1", s)
		big := make([]byte, 60)
		for range 2 {
			if err := h.Publish(context.Background(), Event{Topic: "conv:1", Frame: big}); err != nil {
				t.Fatal(err)
			}
		}
		synctest.Wait()
		if !errors.Is(s.Err(), ErrTooSlow) {
			t.Errorf("Err() = %v after 120 bytes queued with a 100-byte limit, want ErrTooSlow", s.Err())
		}
	})
}

func TestLeaveJoinSwitchesThreads(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := New(Config{})
		defer closeHub(t, h)
		s := h.NewSubscriber(Member{UserID: 1, Name: "Ann"}, 0)
		join(t, h, "loc:1", s)
		join(t, h, "conv:1", s)
		join(t, h, "conv:1", s) // joining twice is a no-op

		publish(t, h, "conv:1", 0, 1)
		synctest.Wait()
		if got := queued(t, s); !slices.Equal(got, []string{"<conv:1/0/1>"}) {
			t.Fatalf("before switching got %q", got)
		}

		leave(t, h, "conv:1", s)
		join(t, h, "conv:2", s)
		leave(t, h, "conv:9", s) // never joined: no-op
		publish(t, h, "conv:1", 0, 2)
		publish(t, h, "conv:2", 0, 3)
		publish(t, h, "loc:1", 0, 4)
		synctest.Wait()
		got := queued(t, s)
		slices.Sort(got) // two rooms: no order between topics
		if want := []string{"<conv:2/0/3>", "<loc:1/0/4>"}; !slices.Equal(got, want) {
			t.Errorf("after switching got %q, want %q", got, want)
		}
		if got, want := s.Topics(), []string{"loc:1", "conv:2"}; !slices.Equal(got, want) {
			t.Errorf("Topics() = %q, want %q", got, want)
		}
		if m := membersOf(t, h, "conv:1"); len(m) != 0 {
			t.Errorf("conv:1 members = %v after leaving", m)
		}
	})
}
