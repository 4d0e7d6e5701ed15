package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/parley-chat/parley/models"
)

// apiCall sends a JSON request with a bearer token and decodes the answer.
func apiCall(t *testing.T, f *fixture, token, method, path string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, f.URL+"/api/v1"+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := map[string]any{}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("%s %s: not JSON: %s", method, path, raw)
		}
	}
	return resp.StatusCode, out
}

// problemField is the first field a problem's errors name.
func problemField(p map[string]any) string {
	errs, _ := p["errors"].([]any)
	if len(errs) == 0 {
		return ""
	}
	e, _ := errs[0].(map[string]any)
	s, _ := e["field"].(string)
	return s
}

func TestSettingsAPI(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	admin := models.Scope{OrgID: f.Demo.Org.ID, UserID: f.Demo.Admin.ID, Role: models.RoleAdmin, Name: "Admin"}
	token, _, err := f.Store.CreateAPIToken(ctx, admin, "settings api test")
	if err != nil {
		t.Fatal(err)
	}
	agentToken, _, err := f.Store.CreateAPIToken(ctx, models.Scope{OrgID: f.Demo.Org.ID, UserID: f.Demo.Agent.ID, Role: models.RoleAgent}, "agent")
	if err != nil {
		t.Fatal(err)
	}
	rival := otherOrgUser(t, f)

	// The description documents the settings routes with their fields.
	resp, err := http.Get(f.URL + "/api/v1/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	docRaw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	doc := string(docRaw)
	for _, want := range []string{`"/api/v1/inboxes/{id}"`, `"/api/v1/locations"`, `"/api/v1/organization"`, `"/api/v1/inboxes/{id}/closures/{closure_id}"`,
		`"archived"`, `"business_hours"`, `"default_country"`, `"quiet_start"`} {
		if !strings.Contains(doc, want) {
			t.Errorf("openapi.json lacks %s", want)
		}
	}

	// Organization.
	st, org := apiCall(t, f, token, "GET", "/organization", nil)
	if st != 200 || org["name"] != f.Demo.Org.Name || org["default_country"] != "US" {
		t.Fatalf("GET /organization: %d %v", st, org)
	}
	st, p := apiCall(t, f, token, "PATCH", "/organization", map[string]any{"default_country": "Narnia"})
	if st != 422 || problemField(p) != "default_country" {
		t.Fatalf("bad country: %d %v", st, p)
	}
	if st, p = apiCall(t, f, agentToken, "PATCH", "/organization", map[string]any{"name": "Agents Inc"}); st != 404 {
		t.Fatalf("agent PATCH /organization: %d %v", st, p)
	}

	// Locations: validation names the field; PATCH changes only what it sends.
	st, p = apiCall(t, f, token, "POST", "/locations", map[string]any{"name": "API Annex", "timezone": "Moon/Base"})
	if st != 422 || problemField(p) != "timezone" || p["type"] == "about:blank" {
		t.Fatalf("bad timezone: %d %v", st, p)
	}
	st, p = apiCall(t, f, token, "POST", "/locations", map[string]any{"name": "API Annex", "colour": "red"})
	if st != 422 || problemField(p) != "colour" {
		t.Fatalf("unknown field: %d %v", st, p)
	}
	dropAfter(t, f, "locations", "API Annex")
	st, loc := apiCall(t, f, token, "POST", "/locations", map[string]any{"name": "API Annex", "timezone": "Asia/Tokyo",
		"quiet_start": "22:00", "quiet_end": "07:00", "plan_status": "active"})
	if st != 201 || loc["timezone"] != "Asia/Tokyo" || loc["quiet_start"] != "22:00" || loc["archived"] != false {
		t.Fatalf("POST /locations: %d %v", st, loc)
	}
	locID := int64(loc["id"].(float64))
	st, loc = apiCall(t, f, token, "PATCH", "/locations/"+itoa(locID), map[string]any{"plan_name": "Growth"})
	if st != 200 || loc["plan_name"] != "Growth" || loc["timezone"] != "Asia/Tokyo" || loc["quiet_end"] != "07:00" || loc["plan_status"] != "active" {
		t.Fatalf("PATCH partial: %d %v", st, loc)
	}
	if st, p = apiCall(t, f, rival.token(t, f), "GET", "/locations/"+itoa(locID), nil); st != 404 {
		t.Fatalf("another org GET location: %d %v", st, p)
	}
	if st, p = apiCall(t, f, rival.token(t, f), "PATCH", "/locations/"+itoa(locID), map[string]any{"name": "Ours"}); st != 404 {
		t.Fatalf("another org PATCH location: %d %v", st, p)
	}
	// Keyset pages: one at a time, every location once.
	seen := map[float64]bool{}
	cursor := ""
	for i := 0; i < 10; i++ {
		path := "/locations?limit=1"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		st, page := apiCall(t, f, token, "GET", path, nil)
		data, _ := page["data"].([]any)
		if st != 200 || len(data) > 1 {
			t.Fatalf("GET %s: %d %v", path, st, page)
		}
		for _, d := range data {
			id := d.(map[string]any)["id"].(float64)
			if seen[id] {
				t.Fatalf("location %v listed twice", id)
			}
			seen[id] = true
		}
		if cursor, _ = page["next_cursor"].(string); cursor == "" {
			break
		}
	}
	if !seen[float64(locID)] || !seen[float64(f.Demo.Location.ID)] {
		t.Fatalf("locations listed: %v", seen)
	}

	// Inboxes.
	dropAfter(t, f, "inboxes", "API desk")
	st, p = apiCall(t, f, token, "POST", "/inboxes", map[string]any{"name": "API desk", "location_id": locID, "sms_number": "+15550109999"})
	if st != 422 || problemField(p) != "sms_number" || strings.Contains(p["detail"].(string), "Rival") {
		t.Fatalf("another org's number: %d %v", st, p)
	}
	st, p = apiCall(t, f, token, "POST", "/inboxes", map[string]any{"name": "API desk", "location_id": locID,
		"business_hours": map[string]any{"mon": [][]string{{"09:00", "12:00"}, {"11:00", "13:00"}}}})
	if st != 422 || problemField(p) != "business_hours.mon" {
		t.Fatalf("overlapping hours: %d %v", st, p)
	}
	st, ib := apiCall(t, f, token, "POST", "/inboxes", map[string]any{"name": "API desk", "location_id": locID,
		"sms_number": "555-010-0321", "business_hours": map[string]any{"mon": [][]string{{"09:00", "17:00"}}}})
	if st != 201 || ib["sms_number"] != "+15550100321" || ib["location_id"] != float64(locID) {
		t.Fatalf("POST /inboxes: %d %v", st, ib)
	}
	ibID := int64(ib["id"].(float64))
	st, ib = apiCall(t, f, token, "PATCH", "/inboxes/"+itoa(ibID), map[string]any{"help_text": "Reply STOP to stop."})
	hours, _ := ib["business_hours"].(map[string]any)
	if st != 200 || ib["help_text"] != "Reply STOP to stop." || ib["sms_number"] != "+15550100321" || len(hours) != 1 {
		t.Fatalf("PATCH partial inbox: %d %v", st, ib)
	}
	if st, p = apiCall(t, f, rival.token(t, f), "GET", "/inboxes/"+itoa(ibID), nil); st != 404 {
		t.Fatalf("another org GET inbox: %d %v", st, p)
	}
	if st, p = apiCall(t, f, rival.token(t, f), "DELETE", "/inboxes/"+itoa(ibID), nil); st != 404 {
		t.Fatalf("another org DELETE inbox: %d %v", st, p)
	}
	if st, p = apiCall(t, f, agentToken, "PATCH", "/inboxes/"+itoa(ibID), map[string]any{"name": "Agent desk"}); st != 404 {
		t.Fatalf("agent PATCH inbox: %d %v", st, p)
	}
	// Closures.
	closures := "/inboxes/" + itoa(ibID) + "/closures"
	st, p = apiCall(t, f, token, "POST", closures, map[string]any{"name": "", "starts_on": "2026-12-24"})
	if st != 422 || problemField(p) != "name" {
		t.Fatalf("closure without a name: %d %v", st, p)
	}
	st, cl := apiCall(t, f, token, "POST", closures, map[string]any{"name": "Winter break", "starts_on": "2026-12-24", "ends_on": "2026-12-26"})
	if st != 201 || cl["starts_on"] != "2026-12-24" || cl["ends_on"] != "2026-12-26" {
		t.Fatalf("POST closure: %d %v", st, cl)
	}
	if st, p = apiCall(t, f, rival.token(t, f), "GET", closures, nil); st != 404 {
		t.Fatalf("another org GET closures: %d %v", st, p)
	}
	st, list := apiCall(t, f, token, "GET", closures, nil)
	if data, _ := list["data"].([]any); st != 200 || len(data) != 1 {
		t.Fatalf("GET closures: %d %v", st, list)
	}
	if st, p = apiCall(t, f, token, "DELETE", closures+"/"+itoa(int64(cl["id"].(float64))), nil); st != 204 {
		t.Fatalf("DELETE closure: %d %v", st, p)
	}

	// The new location's plan has no credits yet: buy some, then a
	// conversation makes the inbox used.
	if _, err := f.Store.PurchaseCredits(ctx, admin, locID, 10, "for the test"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Store.StartConversation(ctx, admin, models.StartInput{InboxID: ibID, To: "+15550100322", Body: "Hi"}); err != nil {
		t.Fatal(err)
	}
	st, p = apiCall(t, f, token, "DELETE", "/inboxes/"+itoa(ibID), nil)
	if st != 409 || !strings.Contains(p["detail"].(string), "archive") {
		t.Fatalf("DELETE with conversations: %d %v", st, p)
	}
	st, ib = apiCall(t, f, token, "PATCH", "/inboxes/"+itoa(ibID), map[string]any{"archived": true})
	if st != 200 || ib["archived"] != true || ib["archived_at"] == nil {
		t.Fatalf("archive: %d %v", st, ib)
	}
	// An inbox without conversations is deleted.
	dropAfter(t, f, "inboxes", "API spare")
	st, ib = apiCall(t, f, token, "POST", "/inboxes", map[string]any{"name": "API spare", "location_id": locID})
	if st != 201 {
		t.Fatalf("POST spare: %d %v", st, ib)
	}
	spare := itoa(int64(ib["id"].(float64)))
	if st, p = apiCall(t, f, token, "DELETE", "/inboxes/"+spare, nil); st != 204 {
		t.Fatalf("DELETE spare: %d %v", st, p)
	}
	if st, _ = apiCall(t, f, token, "GET", "/inboxes/"+spare, nil); st != 404 {
		t.Fatalf("deleted inbox GET: %d", st)
	}
	// The audit log says it was the API, with the token.
	var via string
	var tokenID *int64
	if err := f.Store.DB().NewRaw("SELECT via, token_id FROM audit_log WHERE action = 'inbox.delete' AND target_id = ?", mustInt(spare)).Scan(ctx, &via, &tokenID); err != nil || via != "api" || tokenID == nil {
		t.Fatalf("audit of the API delete: %q %v %v", via, tokenID, err)
	}
}

// token creates an API token for the other organization's admin.
func (o *otherUser) token(t *testing.T, f *fixture) string {
	t.Helper()
	tok, _, err := f.Store.CreateAPIToken(context.Background(), models.Scope{OrgID: o.orgID, UserID: o.userID, Role: models.RoleAdmin}, "rival")
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
