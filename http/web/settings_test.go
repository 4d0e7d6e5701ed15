package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/parley-chat/parley/models"
)

// managerClient adds a manager to the demo organization and signs them in.
func managerClient(t *testing.T, f *fixture, email string) *client {
	t.Helper()
	hash, err := models.HashPassword("manager password 1")
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.Store.DB().NewRaw(`INSERT INTO users (org_id, email, name, role, password_hash) VALUES (?, ?, 'Mona Manager', 'manager', ?)
		ON CONFLICT (email) DO UPDATE SET password_hash = excluded.password_hash, role = 'manager'`, f.Demo.Org.ID, email, hash).Exec(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	c := f.client(t)
	c.login(email, "manager password 1")
	return c
}

// dropInboxesNamed deletes the demo organization's inboxes a test made
// (with their conversations), so other tests see the demo as seeded.
func dropAfter(t *testing.T, f *fixture, table, name string) {
	t.Cleanup(func() {
		f.Store.DB().NewRaw("DELETE FROM "+table+" WHERE org_id = ? AND name = ?", f.Demo.Org.ID, name).Exec(context.Background())
	})
}

var submitButton = regexp.MustCompile(`<button[^>]*type="submit"`)

// readForms are forms that change nothing (method get: the forwarding
// preview), which a read-only viewer keeps.
var readForms = regexp.MustCompile(`(?s)<form[^>]*method="get".*?</form>`)

// mainOf is the page's <main> (the layout's sidebar has the sign-out button).
func mainOf(body string) string {
	if i := strings.Index(body, "<main"); i >= 0 {
		body = body[i:]
	}
	if i := strings.Index(body, "</main>"); i >= 0 {
		body = body[:i]
	}
	return body
}

func TestSettingsPagesByRole(t *testing.T) {
	f := newFixture(t)
	inbox := "/settings/inboxes/" + itoa(f.Demo.Inbox.ID)
	location := "/settings/locations/" + itoa(f.Demo.Location.ID)
	pages := []string{"/settings", "/settings/locations", location, "/settings/inboxes", inbox}

	agent := f.client(t)
	agent.login(agentEmail, agentPassword)
	for _, p := range append(pages, "/settings/locations/new", "/settings/inboxes/new") {
		if resp, _ := agent.get(p); resp.StatusCode != http.StatusNotFound {
			t.Errorf("agent GET %s: %d, want 404", p, resp.StatusCode)
		}
	}
	tok := agent.csrf("/chats")
	if resp, _ := agent.do("POST", "/settings", url.Values{"_csrf": {tok}, "name": {"Agent's org"}, "default_country": {"US"}}, nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("agent POST /settings: %d, want 404", resp.StatusCode)
	}

	manager := managerClient(t, f, "manager@settings-pages.test")
	for _, p := range pages {
		resp, body := manager.get(p)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("manager GET %s: %d", p, resp.StatusCode)
		}
		if m := readForms.ReplaceAllString(mainOf(body), ""); submitButton.MatchString(m) || strings.Contains(m, "Add location") || strings.Contains(m, "Add inbox") {
			t.Errorf("manager sees a form button on %s:\n%s", p, m)
		}
	}
	if _, body := manager.get(location); !strings.Contains(body, `value="`+f.Demo.Location.Timezone+`"`) || !strings.Contains(body, "disabled") {
		t.Errorf("manager's location page is not a read-only form")
	}
	tok = manager.csrf("/settings")
	for _, p := range []string{"/settings", "/settings/locations", location, inbox, inbox + "/archive", inbox + "/delete"} {
		if resp, _ := manager.do("POST", p, url.Values{"_csrf": {tok}, "name": {"Managed"}, "archived": {"1"}}, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("manager POST %s: %d, want 404", p, resp.StatusCode)
		}
	}
	if o, _ := f.Store.Organization(context.Background(), models.Scope{OrgID: f.Demo.Org.ID}); o.Name == "Managed" {
		t.Fatal("a manager renamed the organization")
	}

	// Another organization's ids are 404 for an admin too.
	rival := otherOrgUser(t, f)
	for _, p := range []string{inbox, location} {
		if resp, _ := rival.get(p); resp.StatusCode != http.StatusNotFound {
			t.Errorf("another org's admin GET %s: %d, want 404", p, resp.StatusCode)
		}
	}
}

func TestSettingsForms(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	admin := f.client(t)
	admin.login(adminEmail, adminPassword)
	tok := admin.csrf("/settings")
	post := func(path string, v url.Values) (*http.Response, string) {
		v.Set("_csrf", tok)
		return admin.do("POST", path, v, nil)
	}

	// Organization: a bad country is refused next to the field.
	resp, body := post("/settings", url.Values{"name": {"Demo"}, "default_country": {"ZZ"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `id="country-error"`) {
		t.Fatalf("bad country: %d\n%s", resp.StatusCode, mainOf(body))
	}
	if resp, _ = post("/settings", url.Values{"name": {f.Demo.Org.Name}, "default_country": {"US"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("good organization form: %d", resp.StatusCode)
	}

	// Location: each bad field is shown next to itself, and nothing is saved.
	dropAfter(t, f, "locations", "Settings Annex")
	for _, tc := range []struct {
		field string
		v     url.Values
	}{
		{"timezone", url.Values{"name": {"Settings Annex"}, "timezone": {"Nowhere/Town"}, "plan_status": {"active"}}},
		{"quiet_end", url.Values{"name": {"Settings Annex"}, "timezone": {"UTC"}, "quiet_start": {"22:00"}, "plan_status": {"active"}}},
		{"name", url.Values{"name": {""}, "timezone": {"UTC"}, "plan_status": {"active"}}},
	} {
		resp, body := post("/settings/locations", tc.v)
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `id="`+tc.field+`-error"`) {
			t.Fatalf("bad %s: %d\n%s", tc.field, resp.StatusCode, mainOf(body))
		}
	}
	n, _ := f.Store.DB().NewSelect().Table("locations").Where("name = 'Settings Annex'").Count(ctx)
	if n != 0 {
		t.Fatal("a refused location form saved a location")
	}
	resp, _ = post("/settings/locations", url.Values{"name": {"Settings Annex"}, "timezone": {"America/Chicago"},
		"quiet_start": {"21:00"}, "quiet_end": {"07:30"}, "plan_status": {"active"}, "plan_name": {"Pilot"}})
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/settings/locations/") {
		t.Fatalf("good location form: %d %s", resp.StatusCode, loc)
	}
	if _, body := admin.get(loc); !strings.Contains(body, "Saved.") || !strings.Contains(body, `value="America/Chicago"`) || !strings.Contains(body, `value="07:30"`) {
		t.Fatalf("saved location page:\n%s", mainOf(body))
	}
	locID := mustInt(strings.TrimPrefix(strings.Split(loc, "?")[0], "/settings/locations/"))

	// Inbox: bad hours on Monday are shown on Monday's row; a taken number
	// next to the number.
	dropAfter(t, f, "inboxes", "Settings desk")
	good := func() url.Values {
		return url.Values{"name": {"Settings desk"}, "location_id": {itoa(locID)}, "sms_number": {"(555) 010-0456"},
			"email_address": {"Desk@Settings.test"}, "help_text": {"Call us."}, "hours": {"set"},
			"business_hours.mon": {"9:00-12:00, 13:00-17:00"}, "business_hours.sat": {"10:00-14:00"}}
	}
	bad := good()
	bad.Set("business_hours.mon", "17:00-09:00")
	resp, body = post("/settings/inboxes", bad)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `id="hours-mon-error"`) || !strings.Contains(body, `value="17:00-09:00"`) {
		t.Fatalf("bad hours: %d\n%s", resp.StatusCode, mainOf(body))
	}
	bad = good()
	bad.Set("sms_number", "+15550109999") // the Rival organization's, once it exists
	otherOrgUser(t, f)
	resp, body = post("/settings/inboxes", bad)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `id="sms_number-error">This number belongs to another inbox.`) || strings.Contains(body, "Rival") {
		t.Fatalf("taken number: %d\n%s", resp.StatusCode, mainOf(body))
	}
	resp, _ = post("/settings/inboxes", good())
	ibPath := strings.Split(resp.Header.Get("Location"), "?")[0]
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(ibPath, "/settings/inboxes/") {
		t.Fatalf("good inbox form: %d %s", resp.StatusCode, ibPath)
	}
	ibID := mustInt(strings.TrimPrefix(ibPath, "/settings/inboxes/"))
	ib, err := f.Store.InboxByID(ctx, models.Scope{OrgID: f.Demo.Org.ID, Role: models.RoleAdmin}, ibID)
	if err != nil || *ib.SMSNumber != "+15550100456" || *ib.EmailAddress != "desk@settings.test" ||
		models.FormatDayHours(ib.BusinessHours["mon"]) != "09:00-12:00, 13:00-17:00" || len(ib.BusinessHours) != 2 {
		t.Fatalf("saved inbox: %+v %v", ib, err)
	}

	// Closures: a bad range is refused next to the field; a good one is listed.
	resp, body = post(ibPath+"/closures", url.Values{"closure_name": {"Break"}, "starts_on": {"2026-12-24"}, "ends_on": {"2026-12-01"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `id="ends_on-error"`) {
		t.Fatalf("bad closure: %d\n%s", resp.StatusCode, mainOf(body))
	}
	if resp, _ = post(ibPath+"/closures", url.Values{"closure_name": {"Winter break"}, "starts_on": {"2026-12-24"}, "ends_on": {"2026-12-26"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("good closure: %d", resp.StatusCode)
	}
	if _, body = admin.get(ibPath); !strings.Contains(body, "Winter break") || !strings.Contains(body, "Thu 24 Dec 2026") {
		t.Fatalf("closure not listed:\n%s", mainOf(body))
	}

	// With a conversation it cannot be deleted, only archived; archived, it
	// is not offered for a new chat.
	sc := models.Scope{OrgID: f.Demo.Org.ID, UserID: f.Demo.Admin.ID, Role: models.RoleAdmin}
	fundInboxLocation(t, f, sc, ibID)
	if _, err := f.Store.StartConversation(ctx, sc, models.StartInput{InboxID: ibID, To: "+15550100457", Body: "Hi"}); err != nil {
		t.Fatal(err)
	}
	resp, _ = post(ibPath+"/delete", url.Values{})
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "in_use") {
		t.Fatalf("delete with a conversation: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if _, body = admin.get(resp.Header.Get("Location")); !strings.Contains(body, "Archive it instead") {
		t.Fatalf("no explanation after a refused delete:\n%s", mainOf(body))
	}
	if resp, _ = post(ibPath+"/archive", url.Values{"archived": {"1"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("archive: %d", resp.StatusCode)
	}
	_, body = admin.get("/chats/new")
	form := body[strings.Index(body, `id="new-chat"`):]
	form = form[:strings.Index(form, "</form>")]
	if !strings.Contains(form, `name="inbox"`) || strings.Contains(form, `value="`+itoa(ibID)+`"`) {
		t.Fatalf("the new-chat picker offers an archived inbox:\n%s", form)
	}
	if _, body = admin.get("/settings/inboxes"); !strings.Contains(body, "Archived inboxes") {
		t.Fatal("archived inboxes are not listed apart")
	}
}

func ptr[T any](v T) *T { return &v }

// fundInboxLocation buys credits for the location of inbox ibID, so a
// test can send from a location it just created.
func fundInboxLocation(t *testing.T, f *fixture, sc models.Scope, ibID int64) {
	t.Helper()
	var locID int64
	if err := f.Store.DB().NewRaw("SELECT location_id FROM inboxes WHERE id = ?", ibID).Scan(context.Background(), &locID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Store.PurchaseCredits(context.Background(), sc, locID, 100, "for the test"); err != nil {
		t.Fatal(err)
	}
}
