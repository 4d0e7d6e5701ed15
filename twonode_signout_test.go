package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/parley-chat/parley/hub"
	"github.com/parley-chat/parley/models"
	"github.com/redis/go-redis/v9"
)

// nodeSocket is a live socket on one node, read in the background (which
// also takes the pongs of its pings) until it ends.
type nodeSocket struct {
	conn  *websocket.Conn
	ended chan error
}

// dialNode opens the live socket on base with c's session cookie, and
// returns once the server runs it: it has answered a ping (the server
// reads only after its subscriber joined its feeds).
func dialNode(t *testing.T, c *http.Client, base string) *nodeSocket {
	t.Helper()
	u, _ := url.Parse(base)
	h := http.Header{"Origin": {base}}
	for _, ck := range c.Jar.Cookies(u) {
		h.Add("Cookie", ck.Name+"="+ck.Value)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/ws", &websocket.DialOptions{HTTPHeader: h})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	ns := &nodeSocket{conn: conn, ended: make(chan error, 1)}
	go func() {
		for {
			if _, _, err := conn.Read(context.Background()); err != nil {
				ns.ended <- err
				return
			}
		}
	}()
	if err := conn.Ping(ctx); err != nil {
		t.Fatalf("socket on %s: %v", base, err)
	}
	return ns
}

// closesSignedOut waits for the socket to close, which must be with 4001
// "signed out" within a second (the periodic re-check is 30 s away).
func closesSignedOut(t *testing.T, name string, ns *nodeSocket) {
	t.Helper()
	select {
	case err := <-ns.ended:
		var ce websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != 4001 || ce.Reason != "signed out" {
			t.Fatalf("%s: socket ended with %v, want close 4001 \"signed out\"", name, err)
		}
	case <-time.After(time.Second):
		t.Fatalf("%s: socket still open 1s after its login ended", name)
	}
}

// stillOpen checks that the socket was not closed: it answers a ping.
func stillOpen(t *testing.T, name string, ns *nodeSocket) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := ns.conn.Ping(ctx); err != nil {
		t.Fatalf("%s: socket closed: %v", name, err)
	}
}

// TestTwoNodesSignOut: ending a login closes its sockets at once on every
// node, however the ending reached the store: a logout on node B closes
// that login's socket on node A; EndUserSessions called by another process
// (a third hub on the same Redis, as an admin action on any node would be)
// closes the user's sockets on both nodes, and no one else's.
func TestTwoNodesSignOut(t *testing.T) {
	if code, _, stderr := parley(t, nil, "migrate", "up"); code != 0 {
		t.Fatal(stderr)
	}
	if code, _, stderr := parley(t, nil, "seed", "--demo"); code != 0 {
		t.Fatal(stderr)
	}
	bin := filepath.Join(t.TempDir(), "parley")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatalf("go build: %v", err)
	}
	a, b := startNode(t, bin), startNode(t, bin)
	const agentEmail, agentPassword = "agent@demo.parley.test", "parley-demo-agent"

	laptop := login(t, a.url, agentEmail, agentPassword) // one login...
	phone := login(t, b.url, agentEmail, agentPassword)  // ...and another
	admin := login(t, b.url, "admin@demo.parley.test", "parley-demo-admin")
	laptopOnA := dialNode(t, laptop, a.url)
	laptopOnB := dialNode(t, laptop, b.url)
	phoneOnA := dialNode(t, phone, a.url)
	adminOnA := dialNode(t, admin, a.url)
	// Logout on node B: the laptop login's sockets close on A and B.
	tok := csrf(t, laptop, b.url+"/chats")
	req, _ := http.NewRequest("POST", b.url+"/logout", nil)
	req.Header.Set("X-CSRF-Token", tok)
	req.Header.Set("HX-Request", "true")
	resp, err := laptop.Do(req)
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("logout on node B: %v %v", resp, err)
	}
	resp.Body.Close()
	closesSignedOut(t, "laptop on A (logout on B)", laptopOnA)
	closesSignedOut(t, "laptop on B", laptopOnB)
	stillOpen(t, "phone on A (the same user's other login)", phoneOnA)

	// EndUserSessions from a third process on the same Redis channel.
	ctx := context.Background()
	db, err := models.OpenDB(ctx, env.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	store := models.NewStore(db)
	ropt, err := redis.ParseURL(env.RedisURL)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(ropt)
	defer rdb.Close()
	third := hub.New(hub.Config{Broker: hub.NewRedisBroker(rdb, fmt.Sprintf("parley:hub:%d", ropt.DB))})
	defer third.Close()
	store.OnSessionsEnded(third.EndSessions)
	agent, err := store.Authenticate(ctx, agentEmail, agentPassword)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.EndUserSessions(ctx, agent.ID); err != nil {
		t.Fatal(err)
	}
	closesSignedOut(t, "phone on A", phoneOnA)
	stillOpen(t, "admin on A", adminOnA)
}
