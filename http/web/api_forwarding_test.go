package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/parley-chat/parley/models"
)

// TestForwardingRulesAPI: an inbox's forwarding rules are added, listed
// with whether each applies at a time asked (in the location's timezone,
// against its business hours), refused field by field when wrong (with
// nothing stored), hidden from another organization, and removed.
func TestForwardingRulesAPI(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	admin := models.Scope{OrgID: f.Demo.Org.ID, UserID: f.Demo.Admin.ID, Role: models.RoleAdmin, Name: "Admin"}
	token, _, err := f.Store.CreateAPIToken(ctx, admin, "forwarding api test")
	if err != nil {
		t.Fatal(err)
	}
	rival := otherOrgUser(t, f)

	st, loc := apiCall(t, f, token, "POST", "/locations", map[string]any{"name": "Forwarding " + runID, "timezone": "America/New_York"})
	if st != 201 {
		t.Fatalf("POST location: %d %v", st, loc)
	}
	weekdays := [][]string{{"09:00", "17:00"}}
	st, ib := apiCall(t, f, token, "POST", "/inboxes", map[string]any{"name": "Forwarding " + runID, "location_id": loc["id"],
		"business_hours": map[string]any{"mon": weekdays, "tue": weekdays, "wed": weekdays, "thu": weekdays, "fri": weekdays}})
	if st != 201 {
		t.Fatalf("POST inbox: %d %v", st, ib)
	}
	rules := "/inboxes/" + itoa(int64(ib["id"].(float64))) + "/forwarding-rules"

	// Refused, each naming its field.
	for _, c := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"targets": []any{}, "channels": []string{"sms"}, "schedule": map[string]any{"kind": "always"}}, "targets"},
		{map[string]any{"targets": []any{map[string]any{"phone": "+15550100999"}}, "channels": []string{"fax"}, "schedule": map[string]any{"kind": "always"}}, "channels"},
		{map[string]any{"targets": []any{map[string]any{"phone": "+15550100999"}}, "channels": []string{"sms"}, "schedule": map[string]any{"kind": "sometimes"}}, "schedule.kind"},
		{map[string]any{"targets": []any{map[string]any{"phone": "+15550100999"}}, "channels": []string{"sms"},
			"schedule": map[string]any{"kind": "weekly", "windows": []any{map[string]any{"day": "fri", "from": "18:00", "to": "8pm"}}}}, "schedule.windows.0.to"},
		{map[string]any{"targets": []any{map[string]any{"phone": "+15550100999"}}, "channels": []string{"email"}, "schedule": map[string]any{"kind": "always"}}, "targets.0.phone"},
		{map[string]any{"targets": []any{map[string]any{"email": "a@example.test"}, map[string]any{"phone": "not a phone"}}, "channels": []string{"sms", "email"},
			"schedule": map[string]any{"kind": "always"}}, "targets.1.phone"},
		{map[string]any{"targets": []any{map[string]any{"user_id": 999999999}}, "channels": []string{"email"}, "schedule": map[string]any{"kind": "always"}}, "targets.0.user_id"},
		{map[string]any{"targets": []any{map[string]any{"email": "a@example.test", "phone": "+15550100999"}}, "channels": []string{"sms", "email"},
			"schedule": map[string]any{"kind": "always"}}, "targets.0"},
		{map[string]any{"targets": []any{map[string]any{"email": "a@example.test"}}, "channels": []string{"email"}, "schedule": map[string]any{"kind": "always"},
			"unanswered_minutes": -5}, "unanswered_minutes"},
		{map[string]any{"targets": []any{map[string]any{"user_id": f.Demo.Admin.ID}, map[string]any{"email": strings.ToUpper(adminEmail)}},
			"channels": []string{"email"}, "schedule": map[string]any{"kind": "always"}}, "targets.1.email"}, // the same person twice
	} {
		if st, p := apiCall(t, f, token, "POST", rules, c.body); st != 422 || problemField(p) != c.field {
			t.Errorf("POST %v: %d %v, want 422 on %s", c.body, st, p, c.field)
		}
	}

	// After hours, by SMS to the on-call phone (typed locally); in business
	// hours by email to Dana; a Friday-night window to the admin, by email.
	st, night := apiCall(t, f, token, "POST", rules, map[string]any{"targets": []any{map[string]any{"phone": "(555) 010-0999"}},
		"channels": []string{"sms"}, "schedule": map[string]any{"kind": "after_hours"}})
	if st != 201 || night["targets"].([]any)[0].(map[string]any)["phone"] != "+15550100999" {
		t.Fatalf("POST after-hours rule: %d %v", st, night)
	}
	st, day := apiCall(t, f, token, "POST", rules, map[string]any{"targets": []any{map[string]any{"email": "Dana@Example.test"}},
		"channels": []string{"email"}, "schedule": map[string]any{"kind": "business_hours"}, "only_unassigned": true})
	if st != 201 || day["targets"].([]any)[0].(map[string]any)["email"] != "dana@example.test" || day["only_unassigned"] != true {
		t.Fatalf("POST business-hours rule: %d %v", st, day)
	}
	st, weekend := apiCall(t, f, token, "POST", rules, map[string]any{"targets": []any{map[string]any{"user_id": f.Demo.Admin.ID}},
		"channels": []string{"email"}, "unanswered_minutes": 30,
		"schedule": map[string]any{"kind": "weekly", "windows": []any{map[string]any{"day": "fri", "from": "18:00", "to": "08:00"}}}})
	if st != 201 || weekend["unanswered_minutes"] != float64(30) {
		t.Fatalf("POST weekly rule: %d %v", st, weekend)
	}

	active := func(at string) map[float64]bool {
		t.Helper()
		st, list := apiCall(t, f, token, "GET", rules+"?at="+at, nil)
		data, _ := list["data"].([]any)
		if st != 200 || len(data) != 3 {
			t.Fatalf("GET rules at %s: %d %v", at, st, list)
		}
		out := map[float64]bool{}
		for _, d := range data {
			r := d.(map[string]any)
			out[r["id"].(float64)] = r["active"].(bool)
		}
		return out
	}
	id := func(r map[string]any) float64 { return r["id"].(float64) }
	// Tuesday 2026-12-08 10:00 in New York (15:00 UTC): open.
	if a := active("2026-12-08T15:00:00Z"); a[id(night)] || !a[id(day)] || a[id(weekend)] {
		t.Errorf("Tuesday 10:00: %v", a)
	}
	// Saturday 2026-12-12 02:00 in New York (07:00 UTC): closed, and in the
	// Friday-night window past midnight.
	if a := active("2026-12-12T07:00:00Z"); !a[id(night)] || a[id(day)] || !a[id(weekend)] {
		t.Errorf("Saturday 02:00: %v", a)
	}
	if st, p := apiCall(t, f, token, "GET", rules+"?at=tomorrow", nil); st != 422 || problemField(p) != "at" {
		t.Errorf("GET ?at=tomorrow: %d %v", st, p)
	}
	if st, p := apiCall(t, f, rival.token(t, f), "GET", rules, nil); st != 404 {
		t.Errorf("another organization: %d %v", st, p)
	}

	if st, p := apiCall(t, f, token, "DELETE", rules+"/"+itoa(int64(id(day))), nil); st != 204 {
		t.Fatalf("DELETE rule: %d %v", st, p)
	}
	if st, p := apiCall(t, f, token, "DELETE", rules+"/"+itoa(int64(id(day))), nil); st != 404 {
		t.Errorf("DELETE rule again: %d %v", st, p)
	}
	if st, list := apiCall(t, f, token, "GET", rules, nil); st != 200 || len(list["data"].([]any)) != 2 {
		t.Errorf("after the delete: %d %v", st, list)
	}
	var audited int
	if err := f.Store.DB().NewRaw(`SELECT count(*) FROM audit_log WHERE org_id = ? AND target_id = ? AND action IN
		('inbox.add_forwarding_rule', 'inbox.remove_forwarding_rule')`, f.Demo.Org.ID, int64(ib["id"].(float64))).Scan(ctx, &audited); err != nil || audited != 4 {
		t.Errorf("audit entries: %d (%v), want 4", audited, err)
	}
}
