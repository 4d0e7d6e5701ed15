package hub

import (
	"slices"
	"testing"
	"testing/synctest"
)

func TestMemoryBrokerTwoNodes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		broker := NewMemoryBroker()
		a := New(Config{Broker: broker})
		b := New(Config{Broker: broker})
		defer closeHub(t, b)
		defer closeHub(t, a)
		onA := a.NewSubscriber(Member{UserID: 1}, 0)
		onB := b.NewSubscriber(Member{UserID: 2}, 0)
		join(t, a, "conv:1", onA)
		join(t, b, "conv:1", onB)
		synctest.Wait()

		publish(t, b, "conv:1", 0, 1) // lands on B, watched on A
		publish(t, a, "conv:1", 0, 2) // A's own: delivered once, not again from the broker
		synctest.Wait()
		want := []string{"<conv:1/0/1>", "<conv:1/0/2>"}
		for name, s := range map[string]*Subscriber{"A": onA, "B": onB} {
			got := queued(t, s)
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("node %s got %q, want each event once: %q", name, got, want)
			}
		}
		if st := a.Stats(); st.EventsReceived != 1 || st.EventsPublished != 1 || st.BrokerErrors != 0 {
			t.Errorf("node A stats = %+v", st)
		}
	})
}
