package hub

import (
	"slices"
	"sync"
	"testing"
	"testing/synctest"
)

func TestPresence(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		latest := map[string][]Member{}
		calls := 0
		gate := make(chan struct{})
		h := New(Config{OnPresence: func(topic string, m []Member) {
			if topic == "gate" {
				<-gate // a slow callback must not hold up rooms
			}
			mu.Lock()
			defer mu.Unlock()
			latest[topic] = m
			calls++
		}})
		defer closeHub(t, h)
		ann1 := h.NewSubscriber(Member{UserID: 7, Name: "Ann"}, 0)
		ann2 := h.NewSubscriber(Member{UserID: 7, Name: "Ann"}, 0) // a second tab
		bob := h.NewSubscriber(Member{UserID: 3, Name: "Bob"}, 0)
		cy := h.NewSubscriber(Member{UserID: 5, Name: "Cy"}, 0)

		join(t, h, "gate", cy)
		synctest.Wait() // the notifier is stuck in the gate callback
		for _, s := range []*Subscriber{ann1, bob, ann2} {
			join(t, h, "conv:1", s)
		}
		publish(t, h, "conv:1", 0, 1) // delivery goes on meanwhile
		synctest.Wait()
		if got := queued(t, bob); len(got) != 1 {
			t.Fatalf("bob got %q while presence was blocked", got)
		}
		want := []Member{{UserID: 3, Name: "Bob"}, {UserID: 7, Name: "Ann"}}
		if m := membersOf(t, h, "conv:1"); !slices.Equal(m, want) {
			t.Errorf("Members = %v, want %v (one per user, by UserID)", m, want)
		}

		close(gate)
		synctest.Wait()
		mu.Lock()
		if calls != 2 || !slices.Equal(latest["conv:1"], want) {
			t.Errorf("after the burst: %d calls, conv:1 = %v; want 2 calls (gate, then one coalesced) and %v", calls, latest["conv:1"], want)
		}
		calls = 0
		mu.Unlock()

		ann1.Close() // Ann is still there in her other tab
		synctest.Wait()
		mu.Lock()
		if calls != 0 {
			t.Errorf("closing one of Ann's two sockets made %d presence calls, want 0", calls)
		}
		mu.Unlock()

		leave(t, h, "conv:1", ann2)
		synctest.Wait()
		mu.Lock()
		if want := []Member{{UserID: 3, Name: "Bob"}}; !slices.Equal(latest["conv:1"], want) {
			t.Errorf("after Ann left: conv:1 = %v, want %v", latest["conv:1"], want)
		}
		mu.Unlock()
		if m := membersOf(t, h, "nobody:here"); m != nil {
			t.Errorf("Members of a topic without a room = %v, want nil", m)
		}
	})
}
