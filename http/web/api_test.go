package web_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/parley-chat/parley/http/web"
	"github.com/parley-chat/parley/models"
)

// The API's conventions (spec/api.md): bearer auth, problem details, strict
// JSON bodies, cursors and the per-token rate limit.

// apiProblem is a problem details body.
type apiProblem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Errors []struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"errors"`
}

// apiGet sends a GET with a bearer token ("" for none) and returns the
// response and its body.
func (f *fixture) apiGet(t *testing.T, token, path string) (*http.Response, string) {
	t.Helper()
	h := map[string]string{}
	if token != "" {
		h["Authorization"] = "Bearer " + token
	}
	return f.client(t).do("GET", path, nil, h)
}

// problemOf decodes a problem details response, failing unless it is one
// with the status.
func problemOf(t *testing.T, resp *http.Response, body string, status int) apiProblem {
	t.Helper()
	var p apiProblem
	if resp.StatusCode != status || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/problem+json") ||
		json.Unmarshal([]byte(body), &p) != nil || p.Status != status || p.Title == "" {
		t.Fatalf("want a %d problem: %d %s %s", status, resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	return p
}

// fieldsOf lists a problem's fields.
func (p apiProblem) fields() []string {
	var out []string
	for _, e := range p.Errors {
		out = append(out, e.Field)
	}
	return out
}

func TestAPIAuth(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	agent := models.Scope{OrgID: f.Demo.Org.ID, UserID: f.Demo.Agent.ID, Role: models.RoleAgent}
	good, _, err := f.Store.CreateAPIToken(ctx, agent, "good")
	if err != nil {
		t.Fatal(err)
	}
	if resp, body := f.apiGet(t, good, "/api/v1/me"); resp.StatusCode != http.StatusOK || !strings.Contains(body, agentEmail) {
		t.Fatalf("a good token: %d %s", resp.StatusCode, body)
	}
	revoked, tok, err := f.Store.CreateAPIToken(ctx, agent, "revoked")
	if err != nil {
		t.Fatal(err)
	}
	if resp, _ := f.apiGet(t, revoked, "/api/v1/me"); resp.StatusCode != http.StatusOK {
		t.Fatalf("before revoking: %d", resp.StatusCode)
	}
	if err := f.Store.RevokeAPIToken(ctx, agent, tok.ID); err != nil {
		t.Fatal(err)
	}

	// A user who is disabled: their token stops at once.
	hash, err := models.HashPassword("disabled password 1")
	if err != nil {
		t.Fatal(err)
	}
	var userID int64
	if err := f.Store.DB().NewRaw(`INSERT INTO users (org_id, email, name, role, password_hash, all_inboxes) VALUES (?, ?, 'Dee Disabled', 'agent', ?, true) RETURNING id`,
		f.Demo.Org.ID, "disabled-"+runID+"-"+itoa(phoneSeq.Add(1))+"@demo.parley.test", hash).Scan(ctx, &userID); err != nil {
		t.Fatal(err)
	}
	disabled, _, err := f.Store.CreateAPIToken(ctx, models.Scope{OrgID: f.Demo.Org.ID, UserID: userID, Role: models.RoleAgent}, "soon disabled")
	if err != nil {
		t.Fatal(err)
	}
	if resp, _ := f.apiGet(t, disabled, "/api/v1/me"); resp.StatusCode != http.StatusOK {
		t.Fatalf("before disabling: %d", resp.StatusCode)
	}
	if _, err := f.Store.DB().NewRaw("UPDATE users SET disabled_at = now() WHERE id = ?", userID).Exec(ctx); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct{ name, header string }{
		{"no token", ""},
		{"not bearer", "Basic " + good},
		{"empty bearer", "Bearer "},
		{"unknown token", "Bearer " + good + "x"},
		{"revoked token", "Bearer " + revoked},
		{"disabled user's token", "Bearer " + disabled},
	} {
		h := map[string]string{}
		if tc.header != "" {
			h["Authorization"] = tc.header
		}
		resp, body := f.client(t).do("GET", "/api/v1/me", nil, h)
		problemOf(t, resp, body, http.StatusUnauthorized)
		if !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%s: WWW-Authenticate %q", tc.name, resp.Header.Get("WWW-Authenticate"))
		}
		if strings.Contains(body, agentEmail) {
			t.Errorf("%s: the body names the user", tc.name)
		}
	}

	// A session cookie is no credential for the API.
	c := f.client(t)
	c.login(adminEmail, adminPassword)
	if resp, body := c.get("/api/v1/me"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a session cookie on the API: %d %s", resp.StatusCode, body)
	}
}

func TestAPIMeLimitedAgent(t *testing.T) {
	w := newMatrixWorld(t)
	resp, body := w.f.apiGet(t, w.tokens[pLimited], "/api/v1/me")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("GET /me: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	var me struct {
		User struct {
			ID         int64   `json:"id"`
			Role       string  `json:"role"`
			AllInboxes bool    `json:"all_inboxes"`
			InboxIDs   []int64 `json:"inbox_ids"`
		} `json:"user"`
		Organization struct {
			ID int64 `json:"id"`
		} `json:"organization"`
		Permissions []string `json:"permissions"`
	}
	if err := json.Unmarshal([]byte(body), &me); err != nil {
		t.Fatal(err)
	}
	if me.User.ID != w.limitedID || me.User.Role != "agent" || me.User.AllInboxes || !slices.Equal(me.User.InboxIDs, []int64{w.inboxB}) ||
		me.Organization.ID != w.f.Demo.Org.ID || !slices.Equal(me.Permissions, []string{string(models.PermEditRecipients)}) {
		t.Errorf("limited agent's /me: %+v", me)
	}
	// The admin's lists every permission, and all inboxes.
	_, body = w.f.apiGet(t, w.tokens[pAdmin], "/api/v1/me")
	if err := json.Unmarshal([]byte(body), &me); err != nil {
		t.Fatal(err)
	}
	if !me.User.AllInboxes || len(me.User.InboxIDs) != 0 || len(me.Permissions) != len(models.Permissions()) {
		t.Errorf("admin's /me: %+v", me)
	}
}

// TestAPIBodiesAndCursors: decodeJSON and pageParams, through test-only
// routes that use them as resource handlers do.
func TestAPIBodiesAndCursors(t *testing.T) {
	app := web.APIConventionsApp()
	send := func(method, path, ctype, body string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(method, path, strings.NewReader(body))
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		resp, err := app.Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	if resp, body := send("POST", "/api/v1/echo", "application/json", `{"name": "Ann", "count": 2, "nested": {"flag": true}}`); resp.StatusCode != http.StatusOK ||
		!strings.Contains(body, `"name":"Ann"`) {
		t.Fatalf("a good body: %d %s", resp.StatusCode, body)
	}
	for _, tc := range []struct {
		name, ctype, body string
		status            int
		field             string
	}{
		{"malformed JSON", "application/json", `{"name": "Ann"`, 422, ""},
		{"not an object", "application/json", `[1, 2]`, 422, ""},
		{"two objects", "application/json", `{"name": "a"} {"name": "b"}`, 422, ""},
		{"unknown field", "application/json", `{"name": "Ann", "colour": "red"}`, 422, "colour"},
		{"wrong type", "application/json", `{"count": "two"}`, 422, "count"},
		{"wrong nested type", "application/json", `{"nested": {"flag": "yes"}}`, 422, "nested.flag"},
		{"not JSON at all", "text/plain", `name=Ann`, 415, ""},
	} {
		resp, body := send("POST", "/api/v1/echo", tc.ctype, tc.body)
		p := problemOf(t, resp, body, tc.status)
		if tc.field != "" && !slices.Contains(p.fields(), tc.field) {
			t.Errorf("%s: fields %v, want %s: %s", tc.name, p.fields(), tc.field, body)
		}
		if tc.status == 422 && (p.Type != "https://parley.chat/problems/validation" || p.Detail == "") {
			t.Errorf("%s: %+v", tc.name, p)
		}
	}

	// Cursors: what the API gave out reads back; anything else is a 422.
	var page struct {
		Limit  int    `json:"limit"`
		Before int64  `json:"before"`
		Next   string `json:"next"`
	}
	_, body := send("GET", "/api/v1/page", "", "")
	if err := json.Unmarshal([]byte(body), &page); err != nil || page.Limit != 50 || page.Next == "" {
		t.Fatalf("default page: %s", body)
	}
	if _, body := send("GET", "/api/v1/page?limit=200&cursor="+page.Next, "", ""); !strings.Contains(body, `"before":7`) || !strings.Contains(body, `"limit":200`) {
		t.Errorf("a cursor the API gave out: %s", body)
	}
	for _, q := range []struct{ query, field string }{
		{"cursor=garbage!", "cursor"}, {"cursor=bm90IGpzb24", "cursor"}, {"cursor=eyJiZWZvcmUiOiJ4In0", "cursor"}, // "not json", {"before":"x"}
		{"limit=0", "limit"}, {"limit=201", "limit"}, {"limit=ten", "limit"},
	} {
		resp, body := send("GET", "/api/v1/page?"+q.query, "", "")
		if p := problemOf(t, resp, body, 422); !slices.Equal(p.fields(), []string{q.field}) {
			t.Errorf("?%s: fields %v, want %s", q.query, p.fields(), q.field)
		}
	}
}

func TestAPIRateLimit(t *testing.T) {
	f := newFixtureWith(t, serverOpts{env: map[string]string{"PARLEY_API_RATE": "5"}})
	ctx := context.Background()
	admin := models.Scope{OrgID: f.Demo.Org.ID, UserID: f.Demo.Admin.ID, Role: models.RoleAdmin}
	a, _, err := f.Store.CreateAPIToken(ctx, admin, "busy")
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := f.Store.CreateAPIToken(ctx, admin, "quiet")
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 5; i++ {
		if resp, body := f.apiGet(t, a, "/api/v1/me"); resp.StatusCode != http.StatusOK {
			t.Fatalf("request %d of 5: %d %s", i, resp.StatusCode, body)
		}
	}
	resp, body := f.apiGet(t, a, "/api/v1/me")
	problemOf(t, resp, body, http.StatusTooManyRequests)
	if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || secs < 1 {
		t.Errorf("Retry-After %q, want a whole number of seconds ≥ 1", resp.Header.Get("Retry-After"))
	}
	if resp, body := f.apiGet(t, b, "/api/v1/me"); resp.StatusCode != http.StatusOK {
		t.Errorf("another token of the same user: %d %s", resp.StatusCode, body)
	}
}
