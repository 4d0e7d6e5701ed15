package web_test

// The recipient page and the thread's rename in a real browser: the page
// at 1366 and 390 wide (screenshots in $PARLEY_TEST_OUTPUT/web/recipient/),
// with no sideways scroll at phone width; a name edited in the thread
// header shows in the header and on the recipient page.

import (
	"context"
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/parley-chat/parley/internal/browsertest"
	"github.com/parley-chat/parley/models"
)

func TestBrowserRecipient(t *testing.T) {
	f := newFixture(t)
	forgetNewRecipients(t, f)
	ctx := context.Background()
	conv := startChatAs(t, f, "+15550105201", "A first message to a long-named recipient")
	admin := models.Scope{OrgID: f.Demo.Org.ID, UserID: f.Demo.Admin.ID, Role: models.RoleAdmin}
	long := "Maximiliana Wolfeschlegelsteinhausenbergerdorff"
	if _, _, err := f.Store.UpdateRecipient(ctx, admin, conv.RecipientID, models.RecipientInput{
		Name: &long, Email: new("maximiliana.wolfeschlegelsteinhausenbergerdorff@example-hospital.test"), Notes: new("Prefers texts after 5pm.")}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Store.SetConsent(ctx, admin, conv.RecipientID, models.ChannelEmail, true, "Asked us not to email"); err != nil {
		t.Fatal(err)
	}
	page := fmt.Sprintf("%s/recipients/%d", f.URL, conv.RecipientID)

	browser := browsertest.NewBrowser(t)
	console := browsertest.RecordConsole(t, browser)
	browsertest.SignIn(t, browser, f.URL, "admin", adminEmail, adminPassword)
	for _, size := range []struct {
		w, h   int
		mobile bool
	}{{1366, 768, false}, {390, 844, true}} {
		opts := []chromedp.EmulateViewportOption{}
		if size.mobile {
			opts = append(opts, chromedp.EmulateMobile)
		}
		browsertest.Do(t, browser, fmt.Sprintf("open the recipient page at %dpx", size.w),
			chromedp.EmulateViewport(int64(size.w), int64(size.h), opts...),
			chromedp.Navigate(page), chromedp.WaitVisible(chromedp.CSS(`#recipient-form`)))
		noSideScroll(t, browser, "the recipient page", size.w)
		for _, sel := range []string{`#consent-sms form`, `a.recipient-conv`, `#recipient-form button[type=submit]`} {
			if !isVisible(t, browser, sel) {
				t.Errorf("at %dpx %s is not visible", size.w, sel)
			}
		}
		browsertest.Screenshot(t, browser, fmt.Sprintf("web/recipient/recipient-%d.png", size.w))
	}

	// Rename from the thread (desktop width).
	browsertest.Do(t, browser, "open the thread",
		chromedp.EmulateViewport(1366, 768),
		chromedp.Navigate(fmt.Sprintf("%s/chats/%d", f.URL, conv.ID)),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#recipient-edit-%d summary`, conv.ID))))
	browsertest.WaitFor(t, browser, "live", browsertest.LiveCond)
	input := fmt.Sprintf(`#recipient-name-%d`, conv.ID)
	browsertest.Do(t, browser, "edit the name in the thread header",
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`#recipient-edit-%d summary`, conv.ID))),
		chromedp.WaitVisible(chromedp.CSS(input)),
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%s).value = ""`, browsertest.JSString(input))),
		chromedp.SendKeys(chromedp.CSS(input), "Max Wolfe"),
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`#recipient-edit-%d button[type=submit]`, conv.ID))))
	browsertest.WaitFor(t, browser, "the header shows the new name", fmt.Sprintf(
		`(document.querySelector("#thread-head-%d h2") || {}).textContent === "Max Wolfe"`, conv.ID))
	browsertest.Screenshot(t, browser, "web/recipient/thread-renamed-1366.png")
	browsertest.Do(t, browser, "follow the Details link (the edit bar is still open)",
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`#recipient-edit-%d a[href="/recipients/%d"]`, conv.ID, conv.RecipientID))),
		chromedp.WaitVisible(chromedp.CSS(`#recipient-form`)))
	browsertest.WaitFor(t, browser, "the page has the new name", `document.querySelector("h1.recipient-title").textContent === "Max Wolfe"`)
	console.Check(t, browser, "recipient pages")
}
