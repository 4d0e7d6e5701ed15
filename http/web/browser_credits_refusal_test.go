package web_test

// Issue 12's refusals and alerts in the browser: the composer says, before
// the agent types, that a location has no credits (or no active plan); the
// live preview turns red when a text costs more than is left; a refused
// send says why next to the composer and keeps the text; the new-chat form
// names the inboxes chats cannot start from; the credits banner shows on
// the page, and a usage alert adds it live through the socket.

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/parley-chat/parley/internal/browsertest"
	"github.com/parley-chat/parley/models"
)

// creditsConversation has a new number text the inbox, charges the
// location (inbound, 2 credits) and returns the conversation.
func creditsConversation(t *testing.T, f *fixture, loc *models.Location, inbox *models.Inbox) int64 {
	t.Helper()
	ctx := context.Background()
	res, err := f.Store.ReceiveSMS(ctx, models.InboundSMS{Provider: "vonage",
		ProviderMessageID: "credits-" + runID + "-" + strconv.FormatInt(phoneSeq.Add(1), 10),
		From:              uniquePhone(), To: *inbox.SMSNumber, Body: "Can you confirm my booking?", ReceivedAt: time.Now()})
	if err != nil || res.Change == nil {
		t.Fatalf("inbound: %+v %v", res, err)
	}
	if _, err := f.Store.ChargeLocation(ctx, loc.ID); err != nil {
		t.Fatal(err)
	}
	return res.Change.Conversation.ID
}

func TestBrowserCreditsRefusal(t *testing.T) {
	f := newFixture(t)
	forgetNewRecipients(t, f)
	low, lowInbox := creditsLocation(t, f, "Low Office", 5)       // 3 left after the inbound text
	empty, emptyInbox := creditsLocation(t, f, "Empty Office", 2) // 0 left
	off, offInbox := creditsLocation(t, f, "Closed Office", 10)   // plan made inactive below
	lowConv := creditsConversation(t, f, low, lowInbox)
	emptyConv := creditsConversation(t, f, empty, emptyInbox)
	offConv := creditsConversation(t, f, off, offInbox)
	f.Store.DB().NewRaw("UPDATE locations SET plan_status = 'inactive' WHERE id = ?", off.ID).Exec(t.Context())

	// Two texts' worth at GSM-7: 161 characters is two segments, 4 credits.
	long := strings.Repeat("Your booking is confirmed. ", 6) + "See you soon!"
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

			// 1. No credits: the composer says so before anything is typed.
			emptyID := strconv.FormatInt(emptyConv, 10)
			browsertest.Do(t, tab, "open the Empty Office chat", chromedp.Navigate(f.URL+"/chats/"+emptyID))
			browsertest.WaitFor(t, tab, "the composer shows", visibleJS("#composer-"+emptyID))
			blocked := browsertest.Get(t, tab, "read the blocked line", chromedp.Evaluate[string](
				`(document.querySelector("#composer-`+emptyID+` [data-credit-blocked]") || {innerText: ""}).innerText`))
			want := "No credits left at " + empty.Name + ": the balance is 0 and a text costs 2. An admin can buy credits."
			if !strings.Contains(blocked, want) {
				t.Errorf("blocked composer says %q, want %q", blocked, want)
			}
			// The banner: Empty Office has spent its plan.
			browsertest.WaitFor(t, tab, "the credits banner loads", fmt.Sprintf(
				`(document.querySelector("#credit-warning-%d") || {innerText: ""}).innerText.includes(%s)`,
				empty.ID, browsertest.JSString(empty.Name+" has no Chat credits left")))
			if isVisible(t, tab, fmt.Sprintf("#credit-warning-%d", low.ID)) {
				t.Error("the banner warns of Low Office, which used 40 % of its plan")
			}
			noSideScroll(t, tab, "a chat with no credits", size.w)
			browsertest.Screenshot(t, tab, size.dir+"credits-composer-blocked.png")

			// 2. The plan is not active: said the same way.
			offID := strconv.FormatInt(offConv, 10)
			browsertest.Do(t, tab, "open the Closed Office chat", chromedp.Navigate(f.URL+"/chats/"+offID))
			browsertest.WaitFor(t, tab, "the plan line shows", fmt.Sprintf(
				`(document.querySelector("#composer-%s [data-credit-blocked]") || {innerText: ""}).innerText.includes(%s)`,
				offID, browsertest.JSString("The Chat plan at "+off.Name+" is not active")))

			// 3. Some credits: a short text fits; a long one turns the
			// preview red; sending it is refused, the text kept.
			lowID := strconv.FormatInt(lowConv, 10)
			body := "#body-" + lowID
			browsertest.Do(t, tab, "open the Low Office chat", chromedp.Navigate(f.URL+"/chats/"+lowID))
			browsertest.WaitFor(t, tab, "the composer shows", visibleJS(body))
			browsertest.WaitFor(t, tab, "A goes live", browsertest.LiveCond)
			if isVisible(t, tab, "#composer-"+lowID+" [data-credit-blocked]") {
				t.Error("the composer is blocked with 3 credits left")
			}
			browsertest.Do(t, tab, "type a short text", chromedp.SendKeys(body, "On our way"))
			browsertest.WaitFor(t, tab, "the preview prices it", fmt.Sprintf(
				`%s.includes("2 credits")`, browsertest.TextOf("preview-"+lowID)))
			browsertest.Do(t, tab, "type a long text", chromedp.Evaluate[chromedp.Void](`document.querySelector("`+body+`").value = ""`), chromedp.SendKeys(body, long))
			browsertest.WaitFor(t, tab, "the preview turns red", fmt.Sprintf(
				`%s.includes("needs 4, balance 3") && getComputedStyle(document.querySelector("#preview-%s [data-short]")).color === getComputedStyle(document.querySelector(".preview-error")).color`,
				browsertest.TextOf("preview-"+lowID), lowID))
			noSideScroll(t, tab, "a text that costs too much", size.w)
			browsertest.Screenshot(t, tab, size.dir+"credits-preview-short.png")
			browsertest.Do(t, tab, "send it", chromedp.Click(chromedp.CSS("#composer-"+lowID+" button[type=submit]")))
			browsertest.WaitFor(t, tab, "the refusal shows next to the composer", fmt.Sprintf(
				`%s.includes("Not sent: insufficient credits. This message needs 4 and the balance is 3.")`, browsertest.TextOf("composer-error-"+lowID)))
			if got := browsertest.Get(t, tab, "read the text", chromedp.Evaluate[string](`document.querySelector("`+body+`").value`)); got != long {
				t.Errorf("the refused text was not kept: %q", got)
			}
			browsertest.Screenshot(t, tab, size.dir+"credits-send-refused.png")

			// 4. A usage alert reaches the open page live: Low Office's
			// warning joins the banner without a reload, and dismisses.
			browsertest.MarkNoReload(t, tab, "admin")
			f.Pub.NotifyCreditAlert(&models.CreditAlert{OrgID: f.Demo.Org.ID, LocationID: low.ID, LocationName: low.Name,
				Level: 80, Balance: 1, PlanCredits: 5, Used: 4})
			browsertest.WaitFor(t, tab, "the live notice shows", fmt.Sprintf(
				`(document.querySelector("#credit-warning-%d") || {innerText: ""}).innerText.includes(%s)`,
				low.ID, browsertest.JSString(low.Name+" has used 80% of its plan's credits — 1 left.")))
			browsertest.NotReloaded(t, tab, "admin")
			browsertest.Screenshot(t, tab, size.dir+"credits-live-notice.png")
			browsertest.Do(t, tab, "dismiss it", chromedp.Click(chromedp.CSS(fmt.Sprintf("#credit-warning-%d [data-dismiss-credit]", low.ID))))
			browsertest.WaitFor(t, tab, "it is gone", fmt.Sprintf(`!document.querySelector("#credit-warning-%d")`, low.ID))

			// 5. The new-chat form names the inbox chats cannot start from.
			browsertest.Do(t, tab, "open the new-chat form", chromedp.Navigate(f.URL+"/chats/new"))
			browsertest.WaitFor(t, tab, "the form names the empty inbox", fmt.Sprintf(
				`[...document.querySelectorAll("#new-chat [data-credit-blocked]")].some(p => p.innerText.startsWith(%s))`,
				browsertest.JSString(emptyInbox.Name+": No credits left at "+empty.Name)))
			noSideScroll(t, tab, "the new-chat form", size.w)
			browsertest.Screenshot(t, tab, size.dir+"credits-new-chat.png")
			console.Check(t, tab, "credits refusal")
		})
	}
}
