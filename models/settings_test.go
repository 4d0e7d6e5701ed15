package models_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/parley-chat/parley/models"
)

func ptr[T any](v T) *T { return &v }

// wantField fails unless err is a *FieldError on field.
func wantField(t *testing.T, what string, err error, field string) {
	t.Helper()
	var fe *models.FieldError
	if !errors.As(err, &fe) || fe.Field != field {
		t.Fatalf("%s: err %v, want a FieldError on %s", what, err, field)
	}
}

// lastAudit is the newest audit row of a target.
func lastAudit(t *testing.T, st *models.Store, targetType string, id int64) models.AuditEntry {
	t.Helper()
	var e models.AuditEntry
	err := st.DB().NewSelect().Model(&e).Where("target_type = ? AND target_id = ?", targetType, id).
		Order("id DESC").Limit(1).Scan(context.Background())
	if err != nil {
		t.Fatalf("audit of %s %d: %v", targetType, id, err)
	}
	return e
}

func auditCount(t *testing.T, st *models.Store, targetType string, id int64) int {
	t.Helper()
	n, err := st.DB().NewSelect().Model((*models.AuditEntry)(nil)).Where("target_type = ? AND target_id = ?", targetType, id).Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

func TestUpdateOrganization(t *testing.T) {
	ctx := context.Background()
	st, _, _, agent := chatFixture(t)
	admin := otherOrgScope(t, st, "settings-org")
	manager := admin
	manager.Role = models.RoleManager

	_, err := st.UpdateOrganization(ctx, admin, models.OrganizationInput{DefaultCountry: ptr("XX")})
	wantField(t, "unknown country", err, "default_country")
	_, err = st.UpdateOrganization(ctx, admin, models.OrganizationInput{Name: ptr("   ")})
	wantField(t, "blank name", err, "name")
	if _, err := st.UpdateOrganization(ctx, manager, models.OrganizationInput{Name: ptr("Managed")}); !errors.Is(err, models.ErrForbidden) {
		t.Fatalf("manager changed the organization: %v", err)
	}
	if _, err := st.UpdateOrganization(ctx, agent, models.OrganizationInput{Name: ptr("Agented")}); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("agent changed the organization: %v", err)
	}
	before := auditCount(t, st, "organization", admin.OrgID)
	o, err := st.UpdateOrganization(ctx, admin, models.OrganizationInput{Name: ptr(" Settings Org "), DefaultCountry: ptr("gb")})
	if err != nil {
		t.Fatal(err)
	}
	if o.Name != "Settings Org" || o.DefaultCountry != "GB" {
		t.Fatalf("saved %+v", o)
	}
	e := lastAudit(t, st, "organization", admin.OrgID)
	if e.Action != "organization.update" || !jsonHas(e.After, "default_country", "GB") || jsonHas(e.Before, "default_country", "GB") {
		t.Fatalf("audit: %s before %s after %s", e.Action, e.Before, e.After)
	}
	// Saving the same values again changes nothing and logs nothing.
	if _, err := st.UpdateOrganization(ctx, admin, models.OrganizationInput{Name: ptr("Settings Org")}); err != nil {
		t.Fatal(err)
	}
	if n := auditCount(t, st, "organization", admin.OrgID); n != before+1 {
		t.Fatalf("audit rows: %d, want %d", n, before+1)
	}
}

// isNull reports whether a stored JSON value is empty or null.
func isNull(raw json.RawMessage) bool { return len(raw) == 0 || string(raw) == "null" }

// jsonHas reports whether a JSON object has key = want (a string).
func jsonHas(raw json.RawMessage, key, want string) bool {
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return false
	}
	v, _ := m[key].(string)
	return v == want
}

func TestLocationSettings(t *testing.T) {
	ctx := context.Background()
	st, demo, admin, agent := chatFixture(t)
	manager := admin
	manager.Role = models.RoleManager
	other := otherOrgScope(t, st, "settings-loc")

	for _, tc := range []struct {
		name  string
		in    models.LocationInput
		field string
	}{
		{"no name", models.LocationInput{}, "name"},
		{"bad timezone", models.LocationInput{Name: ptr("Annex"), Timezone: ptr("Mars/Olympus")}, "timezone"},
		{"Local is no zone", models.LocationInput{Name: ptr("Annex"), Timezone: ptr("Local")}, "timezone"},
		{"quiet start only", models.LocationInput{Name: ptr("Annex"), QuietStart: ptr("22:00"), QuietEnd: ptr("")}, "quiet_end"},
		{"quiet end only", models.LocationInput{Name: ptr("Annex"), QuietEnd: ptr("07:00")}, "quiet_start"},
		{"bad quiet time", models.LocationInput{Name: ptr("Annex"), QuietStart: ptr("25:00"), QuietEnd: ptr("07:00")}, "quiet_start"},
		{"bad plan status", models.LocationInput{Name: ptr("Annex"), PlanStatus: ptr("gold")}, "plan_status"},
		{"duplicate name", models.LocationInput{Name: ptr(demo.Location.Name)}, "name"},
	} {
		_, err := st.CreateLocation(ctx, admin, tc.in)
		wantField(t, tc.name, err, tc.field)
	}
	if _, err := st.CreateLocation(ctx, manager, models.LocationInput{Name: ptr("Annex")}); !errors.Is(err, models.ErrForbidden) {
		t.Fatalf("manager created a location: %v", err)
	}
	l, err := st.CreateLocation(ctx, admin, models.LocationInput{Name: ptr("Annex"), Timezone: ptr("Europe/London"),
		QuietStart: ptr("21:00"), QuietEnd: ptr("8:00"), PlanStatus: ptr("active"), PlanName: ptr("Starter")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.DB().NewDelete().Model((*models.Location)(nil)).Where("id = ?", l.ID).Exec(ctx) })
	if l.Timezone != "Europe/London" || *l.QuietStart != "21:00" || *l.QuietEnd != "08:00" || l.PlanStatus != "active" || l.PlanName != "Starter" {
		t.Fatalf("created %+v (quiet %v-%v)", l, *l.QuietStart, *l.QuietEnd)
	}
	if e := lastAudit(t, st, "location", l.ID); e.Action != "location.create" || !isNull(e.Before) || !jsonHas(e.After, "timezone", "Europe/London") {
		t.Fatalf("create audit: %s %s %s", e.Action, e.Before, e.After)
	}

	// PATCH-like: only the fields given change; clearing quiet hours needs both.
	l, err = st.UpdateLocation(ctx, admin, l.ID, models.LocationInput{PlanStatus: ptr("suspended")})
	if err != nil || l.PlanStatus != "suspended" || l.Timezone != "Europe/London" || l.QuietStart == nil {
		t.Fatalf("partial update: %+v, %v", l, err)
	}
	_, err = st.UpdateLocation(ctx, admin, l.ID, models.LocationInput{QuietStart: ptr("")})
	wantField(t, "clearing only the start", err, "quiet_start")
	l, err = st.UpdateLocation(ctx, admin, l.ID, models.LocationInput{QuietStart: ptr(""), QuietEnd: ptr("")})
	if err != nil || l.QuietStart != nil || l.QuietEnd != nil {
		t.Fatalf("cleared quiet hours: %+v, %v", l, err)
	}
	e := lastAudit(t, st, "location", l.ID)
	if e.Action != "location.update" || jsonHas(e.After, "quiet_start", "21:00") || !jsonHas(e.Before, "quiet_start", "21:00") {
		t.Fatalf("update audit: %s before %s after %s", e.Action, e.Before, e.After)
	}

	// Another organization's location does not exist for this one.
	if _, err := st.UpdateLocation(ctx, other, l.ID, models.LocationInput{Name: ptr("Mine now")}); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("other org updated the location: %v", err)
	}
	if _, err := st.LocationByID(ctx, other, l.ID); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("other org read the location: %v", err)
	}
	if _, err := st.LocationByID(ctx, agent, l.ID); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("agent read the location settings: %v", err)
	}
	got, err := st.LocationByID(ctx, manager, l.ID)
	if err != nil || got.Name != "Annex" {
		t.Fatalf("manager reads the location: %+v, %v", got, err)
	}

	// Archived: listed as archived, and no new inbox may go there.
	if l, err = st.ArchiveLocation(ctx, admin, l.ID, true); err != nil || l.ArchivedAt == nil {
		t.Fatalf("archive: %+v, %v", l, err)
	}
	if e := lastAudit(t, st, "location", l.ID); e.Action != "location.archive" {
		t.Fatalf("archive audit: %s", e.Action)
	}
	_, err = st.CreateInbox(ctx, admin, models.InboxInput{Name: ptr("Annex desk"), LocationID: &l.ID})
	wantField(t, "inbox at an archived location", err, "location_id")
	if l, err = st.ArchiveLocation(ctx, admin, l.ID, false); err != nil || l.ArchivedAt != nil {
		t.Fatalf("unarchive: %+v, %v", l, err)
	}
	locs, err := st.AllLocations(ctx, admin, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, x := range locs {
		found = found || x.ID == l.ID
		if x.OrgID != admin.OrgID {
			t.Fatalf("another organization's location listed: %+v", x)
		}
	}
	if !found {
		t.Fatal("the new location is not listed")
	}
}

func TestInboxSettings(t *testing.T) {
	ctx := context.Background()
	st, demo, admin, agent := chatFixture(t)
	manager := admin
	manager.Role = models.RoleManager
	other := otherOrgScope(t, st, "settings-inbox")
	if _, err := st.UpdateOrganization(ctx, other, models.OrganizationInput{DefaultCountry: ptr("GB")}); err != nil {
		t.Fatal(err)
	}
	otherLoc, err := st.CreateLocation(ctx, other, models.LocationInput{Name: ptr("London"), Timezone: ptr("Europe/London")})
	if err != nil {
		otherLocs, lerr := st.AllLocations(ctx, other, 0, 0)
		if lerr != nil || len(otherLocs) == 0 {
			t.Fatal(err)
		}
		otherLoc = &otherLocs[0]
	}
	cleanup := func(id int64) {
		t.Cleanup(func() { st.DB().NewDelete().Model((*models.Inbox)(nil)).Where("id = ?", id).Exec(ctx) })
	}

	// A local number is read in the organization's default country.
	ib, err := st.CreateInbox(ctx, other, models.InboxInput{Name: ptr("London desk"), LocationID: &otherLoc.ID,
		SMSNumber: ptr("020 7946 0718"), EmailAddress: ptr(" London@Inbound.Parley.test ")})
	if err != nil {
		t.Fatal(err)
	}
	cleanup(ib.ID)
	if *ib.SMSNumber != "+442079460718" || *ib.EmailAddress != "london@inbound.parley.test" {
		t.Fatalf("normalized %v %v", *ib.SMSNumber, *ib.EmailAddress)
	}
	if e := lastAudit(t, st, "inbox", ib.ID); e.Action != "inbox.create" || !jsonHas(e.After, "sms_number", "+442079460718") {
		t.Fatalf("create audit: %s %s", e.Action, e.After)
	}

	// The same number or address, in any form, from another organization:
	// refused, without saying whose it is.
	for _, tc := range []struct {
		name  string
		in    models.InboxInput
		field string
		msg   string
	}{
		{"taken number", models.InboxInput{Name: ptr("Copy"), LocationID: &demo.Location.ID, SMSNumber: ptr("+44 20 7946 0718")},
			"sms_number", "This number belongs to another inbox."},
		{"taken address", models.InboxInput{Name: ptr("Copy"), LocationID: &demo.Location.ID, EmailAddress: ptr("LONDON@inbound.parley.test")},
			"email_address", "This address belongs to another inbox."},
		{"bad number", models.InboxInput{Name: ptr("Copy"), LocationID: &demo.Location.ID, SMSNumber: ptr("call me")}, "sms_number", ""},
		{"bad address", models.InboxInput{Name: ptr("Copy"), LocationID: &demo.Location.ID, EmailAddress: ptr("nobody")}, "email_address", ""},
		{"no location", models.InboxInput{Name: ptr("Copy")}, "location_id", ""},
		{"another org's location", models.InboxInput{Name: ptr("Copy"), LocationID: &otherLoc.ID}, "location_id", ""},
		{"no name", models.InboxInput{LocationID: &demo.Location.ID}, "name", ""},
		{"long help", models.InboxInput{Name: ptr("Copy"), LocationID: &demo.Location.ID, HelpText: ptr(string(make([]byte, 481)))}, "help_text", ""},
		{"bad hours", models.InboxInput{Name: ptr("Copy"), LocationID: &demo.Location.ID,
			BusinessHours: &models.BusinessHours{"mon": {{"17:00", "09:00"}}}}, "business_hours.mon", ""},
	} {
		_, err := st.CreateInbox(ctx, admin, tc.in)
		wantField(t, tc.name, err, tc.field)
		var fe *models.FieldError
		if errors.As(err, &fe) && tc.msg != "" && fe.Message != tc.msg {
			t.Fatalf("%s: message %q", tc.name, fe.Message)
		}
	}
	if _, err := st.CreateInbox(ctx, manager, models.InboxInput{Name: ptr("Front"), LocationID: &demo.Location.ID}); !errors.Is(err, models.ErrForbidden) {
		t.Fatalf("manager created an inbox: %v", err)
	}

	// The demo inbox keeps its own number: saving it unchanged is no conflict.
	mine, err := st.CreateInbox(ctx, admin, models.InboxInput{Name: ptr("Front desk 2"), LocationID: &demo.Location.ID,
		SMSNumber: ptr("(555) 010-0777"), BusinessHours: &models.BusinessHours{"mon": {{"09:00", "17:00"}}}})
	if err != nil {
		t.Fatal(err)
	}
	cleanup(mine.ID)
	if *mine.SMSNumber != "+15550100777" || len(mine.BusinessHours["mon"]) != 1 || mine.Location == nil {
		t.Fatalf("created %+v", mine)
	}
	mine, err = st.UpdateInbox(ctx, admin, mine.ID, models.InboxInput{SMSNumber: ptr("+1 555 010 0777"), HelpText: ptr("Call the office.")})
	if err != nil || mine.HelpText != "Call the office." || *mine.SMSNumber != "+15550100777" || len(mine.BusinessHours["mon"]) != 1 {
		t.Fatalf("partial update: %+v, %v", mine, err)
	}
	e := lastAudit(t, st, "inbox", mine.ID)
	if e.Action != "inbox.update" || !jsonHas(e.After, "help_text", "Call the office.") || !jsonHas(e.Before, "help_text", "") {
		t.Fatalf("update audit: %s before %s after %s", e.Action, e.Before, e.After)
	}
	_, err = st.UpdateInbox(ctx, admin, mine.ID, models.InboxInput{SMSNumber: ptr("+1 555 010 0100")}) // the demo inbox's
	wantField(t, "another inbox's number", err, "sms_number")
	if _, err := st.UpdateInbox(ctx, other, mine.ID, models.InboxInput{Name: ptr("Stolen")}); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("another org changed the inbox: %v", err)
	}
	if _, err := st.InboxByID(ctx, other, mine.ID); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("another org read the inbox: %v", err)
	}
	if _, err := st.UpdateInbox(ctx, manager, mine.ID, models.InboxInput{Name: ptr("Managed")}); !errors.Is(err, models.ErrForbidden) {
		t.Fatalf("manager changed the inbox: %v", err)
	}

	// Closures: checked, listed, removed; another org's inbox is not found.
	_, err = st.AddClosure(ctx, admin, mine.ID, models.ClosureInput{Name: "Break", StartsOn: "2026-12-24", EndsOn: "2026-12-20"})
	wantField(t, "closure ending before it starts", err, "ends_on")
	_, err = st.AddClosure(ctx, admin, mine.ID, models.ClosureInput{Name: "Break", StartsOn: "24/12/2026"})
	wantField(t, "closure with a bad date", err, "starts_on")
	_, err = st.AddClosure(ctx, admin, mine.ID, models.ClosureInput{StartsOn: "2026-12-24"})
	wantField(t, "closure without a name", err, "closure_name")
	if _, err := st.AddClosure(ctx, other, mine.ID, models.ClosureInput{Name: "Break", StartsOn: "2026-12-24"}); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("another org added a closure: %v", err)
	}
	cl, err := st.AddClosure(ctx, admin, mine.ID, models.ClosureInput{Name: "Winter break", StartsOn: "2026-12-24", EndsOn: "2026-12-26"})
	if err != nil {
		t.Fatal(err)
	}
	cls, err := st.InboxClosures(ctx, admin, mine.ID)
	if err != nil || len(cls) != 1 || cls[0].StartsOn.Format("2006-01-02") != "2026-12-24" || cls[0].EndsOn.Format("2006-01-02") != "2026-12-26" {
		t.Fatalf("closures: %+v, %v", cls, err)
	}
	if e := lastAudit(t, st, "inbox", mine.ID); e.Action != "inbox.add_closure" {
		t.Fatalf("closure audit: %s", e.Action)
	}
	if err := st.RemoveClosure(ctx, other, mine.ID, cl.ID); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("another org removed a closure: %v", err)
	}
	if err := st.RemoveClosure(ctx, admin, mine.ID, cl.ID); err != nil {
		t.Fatal(err)
	}
	if cls, _ := st.InboxClosures(ctx, admin, mine.ID); len(cls) != 0 {
		t.Fatalf("closure not removed: %+v", cls)
	}

	// Archive: no new chats from it, and it is archived, not deleted, once it has one.
	if _, err := st.StartConversation(ctx, agent, models.StartInput{InboxID: mine.ID, To: "+15550100888", Body: "Hello"}); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteInbox(ctx, admin, mine.ID); !errors.Is(err, models.ErrInboxInUse) || !errors.Is(err, models.ErrConflict) {
		t.Fatalf("deleted an inbox with conversations: %v", err)
	}
	if mine, err = st.ArchiveInbox(ctx, admin, mine.ID, true); err != nil || mine.ArchivedAt == nil {
		t.Fatalf("archive: %+v, %v", mine, err)
	}
	if e := lastAudit(t, st, "inbox", mine.ID); e.Action != "inbox.archive" {
		t.Fatalf("archive audit: %s", e.Action)
	}
	_, err = st.StartConversation(ctx, agent, models.StartInput{InboxID: mine.ID, To: "+15550100889", Body: "Hello"})
	wantField(t, "chat from an archived inbox", err, "inbox_id")

	// An inbox that never had a conversation may be deleted.
	spare, err := st.CreateInbox(ctx, admin, models.InboxInput{Name: ptr("Spare"), LocationID: &demo.Location.ID})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteInbox(ctx, manager, spare.ID); !errors.Is(err, models.ErrForbidden) {
		t.Fatalf("manager deleted an inbox: %v", err)
	}
	if err := st.DeleteInbox(ctx, other, spare.ID); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("another org deleted an inbox: %v", err)
	}
	if err := st.DeleteInbox(ctx, admin, spare.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := st.InboxByID(ctx, admin, spare.ID); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("deleted inbox still there: %v", err)
	}
	if e := lastAudit(t, st, "inbox", spare.ID); e.Action != "inbox.delete" || !jsonHas(e.Before, "name", "Spare") || !isNull(e.After) {
		t.Fatalf("delete audit: %s %s %s", e.Action, e.Before, e.After)
	}
}
