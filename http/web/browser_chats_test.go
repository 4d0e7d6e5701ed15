package web_test

// The live Chats module in two browsers at once: an admin and an agent, each
// in a browser context of its own (own cookies, own socket), watch each other's
// actions arrive over /ws without reloading.

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/parley-chat/parley/internal/browsertest"
)

// wsHook runs in every document of a tab before its scripts. It keeps the ws
// extension's socket wrapper (from the public htmx:wsOpen event), so the test
// can cut the socket later, a flag that sends reconnects to a path that is no
// socket (a 404: the handshake fails like a lost network), and a log of socket
// events for failure messages.
const wsHook = `window.__parleyTest = { offline: false, ws: null, log: [] };
document.addEventListener("htmx:wsOpen", function (e) {
  window.__parleyTest.ws = e.detail.socketWrapper;
  window.__parleyTest.log.push("open");
});
document.addEventListener("htmx:wsConnecting", function () { window.__parleyTest.log.push("connecting"); });
document.addEventListener("htmx:wsClose", function (e) { window.__parleyTest.log.push("close " + e.detail.event.code); });`

// openChatsAs signs in on the tab and opens /chats, waiting until it is live.
// A marker on window then proves later that the page was never reloaded.
func openChatsAs(t *testing.T, f *fixture, tab context.Context, who, email, password string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, browsertest.StepTimeout)
	defer cancel()
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument,
		page.AddScriptToEvaluateOnNewDocumentParams{Source: wsHook}); err != nil {
		t.Fatalf("%s: add the socket hook: %v", who, err)
	}
	browsertest.SignIn(t, tab, f.URL, who, email, password)
	browsertest.Do(t, tab, who+" opens /chats",
		chromedp.Navigate(f.URL+"/chats"),
		chromedp.WaitVisible(chromedp.CSS(`#conv-list`)),
	)
	browsertest.WaitFor(t, tab, who+" goes live", browsertest.LiveCond)
	browsertest.MarkNoReload(t, tab, who)
}

func TestBrowserTwoAgentsLiveChat(t *testing.T) {
	f := newFixture(t)
	a := browsertest.NewBrowser(t) // the admin, Avery
	b := browsertest.NewIncognitoTab(t, a)
	aConsole := browsertest.RecordConsole(t, a)
	bConsole := browsertest.RecordConsole(t, b)
	adminID, agentID := f.Demo.Admin.ID, f.Demo.Agent.ID

	// Each step's time goes to the log: a slow machine shows up there
	// before it shows up as a timeout.
	started := time.Now()
	step := func(name string) { t.Helper(); t.Logf("%5.1fs %s", time.Since(started).Seconds(), name) }
	openChatsAs(t, f, a, "A", adminEmail, adminPassword)
	openChatsAs(t, f, b, "B", agentEmail, agentPassword)

	step("1. A starts a chat")
	// 1. A starts a chat: the form opens in the thread pane, and on success
	// HX-Location swaps the whole module for the new thread.
	browsertest.Do(t, a, "A clicks New chat", chromedp.Click(chromedp.CSS(`.chat-list-head a[href="/chats/new"]`)))
	browsertest.Do(t, a, "A sees the new-chat form", chromedp.WaitVisible(chromedp.CSS(`#thread-pane #new-chat input[name=to]`)))
	// The New chat link asks for the whole page into #thread-pane with no
	// hx-select, so a second shell (sidebar and list) lands in the pane.
	if n := browsertest.Get(t, a, "A counts sidebars", chromedp.Evaluate[int](`document.querySelectorAll(".sidebar").length`)); n != 1 {
		t.Errorf("after New chat the page has %d sidebars, want 1: the whole page was swapped into #thread-pane", n)
		browsertest.Screenshot(t, a, "web/chats-a-new-chat.png")
	}
	browsertest.Do(t, a, "A fills in the new chat",
		chromedp.SendKeys(chromedp.CSS(`#new-chat input[name=to]`), "+15550100301"),
		chromedp.SendKeys(chromedp.CSS(`#new-chat textarea[name=body]`), "Hello from Parley"),
		chromedp.Click(chromedp.Search(`//form[@id="new-chat"]//button[normalize-space(.)="Start chat"]`)),
	)
	browsertest.WaitFor(t, a, "A lands on the new thread",
		`/^\/chats\/\d+$/.test(location.pathname) && !!document.querySelector("#thread-pane .thread[data-conv]") &&
		 document.querySelector("#thread-pane .timeline").innerText.includes("Hello from Parley")`)
	conv := browsertest.Get(t, a, "A reads the conversation id", chromedp.Evaluate[int64](`Number(document.querySelector("#thread-pane .thread").dataset.conv)`))
	if path := browsertest.Get(t, a, "A reads the path", chromedp.Evaluate[string](`location.pathname`)); path != "/chats/"+strconv.FormatInt(conv, 10) {
		t.Errorf("A's path is %q, want /chats/%d", path, conv)
	}
	id := strconv.FormatInt(conv, 10)
	rowSel := "#conv-list > #conv-" + id
	timeline := "timeline-" + id
	// HX-Location replaced #chats, so A's socket was replaced too.
	browsertest.WaitFor(t, a, "A is live again on the thread", browsertest.LiveCond)
	browsertest.NotReloaded(t, a, "A")

	step("2. B gets the row")
	// 2. B's list gets the row within 5 seconds, without a reload.
	browsertest.WaitWithin(t, b, "B sees the new conversation's row", fmt.Sprintf(
		`(() => { const r = document.querySelector(%s); return !!r && r.querySelector(".conv-preview").innerText.includes("Hello from Parley"); })()`,
		browsertest.JSString(rowSel)), 5*time.Second)
	if n := browsertest.Get(t, b, "B counts the rows", chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll(%s).length`, browsertest.JSString("#conv-"+id)))); n != 1 {
		t.Errorf("B's list has %d rows for conversation %s, want 1", n, id)
	}
	row := browsertest.Get(t, b, "B reads the row", chromedp.Evaluate[string](fmt.Sprintf(`document.querySelector(%s).innerText`, browsertest.JSString(rowSel))))
	for _, want := range []string{"+15550100301", "Hello from Parley", "Open", "SMS · Front Desk"} {
		if !strings.Contains(row, want) {
			t.Errorf("B's new row %q lacks %q", row, want)
		}
	}
	if empty := browsertest.Get(t, b, "B reads the empty note", chromedp.Evaluate[bool](`document.getElementById("conv-list-empty").hidden`)); !empty {
		t.Error("B's list shows its 'no conversations' note next to the new row")
	}
	browsertest.Screenshot(t, b, "web/chats-b-new-row.png")
	browsertest.NotReloaded(t, b, "B")

	step("3. B opens the thread")
	// 3. B opens the row: htmx loads the thread into the pane.
	browsertest.Do(t, b, "B clicks the row", chromedp.Click(chromedp.CSS(rowSel)))
	browsertest.WaitFor(t, b, "B sees the thread", fmt.Sprintf(
		`!!document.querySelector('#thread-pane .thread[data-conv="%s"]') && %s.includes("Hello from Parley") && location.pathname === "/chats/%s"`,
		id, browsertest.TextOf(timeline), id))
	// B's socket now asks to join the thread's feed. The presence frame that
	// join causes shows B's avatar in A's header: only then can A's next
	// message reach B's open thread. (The app does not catch a freshly opened
	// thread up on what happened between loading it and joining its feed, so
	// without this wait a fast reply could be missing from B's thread for good.)
	browsertest.WaitFor(t, a, "A sees B viewing the thread", fmt.Sprintf(
		`!!document.querySelector('#thread-viewers-%s [data-user="%d"]')`, id, agentID))
	browsertest.WaitFor(t, b, "B sees A viewing the thread", fmt.Sprintf(
		`!!document.querySelector('#thread-viewers-%s [data-user="%d"]') && !document.querySelector('#thread-viewers-%s [data-user="%d"]')`,
		id, adminID, id, agentID))

	step("4. A replies")
	// 4. A types a reply: the preview counts it as A types, B sees A typing,
	// and the sent message appears in B's open thread.
	body := "#body-" + id
	browsertest.Do(t, a, "A types a reply", chromedp.SendKeys(chromedp.CSS(body), "Second message"))
	browsertest.WaitFor(t, a, "A's preview counts the reply", fmt.Sprintf(
		`(() => { const p = %s; return p.includes("14 chars") && p.includes("1 segment") && p.includes("GSM-7"); })()`, browsertest.TextOf("preview-"+id)))
	preview := browsertest.Get(t, a, "A reads the preview", chromedp.Evaluate[string](browsertest.TextOf("preview-"+id)))
	if !strings.Contains(preview, "chars") || !strings.Contains(preview, "segment") {
		t.Errorf("A's preview = %q, want chars and segments", preview)
	}
	browsertest.WaitFor(t, b, "B sees A typing", fmt.Sprintf(`%s.includes("Avery Admin is typing")`, browsertest.TextOf("typing-"+id)))
	browsertest.Do(t, a, "A sends the reply", chromedp.Click(chromedp.Search(fmt.Sprintf(`//form[@id="composer-%s"]//button[normalize-space(.)="Send"]`, id))))
	browsertest.WaitFor(t, a, "A sees the reply", fmt.Sprintf(`%s.includes("Second message")`, browsertest.TextOf(timeline)))
	browsertest.WaitFor(t, a, "A's composer is empty again", fmt.Sprintf(`document.querySelector(%s).value === ""`, browsertest.JSString(body)))
	browsertest.WaitFor(t, b, "B sees the reply live", fmt.Sprintf(`%s.includes("Second message")`, browsertest.TextOf(timeline)))
	browsertest.WaitFor(t, b, "B's row previews the reply", fmt.Sprintf(
		`(document.querySelector(%s) || {innerText: ""}).innerText.includes("Second message")`, browsertest.JSString(rowSel)))
	for _, tab := range []struct {
		who string
		ctx context.Context
	}{{"A", a}, {"B", b}} {
		n := browsertest.Get(t, tab.ctx, tab.who+" counts the reply", chromedp.Evaluate[int](fmt.Sprintf(
			`[...document.querySelectorAll("#%s .msg")].filter(m => m.innerText.includes("Second message")).length`, timeline)))
		if n != 1 {
			t.Errorf("%s's timeline shows the reply %d times, want once", tab.who, n)
		}
	}
	browsertest.NotReloaded(t, b, "B")

	step("5. B assigns to A")
	// 5. B assigns the conversation to A with the header's select (which
	// posts on change); A's header and timeline follow live.
	browsertest.Do(t, b, "B picks Avery Admin", chromedp.SetValue(chromedp.CSS("#assignee-"+id), strconv.FormatInt(adminID, 10)))
	const assigned = "Sam Agent assigned this to Avery Admin"
	browsertest.WaitFor(t, a, "A sees the assignment", fmt.Sprintf(
		`document.querySelector("#assignee-%s").value === "%d" && %s.includes(%s)`, id, adminID, browsertest.TextOf(timeline), browsertest.JSString(assigned)))
	browsertest.WaitFor(t, b, "B sees the assignment", fmt.Sprintf(
		`document.querySelector("#assignee-%s").value === "%d" && %s.includes(%s)`, id, adminID, browsertest.TextOf(timeline), browsertest.JSString(assigned)))
	browsertest.WaitFor(t, a, "A's row shows the assignee", fmt.Sprintf(
		`(document.querySelector(%s) || {innerText: ""}).innerText.includes("Avery Admin")`, browsertest.JSString(rowSel)))
	browsertest.Screenshot(t, a, "web/chats-a-assigned.png")
	// B still has the thread open, so A's header and row should still show
	// B's avatar. Every change re-renders both from templates with an empty
	// viewers span, and presence is only sent again when viewers come or go.
	for _, where := range []string{"#thread-viewers-" + id, "#viewers-" + id} {
		if !browsertest.Get(t, a, "A looks for B's avatar in "+where, chromedp.Evaluate[bool](fmt.Sprintf(
			`!!document.querySelector('%s [data-user="%d"]')`, where, agentID))) {
			t.Errorf("after the reply and the assignment, A's %s no longer shows that Sam Agent is viewing the thread", where)
		}
	}

	step("6. B offline, then catch up")
	// 6. Offline, then catch up: B's socket drops and cannot reconnect for a
	// while (its reconnects get a 404, as a lost network would fail them), A
	// sends meanwhile, and when B's socket is back it asks for what it missed
	// (resume) and shows it, once.
	// The ws extension retries after a random back-off of up to 2^n seconds
	// (n failures, capped at 64s), which would make this step's length a
	// matter of luck; retry every 250ms instead while the test runs.
	browsertest.Do(t, b, "B goes offline", chromedp.Evaluate[chromedp.Void](`(() => {
		const t = window.__parleyTest, real = htmx.createWebSocket;
		htmx.createWebSocket = url => real(t.offline ? "ws://" + location.host + "/offline" : url);
		htmx.config.wsReconnectDelay = () => 250;
		t.offline = true;
		t.ws.reconnect();
	})()`))
	browsertest.WaitFor(t, b, "B shows it is offline", `document.getElementById("live-state").dataset.state !== "live"`)
	const away = "While you were away"
	browsertest.Do(t, a, "A sends while B is offline",
		chromedp.SendKeys(chromedp.CSS(body), away),
		chromedp.Click(chromedp.Search(fmt.Sprintf(`//form[@id="composer-%s"]//button[normalize-space(.)="Send"]`, id))),
	)
	browsertest.WaitFor(t, a, "A sees its message", fmt.Sprintf(`%s.includes(%s)`, browsertest.TextOf(timeline), browsertest.JSString(away)))
	if got := browsertest.Get(t, b, "B's timeline while offline", chromedp.Evaluate[string](browsertest.TextOf(timeline))); strings.Contains(got, away) {
		t.Fatalf("B got A's message while its socket was down: the offline step tests nothing")
	}
	browsertest.Do(t, b, "B's network comes back", chromedp.Evaluate[chromedp.Void](`window.__parleyTest.offline = false`))
	if !browsertest.WaitOK(b, browsertest.LiveCond) {
		t.Fatalf("B did not reconnect within %s; socket events: %s\n%s", browsertest.StepTimeout,
			browsertest.Get(t, b, "B's socket log", chromedp.Evaluate[string](`window.__parleyTest.log.join(", ")`)), browsertest.PageState(b))
	}
	sockLog := browsertest.Get(t, b, "B's socket log", chromedp.Evaluate[string](`window.__parleyTest.log.join(", ")`))
	if !strings.Contains(sockLog, "close 1006") {
		t.Errorf("B's socket never failed to reconnect while offline (events: %s): the catch-up path was not exercised", sockLog)
	}
	t.Logf("B's socket events: %s", sockLog)
	browsertest.WaitFor(t, b, "B catches up on the thread", fmt.Sprintf(`%s.includes(%s)`, browsertest.TextOf(timeline), browsertest.JSString(away)))
	browsertest.WaitFor(t, b, "B's row catches up", fmt.Sprintf(
		`(document.querySelector(%s) || {innerText: ""}).innerText.includes(%s)`, browsertest.JSString(rowSel), browsertest.JSString(away)))
	if n := browsertest.Get(t, b, "B counts the caught-up message", chromedp.Evaluate[int](fmt.Sprintf(
		`[...document.querySelectorAll("#%s .msg")].filter(m => m.innerText.includes(%s)).length`, timeline, browsertest.JSString(away)))); n != 1 {
		t.Errorf("B's timeline shows the caught-up message %d times, want once", n)
	}
	browsertest.NotReloaded(t, b, "B")

	step("7. A closes; B filters")
	// 7. A closes it. B's list (New + Open) keeps the row B has open; the
	// Open filter does not list it, the Closed filter does.
	browsertest.Do(t, a, "A clicks Close", chromedp.Click(chromedp.Search(fmt.Sprintf(`//header[@id="thread-head-%s"]//button[normalize-space(.)="Close"]`, id))))
	browsertest.WaitFor(t, a, "A sees it closed", fmt.Sprintf(
		`%s.trim() === "Closed" && [...document.querySelectorAll("#thread-head-%s button")].some(b => b.innerText.trim() === "Reopen")`,
		browsertest.TextOf("thread-status-"+id), id))
	browsertest.WaitFor(t, b, "B sees it closed", fmt.Sprintf(`%s.trim() === "Closed" && %s.includes("Avery Admin closed this")`,
		browsertest.TextOf("thread-status-"+id), browsertest.TextOf(timeline)))
	// B still has the thread open: its row stays in B's New + Open list,
	// marked Closed, until B leaves it (the Open filter below).
	browsertest.WaitFor(t, b, "B's list keeps the open thread's row, closed", fmt.Sprintf(
		`(document.querySelector(%s) || {innerText: ""}).innerText.includes("Closed")`, browsertest.JSString(rowSel)))

	browsertest.Do(t, b, "B filters on Open", chromedp.SetValue(chromedp.CSS(`#chat-filters select[name=status]`), "open"))
	browsertest.WaitFor(t, b, "B's list is filtered on Open",
		`document.getElementById("conv-list").dataset.status === "open" && new URLSearchParams(location.search).get("status") === "open"`)
	browsertest.WaitFor(t, b, "B is live on the Open list", browsertest.LiveCond)
	if n := browsertest.Get(t, b, "B looks for the row under Open", chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll(%s).length`, browsertest.JSString("#conv-"+id)))); n != 0 {
		t.Errorf("the Open filter lists the closed conversation (%d rows)", n)
	}
	browsertest.Screenshot(t, b, "web/chats-b-filter-open.png")

	browsertest.Do(t, b, "B filters on Closed", chromedp.SetValue(chromedp.CSS(`#chat-filters select[name=status]`), "closed"))
	browsertest.WaitFor(t, b, "B's list is filtered on Closed", fmt.Sprintf(
		`document.getElementById("conv-list").dataset.status === "closed" && !!document.querySelector(%s)`, browsertest.JSString(rowSel)))
	if row := browsertest.Get(t, b, "B reads the closed row", chromedp.Evaluate[string](fmt.Sprintf(`document.querySelector(%s).innerText`, browsertest.JSString(rowSel)))); !strings.Contains(row, "Closed") {
		t.Errorf("the closed row under the Closed filter reads %q, want it marked Closed", row)
	}
	browsertest.WaitFor(t, b, "B is live on the Closed list", browsertest.LiveCond)
	browsertest.NotReloaded(t, b, "B")
	browsertest.NotReloaded(t, a, "A")

	step("done")
	aConsole.Check(t, a, "A's chat session")
	bConsole.Check(t, b, "B's chat session")
}
