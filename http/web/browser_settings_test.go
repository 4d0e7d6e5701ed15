package web_test

// The settings pages in a browser (issue 10): each page at 1366 and 390
// wide, screenshotted to $PARLEY_TEST_OUTPUT/web/settings-<width>/, with no
// sideways scroll at phone width; and business hours edited through the
// form, a bad interval shown next to its day first.

import (
	"context"
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/parley-chat/parley/internal/browsertest"
	"github.com/parley-chat/parley/models"
)

func TestBrowserSettings(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	admin := models.Scope{OrgID: f.Demo.Org.ID, UserID: f.Demo.Admin.ID, Role: models.RoleAdmin}
	// A second, archived location and an inbox with hours and a closure,
	// so the pages show their lists in full.
	dropAfter(t, f, "locations", "Browser Annex")
	annex, err := f.Store.CreateLocation(ctx, admin, models.LocationInput{Name: ptr("Browser Annex"), Timezone: ptr("Europe/Amsterdam")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Store.ArchiveLocation(ctx, admin, annex.ID, true); err != nil {
		t.Fatal(err)
	}
	dropAfter(t, f, "inboxes", "Browser desk with a rather long name for a phone")
	ib, err := f.Store.CreateInbox(ctx, admin, models.InboxInput{Name: ptr("Browser desk with a rather long name for a phone"),
		LocationID: &f.Demo.Location.ID, SMSNumber: ptr("+15550100654"), EmailAddress: ptr("browser-desk-with-a-long-address@inbound.parley.test"),
		BusinessHours: &models.BusinessHours{"mon": {{"09:00", "17:00"}}, "sat": {{"10:00", "13:00"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Store.AddClosure(ctx, admin, ib.ID, models.ClosureInput{Name: "Winter break", StartsOn: "2026-12-24", EndsOn: "2027-01-01"}); err != nil {
		t.Fatal(err)
	}
	inbox := "/settings/inboxes/" + itoa(ib.ID)
	pages := []struct{ path, shot string }{
		{"/settings", "organization"},
		{"/settings/locations", "locations"},
		{"/settings/locations/" + itoa(f.Demo.Location.ID), "location"},
		{"/settings/locations/new", "location-new"},
		{"/settings/inboxes", "inboxes"},
		{inbox, "inbox"},
		{"/settings/inboxes/new", "inbox-new"},
	}

	browser := browsertest.NewBrowser(t)
	for _, size := range []struct {
		w, h   int
		mobile bool
	}{{1366, 768, false}, {390, 844, true}} {
		t.Run(fmt.Sprintf("%dpx", size.w), func(t *testing.T) {
			tab := browsertest.NewIncognitoTab(t, browser)
			if size.mobile {
				browsertest.Do(t, tab, "set a phone's viewport", chromedp.EmulateViewport(int64(size.w), int64(size.h), chromedp.EmulateMobile))
			} else {
				browsertest.Do(t, tab, "set a desktop viewport", chromedp.EmulateViewport(int64(size.w), int64(size.h)))
			}
			console := browsertest.RecordConsole(t, tab)
			browsertest.SignIn(t, tab, f.URL, "admin", adminEmail, adminPassword)
			for _, p := range pages {
				browsertest.Do(t, tab, "open "+p.path, chromedp.Navigate(f.URL+p.path))
				browsertest.WaitFor(t, tab, p.path+" rendered", `document.readyState === "complete" && !!document.querySelector("main .subnav .is-active")`)
				if size.mobile {
					noSideScroll(t, tab, p.path, size.w)
				}
				browsertest.Screenshot(t, tab, fmt.Sprintf("web/settings-%d/%s.png", size.w, p.shot))
			}
			console.Check(t, tab, "settings pages")
		})
	}

	// Business hours through the form, at phone width: a bad interval is
	// shown on its day's row, then a good one is saved.
	tab := browsertest.NewIncognitoTab(t, browser)
	browsertest.Do(t, tab, "set a phone's viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	browsertest.SignIn(t, tab, f.URL, "admin", adminEmail, adminPassword)
	const tue = `#inbox-form input[name="business_hours.tue"]`
	browsertest.Do(t, tab, "open the inbox",
		chromedp.Navigate(f.URL+inbox), chromedp.WaitVisible(chromedp.CSS(tue)))
	browsertest.Do(t, tab, "type Tuesday's hours backwards and save",
		chromedp.SendKeys(chromedp.CSS(tue), "17:00-09:00"),
		chromedp.Click(chromedp.Search(`//form[@id="inbox-form"]//button[normalize-space(.)="Save"]`)))
	browsertest.WaitFor(t, tab, "the error on Tuesday's row", `!!document.querySelector("#hours-tue-error")`)
	noSideScroll(t, tab, "the inbox form with an error", 390)
	browsertest.Screenshot(t, tab, "web/settings-390/inbox-hours-error.png")
	if got := browsertest.Get(t, tab, "Tuesday's field kept", chromedp.Evaluate[string](`document.querySelector('`+tue+`').value`)); got != "17:00-09:00" {
		t.Fatalf("the refused form lost Tuesday's text: %q", got)
	}
	browsertest.Do(t, tab, "fix Tuesday and clear Saturday, then save",
		chromedp.Clear(chromedp.CSS(tue)),
		chromedp.SendKeys(chromedp.CSS(tue), "8:30-12:00, 13:00-16:30"),
		chromedp.Clear(chromedp.CSS(`#inbox-form input[name="business_hours.sat"]`)),
		chromedp.Click(chromedp.Search(`//form[@id="inbox-form"]//button[normalize-space(.)="Save"]`)))
	browsertest.WaitAcrossLoad(t, tab, "saved", `!!document.querySelector(".alert-ok")`)
	browsertest.Screenshot(t, tab, "web/settings-390/inbox-hours-saved.png")
	got, err := f.Store.InboxByID(ctx, admin, ib.ID)
	if err != nil {
		t.Fatal(err)
	}
	if models.FormatDayHours(got.BusinessHours["tue"]) != "08:30-12:00, 13:00-16:30" || len(got.BusinessHours["sat"]) != 0 ||
		models.FormatDayHours(got.BusinessHours["mon"]) != "09:00-17:00" {
		t.Fatalf("saved hours: %v", got.BusinessHours)
	}

	// Always open: the inbox keeps no hours.
	browsertest.Do(t, tab, "choose Always open and save",
		// The first save's notice goes, so the wait below sees the second's.
		chromedp.Evaluate[chromedp.Void](`document.querySelectorAll(".alert-ok").forEach((e) => e.remove())`),
		chromedp.Click(chromedp.CSS(`#inbox-form input[name=hours][value=always]`)),
		chromedp.Click(chromedp.Search(`//form[@id="inbox-form"]//button[normalize-space(.)="Save"]`)))
	browsertest.WaitAcrossLoad(t, tab, "saved again", `!!document.querySelector(".alert-ok") && document.querySelector("#inbox-form input[name=hours][value=always]").checked`)
	if got, _ = f.Store.InboxByID(ctx, admin, ib.ID); len(got.BusinessHours) != 0 {
		t.Fatalf("always open kept hours: %v", got.BusinessHours)
	}
}
