package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/parley-chat/parley/models"
)

// auditEntry appends an entry to the demo's audit log at a chosen time, as
// a store method would have (the log is append-only, so tests only add).
func (f *fixture) auditEntry(t *testing.T, orgID int64, action, ttype string, tid int64, name, before, after string, at time.Time) int64 {
	t.Helper()
	var id int64
	if err := f.Store.DB().NewRaw(`INSERT INTO audit_log (org_id, actor_user_id, actor_name, via, ip, action, target_type, target_id, target_name, before, after, created_at)
		VALUES (?, ?, 'Avery Admin', 'web', '198.51.100.7', ?, ?, ?, ?, ?::jsonb, ?::jsonb, ?) RETURNING id`,
		orgID, f.Demo.Admin.ID, action, ttype, tid, name, nullIfEmpty(before), nullIfEmpty(after), at).Scan(context.Background(), &id); err != nil {
		t.Fatal(err)
	}
	return id
}

func nullIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// TestAuditPage: an admin reads the log in the location's time zone, with
// each changed field's before → after, long values collapsed; filters
// narrow it, a bad filter is an error next to its field, and Older pages
// through by keyset.
func TestAuditPage(t *testing.T) {
	f := newFixture(t)
	admin := f.client(t)
	admin.login(adminEmail, adminPassword)
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) // 7:00 AM in New York (EST)
	long := strings.Repeat("Closed for the holidays. ", 6)
	archive := f.auditEntry(t, f.Demo.Org.ID, "inbox.update", "inbox", f.Demo.Inbox.ID, "Front Desk",
		`{"name": "Front Desk", "help_text": "Old help", "archived": false}`,
		`{"name": "Reception", "help_text": "`+long+`", "archived": false}`, at)

	resp, body := admin.get("/settings/audit")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("audit page: %d", resp.StatusCode)
	}
	d := doc(t, body)
	row := d.Find("#audit-" + itoa(archive))
	if row.Length() != 1 {
		t.Fatalf("no row for the entry:\n%s", body)
	}
	text := strings.Join(strings.Fields(row.Text()), " ")
	for _, want := range []string{"Mar 1, 2026 7:00 AM EST", "Avery Admin", "198.51.100.7", "inbox.update", "Front Desk",
		"name: Front Desk → Reception"} {
		if !strings.Contains(text, want) {
			t.Errorf("row lacks %q: %s", want, text)
		}
	}
	if strings.Contains(text, "archived") {
		t.Errorf("an unchanged field is listed: %s", text)
	}
	if det := row.Find("details"); det.Length() != 1 || !strings.Contains(det.Find("summary").Text(), "help_text") ||
		!strings.Contains(det.Text(), "Old help") {
		t.Errorf("the long change is not collapsed in <details>: %s", text)
	}
	if !strings.Contains(body, "America/New_York") || d.Find(`.subnav-link.is-active[href="/settings/audit"]`).Length() != 1 {
		t.Errorf("zone or settings tab missing")
	}

	// Filters: by action prefix, by target; a bad one is shown next to its
	// field and lists nothing.
	disable := f.auditEntry(t, f.Demo.Org.ID, "user.disable", "user", f.Demo.Agent.ID, "Sam Agent", `{"disabled": false}`, `{"disabled": true}`, at.Add(time.Hour))
	_, body = admin.get("/settings/audit?action=inbox.")
	if d := doc(t, body); d.Find("#audit-"+itoa(archive)).Length() != 1 || d.Find("#audit-"+itoa(disable)).Length() != 0 {
		t.Errorf("action=inbox. filter")
	}
	_, body = admin.get("/settings/audit?target_type=user&target_id=" + itoa(f.Demo.Agent.ID))
	if d := doc(t, body); d.Find("#audit-"+itoa(archive)).Length() != 0 ||
		!strings.Contains(strings.Join(strings.Fields(d.Find("#audit-"+itoa(disable)).Text()), " "), "disabled: false → true") {
		t.Errorf("target filter:\n%s", body)
	}
	for _, bad := range []struct{ query, field string }{
		{"action=Inbox%20Update", "action"}, {"from=yesterday", "from"}, {"actor_id=x", "actor_id"},
		{"from=2026-03-02&to=2026-03-01", "to"}, {"target_id=-4", "target_id"},
	} {
		resp, body := admin.get("/settings/audit?" + bad.query)
		d := doc(t, body)
		if resp.StatusCode != http.StatusUnprocessableEntity || d.Find("#"+bad.field+"-error").Length() != 1 ||
			d.Find(`[aria-invalid="true"][aria-describedby="`+bad.field+`-error"]`).Length() != 1 || d.Find("tbody tr").Length() != 0 {
			t.Errorf("?%s: %d, want 422 with the error next to %s", bad.query, resp.StatusCode, bad.field)
		}
	}
	// Whole days in the viewer's zone: March 1 holds the 7:00 AM entry.
	_, body = admin.get("/settings/audit?from=2026-03-01&to=2026-03-01")
	if doc(t, body).Find("#audit-"+itoa(archive)).Length() != 1 {
		t.Errorf("date filter lost the entry")
	}
	_, body = admin.get("/settings/audit?from=2026-03-02")
	if doc(t, body).Find("#audit-"+itoa(archive)).Length() != 0 {
		t.Errorf("from=2026-03-02 shows an entry of March 1")
	}

	// Older: keyset pages of 50, nothing twice, nothing lost.
	// A target of its own (ids need not exist), so only this run's 55 match.
	target := 1_000_000 + time.Now().UnixNano()%1_000_000_000 + phoneSeq.Add(1)
	for i := range 55 {
		f.auditEntry(t, f.Demo.Org.ID, "location.update", "location", target, "Main Office",
			`{"name": "Main Office"}`, `{"name": "Main Office `+itoa(int64(i))+`"}`, at.Add(time.Duration(i)*time.Minute))
	}
	seen := map[string]bool{}
	next := "/settings/audit?target_type=location&target_id=" + itoa(target)
	for pages := 0; next != ""; pages++ {
		if pages > 2 {
			t.Fatal("more pages than 55 entries fill")
		}
		_, body := admin.get(next)
		d := doc(t, body)
		d.Find("tbody tr").Each(func(_ int, s *goquery.Selection) {
			id := s.AttrOr("id", "")
			if seen[id] {
				t.Errorf("%s on two pages", id)
			}
			seen[id] = true
		})
		next = d.Find(`a[rel="next"]`).AttrOr("href", "")
	}
	if len(seen) != 55 {
		t.Errorf("paged through %d entries, want 55", len(seen))
	}
}

// TestAuditAPI: GET /api/v1/audit lists the same entries with the same
// filters, a page at a time, and refuses malformed filters by name.
func TestAuditAPI(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	// An admin of its own, so the log's other tests' tokens are not its.
	var adminID int64
	if err := f.Store.DB().NewRaw(`INSERT INTO users (org_id, email, name, role, password_hash, all_inboxes) VALUES (?, ?, 'Ada Auditor', 'admin', 'x', true) RETURNING id`,
		f.Demo.Org.ID, "auditor-"+runID+"-"+itoa(phoneSeq.Add(1))+"@demo.parley.test").Scan(ctx, &adminID); err != nil {
		t.Fatal(err)
	}
	admin := models.Scope{OrgID: f.Demo.Org.ID, UserID: adminID, Role: models.RoleAdmin, Name: "Ada Auditor", Via: models.ViaAPI}
	token, tok, err := f.Store.CreateAPIToken(ctx, admin, "audit reader")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"one", "two", "three"} {
		if _, _, err := f.Store.CreateAPIToken(ctx, admin, "audit "+name); err != nil {
			t.Fatal(err)
		}
	}
	type entry struct {
		ID         int64           `json:"id"`
		Action     string          `json:"action"`
		Via        string          `json:"via"`
		TargetID   *int64          `json:"target_id"`
		TargetName string          `json:"target_name"`
		Before     json.RawMessage `json:"before"`
		After      json.RawMessage `json:"after"`
		CreatedAt  string          `json:"created_at"`
	}
	var page struct {
		Data       []entry `json:"data"`
		NextCursor string  `json:"next_cursor"`
	}
	get := func(q url.Values) {
		t.Helper()
		resp, body := f.apiGet(t, token, "/api/v1/audit?"+q.Encode())
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /audit?%s: %d %s", q.Encode(), resp.StatusCode, body)
		}
		page.Data, page.NextCursor = nil, ""
		if err := json.Unmarshal([]byte(body), &page); err != nil {
			t.Fatal(err)
		}
	}
	get(url.Values{"action": {"token.create"}, "target_id": {itoa(tok.ID)}, "target_type": {"api_token"}})
	if len(page.Data) != 1 || page.Data[0].TargetName != "audit reader" || page.Data[0].Via != "api" ||
		string(page.Data[0].Before) != "null" || !strings.Contains(string(page.Data[0].After), `"audit reader"`) || page.NextCursor != "" {
		t.Fatalf("one token's creation: %+v", page)
	}
	if _, err := time.Parse(time.RFC3339, page.Data[0].CreatedAt); err != nil {
		t.Errorf("created_at %q: %v", page.Data[0].CreatedAt, err)
	}
	// Pages of two over the four creations, newest first.
	var ids []int64
	q := url.Values{"action": {"token."}, "actor_id": {itoa(adminID)}, "limit": {"2"}}
	for range 3 {
		get(q)
		for _, e := range page.Data {
			ids = append(ids, e.ID)
		}
		if page.NextCursor == "" {
			break
		}
		q.Set("cursor", page.NextCursor)
	}
	if len(ids) != 4 || ids[0] < ids[1] || ids[1] < ids[2] || ids[2] < ids[3] {
		t.Errorf("paged ids %v, want 4 newest first", ids)
	}
	get(url.Values{"actor_id": {itoa(adminID)}, "from": {time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}})
	if len(page.Data) != 0 {
		t.Errorf("from an hour ahead: %d entries", len(page.Data))
	}

	for _, bad := range []struct{ query, field string }{
		{"actor_id=me", "actor_id"}, {"target_id=0", "target_id"}, {"from=2026-03-01", "from"}, {"to=soon", "to"},
		{"action=TOKEN", "action"}, {"target_type=api-token", "target_type"}, {"cursor=xyz", "cursor"}, {"limit=500", "limit"},
		{"from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z", "to"},
	} {
		resp, body := f.apiGet(t, token, "/api/v1/audit?"+bad.query)
		if p := problemOf(t, resp, body, http.StatusUnprocessableEntity); len(p.Errors) == 0 || p.Errors[0].Field != bad.field {
			t.Errorf("?%s: %+v, want the field %s", bad.query, p, bad.field)
		}
	}

	// Another organization's admin reads its own log: none of the demo's.
	rival := otherOrgUser(t, f)
	rivalToken, _, err := f.Store.CreateAPIToken(ctx, models.Scope{OrgID: rival.orgID, UserID: rival.userID, Role: models.RoleAdmin}, "rival")
	if err != nil {
		t.Fatal(err)
	}
	resp, body := f.apiGet(t, rivalToken, "/api/v1/audit?target_type=api_token&target_id="+itoa(tok.ID))
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"data":[]`) {
		t.Errorf("the rival asking for the demo's token: %d %s", resp.StatusCode, body)
	}
}
