package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

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
