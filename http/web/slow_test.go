package web_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/parley-chat/parley/http/web"
	"github.com/parley-chat/parley/hub"
)

// rawDial opens a socket that the test reads (or does not read) itself.
func (c *client) rawDial(t *testing.T) *websocket.Conn {
	t.Helper()
	u, _ := url.Parse(c.base)
	h := http.Header{"Origin": {c.base}}
	for _, ck := range c.http.Jar.Cookies(u) {
		h.Add("Cookie", ck.Name+"="+ck.Value)
	}
	conn, _, err := websocket.Dial(context.Background(), "ws"+strings.TrimPrefix(c.base, "http")+"/ws", &websocket.DialOptions{HTTPHeader: h})
	if err != nil {
		t.Fatal(err)
	}
	conn.SetReadLimit(-1)
	t.Cleanup(func() { conn.CloseNow() })
	return conn
}

// TestSlowSocketDropped: a socket that stops reading is dropped with a
// "too slow" close, while another socket on the same feed gets every event.
// It falls behind first and is dropped when it has not come back for its
// catch-up within the hub's LagTimeout (short here).
// The close frame must wait behind the frame in flight, however long the
// browser stalls within the write timeout (here long, and no pings).
func TestSlowSocketDropped(t *testing.T) {
	f := newFixtureWith(t, serverOpts{socket: web.SocketOptions{WriteTimeout: 2 * time.Minute, CheckEvery: time.Hour},
		hub: hub.Config{LagTimeout: 50 * time.Millisecond}})
	slowC, fastC := f.client(t), f.client(t)
	slowC.login(adminEmail, adminPassword)
	fastC.login(agentEmail, agentPassword)
	slow := slowC.rawDial(t)
	fast := fastC.rawDial(t)

	// Both sockets join the inbox feed on connect.
	topic := "inbox:" + itoa(f.Demo.Inbox.ID)
	f.awaitMembers(t, topic, 2)

	// Publish 64 KiB frames: far more than the kernel's socket buffers and
	// the subscriber's 1 MiB queue hold for a reader that never reads.
	const events = 200
	frame := []byte(`<div id="x" hx-swap-oob="true">` + strings.Repeat("x", 64<<10) + `</div>`)
	// The fast reader reports each whole event it has read; the publisher
	// stays at most 4 events ahead of it, as a live agent keeps up.
	progress := make(chan int, events)
	go func() {
		defer close(progress)
		bytes := 0
		for bytes < events*len(frame) {
			_, b, err := fast.Read(context.Background())
			if err != nil {
				return
			}
			bytes += len(b)
			progress <- bytes / len(frame)
		}
	}()
	read := 0
	timeout := time.After(60 * time.Second)
	for i := 0; i < events; i++ {
		for read < i-4 {
			select {
			case n, ok := <-progress:
				if !ok {
					t.Fatalf("the reading socket closed after %d events", read)
				}
				read = n
			case <-timeout:
				t.Fatalf("the reading socket stalled at %d events", read)
			}
		}
		if err := f.Hub.Publish(context.Background(), hub.Event{Topic: topic, Seq: int64(i + 1), Frame: frame}); err != nil {
			t.Fatal(err)
		}
		if f.Hub.Stats().SubscribersLagged > 0 {
			time.Sleep(time.Millisecond) // the lag outlasts LagTimeout within the events
		}
	}
	for read < events {
		select {
		case n, ok := <-progress:
			if !ok {
				t.Fatalf("the reading socket got %d of %d events", read, events)
			}
			read = n
		case <-timeout:
			t.Fatalf("the reading socket stalled at %d of %d events", read, events)
		}
	}
	if f.Hub.Stats().SubscribersDropped < 1 {
		t.Fatal("the slow socket was not dropped")
	}
	// Stay stalled past coder/websocket's fixed 5 s limit on waiting to
	// write a control frame: a close sent from beside the stalled writer
	// gives up there and drops the TCP connection without a close frame.
	// (Reading sooner, as this test once did, hid that.)
	time.Sleep(6 * time.Second)
	// The slow socket, reading at last, finds a "too slow" close after
	// whatever was already in flight.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		_, _, err := slow.Read(ctx)
		if err == nil {
			continue
		}
		var ce websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != websocket.StatusPolicyViolation || ce.Reason != "too slow" {
			t.Fatalf("slow socket ended with %v, want policy violation \"too slow\"", err)
		}
		return
	}
}
