package web_test

// An inbox's forwarding rules in a browser (issue 14): a bad weekly window
// is shown next to its field with nothing stored and the form kept, a rule
// is added (a user ticked and an outside phone), the preview says who
// would be notified at a time picked, and a rule is removed; at 1366 and
// 390 wide, screenshotted to $PARLEY_TEST_OUTPUT/web/forwarding-<width>.png.

import (
	"context"
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/parley-chat/parley/internal/browsertest"
	"github.com/parley-chat/parley/models"
)

func TestBrowserForwardingRules(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	admin := models.Scope{OrgID: f.Demo.Org.ID, UserID: f.Demo.Admin.ID, Role: models.RoleAdmin}
	dropAfter(t, f, "locations", "Forwarding desk")
	loc, err := f.Store.CreateLocation(ctx, admin, models.LocationInput{Name: ptr("Forwarding desk"), Timezone: ptr("America/New_York")})
	if err != nil {
		t.Fatal(err)
	}
	dropAfter(t, f, "inboxes", "Forwarding desk")
	ib, err := f.Store.CreateInbox(ctx, admin, models.InboxInput{Name: ptr("Forwarding desk"), LocationID: &loc.ID,
		BusinessHours: &models.BusinessHours{"mon": {{"09:00", "17:00"}}, "tue": {{"09:00", "17:00"}}, "wed": {{"09:00", "17:00"}},
			"thu": {{"09:00", "17:00"}}, "fri": {{"09:00", "17:00"}}}})
	if err != nil {
		t.Fatal(err)
	}
	page := f.URL + "/settings/inboxes/" + itoa(ib.ID)
	rules := func() []models.ForwardingRule {
		t.Helper()
		rs, err := f.Store.InboxForwardingRules(ctx, admin, ib.ID)
		if err != nil {
			t.Fatal(err)
		}
		return rs
	}
	const form = `form.settings-forwarding`
	addButton := chromedp.Search(`//form[contains(@class,"settings-forwarding")]//button[normalize-space(.)="Add rule"]`)

	browser := browsertest.NewBrowser(t)
	for _, size := range []struct {
		w, h   int
		mobile bool
	}{{1366, 900, false}, {390, 844, true}} {
		t.Run(fmt.Sprintf("%dpx", size.w), func(t *testing.T) {
			tab := browsertest.NewIncognitoTab(t, browser)
			if size.mobile {
				browsertest.Do(t, tab, "set a phone's viewport", chromedp.EmulateViewport(int64(size.w), int64(size.h), chromedp.EmulateMobile))
			} else {
				browsertest.Do(t, tab, "set a desktop viewport", chromedp.EmulateViewport(int64(size.w), int64(size.h)))
			}
			console := browsertest.RecordConsole(t, tab)
			browsertest.SignIn(t, tab, f.URL, "admin", adminEmail, adminPassword)
			browsertest.Do(t, tab, "open the inbox", chromedp.Navigate(page), chromedp.WaitVisible(chromedp.CSS(form)))

			// A weekly rule with a window it cannot read.
			browsertest.Do(t, tab, "type a weekly rule with a bad window and add it",
				chromedp.SendKeys(chromedp.CSS(form+` textarea[name=contacts]`), "+1 555 010 0777"),
				chromedp.Click(chromedp.CSS(form+` input[name=channel][value=sms]`)),
				chromedp.SetValue(chromedp.CSS(form+` select[name=kind]`), "weekly"),
				chromedp.SendKeys(chromedp.CSS(form+` textarea[name=windows]`), "friday evening"),
				chromedp.Click(addButton))
			browsertest.WaitAcrossLoad(t, tab, "the error on the windows", `!!document.querySelector("#windows-error")`)
			if size.mobile {
				noSideScroll(t, tab, "the forwarding form with an error", size.w)
			}
			browsertest.Screenshot(t, tab, fmt.Sprintf("web/forwarding-%d/error.png", size.w))
			if got := browsertest.Get(t, tab, "the contacts kept", chromedp.Evaluate[string](`document.querySelector('`+form+` textarea[name=contacts]').value`)); got != "+1 555 010 0777" {
				t.Fatalf("the refused form lost its contacts: %q", got)
			}
			if n := len(rules()); n != 0 {
				t.Fatalf("a refused rule was stored: %d rules", n)
			}

			// Fixed: Friday 18:00 to Saturday 08:00, and the admin by email.
			browsertest.Do(t, tab, "fix the window, tick the admin and email, add",
				chromedp.Clear(chromedp.CSS(form+` textarea[name=windows]`)),
				chromedp.SendKeys(chromedp.CSS(form+` textarea[name=windows]`), "fri 18:00-08:00"),
				chromedp.Click(chromedp.CSS(form+` input[name=user][value="`+itoa(f.Demo.Admin.ID)+`"]`)),
				chromedp.Click(chromedp.CSS(form+` input[name=channel][value=email]`)),
				chromedp.Click(addButton))
			browsertest.WaitAcrossLoad(t, tab, "the rule listed", `!!document.querySelector("table.forwarding-rules tbody tr")`)
			rs := rules()
			if len(rs) != 1 || len(rs[0].Targets) != 2 || rs[0].Targets[1].Phone != "+15550100777" || rs[0].Schedule.Kind != models.ScheduleWeekly ||
				rs[0].Schedule.Windows[0] != (models.WeeklyWindow{Day: "fri", From: "18:00", To: "08:00"}) || len(rs[0].Channels) != 2 {
				t.Fatalf("stored rules: %+v", rs)
			}

			// The preview: Saturday 02:00 is in the window, Tuesday noon not.
			for _, c := range []struct{ at, want string }{{"2026-12-12T02:00", "Notified"}, {"2026-12-08T12:00", "Not notified"}} {
				browsertest.Do(t, tab, "check "+c.at, chromedp.Navigate(page+"?forward_at="+c.at+"#forwarding"))
				browsertest.WaitFor(t, tab, "the preview at "+c.at, `!!document.querySelector("table.forwarding-rules .badge")`)
				if got := browsertest.Get(t, tab, "the rule's state", chromedp.Evaluate[string](`document.querySelector("table.forwarding-rules .badge").textContent`)); got != c.want {
					t.Errorf("at %s: %q, want %q", c.at, got, c.want)
				}
			}
			if size.mobile {
				noSideScroll(t, tab, "the forwarding rules", size.w)
			}
			browsertest.Do(t, tab, "scroll to the rules", chromedp.ScrollIntoView(chromedp.CSS("#forwarding")))
			browsertest.Screenshot(t, tab, fmt.Sprintf("web/forwarding-%d/rules.png", size.w))

			browsertest.Do(t, tab, "remove the rule",
				chromedp.Click(chromedp.Search(`//table[contains(@class,"forwarding-rules")]//button[normalize-space(.)="Remove"]`)))
			browsertest.WaitAcrossLoad(t, tab, "no rules left", `!document.querySelector("table.forwarding-rules") && !!document.querySelector(".alert-ok")`)
			if n := len(rules()); n != 0 {
				t.Fatalf("after Remove: %d rules", n)
			}
			console.Check(t, tab, "forwarding settings")
		})
	}
}
