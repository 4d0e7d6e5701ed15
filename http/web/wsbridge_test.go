package web

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/gofiber/fiber/v2"
)

// wsApp is a real Fiber app on a loopback port with the bridge on /ws and a
// plain route on /ok. Timeouts are short so that a deadline left armed on a
// websocket would show up within the tests.
type wsApp struct {
	app      *fiber.App
	http, ws string // base URLs
	cancel   context.CancelFunc
	sessions atomic.Int64
	served   chan error
}

func startWSApp(t *testing.T, session func(context.Context, *websocket.Conn, *http.Request)) *wsApp {
	t.Helper()
	return startWSAppWith(t, WebsocketOptions{OriginPatterns: []string{"app.example"}}, session)
}

func startWSAppWith(t *testing.T, opts WebsocketOptions, session func(context.Context, *websocket.Conn, *http.Request)) *wsApp {
	t.Helper()
	baseCtx, cancel := context.WithCancel(context.Background())
	a := &wsApp{cancel: cancel, served: make(chan error, 1)}
	a.app = fiber.New(fiber.Config{
		DisableStartupMessage: true,
		ReadTimeout:           1 * time.Second,
		WriteTimeout:          1 * time.Second,
		IdleTimeout:           1 * time.Second,
	})
	// Idle fasthttp workers linger 10s by default; drop them quickly so the
	// goroutine count can return to its baseline.
	a.app.Server().MaxIdleWorkerDuration = 50 * time.Millisecond
	a.app.Get("/ok", func(c *fiber.Ctx) error { return c.SendString("ok") })
	a.app.Get("/ws", UpgradeWebsocket(baseCtx, opts, func(ctx context.Context, conn *websocket.Conn, req *http.Request) {
		a.sessions.Add(1)
		session(ctx, conn, req)
	}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a.http, a.ws = "http://"+ln.Addr().String(), "ws://"+ln.Addr().String()
	go func() { a.served <- a.app.Listener(ln) }()
	t.Cleanup(func() {
		cancel() // sockets first: the app's shutdown waits for them
		if err := a.app.ShutdownWithTimeout(5 * time.Second); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		select {
		case <-a.served:
		case <-time.After(5 * time.Second):
			t.Error("app.Listener did not return after shutdown")
		}
	})
	// One plain request proves the server is serving (worker pool started),
	// so goroutine counts taken after this are a stable baseline.
	ready := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	resp, err := ready.Get(a.http + "/ok")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return a
}

// wsEchoSession echoes messages; "req" answers with what the session sees of
// the request. When ctx ends it closes with StatusGoingAway (reads use their
// own ctx: a cancelled read ctx would drop the TCP connection instead).
func wsEchoSession(ctx context.Context, conn *websocket.Conn, req *http.Request) {
	stop := context.AfterFunc(ctx, func() { _ = conn.Close(websocket.StatusGoingAway, "server going away") })
	defer stop()
	for {
		typ, msg, err := conn.Read(context.Background())
		if err != nil {
			return
		}
		if string(msg) == "req" {
			ck, _ := req.Cookie("sid")
			msg = fmt.Appendf(nil, "%s %s q=%s probe=%s sid=%v", req.Method, req.URL.Path,
				req.URL.Query().Get("q"), req.Header.Get("X-Probe"), ck != nil && ck.Value == "s1")
		}
		if err := conn.Write(context.Background(), typ, msg); err != nil {
			return
		}
	}
}

func wsTestCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func wsRoundTrip(ctx context.Context, c *websocket.Conn, msg string) error {
	if err := c.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
		return err
	}
	_, got, err := c.Read(ctx)
	if err != nil {
		return err
	}
	if string(got) != msg {
		return fmt.Errorf("echo %q, want %q", got, msg)
	}
	return nil
}

func wsDial(t *testing.T, ctx context.Context, url string, o *websocket.DialOptions) *websocket.Conn {
	t.Helper()
	c, resp, err := websocket.Dial(ctx, url, o)
	if err != nil {
		t.Fatalf("dial %s: %v (resp %v)", url, err, resp)
	}
	t.Cleanup(func() { _ = c.CloseNow() })
	return c
}

func TestWebsocketEcho(t *testing.T) {
	a := startWSApp(t, wsEchoSession)
	ctx := wsTestCtx(t, 10*time.Second)
	c := wsDial(t, ctx, a.ws+"/ws?q=42", &websocket.DialOptions{HTTPHeader: http.Header{
		"X-Probe": {"p1"}, "Cookie": {"sid=s1"}, "Origin": {"http://app.example"}, // allowed pattern
	}})
	if err := wsRoundTrip(ctx, c, "hello"); err != nil {
		t.Fatal(err)
	}
	if err := c.Write(ctx, websocket.MessageText, []byte("req")); err != nil {
		t.Fatal(err)
	}
	if _, got, err := c.Read(ctx); err != nil || string(got) != "GET /ws q=42 probe=p1 sid=true" {
		t.Fatalf("session saw request as %q, %v", got, err)
	}
	// Same-origin browsers send the server's own host, which is always allowed.
	same := wsDial(t, ctx, a.ws+"/ws", &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {a.http}}})
	if err := wsRoundTrip(ctx, same, "same origin"); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(websocket.StatusNormalClosure, ""); err != nil {
		t.Fatalf("close handshake: %v", err)
	}
}

// Sockets must outlive fasthttp's ReadTimeout, IdleTimeout and WriteTimeout.
// One socket is dialled on a fresh connection (read deadline armed for the
// upgrade request), one on a keep-alive connection that already served a
// response (write deadline left over from it).
func TestWebsocketOutlivesServerTimeouts(t *testing.T) {
	a := startWSApp(t, wsEchoSession)
	ctx := wsTestCtx(t, 15*time.Second)
	fresh := wsDial(t, ctx, a.ws+"/ws", nil)

	// The Transport never upgrades on a pooled connection, so hand it one
	// that has already carried a plain request and response.
	usedConn := func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		br := bufio.NewReader(c)
		_, err = fmt.Fprintf(c, "GET /ok HTTP/1.1\r\nHost: %s\r\n\r\n", addr)
		if err == nil {
			var resp *http.Response
			if resp, err = http.ReadResponse(br, nil); err == nil {
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if err == nil && (resp.StatusCode != http.StatusOK || br.Buffered() != 0) {
					err = fmt.Errorf("warm-up request: %s, %d bytes left over", resp.Status, br.Buffered())
				}
			}
		}
		if err != nil {
			c.Close()
			return nil, err
		}
		return c, nil
	}
	kept := wsDial(t, ctx, a.ws+"/ws", &websocket.DialOptions{HTTPClient: &http.Client{Transport: &http.Transport{DialContext: usedConn}}})
	for _, c := range []*websocket.Conn{fresh, kept} {
		if err := wsRoundTrip(ctx, c, "before idle"); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(2500 * time.Millisecond) // > ReadTimeout, WriteTimeout and IdleTimeout (1s)
	for i, c := range []*websocket.Conn{fresh, kept} {
		if err := wsRoundTrip(ctx, c, "after idle"); err != nil {
			t.Fatalf("socket %d after idling: %v", i, err)
		}
	}
}

func TestWebsocketRefusesForeignOrigin(t *testing.T) {
	a := startWSApp(t, wsEchoSession)
	ctx := wsTestCtx(t, 10*time.Second)
	for _, origin := range []string{"http://evil.example", "http://app.example.evil.example"} {
		c, resp, err := websocket.Dial(ctx, a.ws+"/ws", &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {origin}}})
		if err == nil {
			c.CloseNow()
			t.Fatalf("origin %s: upgraded", origin)
		}
		if resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Fatalf("origin %s: want 403, got %v, %v", origin, resp, err)
		}
	}
	if n := a.sessions.Load(); n != 0 {
		t.Fatalf("%d sessions ran for refused origins", n)
	}
}

// Accept compares an Origin's host alone; with OriginScheme set, an Origin
// of the other scheme is refused too, whether its host is an allowed
// pattern or the server's own.
func TestWebsocketOriginScheme(t *testing.T) {
	for _, scheme := range []string{"http", "https"} {
		t.Run(scheme, func(t *testing.T) {
			a := startWSAppWith(t, WebsocketOptions{OriginPatterns: []string{"app.example"}, OriginScheme: scheme}, wsEchoSession)
			ctx := wsTestCtx(t, 10*time.Second)
			other := map[string]string{"http": "https", "https": "http"}[scheme]
			host := strings.TrimPrefix(a.http, "http://")
			for _, origin := range []string{other + "://app.example", other + "://" + host, strings.ToUpper(other) + "://" + host} {
				c, resp, err := websocket.Dial(ctx, a.ws+"/ws", &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {origin}}})
				if err == nil {
					c.CloseNow()
					t.Fatalf("origin %s: upgraded", origin)
				}
				if resp == nil || resp.StatusCode != http.StatusForbidden {
					t.Fatalf("origin %s: want 403, got %v, %v", origin, resp, err)
				}
			}
			if n := a.sessions.Load(); n != 0 {
				t.Fatalf("%d sessions ran for refused origins", n)
			}
			// The right scheme in any case; no Origin at all is not a browser.
			for _, origin := range []string{scheme + "://app.example", strings.ToUpper(scheme) + "://" + host, ""} {
				c := wsDial(t, ctx, a.ws+"/ws", &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {origin}}})
				if err := wsRoundTrip(ctx, c, "origin "+origin); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

func TestWebsocketPlainGetRefusedWithoutHijack(t *testing.T) {
	a := startWSApp(t, wsEchoSession)
	client := &http.Client{Transport: &http.Transport{}, Timeout: 5 * time.Second}
	get := func(path string) (int, string, bool) {
		var reused bool
		req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(),
			&httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { reused = i.Reused }}), "GET", a.http+path, nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body), reused
	}
	if code, body, _ := get("/ws"); code != http.StatusUpgradeRequired {
		t.Fatalf("plain GET /ws: %d %q, want 426", code, body)
	}
	// The same keep-alive connection still serves requests: it was not hijacked.
	if code, body, reused := get("/ok"); code != http.StatusOK || body != "ok" || !reused {
		t.Fatalf("GET /ok after refusal: %d %q reused=%v", code, body, reused)
	}
	if n := a.sessions.Load(); n != 0 {
		t.Fatalf("%d sessions ran for a plain GET", n)
	}
}

// Cancelling baseCtx ends every session's ctx; the session answers with a
// "going away" close that the clients see promptly. New upgrades get 503.
func TestWebsocketBaseCtxCancelGoingAway(t *testing.T) {
	a := startWSApp(t, wsEchoSession)
	ctx := wsTestCtx(t, 10*time.Second)
	conns := make([]*websocket.Conn, 3)
	for i := range conns {
		conns[i] = wsDial(t, ctx, a.ws+"/ws", nil)
		if err := wsRoundTrip(ctx, conns[i], "hi"); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	a.cancel()
	for i, c := range conns {
		_, _, err := c.Read(ctx)
		if got := websocket.CloseStatus(err); got != websocket.StatusGoingAway {
			t.Fatalf("socket %d: read after cancel: %v (status %v), want going away", i, err, got)
		}
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("going-away close took %v", d)
	}
	if _, resp, err := websocket.Dial(ctx, a.ws+"/ws", nil); err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("dial after cancel: %v %v, want 503", resp, err)
	}
}

// Shutdown waits for sockets (they are busy connections to fasthttp), so it
// must come after baseCtx is cancelled; then it returns promptly, with no
// panic from fasthttp touching the connections the sockets used.
func TestWebsocketShutdownOrdering(t *testing.T) {
	ctx := wsTestCtx(t, 15*time.Second)
	open := func(a *wsApp) []*websocket.Conn {
		conns := make([]*websocket.Conn, 5)
		for i := range conns {
			conns[i] = wsDial(t, ctx, a.ws+"/ws", nil)
			if err := wsRoundTrip(ctx, conns[i], "hi"); err != nil {
				t.Fatal(err)
			}
		}
		return conns
	}
	goneAway := func(conns []*websocket.Conn) {
		for _, c := range conns {
			if _, _, err := c.Read(ctx); websocket.CloseStatus(err) != websocket.StatusGoingAway {
				t.Fatalf("read after cancel: %v, want going away", err)
			}
		}
	}

	// Wrong order: with sockets open, shutdown can only time out, and leaves
	// them working until baseCtx is cancelled.
	wrong := startWSApp(t, wsEchoSession)
	conns := open(wrong)
	if err := wrong.app.ShutdownWithTimeout(300 * time.Millisecond); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("shutdown with open sockets: %v, want deadline exceeded", err)
	}
	if err := wsRoundTrip(ctx, conns[0], "still open"); err != nil {
		t.Fatal(err)
	}
	wrong.cancel()
	goneAway(conns)

	// Right order: cancel baseCtx, let the sockets close, then shut down.
	right := startWSApp(t, wsEchoSession)
	conns = open(right)
	right.cancel()
	goneAway(conns)
	start := time.Now()
	if err := right.app.ShutdownWithTimeout(5 * time.Second); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("shutdown took %v", d)
	}
}

func TestWebsocketManyConcurrentSockets(t *testing.T) {
	a := startWSApp(t, wsEchoSession)
	ctx := wsTestCtx(t, 60*time.Second)
	const n = 200
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, _, err := websocket.Dial(ctx, a.ws+"/ws", nil)
			if err != nil {
				errs <- fmt.Errorf("dial %d: %w", i, err)
				return
			}
			defer c.CloseNow()
			for j := range 3 {
				if err := wsRoundTrip(ctx, c, fmt.Sprintf("socket %d message %d", i, j)); err != nil {
					errs <- fmt.Errorf("socket %d: %w", i, err)
					return
				}
			}
			if err := c.Close(websocket.StatusNormalClosure, ""); err != nil {
				errs <- fmt.Errorf("close %d: %w", i, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := a.sessions.Load(); got != n {
		t.Fatalf("%d sessions, want %d", got, n)
	}
}

// A client that vanishes (TCP closed, no close frame) ends the session's ctx
// through the bridge, and nothing is left running afterwards.
func TestWebsocketAbruptDisconnectEndsSession(t *testing.T) {
	const n = 20
	started, ended := make(chan struct{}, n), make(chan struct{}, n)
	a := startWSApp(t, func(ctx context.Context, conn *websocket.Conn, _ *http.Request) {
		go func() { // reads only so that a dead peer is noticed; never looks at ctx
			for {
				if _, _, err := conn.Read(context.Background()); err != nil {
					return
				}
			}
		}()
		started <- struct{}{}
		<-ctx.Done() // must be ended by the bridge, not by the session returning
		ended <- struct{}{}
	})
	ctx := wsTestCtx(t, 15*time.Second)
	before := runtime.NumGoroutine()

	var mu sync.Mutex
	var raws []net.Conn
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err == nil {
			mu.Lock()
			raws = append(raws, c)
			mu.Unlock()
		}
		return c, err
	}}
	var clients []*websocket.Conn
	for range n {
		c, _, err := websocket.Dial(ctx, a.ws+"/ws", &websocket.DialOptions{HTTPClient: &http.Client{Transport: tr}})
		if err != nil {
			t.Fatal(err)
		}
		clients = append(clients, c)
		<-started
	}
	for _, raw := range raws {
		raw.Close()
	}
	for i := range n {
		select {
		case <-ended:
		case <-ctx.Done():
			t.Fatalf("only %d of %d sessions saw their ctx end", i, n)
		}
	}
	for _, c := range clients {
		_ = c.CloseNow()
	}
	tr.CloseIdleConnections()

	deadline := time.Now().Add(10 * time.Second)
	for {
		now, stuck := runtime.NumGoroutine(), wsBridgeGoroutines()
		if now <= before && stuck == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("goroutines: %d before, %d after; still in the bridge:\n%s", before, now, stuck)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// wsBridgeGoroutines returns the stacks of goroutines running the bridge or
// coder/websocket code.
func wsBridgeGoroutines() string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "github.com/coder/websocket.") || strings.Contains(g, "web.UpgradeWebsocket") {
			out = append(out, g)
		}
	}
	return strings.Join(out, "\n\n")
}
