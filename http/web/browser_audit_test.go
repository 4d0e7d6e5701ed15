package web_test

// The audit log page in a browser: at 1366 wide a table, at 390 each entry
// a card of labelled lines, neither scrolling sideways; a long change opens
// from its <details>. Screenshots go to $PARLEY_TEST_OUTPUT/web/
// desktop-1366/ and web/phone-390/.

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/parley-chat/parley/internal/browsertest"
)

func TestBrowserAuditLog(t *testing.T) {
	f := newFixture(t)
	at := time.Now().Add(-2 * time.Hour).UTC()
	longHelp := strings.Repeat("We are closed on public holidays; reply URGENT to reach the on-call nurse. ", 4)
	f.auditEntry(t, f.Demo.Org.ID, "inbox.update", "inbox", f.Demo.Inbox.ID, "Front Desk",
		`{"name": "Front Desk", "help_text": "Demo front desk."}`, `{"name": "Front Desk and Reception", "help_text": "`+longHelp+`"}`, at)
	f.auditEntry(t, f.Demo.Org.ID, "user.update", "user", f.Demo.Agent.ID, "Sam Agent",
		`{"role": "agent", "all_inboxes": true}`, `{"role": "manager", "all_inboxes": true}`, at.Add(time.Minute))
	f.auditEntry(t, f.Demo.Org.ID, "location.create", "location", f.Demo.Location.ID,
		"Maximiliana-Wolfeschlegelsteinhausenbergerdorff-Memorial-Clinic-North-Campus", "",
		`{"name": "Maximiliana-Wolfeschlegelsteinhausenbergerdorff-Memorial-Clinic-North-Campus", "timezone": "America/New_York"}`, at.Add(2*time.Minute))

	browser := browsertest.NewBrowser(t)
	for _, size := range []struct {
		w, h   int
		mobile bool
		dir    string
	}{{1366, 768, false, "web/desktop-1366/"}, {390, 844, true, "web/phone-390/"}} {
		t.Run(fmt.Sprintf("%dpx", size.w), func(t *testing.T) {
			tab := browsertest.NewIncognitoTab(t, browser)
			vp := chromedp.EmulateViewport(int64(size.w), int64(size.h))
			if size.mobile {
				vp = chromedp.EmulateViewport(int64(size.w), int64(size.h), chromedp.EmulateMobile)
			}
			browsertest.Do(t, tab, "set the viewport", vp)
			console := browsertest.RecordConsole(t, tab)
			browsertest.SignIn(t, tab, f.URL, "admin", adminEmail, adminPassword)
			browsertest.Do(t, tab, "open the audit log", chromedp.Navigate(f.URL+"/settings/audit"))
			browsertest.WaitFor(t, tab, "the log rendered", `document.readyState === "complete" && document.querySelectorAll(".audit-table tbody tr").length >= 3`)
			noSideScroll(t, tab, "/settings/audit", size.w)

			// The header row shows on desktop; at phone width rows are cards.
			// (At phone width the header row stays for screen readers: 1px, clipped.)
			headShown := browsertest.Get(t, tab, "the header's height", chromedp.Evaluate[float64](
				`document.querySelector(".audit-table thead").getBoundingClientRect().height`)) > 2
			rowDisplay := browsertest.Get(t, tab, "a row's display", chromedp.Evaluate[string](
				`getComputedStyle(document.querySelector(".audit-table tbody tr")).display`))
			if size.mobile && (headShown || rowDisplay != "block") {
				t.Errorf("at %dpx the header shows=%v and rows display %q; want cards", size.w, headShown, rowDisplay)
			}
			if !size.mobile && (!headShown || rowDisplay != "table-row") {
				t.Errorf("at %dpx the header shows=%v and rows display %q; want a table", size.w, headShown, rowDisplay)
			}
			if !isVisible(t, tab, `.subnav-link[aria-current="page"][href="/settings/audit"]`) {
				t.Error("the Audit log tab is not shown as the current one")
			}
			browsertest.Screenshot(t, tab, size.dir+"audit.png")

			// The long change opens, and still fits.
			const summary = `.audit-table details summary`
			if isVisible(t, tab, ".audit-long") {
				t.Error("the long change is open before it is asked for")
			}
			browsertest.Do(t, tab, "open the long change", chromedp.Click(chromedp.CSS(summary), chromedp.NodeVisible))
			browsertest.WaitFor(t, tab, "the long change shows", visibleJS(".audit-long"))
			noSideScroll(t, tab, "/settings/audit with a change open", size.w)
			browsertest.Screenshot(t, tab, size.dir+"audit-open.png")

			// A bad filter: the message is next to its field, and fits too.
			browsertest.Do(t, tab, "filter by a malformed action", chromedp.Navigate(f.URL+"/settings/audit?action=Not%20An%20Action"))
			browsertest.WaitFor(t, tab, "the field's error shows", visibleJS("#action-error"))
			noSideScroll(t, tab, "/settings/audit with a filter error", size.w)
			browsertest.Screenshot(t, tab, size.dir+"audit-filter-error.png")
			console.Check(t, tab, "audit log")
		})
	}
}
