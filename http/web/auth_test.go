package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
)

func TestLoginShowsDashboard(t *testing.T) {
	f := newFixture(t)
	c := f.client(t)
	resp, _ := c.get("/")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
		t.Fatalf("anonymous / should go to login: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	c.login(adminEmail, adminPassword)
	resp, body := c.get("/")
	if resp.StatusCode != 200 {
		t.Fatalf("dashboard: %d", resp.StatusCode)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if got := doc.Find("h1").First().Text(); !strings.Contains(got, "Avery Admin") {
		t.Errorf("dashboard heading %q", got)
	}
	if doc.Find(`.inbox .chip:contains("+15550100100")`).Length() != 1 {
		t.Errorf("dashboard does not list the demo inbox's number")
	}
	for _, nav := range []string{"Chats", "Recipients", "Broadcasts", "Settings", "Credits", "Queues"} {
		if doc.Find(".nav-link span:contains('"+nav+"')").Length() != 1 {
			t.Errorf("navigation lacks %s", nav)
		}
	}
	if v, ok := doc.Find(`meta[name="csrf-token"]`).Attr("content"); !ok || v == "" {
		t.Errorf("no csrf meta tag")
	}
	if h, _ := doc.Find("body").Attr("hx-headers"); !strings.Contains(h, "X-CSRF-Token") {
		t.Errorf("body hx-headers lacks the CSRF header: %q", h)
	}
	for _, page := range []string{"/chats", "/recipients", "/broadcasts", "/settings", "/credits", "/recipients?q=nobody"} {
		if resp, _ := c.get(page); resp.StatusCode != 200 {
			t.Errorf("%s: %d", page, resp.StatusCode)
		}
	}
}

func TestSessionCookieAttributes(t *testing.T) {
	f := newFixture(t)
	c := f.client(t)
	tok := c.csrf("/login")
	resp, _ := c.do("POST", "/login", url.Values{"_csrf": {tok}, "email": {adminEmail}, "password": {adminPassword}}, nil)
	var found bool
	for _, ck := range resp.Cookies() {
		if ck.Name == "parley_session" {
			found = true
			if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Secure {
				t.Errorf("session cookie attributes: HttpOnly=%v SameSite=%v Secure=%v", ck.HttpOnly, ck.SameSite, ck.Secure)
			}
		}
	}
	if !found {
		t.Fatal("no session cookie set")
	}
}

func TestWrongPasswordShowsMessage(t *testing.T) {
	f := newFixture(t)
	c := f.client(t)
	tok := c.csrf("/login")
	resp, body := c.do("POST", "/login", url.Values{"_csrf": {tok}, "email": {adminEmail}, "password": {"not the password"}}, nil)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("status %d", resp.StatusCode)
	}
	doc, _ := goquery.NewDocumentFromReader(strings.NewReader(body))
	if msg := doc.Find("#login-error").Text(); !strings.Contains(msg, "do not match") {
		t.Errorf("error message %q", msg)
	}
	if v, _ := doc.Find(`input[name=email]`).Attr("value"); v != adminEmail {
		t.Errorf("email not kept in the form: %q", v)
	}
	if resp, _ := c.get("/"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("a failed login must not sign in: %d", resp.StatusCode)
	}
}

func TestLoginThrottled(t *testing.T) {
	f := newFixture(t)
	c := f.client(t)
	tok := c.csrf("/login")
	for i := 0; i < 10; i++ {
		resp, _ := c.do("POST", "/login", url.Values{"_csrf": {tok}, "email": {agentEmail}, "password": {"guess number " + string(rune('a'+i))}}, nil)
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i, resp.StatusCode)
		}
	}
	// Even the right password is refused once the limit is reached.
	resp, body := c.do("POST", "/login", url.Values{"_csrf": {tok}, "email": {agentEmail}, "password": {agentPassword}}, nil)
	if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(body, "Too many failed sign-in attempts") {
		t.Fatalf("throttled login: %d", resp.StatusCode)
	}
	// Another account from the same address still gets in.
	c2 := f.client(t)
	c2.login(adminEmail, adminPassword)
}

func TestCSRF(t *testing.T) {
	f := newFixture(t)
	c := f.client(t)
	// The login form itself is protected.
	c.csrf("/login")
	if resp, _ := c.do("POST", "/login", url.Values{"email": {adminEmail}, "password": {adminPassword}}, nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("login without token: %d", resp.StatusCode)
	}
	c.login(adminEmail, adminPassword)
	tok := c.csrf("/")
	for _, tc := range []struct {
		name   string
		form   url.Values
		header map[string]string
		want   int
	}{
		{"no token", url.Values{}, nil, http.StatusForbidden},
		{"wrong token", url.Values{"_csrf": {"AAAA" + tok[4:]}}, nil, http.StatusForbidden},
		{"anonymous token replayed", url.Values{"_csrf": {f.client(t).csrf("/login")}}, nil, http.StatusForbidden},
		{"token in header", nil, map[string]string{"X-CSRF-Token": tok}, http.StatusSeeOther},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, _ := c.do("POST", "/logout", tc.form, tc.header)
			if resp.StatusCode != tc.want {
				t.Fatalf("got %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
	// The header case logged out: the session is gone.
	if resp, _ := c.get("/"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("after logout / gives %d", resp.StatusCode)
	}
}

func TestQueuesDashboardAdminOnly(t *testing.T) {
	f := newFixture(t)
	anon := f.client(t)
	resp, _ := anon.get("/admin/queues")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Fatalf("anonymous: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	agent := f.client(t)
	agent.login(agentEmail, agentPassword)
	for _, p := range []string{"/admin/queues", "/admin/queues/api/queues"} {
		if resp, _ := agent.get(p); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("agent %s: %d, want 404", p, resp.StatusCode)
		}
	}
	if _, body := agent.get("/"); strings.Contains(body, `href="/admin/queues"`) {
		t.Error("agent's navigation links to the queues dashboard")
	}
	admin := f.client(t)
	admin.login(adminEmail, adminPassword)
	resp, body := admin.get("/admin/queues")
	if resp.StatusCode != 200 || !strings.Contains(body, "Asynq") {
		t.Fatalf("admin: %d", resp.StatusCode)
	}
	resp, body = admin.get("/admin/queues/api/queues")
	if resp.StatusCode != 200 || !strings.Contains(body, "queues") {
		t.Fatalf("admin api: %d %s", resp.StatusCode, body)
	}
	// The dashboard's own API calls are checked by Origin instead of a token.
	resp, _ = admin.do("POST", "/admin/queues/api/queues/default:pause", nil, map[string]string{"Origin": "http://evil.example"})
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-origin dashboard POST: %d", resp.StatusCode)
	}
}

// failLogins fails n sign-ins from one client, spread over emails no one
// has (so no email's own limit is reached first), sending header with
// each; i is passed to header so it can vary per attempt.
func failLogins(t *testing.T, c *client, n int, header func(i int) map[string]string) {
	t.Helper()
	tok := c.csrf("/login")
	for i := range n {
		form := url.Values{"_csrf": {tok}, "email": {fmt.Sprintf("nobody%d@example.com", i/5)}, "password": {"wrong password"}}
		if resp, _ := c.do("POST", "/login", form, header(i)); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failed attempt %d: %d", i, resp.StatusCode)
		}
	}
}

// throttled reports whether a sign-in with the right password is refused
// as throttled for a client sending header.
func throttled(t *testing.T, c *client, header map[string]string) bool {
	t.Helper()
	tok := c.csrf("/login")
	resp, _ := c.do("POST", "/login", url.Values{"_csrf": {tok}, "email": {adminEmail}, "password": {adminPassword}}, header)
	switch resp.StatusCode {
	case http.StatusTooManyRequests:
		return true
	case http.StatusSeeOther:
		return false
	}
	t.Fatalf("sign-in answered %d", resp.StatusCode)
	return false
}

// seedFailures records n failed sign-ins from address ip straight into
// the throttle's Redis counter (50 real ones would take a minute of
// password hashing), so a test needs only the last few real failures.
func seedFailures(t *testing.T, f *fixture, ip string, n int) {
	t.Helper()
	if err := f.Redis.Set(context.Background(), "parley:login:ip:"+ip, n, time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
}

// TestLoginThrottleBehindProxy: behind a trusted reverse proxy (here the
// test client, on loopback), clients are told apart by X-Forwarded-For,
// so one client's failures do not lock out another; a client cannot
// escape its own count by writing addresses into the header itself; and
// a peer that is not a trusted proxy is counted by its own address,
// whatever X-Forwarded-For it sends.
func TestLoginThrottleBehindProxy(t *testing.T) {
	const perIP, last = 50, 5 // http/web's per-address limit; the real failures that reach it
	t.Run("trusted proxy", func(t *testing.T) {
		f := newFixtureWith(t, serverOpts{env: map[string]string{"PARLEY_TRUSTED_PROXIES": "127.0.0.0/8, 10.0.0.0/8"}})
		c := f.client(t)
		seedFailures(t, f, "203.0.113.7", perIP-last)
		// Client A writes other addresses at the left of the header; the
		// proxies (127.0.0.1 as the peer, 10.0.0.5 in the chain) append
		// its real one.
		failLogins(t, c, last, func(i int) map[string]string {
			return map[string]string{"X-Forwarded-For": fmt.Sprintf("198.51.100.%d, 203.0.113.7, 10.0.0.5", i)}
		})
		if !throttled(t, c, map[string]string{"X-Forwarded-For": "203.0.113.7"}) {
			t.Error("client A, past the per-address limit, is not throttled")
		}
		if throttled(t, f.client(t), map[string]string{"X-Forwarded-For": "203.0.113.8"}) {
			t.Error("client B, behind the same proxy, is throttled by A's failures")
		}
	})
	t.Run("untrusted peer", func(t *testing.T) {
		f := newFixtureWith(t, serverOpts{env: map[string]string{"PARLEY_TRUSTED_PROXIES": "10.0.0.0/8"}})
		c := f.client(t)
		seedFailures(t, f, "127.0.0.1", perIP-last)
		failLogins(t, c, last, func(i int) map[string]string {
			return map[string]string{"X-Forwarded-For": fmt.Sprintf("198.51.100.%d", i)}
		})
		if !throttled(t, c, map[string]string{"X-Forwarded-For": "203.0.113.9"}) {
			t.Error("an untrusted peer escaped the throttle with X-Forwarded-For")
		}
	})
}
