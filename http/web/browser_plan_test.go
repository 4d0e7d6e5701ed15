package web_test

// A location's Chat plan and the rate card in a browser (issue 12), at
// 1366 and 390 wide: the inactive plan's notice, a refused then a saved
// plan, credits bought (a refused amount first), and the rate card with a
// refused cell, then saved. Screenshots go to
// $PARLEY_TEST_OUTPUT/web/plan-<width>/.

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/parley-chat/parley/internal/browsertest"
	"github.com/parley-chat/parley/models"
)

func TestBrowserPlan(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	admin := models.Scope{OrgID: f.Demo.Org.ID, UserID: f.Demo.Admin.ID, Role: models.RoleAdmin}
	// The rate card is the demo organization's: put the defaults back.
	t.Cleanup(func() { f.Store.DB().NewRaw("DELETE FROM rate_cards WHERE org_id = ?", f.Demo.Org.ID).Exec(ctx) })

	browser := browsertest.NewBrowser(t)
	for _, size := range []struct {
		w, h   int
		mobile bool
	}{{1366, 900, false}, {390, 844, true}} {
		t.Run(fmt.Sprintf("%dpx", size.w), func(t *testing.T) {
			name := fmt.Sprintf("Browser Plan %d", size.w)
			dropAfter(t, f, "locations", name)
			l, err := f.Store.CreateLocation(ctx, admin, models.LocationInput{Name: ptr(name), Timezone: ptr("America/Chicago")})
			if err != nil {
				t.Fatal(err)
			}
			dir := fmt.Sprintf("web/plan-%d/", size.w)
			page := f.URL + "/settings/locations/" + itoa(l.ID)
			tab := browsertest.NewIncognitoTab(t, browser)
			if size.mobile {
				browsertest.Do(t, tab, "set a phone's viewport", chromedp.EmulateViewport(int64(size.w), int64(size.h), chromedp.EmulateMobile))
			} else {
				browsertest.Do(t, tab, "set a desktop viewport", chromedp.EmulateViewport(int64(size.w), int64(size.h)))
			}
			console := browsertest.RecordConsole(t, tab)
			browsertest.SignIn(t, tab, f.URL, "admin", adminEmail, adminPassword)
			shot := func(where, file string) {
				t.Helper()
				if size.mobile {
					noSideScroll(t, tab, where, size.w)
				}
				browsertest.Screenshot(t, tab, dir+file)
			}

			// Inactive: the page says chats cannot be started or answered.
			browsertest.Do(t, tab, "open the location", chromedp.Navigate(page))
			browsertest.WaitFor(t, tab, "the plan section", `document.readyState === "complete" && !!document.querySelector("#plan")`)
			if txt := browsertest.Get(t, tab, "the notice", chromedp.Evaluate[string](`document.querySelector(".plan-off")?.textContent || ""`)); !strings.Contains(txt, "cannot be started or answered") {
				t.Fatalf("inactive plan notice: %q", txt)
			}
			shot("the inactive plan", "inactive.png")

			// A refused plan keeps what was typed and says why by the field.
			const credits, start, months = `input[name=plan_credits]`, `input[name=plan_period_start]`, `input[name=plan_period_months]`
			save := chromedp.Click(chromedp.Search(`//form[contains(@class,"settings-form")]//button[normalize-space(.)="Save"]`))
			browsertest.Do(t, tab, "activate with 37-month periods",
				chromedp.SetValue(chromedp.CSS(`select[name=plan_status]`), "active"),
				chromedp.SetValue(chromedp.CSS(`input[name=plan_name]`), "Growth"),
				chromedp.SetValue(chromedp.CSS(credits), "300"),
				chromedp.SetValue(chromedp.CSS(start), "2026-01-31"),
				chromedp.SetValue(chromedp.CSS(months), "37"),
				save)
			browsertest.WaitAcrossLoad(t, tab, "the months error", `!!document.querySelector("#plan_period_months-error")`)
			if v := browsertest.Get(t, tab, "credits kept", chromedp.Evaluate[string](`document.querySelector("`+credits+`").value`)); v != "300" {
				t.Fatalf("the refused form lost the credits: %q", v)
			}
			shot("the refused plan", "plan-error.png")
			browsertest.Do(t, tab, "fix the months and save", chromedp.SetValue(chromedp.CSS(months), "3"), save)
			browsertest.WaitAcrossLoad(t, tab, "saved", `!!document.querySelector(".alert-ok") && !document.querySelector(".plan-off")`)
			got, err := f.Store.LocationByID(ctx, admin, l.ID)
			if err != nil {
				t.Fatal(err)
			}
			chicago, _ := time.LoadLocation("America/Chicago")
			if got.PlanStatus != models.PlanActive || got.PlanCredits != 300 || got.PlanPeriodMonths != 3 || got.PlanPeriodStart == nil ||
				!got.PlanPeriodStart.Equal(time.Date(2026, 1, 31, 0, 0, 0, 0, chicago)) {
				t.Fatalf("saved plan: %+v (start %v)", got, got.PlanPeriodStart)
			}
			if bal := browsertest.Get(t, tab, "the balance", chromedp.Evaluate[string](`document.querySelector(".plan-stats .stat-num").textContent`)); bal != "300" {
				t.Fatalf("balance shown: %q", bal)
			}

			// Buy credits: none is refused by the field, then 150 are added.
			const buy = `form.buy-form`
			browsertest.Do(t, tab, "buy no credits",
				chromedp.SetValue(chromedp.CSS(buy+` input[name=credits]`), "0"),
				chromedp.Click(chromedp.CSS(buy+` button[type=submit]`)))
			browsertest.WaitAcrossLoad(t, tab, "the credits error", `!!document.querySelector("#credits-error")`)
			browsertest.Do(t, tab, "buy 150",
				chromedp.SetValue(chromedp.CSS(buy+` input[name=credits]`), "150"),
				chromedp.SetValue(chromedp.CSS(buy+` input[name=note]`), "Invoice 1042"),
				chromedp.Click(chromedp.CSS(buy+` button[type=submit]`)))
			browsertest.WaitAcrossLoad(t, tab, "bought", `!!document.querySelector("#credits .alert-ok") && !!document.querySelector("table.purchases")`)
			row := browsertest.Get(t, tab, "the purchase row", chromedp.Evaluate[string](`document.querySelector("table.purchases tbody tr").textContent`))
			if !strings.Contains(row, "150") || !strings.Contains(row, "Invoice 1042") || !strings.Contains(row, "Demo Admin") && !strings.Contains(row, "Admin") {
				t.Fatalf("purchase row: %q", row)
			}
			if bal := browsertest.Get(t, tab, "the balance", chromedp.Evaluate[string](`document.querySelector(".plan-stats .stat-num").textContent`)); bal != "450" {
				t.Fatalf("balance after buying: %q", bal)
			}
			browsertest.Do(t, tab, "scroll to the credits", chromedp.ScrollIntoView(chromedp.CSS(`#credits`)))
			shot("the credits", "credits.png")

			// The rate card: a refused cell, then saved.
			browsertest.Do(t, tab, "open the rate card", chromedp.Navigate(f.URL+"/settings/rate-card"))
			browsertest.WaitFor(t, tab, "the grid", `document.readyState === "complete" && !!document.querySelector(".rate-grid input[name=sms_outbound]")`)
			shot("the rate card", "rate-card.png")
			saveRates := chromedp.Click(chromedp.Search(`//button[normalize-space(.)="Save rates"]`))
			browsertest.Do(t, tab, "a rate too high", chromedp.SetValue(chromedp.CSS(`input[name=mms_inbound]`), "1001"), saveRates)
			browsertest.WaitAcrossLoad(t, tab, "the cell's error", `!!document.querySelector("#mms_inbound-error")`)
			shot("the refused rate", "rate-card-error.png")
			browsertest.Do(t, tab, "fix it and charge 3 per SMS segment",
				chromedp.SetValue(chromedp.CSS(`input[name=mms_inbound]`), "5"),
				chromedp.SetValue(chromedp.CSS(`input[name=sms_outbound]`), "3"), saveRates)
			browsertest.WaitAcrossLoad(t, tab, "saved", `!!document.querySelector(".alert-ok")`)
			if ex := browsertest.Get(t, tab, "the example", chromedp.Evaluate[string](`document.querySelector(".rate-example").textContent`)); !strings.Contains(ex, "2-segment SMS reply costs 6 credits") {
				t.Fatalf("example: %q", ex)
			}
			shot("the saved rate card", "rate-card-saved.png")
			rc, err := f.Store.RateCardOf(ctx, admin)
			if err != nil || rc.SMS.Outbound != 3 || rc.MMS.Inbound != 5 || rc.Email.Outbound != 1 {
				t.Fatalf("saved card: %+v, %v", rc, err)
			}
			console.Check(t, tab, "plan pages")
		})
	}
}
