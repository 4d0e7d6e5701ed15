package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/parley-chat/parley/models"
)

// TestAutoResponsesAPI: an inbox's auto-responses start off with a day's
// cool-down, are set whole with their placeholders filled and their SMS
// shape shown, are refused field by field when wrong (nothing changed),
// and are audited.
func TestAutoResponsesAPI(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	admin := models.Scope{OrgID: f.Demo.Org.ID, UserID: f.Demo.Admin.ID, Role: models.RoleAdmin, Name: "Admin"}
	token, _, err := f.Store.CreateAPIToken(ctx, admin, "auto-responses api test")
	if err != nil {
		t.Fatal(err)
	}
	st, loc := apiCall(t, f, token, "POST", "/locations", map[string]any{"name": "Auto " + runID, "timezone": "Europe/London"})
	if st != 201 {
		t.Fatalf("POST location: %d %v", st, loc)
	}
	st, ib := apiCall(t, f, token, "POST", "/inboxes", map[string]any{"name": "Auto " + runID, "location_id": loc["id"]})
	if st != 201 {
		t.Fatalf("POST inbox: %d %v", st, ib)
	}
	path := "/inboxes/" + itoa(int64(ib["id"].(float64))) + "/auto-responses"

	st, a := apiCall(t, f, token, "GET", path, nil)
	if st != 200 || a["cooldown_minutes"] != float64(1440) || a["initial"].(map[string]any)["enabled"] != false {
		t.Fatalf("GET before any: %d %v", st, a)
	}
	good := map[string]any{
		"initial":       map[string]any{"enabled": true, "body": "Thanks for your message to {location}. We reply {response_time}."},
		"out_of_office": map[string]any{"enabled": true, "body": "We are closed. {notice}"},
		"response_time": "within 2 hours", "notice": "For emergencies call 999.", "cooldown_minutes": 720,
	}
	for _, c := range []struct {
		change map[string]any
		field  string
	}{
		{map[string]any{"initial": map[string]any{"enabled": true, "body": " "}}, "initial.body"},
		{map[string]any{"initial": map[string]any{"enabled": true, "body": "Hello {frist_name}"}}, "initial.body"},
		{map[string]any{"response_time": ""}, "initial.body"}, // {response_time} needs one
		{map[string]any{"out_of_office": map[string]any{"enabled": true, "body": strings.Repeat("Closed. ", 300)}}, "out_of_office.body"},
		{map[string]any{"cooldown_minutes": -1}, "cooldown_minutes"},
	} {
		body := map[string]any{}
		for k, v := range good {
			body[k] = v
		}
		for k, v := range c.change {
			body[k] = v
		}
		if st, p := apiCall(t, f, token, "PUT", path, body); st != 422 || problemField(p) != c.field {
			t.Errorf("PUT %v: %d %v, want 422 on %s", c.change, st, p, c.field)
		}
	}
	if st, a = apiCall(t, f, token, "GET", path, nil); st != 200 || a["initial"].(map[string]any)["enabled"] != false {
		t.Fatalf("a refused PUT changed the settings: %v", a)
	}

	st, a = apiCall(t, f, token, "PUT", path, good)
	initial := a["initial"].(map[string]any)
	if st != 200 || initial["written"] != "Thanks for your message to Auto "+runID+". We reply within 2 hours." ||
		initial["segments"] != float64(1) || initial["encoding"] != "text" || a["cooldown_minutes"] != float64(720) {
		t.Fatalf("PUT: %d %v", st, a)
	}
	if ooo := a["out_of_office"].(map[string]any); ooo["written"] != "We are closed. For emergencies call 999." {
		t.Errorf("out of office written: %v", ooo)
	}
	if st, again := apiCall(t, f, token, "GET", path, nil); st != 200 || again["initial"].(map[string]any)["written"] != initial["written"] {
		t.Errorf("GET after PUT: %d %v", st, again)
	}
	// Left out, the cool-down is a day again; the texts off.
	if st, a = apiCall(t, f, token, "PUT", path, map[string]any{}); st != 200 || a["cooldown_minutes"] != float64(1440) || a["initial"].(map[string]any)["enabled"] != false {
		t.Errorf("PUT {}: %d %v", st, a)
	}
	var audited int
	if err := f.Store.DB().NewRaw(`SELECT count(*) FROM audit_log WHERE org_id = ? AND target_id = ? AND action = 'inbox.set_auto_responses'`,
		f.Demo.Org.ID, int64(ib["id"].(float64))).Scan(ctx, &audited); err != nil || audited != 2 {
		t.Errorf("audit entries: %d (%v), want 2", audited, err)
	}
}
