package hub

import (
	"slices"
	"sync"
	"testing"
	"testing/synctest"
)

// TestHandlePresenceAfterNew: a handler set after New (one that publishes
// through the hub it is set on) hears joins and leaves; a second one is
// refused.
func TestHandlePresenceAfterNew(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := New(Config{})
		defer closeHub(t, h)
		var mu sync.Mutex
		var got []Member
		calls := 0
		h.HandlePresence(func(topic string, m []Member) {
			mu.Lock()
			defer mu.Unlock()
			if topic == "conv:1" {
				got, calls = m, calls+1
			}
		})
		watcher := h.NewSubscriber(Member{UserID: 9, Name: "Watcher"}, 0)
		join(t, h, "conv:1", watcher)
		ann := h.NewSubscriber(Member{UserID: 7, Name: "Ann"}, 0)
		join(t, h, "conv:1", ann)
		synctest.Wait()
		mu.Lock()
		if want := []Member{{UserID: 7, Name: "Ann"}, {UserID: 9, Name: "Watcher"}}; calls == 0 || !slices.Equal(got, want) {
			t.Errorf("after two joins: %d calls, members %v; want %v", calls, got, want)
		}
		mu.Unlock()
		leave(t, h, "conv:1", ann)
		synctest.Wait()
		mu.Lock()
		if want := []Member{{UserID: 9, Name: "Watcher"}}; !slices.Equal(got, want) {
			t.Errorf("after Ann left: %v, want %v", got, want)
		}
		mu.Unlock()

		defer func() {
			if recover() == nil {
				t.Error("a second presence handler was accepted")
			}
		}()
		h.HandlePresence(func(string, []Member) {})
	})
}
