package hub

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestRedisBrokerTwoNodesDeliverOnce(t *testing.T) {
	opt := redisOptions(t)
	channel := testChannel(t)
	a, b := newNode(t, opt, channel), newNode(t, opt, channel)
	waitSubscribed(t, a.client, channel, 2)

	subA := a.hub.NewSubscriber(Member{UserID: 1}, 0)
	subB := b.hub.NewSubscriber(Member{UserID: 2}, 0)
	join(t, a.hub, "conv:1", subA)
	join(t, b.hub, "conv:1", subB)
	onA, onB := newTally(t, subA), newTally(t, subB)

	// Each step waits for the other node to see the last event, so by the
	// end every echo of a node's own events has come back through Redis
	// (in order, before the events waited for) and must have been ignored.
	publish(t, b.hub, "conv:1", 0, 1) // webhook landed on B, agent on A
	publish(t, a.hub, "conv:1", 0, 2) // A's own event: local once, echo ignored
	onB.waitFor(t, "<conv:1/0/2>")
	publish(t, a.hub, "conv:1", 0, 3)
	onB.waitFor(t, "<conv:1/0/3>")
	publish(t, b.hub, "conv:1", 0, 4)
	onA.waitFor(t, "<conv:1/0/4>")
	publish(t, a.hub, "conv:1", 0, 5)
	onB.waitFor(t, "<conv:1/0/5>")

	for name, ta := range map[string]*tally{"A": onA, "B": onB} {
		got := ta.snapshot()
		for seq := 1; seq <= 5; seq++ {
			if f := string(frame("conv:1", 0, seq)); got[f] != 1 {
				t.Errorf("node %s got %s %d times, want once (all: %v)", name, f, got[f], got)
			}
		}
		if len(got) != 5 {
			t.Errorf("node %s got %v, want exactly 5 frames", name, got)
		}
	}
	if st := a.hub.Stats(); st.EventsReceived != 2 || st.BrokerErrors != 0 {
		t.Errorf("node A stats = %+v, want 2 received, no broker errors", st)
	}
	if st := b.hub.Stats(); st.EventsReceived != 3 || st.BrokerErrors != 0 {
		t.Errorf("node B stats = %+v, want 3 received, no broker errors", st)
	}
}

func TestRedisBrokerResubscribesAfterConnectionLoss(t *testing.T) {
	opt := redisOptions(t)
	channel := testChannel(t)
	a, b := newNode(t, opt, channel), newNode(t, opt, channel)
	waitSubscribed(t, a.client, channel, 2)
	subA := a.hub.NewSubscriber(Member{UserID: 1}, 0)
	join(t, a.hub, "conv:1", subA)
	onA := newTally(t, subA)

	// Kill node A's subscription connection, as a Redis restart or a
	// network cut would.
	ctx := context.Background()
	list, err := a.client.ClientList(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	killed := 0
	for _, line := range strings.Split(list, "\n") {
		if !strings.Contains(line, " name="+a.client.Options().ClientName+" ") || !strings.Contains(line, " sub=1 ") {
			continue
		}
		id := strings.TrimPrefix(strings.Fields(line)[0], "id=")
		if err := a.client.Do(ctx, "CLIENT", "KILL", "ID", id).Err(); err != nil {
			t.Fatalf("client kill %s: %v", id, err)
		}
		killed++
	}
	if killed != 1 {
		t.Fatalf("found %d subscription connections of node A, want 1:\n%s", killed, list)
	}

	// Pub/sub drops what is published while a node is away; keep
	// publishing until one arrives.
	deadline := time.Now().Add(10 * time.Second)
	for seq := 0; ; seq++ {
		publish(t, b.hub, "conv:1", 0, seq)
		time.Sleep(50 * time.Millisecond)
		if len(onA.snapshot()) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("node A never received an event after losing its subscription")
		}
	}
	if a.hub.Stats().BrokerErrors == 0 {
		t.Error("the lost subscription was not counted as a broker error")
	}
}

func TestRedisBrokerReconnectsWhenConnectionGoesSilent(t *testing.T) {
	opt := redisOptions(t)
	channel := testChannel(t)
	bh := newBlackhole(t, opt.Addr)
	viaProxy := *opt
	viaProxy.Addr = bh.ln.Addr().String()
	viaProxy.ReadTimeout = time.Second // the publish side's default (3s) would only slow the test

	ca := redis.NewClient(&viaProxy)
	defer ca.Close()
	broker := NewRedisBroker(ca, channel)
	broker.HealthCheck = 100 * time.Millisecond
	a := New(Config{Broker: broker})
	defer closeHub(t, a)
	b := newNode(t, opt, channel)
	waitSubscribed(t, b.client, channel, 2)
	subA := a.NewSubscriber(Member{UserID: 1}, 0)
	join(t, a, "conv:1", subA)
	onA := newTally(t, subA)

	bh.cut()
	deadline := time.Now().Add(10 * time.Second)
	for seq := 0; len(onA.snapshot()) == 0; seq++ {
		if time.Now().After(deadline) {
			t.Fatal("node A never received an event after its connection went silent")
		}
		publish(t, b.hub, "conv:1", 0, seq)
		time.Sleep(50 * time.Millisecond)
	}
	if a.Stats().BrokerErrors == 0 {
		t.Error("the silent connection was not counted as a broker error")
	}
}

func TestUnreachableBrokerKeepsLocalDelivery(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	defer c.Close()
	h := New(Config{Broker: NewRedisBroker(c, "parley-test:unreachable")})
	s := h.NewSubscriber(Member{UserID: 1}, 0)
	join(t, h, "conv:1", s)
	publish(t, h, "conv:1", 0, 1)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	b, err := s.Next(ctx)
	if err != nil || string(b) != "<conv:1/0/1>" {
		t.Fatalf("local delivery with Redis down: %q, %v", b, err)
	}
	for h.Stats().BrokerErrors < 2 && ctx.Err() == nil { // the publish and the subscription
		time.Sleep(10 * time.Millisecond)
	}
	if n := h.Stats().BrokerErrors; n < 2 {
		t.Errorf("BrokerErrors = %d, want the failed publish and subscription counted", n)
	}
	start := time.Now()
	if err := h.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown with Redis down: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("shutdown took %v with Redis down", d)
	}
}
