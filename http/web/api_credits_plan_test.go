package web_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/models"
)

// TestPlanAPI: a location's plan through POST/PATCH /locations, its
// balance on the location, purchases (idempotent by key), and the rate
// card; bad values are 422s naming the field, other organizations' ids 404s.
func TestPlanAPI(t *testing.T) {
	f := newFixture(t)
	admin := apiAs(t, f, f.Demo.Org.ID, f.Demo.Admin.ID)
	agent := apiAs(t, f, f.Demo.Org.ID, f.Demo.Agent.ID)
	rival := otherOrgUser(t, f)
	rivalAPI := &apiCaller{t: t, base: f.URL, token: rival.token(t, f)}

	resp, err := http.Get(f.URL + "/api/v1/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`"/api/v1/locations/{id}/credit-purchases"`, `"/api/v1/rate-card"`, `"plan_period_start"`, `"plan_period_months"`, `"balance"`} {
		if !strings.Contains(string(doc), want) {
			t.Errorf("openapi.json lacks %s", want)
		}
	}

	type loc struct {
		ID               int64   `json:"id"`
		PlanStatus       string  `json:"plan_status"`
		PlanCredits      int     `json:"plan_credits"`
		PlanPeriodStart  *string `json:"plan_period_start"`
		PlanPeriodMonths int     `json:"plan_period_months"`
		Balance          *int64  `json:"balance"`
	}
	dropAfter(t, f, "locations", "Plan API")
	var l loc
	for _, tc := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"name": "Plan API", "plan_credits": -1}, "plan_credits"},
		{map[string]any{"name": "Plan API", "plan_credits": "many"}, "plan_credits"},
		{map[string]any{"name": "Plan API", "plan_period_months": 37}, "plan_period_months"},
		{map[string]any{"name": "Plan API", "plan_period_start": "next Tuesday"}, "plan_period_start"},
		{map[string]any{"name": "Plan API", "plan_period_start": "1999-01-01"}, "plan_period_start"},
	} {
		admin.expectProblem(422, tc.field, "POST", "/locations", tc.body)
	}
	// A date is midnight in the location's time zone (New York: 05:00Z in winter).
	today := time.Now().In(mustTZ(t, "America/New_York")).AddDate(0, 0, -1).Format("2006-01-02")
	admin.expect(201, "POST", "/locations", map[string]any{"name": "Plan API", "timezone": "America/New_York",
		"plan_status": "active", "plan_credits": 500, "plan_period_start": today, "plan_period_months": 3}, &l)
	wantStart, _ := time.ParseInLocation("2006-01-02", today, mustTZ(t, "America/New_York"))
	if l.PlanCredits != 500 || l.PlanPeriodMonths != 3 || l.PlanPeriodStart == nil || *l.PlanPeriodStart != wantStart.UTC().Format(time.RFC3339) ||
		l.Balance == nil || *l.Balance != 500 {
		t.Fatalf("created plan: %+v (start %v)", l, deref(l.PlanPeriodStart))
	}
	path := "/locations/" + itoa(l.ID)
	admin.expect(200, "PATCH", path, map[string]any{"plan_credits": 800}, &l)
	if l.PlanCredits != 800 || *l.Balance != 800 {
		t.Fatalf("patched plan: %+v", l)
	}
	admin.expectProblem(422, "plan_period_start", "PATCH", path, map[string]any{"plan_period_start": "2026-13-40"})
	rivalAPI.expect(404, "PATCH", path, map[string]any{"plan_credits": 1}, nil)
	agent.expect(404, "PATCH", path, map[string]any{"plan_credits": 1}, nil)

	// Purchases: 201 with the entry and the balance; a key replays.
	type purchase struct {
		ID, LocationID, Credits, Balance int64
		Note, CreatedAt                  string
	}
	var pu, again purchase
	buy := path + "/credit-purchases"
	raw := admin.expect(201, "POST", buy, map[string]any{"credits": 250, "note": "PO 7"}, nil, "Idempotency-Key", "buy-1")
	if err := json.Unmarshal([]byte(raw), &pu); err != nil {
		t.Fatal(err)
	}
	var pj map[string]any
	_ = json.Unmarshal([]byte(raw), &pj)
	if pu.ID == 0 || pj["location_id"] != float64(l.ID) || pu.Credits != 250 || pu.Note != "PO 7" || pu.Balance != 1050 || pj["created_at"] == "" {
		t.Fatalf("purchase: %s", raw)
	}
	resp2, raw2 := admin.call("POST", buy, map[string]any{"credits": 250, "note": "PO 7"}, &again, "Idempotency-Key", "buy-1")
	if resp2.StatusCode != 201 || resp2.Header.Get("Idempotent-Replayed") != "true" || raw2 != raw {
		t.Fatalf("replayed purchase: %d %s", resp2.StatusCode, raw2)
	}
	admin.expect(200, "GET", path, nil, &l)
	if *l.Balance != 1050 {
		t.Fatalf("balance after one purchase sent twice: %d", *l.Balance)
	}
	for _, tc := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"credits": 0}, "credits"},
		{map[string]any{"credits": 1.5}, "credits"},
		{map[string]any{"credits": 5, "note": strings.Repeat("x", 201)}, "note"},
	} {
		admin.expectProblem(422, tc.field, "POST", buy, tc.body)
	}
	rivalAPI.expect(404, "POST", buy, map[string]any{"credits": 5}, nil)
	agent.expect(404, "POST", buy, map[string]any{"credits": 5}, nil)

	// The rate card (changed in the rival's organization, so the demo's
	// prices stay as the other tests expect).
	var rc struct {
		SMS, MMS, Email struct{ Outbound, Inbound, Forwarded int }
		UpdatedAt       *string `json:"updated_at"`
	}
	admin.expect(200, "GET", "/rate-card", nil, &rc)
	if rc.SMS.Outbound != models.CreditsPerSMSSegment || rc.MMS.Inbound != models.CreditsPerMMS || rc.Email.Forwarded != models.CreditsPerEmail {
		t.Fatalf("rate card: %+v", rc)
	}
	agent.expect(404, "GET", "/rate-card", nil, nil)
	card := map[string]any{"sms": map[string]any{"outbound": 3, "inbound": 2, "forwarded": 2},
		"mms": map[string]any{"outbound": 5, "inbound": 4, "forwarded": 4}, "email": map[string]any{"outbound": 1, "inbound": 0, "forwarded": 1}}
	t.Cleanup(func() { f.Store.DB().NewRaw("DELETE FROM rate_cards WHERE org_id = ?", rival.orgID).Exec(t.Context()) })
	rivalAPI.expect(200, "PUT", "/rate-card", card, &rc)
	if rc.SMS.Outbound != 3 || rc.MMS.Outbound != 5 || rc.Email.Inbound != 0 || rc.UpdatedAt == nil {
		t.Fatalf("saved card: %+v", rc)
	}
	for _, tc := range []struct {
		mutate func(map[string]any)
		field  string
	}{
		{func(m map[string]any) { m["sms"] = map[string]any{"outbound": -1, "inbound": 2, "forwarded": 2} }, "sms.outbound"},
		{func(m map[string]any) { m["email"] = map[string]any{"outbound": 1, "inbound": 1, "forwarded": 1001} }, "email.forwarded"},
		{func(m map[string]any) { m["mms"] = map[string]any{"outbound": 1, "inbound": 1} }, "mms.forwarded"},
		{func(m map[string]any) { delete(m, "email") }, "email"},
		{func(m map[string]any) { m["sms"] = map[string]any{"outbound": "two", "inbound": 1, "forwarded": 1} }, "sms.outbound"},
	} {
		bad := map[string]any{}
		for k, v := range card {
			bad[k] = v
		}
		tc.mutate(bad)
		rivalAPI.expectProblem(422, tc.field, "PUT", "/rate-card", bad)
	}
	agent.expect(404, "PUT", "/rate-card", card, nil)
	rivalAPI.expect(200, "GET", "/rate-card", nil, &rc)
	if rc.SMS.Outbound != 3 {
		t.Fatalf("a refused card changed the saved one: %+v", rc)
	}
	admin.expect(200, "GET", "/rate-card", nil, &rc)
	if rc.SMS.Outbound != models.CreditsPerSMSSegment {
		t.Fatalf("the rival's card changed ours: %+v", rc)
	}
}

func mustTZ(t *testing.T, name string) *time.Location {
	t.Helper()
	tz, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return tz
}

func deref(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}
