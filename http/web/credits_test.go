package web_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/models"
)

// chargeDemo stores n inbound texts at the demo inbox from one sender and
// runs the credits:charge task; it returns the sender's number.
func chargeDemo(t *testing.T, f *fixture, n int) string {
	t.Helper()
	ctx := context.Background()
	from := "+1555017" + fmt.Sprintf("%04d", phoneSeq.Add(1)%10000)
	for i := range n {
		if _, err := f.Store.ReceiveSMS(ctx, models.InboundSMS{Provider: "vonage", ProviderMessageID: fmt.Sprintf("credits-%s-%d-%d", runID, time.Now().UnixNano(), i),
			From: from, To: "+15550100100", Body: fmt.Sprintf("Usage text %d", i), ReceivedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.Store.ChargeLocation(ctx, f.Demo.Location.ID); err != nil {
		t.Fatal(err)
	}
	return from
}

// apiRaw sends a GET with a bearer token and headers; it returns the
// response and its whole body.
func apiRaw(t *testing.T, f *fixture, token, path string, h map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("GET", f.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	for k, v := range h {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp, string(raw)
}

func TestCreditsAPI(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	from := chargeDemo(t, f, 3)
	admin, _, err := f.Store.CreateAPIToken(ctx, f.adminScope(), "credits admin")
	if err != nil {
		t.Fatal(err)
	}
	agentSc := models.Scope{OrgID: f.Demo.Org.ID, UserID: f.Demo.Agent.ID, Role: models.RoleAgent}
	agent, _, err := f.Store.CreateAPIToken(ctx, agentSc, "credits agent")
	if err != nil {
		t.Fatal(err)
	}

	status, body := apiCall(t, f, admin, "GET", "/credits", nil)
	data, _ := body["data"].([]any)
	if status != 200 || len(data) == 0 {
		t.Fatalf("GET /credits: %d %v", status, body)
	}
	var loc map[string]any
	for _, d := range data {
		if m := d.(map[string]any); int64(m["location_id"].(float64)) == f.Demo.Location.ID {
			loc = m
		}
	}
	var ledgerSum int64
	if err := f.Store.DB().NewRaw("SELECT sum(plan_delta + purchased_delta) FROM credit_ledger WHERE location_id = ?", f.Demo.Location.ID).Scan(ctx, &ledgerSum); err != nil {
		t.Fatal(err)
	}
	used, _ := loc["used"].(map[string]any)
	if loc == nil || int64(loc["balance"].(float64)) != ledgerSum || used == nil || used["inbound"].(float64) < 6 ||
		loc["plan_status"] != "active" || loc["period_start"] == nil || loc["burn_per_day"].(float64) <= 0 || loc["location_name"] != f.Demo.Location.Name {
		t.Fatalf("demo location: %v (ledger sum %d)", loc, ledgerSum)
	}
	for _, k := range []string{"plan_balance", "purchased_balance", "plan_credits", "period_end", "forecast_exhausted_at"} {
		if _, ok := loc[k]; !ok {
			t.Errorf("no %s in %v", k, loc)
		}
	}

	// The ledger in pages of 2, then as CSV: the same entries.
	q := fmt.Sprintf("/credits/ledger?location_id=%d&from=%s", f.Demo.Location.ID, time.Now().Add(-time.Hour).UTC().Format(time.RFC3339))
	var ids []string
	cursor := ""
	for pages := 0; ; pages++ {
		path := q + "&limit=2"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		status, page := apiCall(t, f, admin, "GET", path, nil)
		rows, _ := page["data"].([]any)
		if status != 200 || pages > 100 {
			t.Fatalf("ledger page: %d %v", status, page)
		}
		for _, r := range rows {
			e := r.(map[string]any)
			if int64(e["location_id"].(float64)) != f.Demo.Location.ID {
				t.Fatalf("entry of another location: %v", e)
			}
			ids = append(ids, strconv.FormatInt(int64(e["id"].(float64)), 10))
		}
		if cursor, _ = page["next_cursor"].(string); cursor == "" {
			break
		}
	}
	if len(ids) < 3 {
		t.Fatalf("ledger: %v", ids)
	}
	resp, raw := apiRaw(t, f, admin, "/api/v1"+q, map[string]string{"Accept": "text/csv"})
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") ||
		!strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment;") {
		t.Fatalf("csv: %d %v %s", resp.StatusCode, resp.Header, raw)
	}
	recs, err := csv.NewReader(strings.NewReader(raw)).ReadAll()
	if err != nil || len(recs) != len(ids)+1 || strings.Join(recs[0], ",") != "id,created_at,location_id,kind,credits,plan_delta,purchased_delta,message_id,conversation_id,inbox_id,channel,user_id,note" {
		t.Fatalf("csv: %d records for %d entries %v\n%s", len(recs), len(ids), err, raw)
	}
	for i, id := range ids {
		if recs[i+1][0] != id {
			t.Fatalf("csv line %d is entry %s, JSON had %s", i+1, recs[i+1][0], id)
		}
	}

	// Bad parameters: 422 naming them; another organization's location: 404.
	for _, tc := range []struct{ path, field string }{
		{"/credits/ledger?location_id=abc", "location_id"},
		{"/credits/ledger?from=yesterday", "from"},
		{"/credits/ledger?to=2026-13-01", "to"},
		{"/credits/ledger?from=2026-02-01&to=2026-01-01", "to"},
		{"/credits/ledger?limit=0", "limit"},
		{"/credits/ledger?cursor=zzz", "cursor"},
	} {
		status, p := apiCall(t, f, admin, "GET", tc.path, nil)
		if status != 422 || problemField(p) != tc.field {
			t.Errorf("%s: %d %v", tc.path, status, p)
		}
	}
	rival := otherOrgToken(t, f, "credits-rival")
	if status, _ := apiCall(t, f, rival, "GET", fmt.Sprintf("/credits/ledger?location_id=%d", f.Demo.Location.ID), nil); status != 404 {
		t.Errorf("rival's ledger of our location: %d", status)
	}
	if resp, _ := apiRaw(t, f, rival, fmt.Sprintf("/api/v1/credits/ledger?location_id=%d", f.Demo.Location.ID), map[string]string{"Accept": "text/csv"}); resp.StatusCode != 404 {
		t.Errorf("rival's CSV of our location: %d", resp.StatusCode)
	}
	for _, p := range []string{"/credits", "/credits/ledger"} {
		if status, _ := apiCall(t, f, agent, "GET", p, nil); status != 404 {
			t.Errorf("agent GET %s: %d", p, status)
		}
	}

	// Each conversation carries its cost: 3 texts, 2 credits each.
	rows, err := f.Store.Conversations(ctx, f.adminScope(), models.ConversationFilter{Status: "active", Query: from, Limit: 5})
	if err != nil || len(rows.Rows) != 1 {
		t.Fatalf("conversation of %s: %+v %v", from, rows, err)
	}
	conv := rows.Rows[0].ID
	if status, c := apiCall(t, f, agent, "GET", fmt.Sprintf("/conversations/%d", conv), nil); status != 200 || c["credits"] != float64(6) {
		t.Fatalf("conversation credits: %d %v", status, c["credits"])
	}
	status, list := apiCall(t, f, agent, "GET", "/conversations?q="+strings.TrimPrefix(from, "+"), nil)
	items, _ := list["data"].([]any)
	if status != 200 || len(items) != 1 || items[0].(map[string]any)["credits"] != float64(6) {
		t.Fatalf("list credits: %d %v", status, list)
	}
}

// otherOrgToken is an API token of an admin of another organization.
func otherOrgToken(t *testing.T, f *fixture, slug string) string {
	t.Helper()
	ctx := context.Background()
	var orgID, userID int64
	db := f.Store.DB()
	if err := db.NewRaw("INSERT INTO organizations (name, slug) VALUES (?, ?) ON CONFLICT (slug) DO UPDATE SET name = excluded.name RETURNING id", "Other "+slug, slug+"-"+runID).Scan(ctx, &orgID); err != nil {
		t.Fatal(err)
	}
	if err := db.NewRaw(`INSERT INTO users (org_id, email, name, role, password_hash) VALUES (?, ?, 'Other Admin', 'admin', 'x') RETURNING id`,
		orgID, fmt.Sprintf("admin-%s-%d@%s.test", runID, phoneSeq.Add(1), slug)).Scan(ctx, &userID); err != nil {
		t.Fatal(err)
	}
	tok, _, err := f.Store.CreateAPIToken(ctx, models.Scope{OrgID: orgID, UserID: userID, Role: models.RoleAdmin}, "rival")
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestCreditsPage(t *testing.T) {
	f := newFixture(t)
	from := chargeDemo(t, f, 2)
	rows, err := f.Store.Conversations(context.Background(), f.adminScope(), models.ConversationFilter{Status: "active", Query: from, Limit: 5})
	if err != nil || len(rows.Rows) != 1 {
		t.Fatalf("conversation: %v", err)
	}
	conv := rows.Rows[0].ID
	c := f.client(t)
	c.login(adminEmail, adminPassword)
	resp, body := c.get("/credits")
	if resp.StatusCode != 200 {
		t.Fatalf("/credits: %d", resp.StatusCode)
	}
	// The top conversations list links its rows; this test's own
	// conversation may not be among the top ones in a package run (other
	// tests charge the demo too), so its cost is checked in its thread.
	for _, want := range []string{
		fmt.Sprintf(`id="credits-%d"`, f.Demo.Location.ID), "<svg", "<title id=\"chart-", "Daily numbers", "Outbound", "Inbound", "Forwarded",
		"Burn rate", "At this rate the plan runs out on", fmt.Sprintf(`href="/settings/locations/%d"`, f.Demo.Location.ID), "Manage plan",
		`<a href="/chats/`, `action="/credits/ledger.csv"`, "By inbox", "Front Desk",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/credits lacks %q", want)
		}
	}
	// The download, and a bad date next to its field.
	resp, raw := c.get(fmt.Sprintf("/credits/ledger.csv?location_id=%d&from=%s&to=%s", f.Demo.Location.ID,
		time.Now().AddDate(0, 0, -1).Format(time.DateOnly), time.Now().AddDate(0, 0, 1).Format(time.DateOnly)))
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") || !strings.HasPrefix(raw, "id,created_at,") ||
		strings.Count(raw, ",inbound,") < 2 {
		t.Fatalf("csv download: %d %s\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), raw)
	}
	resp, body = c.get(fmt.Sprintf("/credits/ledger.csv?location_id=%d&from=soon", f.Demo.Location.ID))
	if resp.StatusCode != 422 || !strings.Contains(body, `id="from-error"`) {
		t.Fatalf("bad date: %d", resp.StatusCode)
	}

	// A manager sees the page without the plan link; an agent gets a 404.
	mgr, mpw := teamMember(t, f, models.RoleManager)
	m := f.client(t)
	m.login(mgr.Email, mpw)
	if resp, body := m.get("/credits"); resp.StatusCode != 200 || strings.Contains(body, "Manage plan") || !strings.Contains(body, "<svg") {
		t.Fatalf("manager's /credits: %d", resp.StatusCode)
	}
	a := f.client(t)
	a.login(agentEmail, agentPassword)
	if resp, _ := a.get("/credits"); resp.StatusCode != 404 {
		t.Fatalf("agent's /credits: %d", resp.StatusCode)
	}
	if resp, _ := a.get(fmt.Sprintf("/credits/ledger.csv?location_id=%d", f.Demo.Location.ID)); resp.StatusCode != 404 {
		t.Fatalf("agent's csv: %d", resp.StatusCode)
	}

	// The thread head shows the conversation's cost.
	if resp, body := a.get(fmt.Sprintf("/chats/%d", conv)); resp.StatusCode != 200 || !strings.Contains(body, ">4 credits</p>") {
		t.Fatalf("thread head: %d", resp.StatusCode)
	}
}
