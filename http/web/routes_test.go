package web_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/parley-chat/parley/http/simulator"
	"github.com/parley-chat/parley/http/web"
	"github.com/parley-chat/parley/http/webhook"
	"github.com/parley-chat/parley/models"
)

// TestAPIAnswersProblemDetails: everything under /api/v1 is the API's,
// answered before the session and CSRF checks (a POST with neither gets
// the API's 401, not the form's 403; a session cookie is no credential)
// as RFC 9457 problem details; with a token, an unknown path is a 404.
func TestAPIAnswersProblemDetails(t *testing.T) {
	f := newFixture(t)
	anon := f.client(t)
	signedIn := f.client(t)
	signedIn.login(adminEmail, adminPassword)
	for _, tc := range []struct {
		name   string
		c      *client
		method string
		path   string
	}{
		{"base path", anon, "GET", "/api/v1"},
		{"a resource", anon, "GET", "/api/v1/me"},
		{"post without csrf", anon, "POST", "/api/v1/conversations"},
		{"post with a session cookie and no csrf", signedIn, "POST", "/api/v1/conversations/1/messages"},
		{"delete", anon, "DELETE", "/api/v1/inboxes/1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := tc.c.do(tc.method, tc.path, url.Values{}, nil)
			if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("Content-Type") != "application/problem+json" ||
				!strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Fatalf("%s %s: %d %q\n%s", tc.method, tc.path, resp.StatusCode, resp.Header.Get("Content-Type"), body)
			}
			var p struct {
				Type, Title, Detail string
				Status              int
			}
			if err := json.Unmarshal([]byte(body), &p); err != nil || p.Status != 401 || p.Title != "Unauthorized" || p.Type == "" || p.Detail == "" {
				t.Fatalf("problem %+v (%v) from %s", p, err, body)
			}
		})
	}
	token, _, err := f.Store.CreateAPIToken(t.Context(), models.Scope{OrgID: f.Demo.Org.ID, UserID: f.Demo.Admin.ID, Role: models.RoleAdmin}, "routes test")
	if err != nil {
		t.Fatal(err)
	}
	resp, body := anon.do("GET", "/api/v1/no-such-thing", nil, map[string]string{"Authorization": "Bearer " + token})
	if resp.StatusCode != http.StatusNotFound || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("unknown path with a token: %d %s", resp.StatusCode, body)
	}
	// The API's path in other letters reaches no handler (Fiber matched
	// routes without case while the API's checks looked for "/api/v1").
	for _, p := range []string{"/API/v1/me", "/api/V1/me", "/Api/v1/conversations"} {
		if resp, body := anon.get(p); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("%s without a token: %d %s", p, resp.StatusCode, body)
		}
	}
	// A path that only starts with the same letters is not the API's.
	if resp, body := anon.get("/api/v1x"); strings.Contains(resp.Header.Get("Content-Type"), "problem") {
		t.Fatalf("/api/v1x answered as the API: %d %s", resp.StatusCode, body)
	}
}

// TestProviderCallbacksMountedWithoutSession: the route table mounts the
// webhook handler it is given where Vonage calls it, with GET and POST and
// no session or CSRF token, and what it commits reaches agents' sockets
// through the publisher.
func TestProviderCallbacksMountedWithoutSession(t *testing.T) {
	f := newFixtureWith(t, serverOpts{callbacks: func(st *models.Store, pub *web.Publisher) web.ProviderCallbacks {
		return webhook.New(webhook.Config{}, st, pub, nil, testLogger())
	}})
	agent := f.client(t)
	agent.login(agentEmail, agentPassword)
	ws := agent.liveNow(t, f.URL)

	vonage := f.client(t)
	for i, method := range []string{"GET", "POST"} {
		text := "Callback by " + method
		p := url.Values{"msisdn": {"15550100621"}, "to": {"15550100100"}, "messageId": {"route-test-" + itoa(int64(i))},
			"text": {text}, "type": {"text"}, "message-timestamp": {"2026-11-24 09:15:00"}}
		path, form := "/webhooks/vonage/inbound?"+p.Encode(), url.Values(nil)
		if method == "POST" {
			path, form = "/webhooks/vonage/inbound", p
		}
		if resp, body := vonage.do(method, path, form, nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("%s inbound: %d %s", method, resp.StatusCode, body)
		}
		ws.await(t, text)
	}
	// An unknown receipt is acknowledged (nothing of ours changes).
	if resp, body := vonage.do("POST", "/webhooks/vonage/status", url.Values{"messageId": {"nobody"}, "status": {"delivered"},
		"msisdn": {"15550100621"}, "to": {"15550100100"}, "err-code": {"0"}}, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("status: %d %s", resp.StatusCode, body)
	}
}

// TestSimulatorRoutesOnlyWhenPresent: with Vonage configured there is no
// simulator, and none of its paths answer; with it, its Vonage-compatible
// API answers without a session (it checks its key), and its phone pages
// need a login.
func TestSimulatorRoutesOnlyWhenPresent(t *testing.T) {
	refused := url.Values{"api_key": {"simkey01"}, "api_secret": {"simsecret"}, "from": {"15550100100"},
		"to": {"1555010" + simulator.RejectSuffix}, "text": {"hello"}}

	t.Run("absent", func(t *testing.T) {
		f := newFixture(t)
		c := f.client(t)
		c.login(adminEmail, adminPassword)
		for _, p := range []string{"/simulator/phone", "/simulator/phone/thread"} {
			if resp, _ := c.get(p); resp.StatusCode != http.StatusNotFound {
				t.Errorf("GET %s without a simulator: %d, want 404", p, resp.StatusCode)
			}
		}
		if resp, _ := f.client(t).do("POST", simulator.Path+"/sms/json", refused, nil); resp.StatusCode == http.StatusOK {
			t.Errorf("the simulated Vonage API answers without a simulator")
		}
	})

	t.Run("present", func(t *testing.T) {
		sim := simulator.New(simulator.Config{BaseURL: "http://127.0.0.1:1", APIKey: "simkey01", APISecret: "simsecret", Logger: testLogger()})
		f := newFixtureWith(t, serverOpts{simulator: sim})
		anon := f.client(t)
		resp, body := anon.do("POST", simulator.Path+"/sms/json", refused, nil)
		var ans struct {
			Messages []struct {
				Status string `json:"status"`
			} `json:"messages"`
		}
		if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &ans) != nil || len(ans.Messages) != 1 || ans.Messages[0].Status != "29" {
			t.Fatalf("simulated send without a session: %d %s (want Vonage's refusal, status 29)", resp.StatusCode, body)
		}
		if resp, _ := anon.get("/simulator/phone"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
			t.Errorf("anonymous phone page: %d %q, want a redirect to the login", resp.StatusCode, resp.Header.Get("Location"))
		}
		c := f.client(t)
		c.login(adminEmail, adminPassword)
		if resp, body := c.get("/simulator/phone"); resp.StatusCode != http.StatusOK || !strings.Contains(body, "Phone simulator") {
			t.Errorf("phone page: %d", resp.StatusCode)
		}
		if resp, body := c.get("/simulator/phone/thread?phone=%2B1555010" + simulator.RejectSuffix); resp.StatusCode != http.StatusOK || !strings.Contains(body, "hello") {
			t.Errorf("phone thread: %d, want the refused text in it:\n%s", resp.StatusCode, body)
		}
	})
}

// Only the dashboard's own paths are the dashboard's: a sibling such as
// /admin/queuesX is not (it would skip the CSRF token check).
func TestUnderQueues(t *testing.T) {
	for path, want := range map[string]bool{"/admin/queues": true, "/admin/queues/": true, "/admin/queues/api/queues": true,
		"/admin/queuesX": false, "/admin/queues-evil/x": false, "/admin": false} {
		if got := web.UnderQueues(path); got != want {
			t.Errorf("underQueues(%q) = %v, want %v", path, got, want)
		}
	}
}

// An X-Forwarded-For entry with a port or brackets is still an address
// (else a proxy writing them would make every client the proxy, sharing
// one login-throttle counter).
func TestParseHop(t *testing.T) {
	for hop, want := range map[string]string{"203.0.113.7": "203.0.113.7", " 203.0.113.7:5123": "203.0.113.7",
		"[2001:db8::1]:443": "2001:db8::1", "[2001:db8::1]": "2001:db8::1", "2001:db8::1": "2001:db8::1", "unknown": "", "": ""} {
		got := ""
		if a, ok := web.ParseHop(hop); ok {
			got = a.String()
		}
		if got != want {
			t.Errorf("parseHop(%q) = %q, want %q", hop, got, want)
		}
	}
}
