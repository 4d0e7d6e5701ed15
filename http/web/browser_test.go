package web_test

// Browser tests: drive the real app in headless Chromium with chromedp. They
// check what only a browser can: that htmx runs under our strict CSP, that
// hx-boost swaps pages, that the Asynq dashboard renders, and that user text
// is shown as text. They also save screenshots for people to look at.

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/parley-chat/parley/internal/browsertest"
)

// clickNav clicks the sidebar link with this label and waits for the boosted
// swap to show the page: its h1, its URL and its active nav link. A marker
// set on window before the click must survive, which proves the page was
// swapped by htmx and not loaded anew.
func clickNav(t *testing.T, tab context.Context, label, path string) {
	t.Helper()
	link := chromedp.Search(fmt.Sprintf(
		`//nav//a[contains(concat(" ", normalize-space(@class), " "), " nav-link ")][normalize-space(.)=%q]`, label))
	browsertest.Do(t, tab, "click "+label,
		chromedp.Evaluate[chromedp.Void](`window.__boostMarker = true`),
		chromedp.Click(link),
	)
	browsertest.WaitFor(t, tab, "open "+label, fmt.Sprintf(
		`document.querySelector("main h1") && document.querySelector("main h1").textContent.trim() === %s && location.pathname === %s`,
		browsertest.JSString(label), browsertest.JSString(path)))
	if marker := browsertest.Get(t, tab, "read boost marker", chromedp.Evaluate[string](`String(window.__boostMarker)`)); marker != "true" {
		t.Errorf("after clicking %s the page was reloaded (window marker %q): hx-boost did not swap it", label, marker)
	}
	if title := browsertest.Get(t, tab, "title", chromedp.Title()); title != label+" · Parley" {
		t.Errorf("after clicking %s the title is %q", label, title)
	}
	active := browsertest.Get(t, tab, "active nav link", chromedp.Evaluate[string](
		`(document.querySelector('.nav-link[aria-current="page"]') || {textContent: ""}).textContent.trim()`))
	if active != label {
		t.Errorf("after clicking %s the active nav link is %q", label, active)
	}
}

func TestBrowserLoginAndDashboard(t *testing.T) {
	f := newFixture(t)
	tab := browsertest.NewBrowser(t)
	console := browsertest.RecordConsole(t, tab)

	// 1. The sign-in page.
	browsertest.Do(t, tab, "open /login",
		chromedp.Navigate(f.URL+"/login"),
		chromedp.WaitVisible(chromedp.CSS(`input[name=email]`)),
		chromedp.WaitVisible(chromedp.CSS(`button[type=submit]`)),
	)
	browsertest.Screenshot(t, tab, "web/login.png")

	// 2. A wrong password shows the error and keeps the email.
	browsertest.Login(t, tab, adminEmail, "not the password")
	browsertest.Do(t, tab, "wait for the login error", chromedp.WaitVisible(chromedp.CSS(`#login-error`)))
	msg := browsertest.Get(t, tab, "read the login error", chromedp.Text(chromedp.CSS(`#login-error`)))
	if !strings.Contains(msg, "email and password do not match") {
		t.Errorf("login error = %q, want it to say the email and password do not match", msg)
	}
	if v := browsertest.Get(t, tab, "read the email field", chromedp.Value(chromedp.CSS(`input[name=email]`))); v != adminEmail {
		t.Errorf("email field after a failed sign-in = %q, want %q", v, adminEmail)
	}
	browsertest.Screenshot(t, tab, "web/login-error.png")

	// 3. The right password opens the dashboard, with htmx running under the CSP.
	browsertest.Login(t, tab, adminEmail, adminPassword)
	browsertest.Do(t, tab, "wait for the dashboard", chromedp.WaitVisible(chromedp.CSS(`.inbox`)))
	if h1 := browsertest.Get(t, tab, "read h1", chromedp.Text(chromedp.CSS(`main h1`))); !strings.Contains(h1, "Good to see you, Avery Admin") {
		t.Errorf("dashboard h1 = %q", h1)
	}
	if path := browsertest.Get(t, tab, "read path", chromedp.Evaluate[string](`location.pathname`)); path != "/" {
		t.Errorf("after sign-in the path is %q, want /", path)
	}
	if inbox := browsertest.Get(t, tab, "read inboxes", chromedp.Text(chromedp.CSS(`.inbox-list`))); !strings.Contains(inbox, "+15550100100") {
		t.Errorf("inboxes = %q, want the SMS number +15550100100", inbox)
	}
	// The scripts are deferred: wait for the document to finish loading, then
	// htmx must be there (the CSP allows our own scripts).
	browsertest.WaitFor(t, tab, "page loaded", `document.readyState === "complete"`)
	if typ := browsertest.Get(t, tab, "typeof htmx", chromedp.Evaluate[string](`typeof window.htmx`)); typ == "undefined" {
		t.Fatalf("window.htmx is undefined: htmx did not load under the CSP\n%s", browsertest.PageState(tab))
	}
	console.Check(t, tab, "dashboard")
	browsertest.Screenshot(t, tab, "web/dashboard.png")

	// 4. Sidebar links swap the page in place (hx-boost).
	clickNav(t, tab, "Recipients", "/recipients")
	clickNav(t, tab, "Settings", "/settings")
	browsertest.WaitFor(t, tab, "settings rendered", `document.readyState === "complete"`)
	console.Check(t, tab, "recipients and settings")
	browsertest.Screenshot(t, tab, "web/settings.png")

	// 5. The Asynq dashboard (a React app) renders for an admin under its own
	// CSP, fetching nothing from another host (no Google Fonts), and its
	// "Back to Parley" link leads to the dashboard.
	browsertest.Do(t, tab, "open /admin/queues", chromedp.Navigate(f.URL+"/admin/queues"))
	// The sidebar appears first; "Queue Size" is a chart title that shows
	// once the queue statistics arrived from the API behind our auth.
	browsertest.WaitFor(t, tab, "asynqmon rendered",
		`(() => { const r = document.getElementById("root"); if (!r) return false;
		          const s = r.innerText; return s.includes("Queues") && s.includes("Servers") && s.includes("Queue Size"); })()`)
	if text := browsertest.Get(t, tab, "read asynqmon", chromedp.Evaluate[string](`document.getElementById("root").innerText`)); strings.Contains(text, "Could not retrieve") {
		t.Errorf("the Asynq dashboard could not load its data:\n%s", text)
	}
	browsertest.Screenshot(t, tab, "web/queues-admin.png")
	if others := browsertest.Get(t, tab, "list requests to other hosts", chromedp.Evaluate[[]string](
		`performance.getEntriesByType("resource").map(e => e.name).filter(u => !u.startsWith(location.origin + "/"))`)); len(others) > 0 {
		t.Errorf("the Asynq dashboard fetched from other hosts: %v", others)
	}
	console.Check(t, tab, "Asynq dashboard")
	browsertest.Do(t, tab, "click Back to Parley", chromedp.Click(chromedp.CSS(`#parley-back`)), chromedp.WaitVisible(chromedp.CSS(`.inbox`)))
	if path := browsertest.Get(t, tab, "read path", chromedp.Evaluate[string](`location.pathname`)); path != "/" {
		t.Errorf("Back to Parley led to %q, want /", path)
	}

	// 6. An agent, in a separate browser context (own cookies), gets a 404.
	agent := browsertest.NewIncognitoTab(t, tab)
	agentConsole := browsertest.RecordConsole(t, agent)
	browsertest.Do(t, agent, "agent opens /login", chromedp.Navigate(f.URL+"/login"))
	browsertest.Login(t, agent, agentEmail, agentPassword)
	browsertest.Do(t, agent, "wait for the agent's dashboard", chromedp.WaitVisible(chromedp.CSS(`.inbox`)))
	if h1 := browsertest.Get(t, agent, "read agent h1", chromedp.Text(chromedp.CSS(`main h1`))); !strings.Contains(h1, "Good to see you, Sam Agent") {
		t.Errorf("agent dashboard h1 = %q", h1)
	}
	if n := browsertest.Get(t, agent, "count Queues links", chromedp.Evaluate[int](`document.querySelectorAll('a[href="/admin/queues"]').length`)); n != 0 {
		t.Errorf("the agent's sidebar has %d links to /admin/queues, want none", n)
	}
	browsertest.Do(t, agent, "agent opens /admin/queues",
		chromedp.Navigate(f.URL+"/admin/queues"),
		chromedp.WaitVisible(chromedp.CSS(`.error-code`)),
	)
	if code := browsertest.Get(t, agent, "read error code", chromedp.Text(chromedp.CSS(`.error-code`))); strings.TrimSpace(code) != "404" {
		t.Errorf("agent on /admin/queues: error code %q, want 404", code)
	}
	if n := browsertest.Get(t, agent, "look for asynqmon", chromedp.Evaluate[int](`document.querySelectorAll("#root").length`)); n != 0 {
		t.Error("the agent's 404 page contains the Asynq app root")
	}
	agentConsole.Check(t, agent, "agent pages")
	browsertest.Screenshot(t, agent, "web/queues-agent-404.png")

	// The admin's session is untouched by the agent's sign-in.
	browsertest.Do(t, tab, "admin reloads the dashboard",
		chromedp.Navigate(f.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(`.inbox`)),
	)
	if h1 := browsertest.Get(t, tab, "read h1 again", chromedp.Text(chromedp.CSS(`main h1`))); !strings.Contains(h1, "Avery Admin") {
		t.Errorf("admin tab after the agent signed in: h1 = %q", h1)
	}
}

// TestBrowserScriptInjectionInert submits markup as the email. The page shows
// it back in the form; it must stay text. (R10 groundwork: the login form's
// email is the only user text our pages render so far.)
func TestBrowserScriptInjectionInert(t *testing.T) {
	f := newFixture(t)
	tab := browsertest.NewBrowser(t)
	console := browsertest.RecordConsole(t, tab)

	const evil = `"><script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">`
	browsertest.Do(t, tab, "open /login",
		chromedp.Navigate(f.URL+"/login"),
		chromedp.WaitVisible(chromedp.CSS(`input[name=email]`)),
	)
	browsertest.Login(t, tab, evil, "not the password")
	browsertest.Do(t, tab, "wait for the login error", chromedp.WaitVisible(chromedp.CSS(`#login-error`)))
	browsertest.WaitFor(t, tab, "page loaded", `document.readyState === "complete"`)

	if pwned := browsertest.Get(t, tab, "typeof __pwned", chromedp.Evaluate[string](`typeof window.__pwned`)); pwned != "undefined" {
		t.Errorf("window.__pwned is %s: the submitted email ran as script", pwned)
	}
	if v := browsertest.Get(t, tab, "read the email field", chromedp.Value(chromedp.CSS(`input[name=email]`))); v != evil {
		t.Errorf("email field = %q, want the raw submitted text %q", v, evil)
	}
	// The CSP would block an injected script anyway; check the markup itself
	// was not parsed, so escaping (not only the CSP) kept it inert.
	injected := browsertest.Get(t, tab, "look for injected elements", chromedp.Evaluate[int](
		`document.querySelectorAll('script:not([src]), img[src="x"], [onerror]').length`))
	if injected != 0 {
		t.Errorf("the page has %d injected elements (inline script, img src=x or onerror): the email was not escaped", injected)
	}
	console.Check(t, tab, "login with markup in the email")
	browsertest.Screenshot(t, tab, "web/login-injection.png")
}
