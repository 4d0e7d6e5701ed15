package web_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/parley-chat/parley/http/web"
	"github.com/parley-chat/parley/hub"
)

// rawSocket is a websocket client written by hand on a TCP connection, so
// that the test decides every byte the server gets: after the handshake it
// sends nothing, not even the pong a ping asks for.
type rawSocket struct {
	conn net.Conn
	br   *bufio.Reader
}

// rawSocket opens /ws as the client's signed-in user. rcvBuf > 0 shrinks the
// TCP receive buffer, so that a socket nobody reads stalls the server's
// writes after a few kilobytes.
func (c *client) rawSocket(t *testing.T, rcvBuf int) *rawSocket {
	t.Helper()
	u, _ := url.Parse(c.base)
	d := net.Dialer{Timeout: 5 * time.Second}
	if rcvBuf > 0 { // before connecting, so the window is small from the start
		d.Control = func(_, _ string, rc syscall.RawConn) error {
			var serr error
			if err := rc.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, rcvBuf)
			}); err != nil {
				return err
			}
			return serr
		}
	}
	conn, err := d.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	key := make([]byte, 16)
	rand.Read(key)
	req, _ := http.NewRequest("GET", c.base+"/ws", nil)
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Sec-WebSocket-Key", base64.StdEncoding.EncodeToString(key))
	req.Header.Set("Sec-WebSocket-Version", "13")
	req.Header.Set("Origin", c.base)
	for _, ck := range c.http.Jar.Cookies(u) {
		req.AddCookie(ck)
	}
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	if err := req.Write(conn); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake: %s", resp.Status)
	}
	conn.SetDeadline(time.Time{})
	return &rawSocket{conn: conn, br: br}
}

// frame reads one frame from the server (whose frames are never masked).
func (r *rawSocket) frame() (op byte, payload []byte, err error) {
	var h [2]byte
	if _, err := io.ReadFull(r.br, h[:]); err != nil {
		return 0, nil, err
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		_, err = io.ReadFull(r.br, b[:])
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		_, err = io.ReadFull(r.br, b[:])
		n = binary.BigEndian.Uint64(b[:])
	}
	if err != nil {
		return 0, nil, err
	}
	payload = make([]byte, n)
	_, err = io.ReadFull(r.br, payload)
	return h[0] & 0x0f, payload, err
}

// ending is what a raw socket saw until the server ended the connection.
type ending struct {
	pings  int
	code   websocket.StatusCode // of the close frame; 0 if none came
	reason string
	err    error // why reading stopped
}

// untilEnd reads (and never answers) frames until the connection ends, for
// at most d.
func (r *rawSocket) untilEnd(d time.Duration) ending {
	r.conn.SetReadDeadline(time.Now().Add(d))
	var e ending
	for {
		op, p, err := r.frame()
		if err != nil {
			e.err = err
			return e
		}
		switch op {
		case 0x9:
			e.pings++
		case 0x8:
			if len(p) >= 2 {
				e.code, e.reason = websocket.StatusCode(binary.BigEndian.Uint16(p)), string(p[2:])
			}
		}
	}
}

// endedByServer: the server closed the TCP connection (not our deadline).
func (e ending) endedByServer() bool {
	return errors.Is(e.err, io.EOF) || errors.Is(e.err, io.ErrUnexpectedEOF) || errors.Is(e.err, syscall.ECONNRESET)
}

func (e ending) String() string {
	return fmt.Sprintf("%d pings, close %d %q, then %v", e.pings, e.code, e.reason, e.err)
}

// socketGoroutines returns the stacks of the goroutines that run live
// sockets: the sessions, what they start, and the bridge under them.
func socketGoroutines() []string {
	buf := make([]byte, 8<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "http/web.(*socket)") || strings.Contains(g, "http/web.UpgradeWebsocket") {
			out = append(out, g)
		}
	}
	return out
}

// waitNoSocketGoroutines fails unless every socket goroutine ends within d.
func waitNoSocketGoroutines(t *testing.T, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		g := socketGoroutines()
		if len(g) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d socket goroutines still running after %v:\n%s", len(g), d, strings.Join(g, "\n\n"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// slack absorbs a busy test machine in the bounds below.
const slack = 5 * time.Second

// A browser that stops answering pings (a frozen tab, a dead network path)
// is disconnected within the ping timeout: it gets a 1008 close, its TCP
// connection ends, and nothing of the socket keeps running.
func TestSocketUnansweredPingEndsConnection(t *testing.T) {
	opts := web.SocketOptions{CheckEvery: 100 * time.Millisecond, PingTimeout: 300 * time.Millisecond, CloseTimeout: 300 * time.Millisecond}
	f := newFixtureWith(t, serverOpts{socket: opts})
	waitNoSocketGoroutines(t, slack) // none left over from earlier tests
	c := f.client(t)
	c.login(adminEmail, adminPassword)
	rs := c.rawSocket(t, 0)

	// First ping after CheckEvery, given up after PingTimeout; the close
	// frame then waits CloseTimeout for an answer that never comes.
	start := time.Now()
	e := rs.untilEnd(opts.CheckEvery + opts.PingTimeout + opts.CloseTimeout + slack)
	if !e.endedByServer() {
		t.Fatalf("connection still open after %v: %v", time.Since(start), e)
	}
	if e.pings == 0 || e.code != websocket.StatusPolicyViolation || e.reason != "ping timeout" {
		t.Fatalf("got %v, want a ping, then close 1008 \"ping timeout\"", e)
	}
	waitNoSocketGoroutines(t, slack)
	if n := f.Hub.Stats().Subscribers; n != 0 {
		t.Fatalf("%d hub subscribers left", n)
	}
}

// dialAnswering opens a socket whose client reads (so answers pings) and
// reports each ping it answers.
func (c *client) dialAnswering(t *testing.T) (*liveSocket, <-chan struct{}) {
	t.Helper()
	u, _ := url.Parse(c.base)
	h := http.Header{"Origin": {c.base}}
	for _, ck := range c.http.Jar.Cookies(u) {
		h.Add("Cookie", ck.Name+"="+ck.Value)
	}
	pings := make(chan struct{}, 64)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(c.base, "http")+"/ws", &websocket.DialOptions{
		HTTPHeader: h,
		OnPingReceived: func(context.Context, []byte) bool {
			select {
			case pings <- struct{}{}:
			default:
			}
			return true // answer it
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	return readLive(conn), pings
}

// awaitPing waits for the next ping the socket answered.
func (ls *liveSocket) awaitPing(t *testing.T, pings <-chan struct{}) {
	t.Helper()
	select {
	case <-pings:
	case err := <-ls.ended:
		t.Fatalf("socket closed while waiting for a ping: %v", err)
	case <-time.After(slack):
		t.Fatalf("no ping within %v", slack)
	}
}

// A browser that answers its pings keeps its socket through many of them.
func TestSocketAnsweringPingsStaysOpen(t *testing.T) {
	opts := web.SocketOptions{CheckEvery: 50 * time.Millisecond, PingTimeout: slack}
	f := newFixtureWith(t, serverOpts{socket: opts})
	c := f.client(t)
	c.login(adminEmail, adminPassword)
	ls, pings := c.dialAnswering(t)
	for range 5 {
		ls.awaitPing(t, pings)
	}
	// Pinging began after the socket joined its feeds: it still gets events.
	if err := f.Hub.Publish(context.Background(), hub.Event{Topic: "inbox:" + itoa(f.Demo.Inbox.ID), Seq: 1,
		Frame: []byte(`<div id="ping-marker">still live</div>`)}); err != nil {
		t.Fatal(err)
	}
	ls.await(t, "still live")
}

// Every other way a socket ends closes its connection with the reason the
// browser acts on, and leaves nothing running. (The ping timeout is long:
// no socket here may end by failing a ping.)
func TestSocketExitsCloseConnection(t *testing.T) {
	opts := web.SocketOptions{CheckEvery: 100 * time.Millisecond, PingTimeout: time.Minute,
		WriteTimeout: 500 * time.Millisecond, CloseTimeout: time.Second}
	f := newFixtureWith(t, serverOpts{socket: opts, hub: hub.Config{LagTimeout: 50 * time.Millisecond}})
	waitNoSocketGoroutines(t, slack)
	feed := "inbox:" + itoa(f.Demo.Inbox.ID)
	// closedWith waits for the socket's close and checks its status.
	closedWith := func(t *testing.T, ls *liveSocket, code websocket.StatusCode, reason string) {
		t.Helper()
		select {
		case err := <-ls.ended:
			var ce websocket.CloseError
			if !errors.As(err, &ce) || ce.Code != code || ce.Reason != reason {
				t.Fatalf("socket ended with %v, want close %d %q", err, code, reason)
			}
		case <-time.After(slack):
			t.Fatalf("socket not closed within %v", slack)
		}
		waitNoSocketGoroutines(t, slack)
	}

	t.Run("signed out", func(t *testing.T) {
		c := f.client(t)
		c.login(adminEmail, adminPassword)
		ls, pings := c.dialAnswering(t)
		ls.awaitPing(t, pings) // the socket is running its checks
		if resp, _ := c.post("/logout", nil); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("logout: %d", resp.StatusCode)
		}
		closedWith(t, ls, 4001, "signed out")
	})

	t.Run("browser closes", func(t *testing.T) {
		c := f.client(t)
		c.login(adminEmail, adminPassword)
		ls, pings := c.dialAnswering(t)
		ls.awaitPing(t, pings)
		if err := ls.conn.Close(websocket.StatusNormalClosure, ""); err != nil {
			t.Fatalf("close handshake: %v", err)
		}
		waitNoSocketGoroutines(t, slack)
	})

	t.Run("browser vanishes", func(t *testing.T) {
		c := f.client(t)
		c.login(adminEmail, adminPassword)
		rs := c.rawSocket(t, 0)
		rs.conn.Close() // no close frame
		waitNoSocketGoroutines(t, slack)
	})

	t.Run("write stalls", func(t *testing.T) {
		c := f.client(t)
		c.login(adminEmail, adminPassword)
		rs := c.rawSocket(t, 4096)
		f.awaitMembers(t, feed, 1)
		// Publish until the socket falls behind for good: the TCP buffers
		// are full, a write is stuck, the hub skips frames for it, and
		// drops it when it has not come back within LagTimeout. The
		// close frame cannot pass the stuck write; WriteTimeout ends it.
		dropped := f.Hub.Stats().SubscribersDropped
		frame := []byte(`<div id="big">` + strings.Repeat("x", 64<<10) + `</div>`)
		for i := 0; f.Hub.Stats().SubscribersDropped == dropped; i++ {
			if i == 1000 {
				t.Fatal("64 MB sent to a socket nobody reads, and it was never dropped")
			}
			if err := f.Hub.Publish(context.Background(), hub.Event{Topic: feed, Seq: int64(i + 1), Frame: frame}); err != nil {
				t.Fatal(err)
			}
			if f.Hub.Stats().SubscribersLagged > 0 {
				time.Sleep(time.Millisecond) // behind: it is dropped past the hub's LagTimeout
			}
		}
		// The server gives up by itself, the client still not reading...
		waitNoSocketGoroutines(t, opts.WriteTimeout+opts.CloseTimeout+slack)
		// ...and the connection is gone once what was sent is read.
		if e := rs.untilEnd(slack); !e.endedByServer() {
			t.Fatalf("connection still open: %v", e)
		}
	})

	t.Run("hub shuts down", func(t *testing.T) {
		c := f.client(t)
		c.login(adminEmail, adminPassword)
		ls, pings := c.dialAnswering(t)
		ls.awaitPing(t, pings)
		f.Hub.Close()
		closedWith(t, ls, websocket.StatusGoingAway, "going away")
	})
}
