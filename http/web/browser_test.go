package web_test

// Browser tests: drive the real app in headless Chromium with chromedp. They
// check what only a browser can: that htmx runs under our strict CSP, that
// hx-boost swaps pages, that the Asynq dashboard renders, and that user text
// is shown as text. They also save screenshots for people to look at.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// stepTimeout bounds each step of a browser test, so a failure never hangs.
const stepTimeout = 20 * time.Second

// chromiumPath returns the browser to run, or skips the test (fails it on CI)
// when there is none. The machine has no internet: never download one.
func chromiumPath(t *testing.T) string {
	t.Helper()
	path := os.Getenv("PARLEY_CHROMIUM")
	if path == "" {
		path = "/usr/bin/chromium"
	}
	if _, err := os.Stat(path); err != nil {
		msg := fmt.Sprintf("no Chromium at %s (set PARLEY_CHROMIUM to a Chromium binary): %v", path, err)
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return path
}

// screenshotDir is where screenshots go: $PARLEY_TEST_OUTPUT/web, by default
// <repo root>/test-output/web. It is created if missing.
func screenshotDir(t *testing.T) string {
	t.Helper()
	root := os.Getenv("PARLEY_TEST_OUTPUT")
	if root == "" {
		// Tests run in the package directory, http/web.
		repo, err := filepath.Abs(filepath.Join("..", ".."))
		if err != nil {
			t.Fatal(err)
		}
		root = filepath.Join(repo, "test-output")
	}
	dir := filepath.Join(root, "web")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// lockedBuffer collects the browser's own output for the log of a failed test.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() < 64<<10 {
		l.b.Write(p)
	}
	return len(p), nil
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// withoutDBus drops Chromium's complaints about the missing D-Bus, which
// containers lack and which never matter here.
func withoutDBus(s string) string {
	var keep []string
	for _, line := range strings.Split(s, "\n") {
		if !strings.Contains(line, "dbus/") {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "\n")
}

// newBrowser starts a headless Chromium with a fresh profile and returns a
// context for its first tab. The browser ends when the test does.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	exe := chromiumPath(t)
	out := &lockedBuffer{}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox, // we run as root
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
		chromedp.CombinedOutput(out),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	// Registered after t.TempDir, so the browser is gone before its profile
	// directory is removed, and before the fixture's server shuts down.
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
		if t.Failed() {
			t.Logf("browser output (D-Bus noise left out):\n%s", withoutDBus(out.String()))
		}
	})
	// The first run starts the browser and ties its life to ctx, so it must
	// not get a timeout of its own; guard it from outside instead.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }()
	select {
	case err := <-started:
		if err != nil {
			t.Fatalf("start Chromium %s: %v\n%s", exe, err, withoutDBus(out.String()))
		}
	case <-time.After(stepTimeout):
		t.Fatalf("Chromium %s did not start within %s\n%s", exe, stepTimeout, withoutDBus(out.String()))
	}
	setViewport(t, ctx)
	return ctx
}

// setViewport makes the page area 1280x800. Headless Chromium takes the
// browser's toolbars off the window size, which leaves a 1280x657 page.
func setViewport(t *testing.T, tab context.Context) {
	t.Helper()
	do(t, tab, "set the viewport", chromedp.EmulateViewport(1280, 800))
}

// newIncognitoTab opens a tab in a new browser context of the same browser:
// it shares no cookies or storage with the other tabs.
func newIncognitoTab(t *testing.T, browser context.Context) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	opened := make(chan error, 1)
	go func() { opened <- chromedp.Do(ctx) }()
	select {
	case err := <-opened:
		if err != nil {
			t.Fatalf("open a tab in a new browser context: %v", err)
		}
	case <-time.After(stepTimeout):
		t.Fatalf("opening a tab in a new browser context took over %s", stepTimeout)
	}
	setViewport(t, ctx)
	return ctx
}

// do runs the actions on the tab within stepTimeout, failing the test on error.
func do(t *testing.T, tab context.Context, step string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", step, err)
	}
}

// get runs one action that returns a value, within stepTimeout.
func get[T any](t *testing.T, tab context.Context, step string, action chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, action)
	if err != nil {
		t.Fatalf("%s: %v", step, err)
	}
	return v
}

// waitFor polls a JavaScript condition until it is true, failing the test
// with a description of the page if it is not within stepTimeout.
func waitFor(t *testing.T, tab context.Context, step, cond string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, stepTimeout)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](cond,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(stepTimeout-time.Second)))
	if err != nil {
		t.Fatalf("%s: waiting for %s: %v\n%s", step, cond, err, pageState(tab))
	}
}

// pageState describes where the tab is, for failure messages.
func pageState(tab context.Context) string {
	ctx, cancel := context.WithTimeout(tab, 3*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`location.href + "\n" + document.title + "\n" + (document.body ? document.body.innerText.slice(0, 800) : "(no body)")`))
	if err != nil {
		return "(page state unavailable: " + err.Error() + ")"
	}
	return "page: " + s
}

// screenshot saves a full-page PNG of the tab under the screenshot dir.
func screenshot(t *testing.T, tab context.Context, name string) {
	t.Helper()
	png := get(t, tab, "screenshot "+name, chromedp.FullScreenshot(100))
	path := filepath.Join(screenshotDir(t), name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s", path)
}

// consoleRecorder keeps the console messages and uncaught exceptions of a tab.
type consoleRecorder struct {
	mu   sync.Mutex
	msgs []chromedp.ConsoleMessage
}

func recordConsole(t *testing.T, tab context.Context) *consoleRecorder {
	t.Helper()
	ctx, cancel := context.WithCancel(tab)
	t.Cleanup(cancel)
	r := &consoleRecorder{}
	messages := chromedp.Console(ctx) // subscribes now
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			r.mu.Lock()
			r.msgs = append(r.msgs, m)
			r.mu.Unlock()
		}
	}()
	return r
}

// problems returns the uncaught exceptions and the security messages (CSP
// violations: "Refused to execute inline script ...") seen so far. Failed
// requests (the 401 of a wrong password) are expected and not listed.
func (r *consoleRecorder) problems() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, m := range r.msgs {
		if m.IsException() || m.Source == "security" || strings.Contains(m.Text, "Content Security Policy") {
			out = append(out, m.String()+" ("+m.URL+")")
		}
	}
	return out
}

// check fails the test if the page threw or violated the CSP so far.
func (r *consoleRecorder) check(t *testing.T, tab context.Context, step string) {
	t.Helper()
	// A round trip to the page: the browser sends the events that came before
	// its reply first. The recorder's goroutine may still be draining them,
	// and a missing message sends no event to wait for, so poll briefly.
	get(t, tab, step+": console round trip", chromedp.Evaluate[int](`1`))
	deadline := time.Now().Add(200 * time.Millisecond)
	for {
		if p := r.problems(); len(p) > 0 {
			t.Errorf("%s: browser console reported problems:\n  %s", step, strings.Join(p, "\n  "))
			return
		}
		if time.Now().After(deadline) {
			return
		}
		time.Sleep(20 * time.Millisecond) // see above: waiting for an absence
	}
}

// jsString quotes s as a JavaScript string literal (JSON is valid JS).
func jsString(s string) string {
	b, _ := json.Marshal(s) // a string always marshals
	return string(b)
}

// login fills in the sign-in form on the current page and submits it.
func login(t *testing.T, tab context.Context, email, password string) {
	t.Helper()
	do(t, tab, "fill in the sign-in form",
		chromedp.WaitVisible(chromedp.CSS(`input[name=email]`)),
		chromedp.Clear(chromedp.CSS(`input[name=email]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=email]`), email),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), password),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)),
	)
}

// clickNav clicks the sidebar link with this label and waits for the boosted
// swap to show the page: its h1, its URL and its active nav link. A marker
// set on window before the click must survive, which proves the page was
// swapped by htmx and not loaded anew.
func clickNav(t *testing.T, tab context.Context, label, path string) {
	t.Helper()
	link := chromedp.Search(fmt.Sprintf(
		`//nav//a[contains(concat(" ", normalize-space(@class), " "), " nav-link ")][normalize-space(.)=%q]`, label))
	do(t, tab, "click "+label,
		chromedp.Evaluate[chromedp.Void](`window.__boostMarker = true`),
		chromedp.Click(link),
	)
	waitFor(t, tab, "open "+label, fmt.Sprintf(
		`document.querySelector("main h1") && document.querySelector("main h1").textContent.trim() === %s && location.pathname === %s`,
		jsString(label), jsString(path)))
	if marker := get(t, tab, "read boost marker", chromedp.Evaluate[string](`String(window.__boostMarker)`)); marker != "true" {
		t.Errorf("after clicking %s the page was reloaded (window marker %q): hx-boost did not swap it", label, marker)
	}
	if title := get(t, tab, "title", chromedp.Title()); title != label+" · Parley" {
		t.Errorf("after clicking %s the title is %q", label, title)
	}
	active := get(t, tab, "active nav link", chromedp.Evaluate[string](
		`(document.querySelector('.nav-link[aria-current="page"]') || {textContent: ""}).textContent.trim()`))
	if active != label {
		t.Errorf("after clicking %s the active nav link is %q", label, active)
	}
}

func TestBrowserLoginAndDashboard(t *testing.T) {
	f := newFixture(t)
	tab := newBrowser(t)
	console := recordConsole(t, tab)

	// 1. The sign-in page.
	do(t, tab, "open /login",
		chromedp.Navigate(f.URL+"/login"),
		chromedp.WaitVisible(chromedp.CSS(`input[name=email]`)),
		chromedp.WaitVisible(chromedp.CSS(`button[type=submit]`)),
	)
	screenshot(t, tab, "login.png")

	// 2. A wrong password shows the error and keeps the email.
	login(t, tab, adminEmail, "not the password")
	do(t, tab, "wait for the login error", chromedp.WaitVisible(chromedp.CSS(`#login-error`)))
	msg := get(t, tab, "read the login error", chromedp.Text(chromedp.CSS(`#login-error`)))
	if !strings.Contains(msg, "email and password do not match") {
		t.Errorf("login error = %q, want it to say the email and password do not match", msg)
	}
	if v := get(t, tab, "read the email field", chromedp.Value(chromedp.CSS(`input[name=email]`))); v != adminEmail {
		t.Errorf("email field after a failed sign-in = %q, want %q", v, adminEmail)
	}
	screenshot(t, tab, "login-error.png")

	// 3. The right password opens the dashboard, with htmx running under the CSP.
	login(t, tab, adminEmail, adminPassword)
	do(t, tab, "wait for the dashboard", chromedp.WaitVisible(chromedp.CSS(`.inbox`)))
	if h1 := get(t, tab, "read h1", chromedp.Text(chromedp.CSS(`main h1`))); !strings.Contains(h1, "Good to see you, Avery Admin") {
		t.Errorf("dashboard h1 = %q", h1)
	}
	if path := get(t, tab, "read path", chromedp.Evaluate[string](`location.pathname`)); path != "/" {
		t.Errorf("after sign-in the path is %q, want /", path)
	}
	if inbox := get(t, tab, "read inboxes", chromedp.Text(chromedp.CSS(`.inbox-list`))); !strings.Contains(inbox, "+15550100100") {
		t.Errorf("inboxes = %q, want the SMS number +15550100100", inbox)
	}
	// The scripts are deferred: wait for the document to finish loading, then
	// htmx must be there (the CSP allows our own scripts).
	waitFor(t, tab, "page loaded", `document.readyState === "complete"`)
	if typ := get(t, tab, "typeof htmx", chromedp.Evaluate[string](`typeof window.htmx`)); typ == "undefined" {
		t.Fatalf("window.htmx is undefined: htmx did not load under the CSP\n%s", pageState(tab))
	}
	console.check(t, tab, "dashboard")
	screenshot(t, tab, "dashboard.png")

	// 4. Sidebar links swap the page in place (hx-boost).
	clickNav(t, tab, "Recipients", "/recipients")
	clickNav(t, tab, "Settings", "/settings")
	waitFor(t, tab, "settings rendered", `document.readyState === "complete"`)
	console.check(t, tab, "recipients and settings")
	screenshot(t, tab, "settings.png")

	// 5. The Asynq dashboard (a React app, no CSP) renders for an admin. It
	// asks Google Fonts for fonts, which fails offline and only changes the font.
	do(t, tab, "open /admin/queues", chromedp.Navigate(f.URL+"/admin/queues"))
	// The sidebar appears first; "Queue Size" is a chart title that shows
	// once the queue statistics arrived from the API behind our auth.
	waitFor(t, tab, "asynqmon rendered",
		`(() => { const r = document.getElementById("root"); if (!r) return false;
		          const s = r.innerText; return s.includes("Queues") && s.includes("Servers") && s.includes("Queue Size"); })()`)
	if text := get(t, tab, "read asynqmon", chromedp.Evaluate[string](`document.getElementById("root").innerText`)); strings.Contains(text, "Could not retrieve") {
		t.Errorf("the Asynq dashboard could not load its data:\n%s", text)
	}
	screenshot(t, tab, "queues-admin.png")

	// 6. An agent, in a separate browser context (own cookies), gets a 404.
	agent := newIncognitoTab(t, tab)
	agentConsole := recordConsole(t, agent)
	do(t, agent, "agent opens /login", chromedp.Navigate(f.URL+"/login"))
	login(t, agent, agentEmail, agentPassword)
	do(t, agent, "wait for the agent's dashboard", chromedp.WaitVisible(chromedp.CSS(`.inbox`)))
	if h1 := get(t, agent, "read agent h1", chromedp.Text(chromedp.CSS(`main h1`))); !strings.Contains(h1, "Good to see you, Sam Agent") {
		t.Errorf("agent dashboard h1 = %q", h1)
	}
	if n := get(t, agent, "count Queues links", chromedp.Evaluate[int](`document.querySelectorAll('a[href="/admin/queues"]').length`)); n != 0 {
		t.Errorf("the agent's sidebar has %d links to /admin/queues, want none", n)
	}
	do(t, agent, "agent opens /admin/queues",
		chromedp.Navigate(f.URL+"/admin/queues"),
		chromedp.WaitVisible(chromedp.CSS(`.error-code`)),
	)
	if code := get(t, agent, "read error code", chromedp.Text(chromedp.CSS(`.error-code`))); strings.TrimSpace(code) != "404" {
		t.Errorf("agent on /admin/queues: error code %q, want 404", code)
	}
	if n := get(t, agent, "look for asynqmon", chromedp.Evaluate[int](`document.querySelectorAll("#root").length`)); n != 0 {
		t.Error("the agent's 404 page contains the Asynq app root")
	}
	agentConsole.check(t, agent, "agent pages")
	screenshot(t, agent, "queues-agent-404.png")

	// The admin's session is untouched by the agent's sign-in.
	do(t, tab, "admin reloads the dashboard",
		chromedp.Navigate(f.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(`.inbox`)),
	)
	if h1 := get(t, tab, "read h1 again", chromedp.Text(chromedp.CSS(`main h1`))); !strings.Contains(h1, "Avery Admin") {
		t.Errorf("admin tab after the agent signed in: h1 = %q", h1)
	}
}

// TestBrowserScriptInjectionInert submits markup as the email. The page shows
// it back in the form; it must stay text. (R10 groundwork: the login form's
// email is the only user text our pages render so far.)
func TestBrowserScriptInjectionInert(t *testing.T) {
	f := newFixture(t)
	tab := newBrowser(t)
	console := recordConsole(t, tab)

	const evil = `"><script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">`
	do(t, tab, "open /login",
		chromedp.Navigate(f.URL+"/login"),
		chromedp.WaitVisible(chromedp.CSS(`input[name=email]`)),
	)
	login(t, tab, evil, "not the password")
	do(t, tab, "wait for the login error", chromedp.WaitVisible(chromedp.CSS(`#login-error`)))
	waitFor(t, tab, "page loaded", `document.readyState === "complete"`)

	if pwned := get(t, tab, "typeof __pwned", chromedp.Evaluate[string](`typeof window.__pwned`)); pwned != "undefined" {
		t.Errorf("window.__pwned is %s: the submitted email ran as script", pwned)
	}
	if v := get(t, tab, "read the email field", chromedp.Value(chromedp.CSS(`input[name=email]`))); v != evil {
		t.Errorf("email field = %q, want the raw submitted text %q", v, evil)
	}
	// The CSP would block an injected script anyway; check the markup itself
	// was not parsed, so escaping (not only the CSP) kept it inert.
	injected := get(t, tab, "look for injected elements", chromedp.Evaluate[int](
		`document.querySelectorAll('script:not([src]), img[src="x"], [onerror]').length`))
	if injected != 0 {
		t.Errorf("the page has %d injected elements (inline script, img src=x or onerror): the email was not escaped", injected)
	}
	console.check(t, tab, "login with markup in the email")
	screenshot(t, tab, "login-injection.png")
}
