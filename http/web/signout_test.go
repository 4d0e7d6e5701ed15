package web_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/parley-chat/parley/http/web"
	"github.com/parley-chat/parley/hub"
)

// signOutBound is how soon an ended login's socket must close. The
// periodic re-check is an hour away in these tests, so only the notice can
// close it in time.
const signOutBound = 2 * time.Second

// endedWith waits up to d for the socket's close and checks its status.
func endedWith(t *testing.T, ls *liveSocket, d time.Duration, code websocket.StatusCode, reason string) {
	t.Helper()
	select {
	case err := <-ls.ended:
		var ce websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != code || ce.Reason != reason {
			t.Fatalf("socket ended with %v, want close %d %q", err, code, reason)
		}
	case <-time.After(d):
		t.Fatalf("socket not closed within %v", d)
	}
}

// stillLive checks that the socket still gets events (published again
// until one arrives: the socket may still be joining its feed).
func stillLive(t *testing.T, f *fixture, ls *liveSocket, marker string) {
	t.Helper()
	deadline := time.Now().Add(slack)
	for {
		if err := f.Hub.Publish(context.Background(), hub.Event{Topic: "inbox:" + itoa(f.Demo.Inbox.ID),
			Frame: []byte(`<div id="` + marker + `">` + marker + `</div>`)}); err != nil {
			t.Fatal(err)
		}
		// One publish per 100 ms, whatever older frames arrive meanwhile.
		for tick := time.After(100 * time.Millisecond); tick != nil; {
			select {
			case fr, ok := <-ls.frames:
				if !ok {
					t.Fatalf("socket closed while waiting for %q: %v", marker, <-ls.ended)
				}
				if strings.Contains(fr, marker) {
					return
				}
			case <-tick:
				tick = nil
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no frame containing %q within %v", marker, slack)
		}
	}
}

// awaitSubscribers waits until the hub holds n subscribers: the sockets
// are past their handshake, and ending their logins finds them.
func (f *fixture) awaitSubscribers(t *testing.T, n int64) {
	t.Helper()
	deadline := time.Now().Add(slack)
	for f.Hub.Stats().Subscribers != n {
		if time.Now().After(deadline) {
			t.Fatalf("hub subscribers = %d, want %d", f.Hub.Stats().Subscribers, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Logout closes that login's socket at once with "signed out" (the browser
// goes to the login page), not at the next re-check, and leaves the same
// user's other login alone.
func TestLogoutClosesSocketAtOnce(t *testing.T) {
	f := newFixtureWith(t, serverOpts{socket: web.SocketOptions{CheckEvery: time.Hour}})
	laptop, phone := f.client(t), f.client(t)
	laptop.login(agentEmail, agentPassword)
	phone.login(agentEmail, agentPassword)
	ls := laptop.liveNow(t, laptop.base)
	other := phone.liveNow(t, phone.base)
	f.awaitSubscribers(t, 2)

	if resp, _ := laptop.post("/logout", nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	endedWith(t, ls, signOutBound, 4001, "signed out")
	stillLive(t, f, other, "phone-still-live")
}

// EndUserSessions (a password change, a disabled user) closes every socket
// of the user at once, and no one else's.
func TestEndUserSessionsClosesSockets(t *testing.T) {
	f := newFixtureWith(t, serverOpts{socket: web.SocketOptions{CheckEvery: time.Hour}})
	var agentSockets []*liveSocket
	for range 2 {
		c := f.client(t)
		c.login(agentEmail, agentPassword)
		agentSockets = append(agentSockets, c.liveNow(t, c.base))
	}
	admin := f.client(t)
	admin.login(adminEmail, adminPassword)
	adminSocket := admin.liveNow(t, admin.base)
	f.awaitSubscribers(t, 3)

	if err := f.Store.EndUserSessions(context.Background(), f.Demo.Agent.ID); err != nil {
		t.Fatal(err)
	}
	for _, ls := range agentSockets {
		endedWith(t, ls, signOutBound, 4001, "signed out")
	}
	stillLive(t, f, adminSocket, "admin-still-live")
	// The sessions are gone too: the next request is sent to sign in.
	if err := f.Store.EndUserSessions(context.Background(), f.Demo.Agent.ID); err != nil {
		t.Fatalf("ending them again: %v", err)
	}
}

// A login that ended without a notice reaching this node (it expired, or
// the notice was lost) is caught by the periodic re-check: one query for
// every socket of the node.
func TestRecheckClosesSocketOfEndedLogin(t *testing.T) {
	f := newFixtureWith(t, serverOpts{socket: web.SocketOptions{CheckEvery: 100 * time.Millisecond, PingTimeout: time.Minute}})
	gone, kept := f.client(t), f.client(t)
	gone.login(agentEmail, agentPassword)
	kept.login(adminEmail, adminPassword)
	ls := gone.liveNow(t, gone.base)
	other := kept.liveNow(t, kept.base)
	f.awaitSubscribers(t, 2)
	// Behind the store's back: no notice.
	if _, err := f.Store.DB().NewRaw("UPDATE sessions SET expires_at = now() WHERE user_id = ?", f.Demo.Agent.ID).
		Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	endedWith(t, ls, slack, 4001, "signed out")
	stillLive(t, f, other, "recheck-kept")
}
