package web_test

// The Chats page defects a new user met (issue 9 §1), checked in one
// browser session: events shown once and in one time format, the open
// conversation read and kept in its list, busy and failed controls,
// Ctrl+Enter, reconnecting, and a console free of missing swap targets.

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/parley-chat/parley/internal/browsertest"
	"github.com/parley-chat/parley/models"
)

// uiHook records, in every document of the tab, the socket's messages and
// each request's busy state as it is sent.
const uiHook = `window.__ui = { msgs: [], sent: [] };
document.addEventListener("htmx:wsBeforeMessage", function (e) { window.__ui.msgs.push(e.detail.message); });
document.addEventListener("htmx:beforeSend", function (e) {
  var elt = e.detail.elt, path = e.detail.requestConfig ? e.detail.requestConfig.path : "";
  var control = elt.matches("button, select") ? elt : elt.querySelector("button[type=submit], select");
  window.__ui.sent.push({ path: path, busy: elt.getAttribute("aria-busy"), disabled: !!(control && control.disabled) });
});`

func TestBrowserChatsDefects(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	admin := models.Scope{OrgID: f.Demo.Org.ID, UserID: f.Demo.Admin.ID, Role: models.RoleAdmin}
	phone := uniquePhone()
	conv := f.inbound(t, phone, "ui-1", "Is anyone there?").Conversation.ID
	id := strconv.FormatInt(conv, 10)
	timeline := "timeline-" + id
	// An older conversation that cannot be reopened: a newer one with the
	// same recipient is open.
	phone2 := uniquePhone()
	stale := f.inbound(t, phone2, "ui-2", "Old question").Conversation.ID
	if _, err := f.Store.Close(ctx, admin, stale); err != nil {
		t.Fatal(err)
	}
	f.inbound(t, phone2, "ui-3", "New question")

	tab := browsertest.NewBrowser(t)
	console := browsertest.RecordConsole(t, tab)
	for _, hook := range []string{wsHook, uiHook} {
		if _, err := chromedp.Call(tab, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: hook}); err != nil {
			t.Fatal(err)
		}
	}
	browsertest.SignIn(t, tab, f.URL, "A", adminEmail, adminPassword)

	// 1. Under New, the conversation is listed; opening it keeps it there,
	// marked as the current page.
	browsertest.Do(t, tab, "A opens the New list",
		chromedp.Navigate(f.URL+"/chats?status=new"),
		chromedp.WaitVisible(chromedp.CSS("#conv-"+id)))
	browsertest.WaitFor(t, tab, "A goes live", browsertest.LiveCond)
	browsertest.Do(t, tab, "A opens the conversation", chromedp.Click(chromedp.CSS("#conv-"+id)))
	browsertest.WaitFor(t, tab, "the thread is open", fmt.Sprintf(`!!document.querySelector('#thread-pane .thread[data-conv="%s"]')`, id))
	// Its socket copy of the row (now Open) arrives after the thread: wait
	// for it, then the row must still be there.
	browsertest.WaitFor(t, tab, "the socket brings the opened row", fmt.Sprintf(
		`window.__ui.msgs.some(m => m.includes('id="conv-%s"') && m.includes('data-status="open"'))`, id))
	browsertest.WaitFor(t, tab, "the row is current", fmt.Sprintf(
		`(() => { const r = document.querySelector("#conv-list > #conv-%s"); return !!r && r.getAttribute("aria-current") === "page"; })()`, id))
	if n := browsertest.Get(t, tab, "count current rows", chromedp.Evaluate[int](`document.querySelectorAll('[aria-current="page"].conv-row').length`)); n != 1 {
		t.Errorf("%d rows are marked current, want 1", n)
	}

	// 2. Close, reopen, assign: each event once, in the page's one time format.
	header := func(label string) string {
		return fmt.Sprintf(`//header[@id="thread-head-%s"]//button[normalize-space(.)=%q]`, id, label)
	}
	for _, act := range []struct{ button, text string }{
		{"Close", "Avery Admin closed this"}, {"Reopen", "Avery Admin reopened this"}, {"Assign to me", "Avery Admin took this"},
	} {
		browsertest.Do(t, tab, "A clicks "+act.button, chromedp.Click(chromedp.Search(header(act.button))))
		evID := browsertest.Get(t, tab, "find the event of "+act.button, chromedp.Poll[string](fmt.Sprintf(
			`(() => { const e = [...document.querySelectorAll("#%s > .event")].find(e => e.innerText.includes(%s)); return e ? e.id : false; })()`,
			timeline, browsertest.JSString(act.text)),
			// An interval, not chromedp's default of animation frames, which a
			// page that is not painting (a background tab) may not run.
			chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(browsertest.StepTimeout-time.Second)))
		// Both copies have landed: the response's (the event is shown) and the socket's.
		browsertest.WaitFor(t, tab, "the socket's copy of "+act.button+" arrives", fmt.Sprintf(
			`window.__ui.msgs.some(m => m.includes('id="%s"'))`, evID))
		if n := browsertest.Get(t, tab, "count "+act.text, chromedp.Evaluate[int](fmt.Sprintf(
			`[...document.querySelectorAll("#%s .event")].filter(e => e.innerText.includes(%s)).length`, timeline, browsertest.JSString(act.text)))); n != 1 {
			t.Errorf("%q is shown %d times, want once", act.text, n)
		}
		if raw := browsertest.Get(t, tab, "times not localized", chromedp.Evaluate[[]string](fmt.Sprintf(
			`[...document.querySelectorAll("#%s time")].filter(t => t.dataset.local !== "1").map(t => t.parentElement.innerText)`, timeline))); len(raw) > 0 {
			t.Errorf("after %s, timeline items in the server's format instead of the page's: %q", act.button, raw)
		}
	}
	sent := browsertest.Get(t, tab, "read the busy states", chromedp.Evaluate[[]map[string]any](`window.__ui.sent.filter(s => /\/(close|reopen|assign)$/.test(s.path))`))
	if len(sent) != 3 {
		t.Errorf("%d actions sent, want 3: %v", len(sent), sent)
	}
	for _, s := range sent {
		if s["busy"] != "true" || s["disabled"] != true {
			t.Errorf("while %v ran, the control was busy=%v disabled=%v; want aria-busy and disabled", s["path"], s["busy"], s["disabled"])
		}
	}

	// 3. A text on the open conversation: no badge, and read on the server.
	f.inbound(t, phone, "ui-4", "Hello again")
	browsertest.WaitFor(t, tab, "the text arrives", fmt.Sprintf(`%s.includes("Hello again")`, browsertest.TextOf(timeline)))
	browsertest.WaitFor(t, tab, "the row shows the text", fmt.Sprintf(
		`(document.querySelector("#conv-%s .conv-preview") || {innerText: ""}).innerText.includes("Hello again")`, id))
	if badge := browsertest.Get(t, tab, "look for a badge", chromedp.Evaluate[bool](fmt.Sprintf(`!!document.querySelector("#conv-%s .unread")`, id))); badge {
		t.Error("the open conversation's row shows an unread badge")
	}
	deadline := time.Now().Add(browsertest.StepTimeout)
	for f.unread(t, conv) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the server still counts the text on the open conversation as unread")
		}
		time.Sleep(50 * time.Millisecond) // polling the database: no event to wait for
	}

	// 4. Enter keeps a newline; Ctrl+Enter sends.
	body := "#body-" + id
	browsertest.Do(t, tab, "A types two lines",
		chromedp.SendKeys(chromedp.CSS(body), "Line one"),
		chromedp.KeyEvent("\r"),
		chromedp.SendKeys(chromedp.CSS(body), "Line two"))
	if v := browsertest.Get(t, tab, "read the reply box", chromedp.Evaluate[string](fmt.Sprintf(`document.querySelector(%q).value`, body))); v != "Line one\nLine two" {
		t.Errorf("after Enter the reply box holds %q, want two lines", v)
	}
	browsertest.Do(t, tab, "A presses Ctrl+Enter", chromedp.KeyEvent("\r", chromedp.KeyModifiers(chromedp.ModifierCtrl)))
	browsertest.WaitFor(t, tab, "Ctrl+Enter sent the reply", fmt.Sprintf(`%s.includes("Line two") && document.querySelector(%q).value === ""`,
		browsertest.TextOf(timeline), body))

	// 5. Viewers of a conversation this list does not show: no missing target.
	other := f.client(t)
	other.login(agentEmail, agentPassword)
	ows := other.liveNow(t, f.URL)
	browsertest.Do(t, tab, "A filters on Closed", chromedp.SetValue(chromedp.CSS(`#chat-filters select[name=status]`), "closed"))
	browsertest.WaitFor(t, tab, "A's list is filtered on Closed", `document.getElementById("conv-list").dataset.status === "closed"`)
	browsertest.WaitFor(t, tab, "A is live on the Closed list", browsertest.LiveCond)
	ows.send(t, map[string]any{"view": conv}) // not in A's Closed list
	browsertest.WaitFor(t, tab, "the viewers frame arrives", `window.__ui.msgs.some(m => m.includes("Sam Agent is viewing"))`)
	// Every failure so far is a defect; the ones below are made on purpose.
	console.CheckErrors(t, tab, "the Chats session before the failures")

	// 6. A send that cannot reach Parley says so next to the form and keeps the text.
	browsertest.Do(t, tab, "A opens the conversation again", chromedp.Navigate(f.URL+"/chats/"+id), chromedp.WaitVisible(chromedp.CSS(body)))
	browsertest.WaitFor(t, tab, "A goes live", browsertest.LiveCond)
	failCtx, stopFailing := context.WithCancel(tab)
	go func() {
		for ev, err := range chromedp.Events(failCtx, fetch.RequestPaused) {
			if err != nil {
				return
			}
			_, _ = chromedp.Call(tab, fetch.FailRequest, fetch.FailRequestParams{RequestID: ev.RequestID, ErrorReason: network.ErrorReasonConnectionRefused})
		}
	}()
	if _, err := chromedp.Call(tab, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: "*/chats/" + id + "/messages"}}}); err != nil {
		t.Fatal(err)
	}
	browsertest.Do(t, tab, "A sends while Parley is unreachable",
		chromedp.SendKeys(chromedp.CSS(body), "Not lost"),
		chromedp.Click(chromedp.Search(fmt.Sprintf(`//form[@id="composer-%s"]//button[normalize-space(.)="Send"]`, id))))
	browsertest.WaitFor(t, tab, "the failure is shown", fmt.Sprintf(
		`(() => { const a = document.querySelector('#composer-%s [role=alert][data-request-error]'); return !!a && !a.hidden && a.innerText.includes("Could not reach Parley"); })()`, id))
	if v := browsertest.Get(t, tab, "read the reply box", chromedp.Evaluate[string](fmt.Sprintf(`document.querySelector(%q).value`, body))); v != "Not lost" {
		t.Errorf("after the failed send the reply box holds %q", v)
	}
	if _, err := chromedp.Call(tab, fetch.Disable, struct{}{}); err != nil {
		t.Fatal(err)
	}
	stopFailing()

	// A refusal shows the server's reason.
	browsertest.Do(t, tab, "A opens the stale conversation", chromedp.Navigate(f.URL+"/chats/"+strconv.FormatInt(stale, 10)))
	browsertest.WaitFor(t, tab, "A goes live", browsertest.LiveCond)
	browsertest.Do(t, tab, "A clicks Reopen", chromedp.Click(chromedp.Search(
		fmt.Sprintf(`//header[@id="thread-head-%d"]//button[normalize-space(.)="Reopen"]`, stale))))
	browsertest.WaitFor(t, tab, "the refusal is shown", fmt.Sprintf(
		`(() => { const a = document.getElementById("thread-error-%d"); return !!a && !a.hidden && a.innerText.includes("A newer conversation with this recipient is already open"); })()`, stale))

	// 7. Reconnecting: the back-off is capped; coming online or back to
	// the tab reconnects at once.
	if most := browsertest.Get(t, tab, "sample the reconnect delay", chromedp.Evaluate[float64](
		`Math.max(...Array.from({length: 21 * 40}, (_, i) => htmx.config.wsReconnectDelay(i % 21)))`)); most > 5000 || most <= 0 {
		t.Errorf("the reconnect delay reaches %.0f ms; want at most 5 s", most)
	}
	for _, wake := range []string{`window.dispatchEvent(new Event("online"))`, `document.dispatchEvent(new Event("visibilitychange"))`} {
		browsertest.Do(t, tab, "the network goes", chromedp.Evaluate[chromedp.Void](`(() => {
			const t = window.__parleyTest, real = htmx.createWebSocket;
			if (!t.wrapped) { t.wrapped = true; htmx.createWebSocket = url => real(t.offline ? "ws://" + location.host + "/offline" : url); }
			t.offline = true;
			t.log = [];
			t.ws.reconnect();
		})()`))
		browsertest.WaitFor(t, tab, "two reconnects fail", `window.__parleyTest.log.filter(e => e === "close 1006").length >= 2 && document.getElementById("live-state").dataset.state === "offline"`)
		// In one turn: the network is back and the page hears of it. A
		// reconnect that starts in that turn is the page's, not a timer's.
		last := browsertest.Get(t, tab, "wake with "+wake, chromedp.Evaluate[string](`(() => {
			window.__parleyTest.offline = false;
			const n = window.__parleyTest.log.length;
			`+wake+`;
			return window.__parleyTest.log.slice(n).join(",");
		})()`))
		if last != "connecting" {
			t.Errorf("%s did not reconnect at once (socket events in that turn: %q)", wake, last)
		}
		browsertest.WaitFor(t, tab, "live again", browsertest.LiveCond)
	}
	console.Check(t, tab, "the Chats session")

	// 8. A list that empties live says what its filter hides. The agent's
	// own filter (New, assigned to them) holds one conversation; closing it
	// elsewhere empties the list.
	_, freshID, freshMail := freshAgent(t, f, "live-empty")
	mine := f.inbound(t, uniquePhone(), "ui-5", "Only one").Conversation.ID
	if _, err := f.Store.Assign(ctx, admin, mine, freshID); err != nil {
		t.Fatal(err)
	}
	b := browsertest.NewIncognitoTab(t, tab)
	bConsole := browsertest.RecordConsole(t, b)
	browsertest.SignIn(t, b, f.URL, "B", freshMail, "fresh password 1")
	browsertest.Do(t, b, "B opens their New list", chromedp.Navigate(f.URL+"/chats?status=new&assignee=mine"),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf("#conv-%d", mine))))
	browsertest.WaitFor(t, b, "B goes live", browsertest.LiveCond)
	closed, err := f.Store.Close(ctx, admin, mine)
	if err != nil {
		t.Fatal(err)
	}
	f.Pub.Notify(closed)
	browsertest.WaitFor(t, b, "B's list says what it hides", `(() => {
		const e = document.getElementById("conv-list-empty");
		return !!e && !e.hidden && e.innerText.includes("No new conversations with these filters — 1 closed") && !!e.querySelector('a[href*="status=closed"]');
	})()`)
	bConsole.CheckErrors(t, b, "B's emptied list")
}
