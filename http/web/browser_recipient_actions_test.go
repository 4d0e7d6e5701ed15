package web_test

// The recipient page's timeline, consent refusal and merge in a real
// browser at 1366 and 390 wide (screenshots in
// $PARLEY_TEST_OUTPUT/web/recipient-actions/): the timeline lists the
// STOP; opting the STOPped recipient back in is refused with who, how and
// the way back; merging another recipient in through search, preview and
// confirm leaves one recipient with the other's email.

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/parley-chat/parley/internal/browsertest"
	"github.com/parley-chat/parley/models"
)

func TestBrowserRecipientActions(t *testing.T) {
	f := newFixture(t)
	forgetNewRecipients(t, f)
	ctx := context.Background()
	admin := models.Scope{OrgID: f.Demo.Org.ID, UserID: f.Demo.Admin.ID, Role: models.RoleAdmin}
	const phone = "+15550105301"
	conv := startChatAs(t, f, phone, "Your appointment is on Monday")
	in := models.InboundSMS{Provider: "vonage", ProviderMessageID: fmt.Sprintf("bra-%d", time.Now().UnixNano()),
		From: phone, To: *f.Demo.Inbox.SMSNumber, Body: "STOP"}
	if _, err := f.Store.ReceiveSMS(ctx, in); err != nil {
		t.Fatal(err)
	}
	page := fmt.Sprintf("%s/recipients/%d", f.URL, conv.RecipientID)

	browser := browsertest.NewBrowser(t)
	console := browsertest.RecordConsole(t, browser)
	browsertest.SignIn(t, browser, f.URL, "admin", adminEmail, adminPassword)
	for i, size := range []struct {
		w, h   int
		mobile bool
	}{{1366, 768, false}, {390, 844, true}} {
		name := fmt.Sprintf("Merge Candidate %d", i)
		other, err := f.Store.CreateRecipient(ctx, admin, models.RecipientInput{Name: &name, Email: new(fmt.Sprintf("merge%d-%d@example.test", i, time.Now().UnixNano()))})
		if err != nil {
			t.Fatal(err)
		}
		opts := []chromedp.EmulateViewportOption{}
		if size.mobile {
			opts = append(opts, chromedp.EmulateMobile)
		}
		browsertest.Do(t, browser, fmt.Sprintf("open the recipient page at %dpx", size.w),
			chromedp.EmulateViewport(int64(size.w), int64(size.h), opts...),
			chromedp.Navigate(page), chromedp.WaitVisible(chromedp.CSS(`#timeline .timeline-consent`)))
		noSideScroll(t, browser, "the recipient page", size.w)
		browsertest.Screenshot(t, browser, fmt.Sprintf("web/recipient-actions/page-%d.png", size.w))

		browsertest.Do(t, browser, "try to opt the STOPped recipient back in",
			chromedp.Click(chromedp.CSS(`#consent-sms form button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS(`.alert-error`)))
		browsertest.WaitFor(t, browser, "the refusal names STOP and START", `(() => {
			const t = document.querySelector(".alert-error").textContent;
			return t.includes("opted out by texting STOP on") && t.includes("only they can opt back in, by texting START");
		})()`)
		noSideScroll(t, browser, "the refusal", size.w)
		browsertest.Screenshot(t, browser, fmt.Sprintf("web/recipient-actions/refused-%d.png", size.w))

		browsertest.Do(t, browser, "search for the other recipient",
			chromedp.Navigate(page+"/merge"), chromedp.WaitVisible(chromedp.CSS(`#merge-q`)),
			chromedp.SendKeys(chromedp.CSS(`#merge-q`), name+"\n"),
			chromedp.WaitVisible(chromedp.CSS(`a.merge-candidate`)),
			chromedp.Click(chromedp.CSS(`a.merge-candidate`)),
			chromedp.WaitVisible(chromedp.CSS(`#merge-preview`)))
		noSideScroll(t, browser, "the merge preview", size.w)
		browsertest.Screenshot(t, browser, fmt.Sprintf("web/recipient-actions/merge-preview-%d.png", size.w))
		browsertest.Do(t, browser, "confirm the merge",
			chromedp.Click(chromedp.CSS(`#confirm-merge`)),
			chromedp.WaitVisible(chromedp.CSS(`#recipient-form`)))
		if _, err := f.Store.RecipientByID(ctx, admin, other.ID); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("at %dpx the other recipient is still there: %v", size.w, err)
		}
		r, err := f.Store.RecipientByID(ctx, admin, conv.RecipientID)
		if err != nil || r.Email == nil || *r.Email != *other.Email || r.SMSOptedOutAt == nil {
			t.Fatalf("at %dpx the survivor: %+v %v", size.w, r, err)
		}
		// The next round merges another email in: free the survivor's.
		if _, err := f.Store.DB().NewRaw("UPDATE recipients SET email = NULL WHERE id = ?", r.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	console.Check(t, browser, "recipient actions")
}
