package web_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/http/web"
	"github.com/parley-chat/parley/hub"
)

// A burst makes many sockets briefly slow (their queues hold 4 frames
// here): they are kept, and each one that missed an event the database
// holds is sent it from the database (its catch-up), not dropped to
// reconnect. Then they all get live frames again.
func TestBurstResyncsSlowSocketsInsteadOfDropping(t *testing.T) {
	// 300 frames at a 4-frame queue is as long a burst as 19,200 at the
	// default queue: a socket may lag again after each catch-up while it
	// lasts, more often the slower the machine. The rule that drops a socket
	// behind persistently (its MaxLags-th lag) is the hub's own test
	// (hub.TestRepeatedLagsDropSubscriber); here a lag is never counted against a
	// socket, so a drop means one was not caught up.
	f := newFixtureWith(t, serverOpts{socket: web.SocketOptions{CheckEvery: time.Hour},
		hub: hub.Config{SubscriberBuffer: 4, MaxLags: 1 << 20}})
	ctx := context.Background()
	admin := f.client(t)
	admin.login(adminEmail, adminPassword)
	// A real event, committed before any socket connects: a socket sees it
	// only in the burst, or in its catch-up.
	if resp, body := admin.post("/chats", url.Values{"inbox": {itoa(f.Demo.Inbox.ID)}, "to": {"+15550100781"}, "body": {"before the burst"}}); resp.StatusCode >= 400 {
		t.Fatalf("start chat: %d %s", resp.StatusCode, body)
	}
	var seq int64
	if err := f.Store.DB().NewRaw("SELECT max(id) FROM conversation_events").Scan(ctx, &seq); err != nil {
		t.Fatal(err)
	}

	const sockets, burst = 20, 300
	var socks []*liveSocket
	for range sockets {
		c := f.client(t)
		c.login(agentEmail, agentPassword)
		socks = append(socks, c.liveNow(t, c.base))
	}
	f.awaitSubscribers(t, sockets)
	for i, ls := range socks {
		stillLive(t, f, ls, fmt.Sprintf("joined-%d", i)) // every socket is on the feed
	}

	// After the burst every socket must still be live, and have the real
	// event: live (its frame) or from its catch-up (the conversation's row
	// at that event).
	const real = 50 // the burst's first frame with a Seq
	caughtUp := fmt.Sprintf(`data-seq="%d"`, seq)
	// Every socket is read at once, from before the burst (a browser reads
	// its socket whatever the others do: a reader that stopped would be
	// dropped as too slow, R12), until a frame published after the burst
	// arrives.
	type outcome struct {
		live, fromDB bool
		err          error
	}
	results := make(chan outcome, sockets)
	for _, ls := range socks {
		go func() {
			var o outcome
			for fr := range ls.frames {
				o.live = o.live || strings.Contains(fr, fmt.Sprintf(`id="burst-%d"`, real))
				o.fromDB = o.fromDB || strings.Contains(fr, caughtUp)
				if strings.Contains(fr, `id="after-burst"`) {
					results <- o
					return
				}
			}
			o.err = <-ls.ended
			results <- o
		}()
	}
	// The burst, far faster than the sockets are written: passing frames
	// (no Seq), the real event's, then frames of events the database does
	// not hold.
	feed := "inbox:" + itoa(f.Demo.Inbox.ID)
	for i := range burst {
		frame := fmt.Sprintf(`<div id="burst-%d"></div>`, i)
		var s int64
		if i >= real {
			s = seq + int64(i-real)
		}
		if err := f.Hub.Publish(ctx, hub.Event{Topic: feed, Seq: s, Frame: []byte(frame)}); err != nil {
			t.Fatal(err)
		}
	}
	st := f.Hub.Stats()
	if st.SubscribersLagged == 0 {
		t.Fatalf("no socket fell behind in the burst (stats %+v): the test proves nothing", st)
	}
	resynced := 0
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(2 * slack)
	for got := 0; got < sockets; {
		select {
		case o := <-results:
			got++
			if o.err != nil {
				t.Fatalf("a socket closed after the burst: %v (hub %+v)", o.err, f.Hub.Stats())
			}
			if !o.live && !o.fromDB {
				t.Errorf("a socket missed event %d: neither live nor from its catch-up", seq)
			}
			if o.fromDB {
				resynced++
			}
		case <-tick.C:
			if err := f.Hub.Publish(ctx, hub.Event{Topic: feed, Frame: []byte(`<div id="after-burst"></div>`)}); err != nil {
				t.Fatal(err)
			}
		case <-deadline:
			t.Fatalf("%d sockets got no live frame after the burst within %v", sockets-got, 2*slack)
		}
	}
	st = f.Hub.Stats()
	t.Logf("%d sockets: %d lags, %d caught up from the database, %d dropped", sockets, st.SubscribersLagged, resynced, st.SubscribersDropped)
	if st.SubscribersDropped != 0 {
		t.Errorf("%d sockets dropped; a brief burst should drop none", st.SubscribersDropped)
	}
	if resynced == 0 {
		t.Error("no socket was caught up from the database")
	}
}
