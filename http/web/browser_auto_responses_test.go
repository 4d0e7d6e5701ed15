package web_test

// An inbox's auto-responses in a browser (issue 14): a text with a
// misspelt placeholder is refused next to its field with what was typed
// kept and nothing stored; fixed, it is saved and shown as it goes out,
// with its SMS segments; at 1366 and 390 wide, screenshotted to
// $PARLEY_TEST_OUTPUT/web/auto-responses-<width>/.

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/parley-chat/parley/internal/browsertest"
	"github.com/parley-chat/parley/models"
)

func TestBrowserAutoResponses(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	admin := models.Scope{OrgID: f.Demo.Org.ID, UserID: f.Demo.Admin.ID, Role: models.RoleAdmin}
	browser := browsertest.NewBrowser(t)
	for _, size := range []struct {
		w, h   int
		mobile bool
	}{{1366, 900, false}, {390, 844, true}} {
		t.Run(fmt.Sprintf("%dpx", size.w), func(t *testing.T) {
			name := fmt.Sprintf("Auto desk %d", size.w)
			dropAfter(t, f, "inboxes", name)
			ib, err := f.Store.CreateInbox(ctx, admin, models.InboxInput{Name: ptr(name), LocationID: &f.Demo.Location.ID})
			if err != nil {
				t.Fatal(err)
			}
			tab := browsertest.NewIncognitoTab(t, browser)
			if size.mobile {
				browsertest.Do(t, tab, "set a phone's viewport", chromedp.EmulateViewport(int64(size.w), int64(size.h), chromedp.EmulateMobile))
			} else {
				browsertest.Do(t, tab, "set a desktop viewport", chromedp.EmulateViewport(int64(size.w), int64(size.h)))
			}
			console := browsertest.RecordConsole(t, tab)
			browsertest.SignIn(t, tab, f.URL, "admin", adminEmail, adminPassword)
			const form = `form.settings-auto`
			save := chromedp.Search(`//form[contains(@class,"settings-auto")]//button[normalize-space(.)="Save auto-responses"]`)
			browsertest.Do(t, tab, "open the inbox", chromedp.Navigate(f.URL+"/settings/inboxes/"+itoa(ib.ID)), chromedp.WaitVisible(chromedp.CSS(form)))
			browsertest.Do(t, tab, "type an initial response with a misspelt placeholder and save",
				chromedp.Click(chromedp.CSS(form+` input[name=initial_enabled]`)),
				chromedp.SendKeys(chromedp.CSS(form+` textarea[name=initial_body]`), "Thanks for writing to {locaton}."),
				chromedp.Click(save))
			browsertest.WaitAcrossLoad(t, tab, "the error on the text", `!!document.querySelector("#initial_body-error")`)
			if size.mobile {
				noSideScroll(t, tab, "the auto-responses form with an error", size.w)
			}
			browsertest.Do(t, tab, "scroll to the error", chromedp.ScrollIntoView(chromedp.CSS("#initial_body-error")))
			browsertest.Screenshot(t, tab, fmt.Sprintf("web/auto-responses-%d/error.png", size.w))
			if got := browsertest.Get(t, tab, "the text kept", chromedp.Evaluate[string](`document.querySelector('`+form+` textarea[name=initial_body]').value`)); got != "Thanks for writing to {locaton}." {
				t.Fatalf("the refused form lost its text: %q", got)
			}
			if a, err := f.Store.InboxAutoResponses(ctx, admin, ib.ID); err != nil || a.InitialEnabled || a.InitialBody != "" {
				t.Fatalf("a refused form was stored: %+v %v", a, err)
			}
			browsertest.Do(t, tab, "fix the text, give the response time, save",
				chromedp.Clear(chromedp.CSS(form+` textarea[name=initial_body]`)),
				chromedp.SendKeys(chromedp.CSS(form+` textarea[name=initial_body]`), "Thanks for writing to {location}. We reply {response_time}."),
				chromedp.SendKeys(chromedp.CSS(form+` input[name=response_time]`), "within 2 hours"),
				chromedp.Click(save))
			browsertest.WaitAcrossLoad(t, tab, "saved, shown as sent", `!!document.querySelector(".alert-ok") && !!document.querySelector(".auto-written")`)
			written := browsertest.Get(t, tab, "the text as sent", chromedp.Evaluate[string](`document.querySelector(".auto-written").textContent`))
			if !strings.Contains(written, "Thanks for writing to "+f.Demo.Location.Name+". We reply within 2 hours.") || !strings.Contains(written, "1 SMS segment") {
				t.Errorf("as sent: %q", written)
			}
			browsertest.Do(t, tab, "scroll to the auto-responses", chromedp.ScrollIntoView(chromedp.CSS("#auto-responses")))
			browsertest.Screenshot(t, tab, fmt.Sprintf("web/auto-responses-%d/saved.png", size.w))
			if a, err := f.Store.InboxAutoResponses(ctx, admin, ib.ID); err != nil || !a.InitialEnabled || a.ResponseTime != "within 2 hours" || a.CooldownMinutes != 1440 {
				t.Fatalf("stored: %+v %v", a, err)
			}
			console.Check(t, tab, "auto-responses settings")
		})
	}
}
