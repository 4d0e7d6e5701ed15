package web_test

// Team, profile and password-link pages in a real browser at 1366 and 390
// wide: no sideways scroll, the form errors show next to their fields, an
// invitation's link works once, and notify.js raises a desktop
// notification for a new conversation while the tab is hidden (and not
// while it is visible). Screenshots go to $PARLEY_TEST_OUTPUT/web/team-<width>/.

import (
	"context"
	"fmt"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/parley-chat/parley/internal/browsertest"
	"github.com/parley-chat/parley/models"
)

func TestBrowserTeamAndProfile(t *testing.T) {
	f := newFixture(t)
	limited, _, err := f.Store.CreateUser(context.Background(), f.adminScope(), models.NewUser{Name: "Lee Limited-Inboxes",
		Email: fmt.Sprintf("lee-%d@demo.parley.test", f.Demo.Org.ID*1000+int64(len(t.Name()))), Role: models.RoleAgent,
		InboxIDs: []int64{f.Demo.Inbox.ID}, Invite: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.Store.CreateAPIToken(context.Background(), f.adminScope(), "Nightly SIS sync"); err != nil {
		t.Fatal(err)
	}
	browser := browsertest.NewBrowser(t)
	for _, size := range []struct {
		w, h   int
		mobile bool
	}{{1366, 768, false}, {390, 844, true}} {
		t.Run(fmt.Sprintf("%dpx", size.w), func(t *testing.T) {
			tab := browsertest.NewIncognitoTab(t, browser)
			vp := []chromedp.EmulateViewportOption{}
			if size.mobile {
				vp = append(vp, chromedp.EmulateMobile)
			}
			browsertest.Do(t, tab, "set the viewport", chromedp.EmulateViewport(int64(size.w), int64(size.h), vp...))
			console := browsertest.RecordConsole(t, tab)
			dir := fmt.Sprintf("web/team-%d/", size.w)
			open := func(path, ready, shot string) {
				t.Helper()
				browsertest.Do(t, tab, "open "+path, chromedp.Navigate(f.URL+path))
				browsertest.WaitFor(t, tab, path+" rendered", fmt.Sprintf(`document.readyState === "complete" && %s`, visibleJS(ready)))
				noSideScroll(t, tab, path, size.w)
				browsertest.Screenshot(t, tab, dir+shot+".png")
			}
			browsertest.SignIn(t, tab, f.URL, "admin", adminEmail, adminPassword)
			open("/settings/team", `main .team-table`, "team")
			open("/settings/team/"+itoa(limited.ID), `main input[name=email]`, "team-user")
			open("/settings/team/new", `main input[name=email]`, "team-new")

			// A bad email is refused next to the field, the rest kept.
			browsertest.Do(t, tab, "fill in the new user's form badly",
				chromedp.SendKeys(chromedp.CSS(`main input[name=name]`), "Quinn Questionable"),
				chromedp.SendKeys(chromedp.CSS(`main input[name=email]`), "quinn-at-nowhere"),
				chromedp.Click(chromedp.CSS(`main button[type=submit]`)))
			browsertest.WaitFor(t, tab, "the email error shows", visibleJS(`#email-error`))
			noSideScroll(t, tab, "the form with an error", size.w)
			browsertest.Screenshot(t, tab, dir+"team-new-error.png")
			email := fmt.Sprintf("quinn-%d@demo.parley.test", size.w)
			browsertest.Do(t, tab, "correct the email and invite",
				chromedp.SetValue(chromedp.CSS(`main input[name=email]`), email),
				chromedp.Click(chromedp.CSS(`main button[type=submit]`)))
			browsertest.WaitFor(t, tab, "the invitation link shows", visibleJS(`#one-time-link`))
			noSideScroll(t, tab, "the invitation link", size.w)
			browsertest.Screenshot(t, tab, dir+"team-invited.png")
			link := browsertest.Get(t, tab, "read the link", chromedp.Evaluate[string](`document.getElementById("one-time-link").value`))

			open("/profile", `main input[name=timezone]`, "profile")
			zones := browsertest.Get(t, tab, "count the time zones offered", chromedp.Evaluate[int](`document.querySelectorAll("#timezones option").length`))
			if zones < 100 {
				t.Errorf("the time zone list offers %d zones", zones)
			}

			// notify.js: a row of a new conversation arriving on the socket
			// notifies while the tab is hidden, and not while it is visible.
			const stub = `(() => {
			  window.shown = [];
			  window.Notification = function (title, o) { window.shown.push(title); };
			  window.Notification.permission = "granted";
			  document.body.dataset.notify = "on";
			  window.frame = (id) => document.dispatchEvent(new CustomEvent("htmx:wsAfterMessage", {detail: {message:
			    '<div hx-swap-oob="afterbegin:#conv-list"><a id="conv-' + id + '" class="conv-row" href="/chats/' + id + '" data-status="new" data-assignee="" data-activity="1"><strong class="conv-name">Sam</strong><span class="conv-preview">Hello</span></a></div>'}}));
			  return true;
			})()`
			browsertest.Get(t, tab, "stub the Notification API", chromedp.Evaluate[bool](stub))
			browsertest.Get(t, tab, "a frame while visible", chromedp.Evaluate[bool](`(window.frame(990001), true)`))
			browsertest.Get(t, tab, "a frame while hidden", chromedp.Evaluate[bool](
				`(Object.defineProperty(document, "visibilityState", {get: () => "hidden", configurable: true}), window.frame(990002), true)`))
			shown := browsertest.Get(t, tab, "read the notifications", chromedp.Evaluate[[]string](`window.shown`))
			if len(shown) != 1 || shown[0] != "New conversation: Sam" {
				t.Errorf("notifications shown: %q, want one for the hidden tab", shown)
			}
			console.Check(t, tab, "team and profile pages")

			// The invitation link, signed out: choose a password, then sign in.
			anon := browsertest.NewIncognitoTab(t, browser)
			browsertest.Do(t, anon, "set the viewport", chromedp.EmulateViewport(int64(size.w), int64(size.h), vp...))
			browsertest.Do(t, anon, "open the invitation", chromedp.Navigate(link))
			browsertest.WaitFor(t, anon, "the password form", visibleJS(`input[name=password]`))
			noSideScroll(t, anon, "the invitation page", size.w)
			browsertest.Screenshot(t, anon, dir+"password-link.png")
			browsertest.Do(t, anon, "choose a password",
				chromedp.SendKeys(chromedp.CSS(`input[name=password]`), "quinn password 1"),
				chromedp.Click(chromedp.CSS(`button[type=submit]`)))
			browsertest.Do(t, anon, "the login says the password is set", chromedp.WaitVisible(chromedp.CSS(`.team-notice`)))
			browsertest.Login(t, anon, email, "quinn password 1")
			browsertest.Do(t, anon, "quinn sees the dashboard", chromedp.WaitVisible(chromedp.CSS(`.inbox`)))
			browsertest.Do(t, anon, "open the used link", chromedp.Navigate(link))
			browsertest.WaitFor(t, anon, "the used-link page", `document.body.textContent.includes("used or has expired")`)
			noSideScroll(t, anon, "the used link", size.w)
			browsertest.Screenshot(t, anon, dir+"password-link-used.png")
		})
	}
}

// notifyHook replaces the Notification API before the page's scripts run:
// permission granted, each notification recorded, and the tab's
// visibility under the test's control (window.__hidden).
const notifyHook = `window.__shown = [];
window.__hidden = false;
window.Notification = function (title) { window.__shown.push(title); };
window.Notification.permission = "granted";
Object.defineProperty(document, "visibilityState", {get: () => window.__hidden ? "hidden" : "visible", configurable: true});`

// Desktop notifications end to end: an agent who turned them on gets one
// for a new conversation and for a new message in a conversation assigned
// to them, from the live socket, only while the tab is hidden.
func TestBrowserDesktopNotifications(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	u, pw := teamMember(t, f, models.RoleAgent)
	sc := models.Scope{OrgID: u.OrgID, UserID: u.ID, Role: u.Role, Name: u.Name}
	if _, err := f.Store.UpdateProfile(ctx, sc, models.Profile{Name: "Nora Notified", NotifyDesktop: true}); err != nil {
		t.Fatal(err)
	}
	browser := browsertest.NewBrowser(t)
	tab := browsertest.NewIncognitoTab(t, browser)
	tctx, cancel := context.WithTimeout(tab, browsertest.StepTimeout)
	if _, err := chromedp.Call(tctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: notifyHook}); err != nil {
		t.Fatal(err)
	}
	cancel()
	browsertest.SignIn(t, tab, f.URL, "nora", u.Email, pw)
	browsertest.Do(t, tab, "nora opens /chats", chromedp.Navigate(f.URL+"/chats"), chromedp.WaitVisible(chromedp.CSS(`#conv-list`)))
	browsertest.WaitFor(t, tab, "nora goes live", browsertest.LiveCond)

	// Visible: the new row shows, no notification.
	first := f.inbound(t, uniquePhone(), "notify-visible", "Seen on screen")
	browsertest.WaitFor(t, tab, "the row arrives", fmt.Sprintf(`!!document.getElementById("conv-%d")`, first.Conversation.ID))
	if n := browsertest.Get(t, tab, "count notifications", chromedp.Evaluate[int](`window.__shown.length`)); n != 0 {
		t.Fatalf("%d notifications while the tab was visible", n)
	}

	// Hidden: a new conversation notifies.
	browsertest.Get(t, tab, "hide the tab", chromedp.Evaluate[bool](`(window.__hidden = true)`))
	phone := uniquePhone()
	second := f.inbound(t, phone, "notify-hidden", "Anyone there?")
	browsertest.WaitFor(t, tab, "a new-conversation notification", `window.__shown.some((s) => s.startsWith("New conversation"))`)

	// Assigned to nora, a new message in it notifies too.
	ch, err := f.Store.Assign(ctx, sc, second.Conversation.ID, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	f.Pub.Notify(ch)
	browsertest.WaitFor(t, tab, "the row shows the assignment", fmt.Sprintf(`document.getElementById("conv-%d").dataset.assignee === "%d"`, second.Conversation.ID, u.ID))
	browsertest.Get(t, tab, "forget earlier notifications", chromedp.Evaluate[bool](`(window.__shown = [], true)`))
	f.inbound(t, phone, "notify-assigned", "Following up")
	browsertest.WaitFor(t, tab, "a new-message notification", `window.__shown.some((s) => s.startsWith("New message from"))`)
}
