package web_test

// Every page at phone width (issue 9): at 390x844 and 360x740 no page
// scrolls sideways, the menu starts collapsed behind a button and opens,
// and Chats works as list → thread → back. At 1366x768 the sidebar and the
// two Chats panes stay side by side. Screenshots of each page go to
// $PARLEY_TEST_OUTPUT/web/phone-<width>/ and web/desktop-1366/.

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/parley-chat/parley/http/simulator"
	"github.com/parley-chat/parley/http/web"
	"github.com/parley-chat/parley/http/webhook"
	"github.com/parley-chat/parley/internal/browsertest"
	"github.com/parley-chat/parley/models"
)

// Long unbroken text, as people paste it: a URL, a run of digits and a word
// with no place to break. Message bubbles must wrap all of them.
const (
	longURL    = "https://example.com/appointments/confirm/2026-12-07/a-very-long-path-segment-that-keeps-going?token=8f14e45fceea167a5a36dedd4bea2543&utm_source=sms"
	longDigits = "+155501003011234567890123456789"
	longWord   = "Pneumonoultramicroscopicsilicovolcanoconiosis-and-then-some-more"
	longText   = "Your appointment is confirmed, see " + longURL + " or call " + longDigits + " " + longWord
)

// visibleJS is a JS expression: is the element matching sel rendered and visible?
func visibleJS(sel string) string {
	return fmt.Sprintf(`((e) => !!e && e.checkVisibility({visibilityProperty: true}))(document.querySelector(%s))`, browsertest.JSString(sel))
}

func isVisible(t *testing.T, tab context.Context, sel string) bool {
	t.Helper()
	return browsertest.Get(t, tab, "is "+sel+" visible", chromedp.Evaluate[bool](visibleJS(sel)))
}

// overflowJS lists what pokes out past width on the right, for the
// failure message: the document's width, the window's, and the elements.
const overflowJS = `((w) => {
  const out = [];
  for (const e of document.querySelectorAll("body *")) {
    const r = e.getBoundingClientRect();
    if (r.width > 0 && r.right > w + 0.5 && out.length < 6) {
      out.push(e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (e.className && e.className.baseVal === undefined ? "." + String(e.className).trim().replace(/\s+/g, ".") : "") + " right=" + Math.round(r.right));
    }
  }
  return document.documentElement.scrollWidth + " wide in " + window.innerWidth + ": " + out.join(", ");
})`

// noSideScroll fails the test (without stopping it) if the page is wider
// than the window, that is if it scrolls sideways.
func noSideScroll(t *testing.T, tab context.Context, where string, width int) {
	t.Helper()
	dims := browsertest.Get(t, tab, where+": measure the page", chromedp.Evaluate[[]int](
		`[document.documentElement.scrollWidth, window.innerWidth]`))
	// A phone zooms a page wider than itself out to fit (its innerWidth
	// grows with the page), so the window's width is checked too.
	if dims[0] > dims[1] || dims[1] != width {
		t.Errorf("%s at %dpx scrolls sideways or was zoomed out to fit: %s", where, width,
			browsertest.Get(t, tab, where+": find the overflow", chromedp.Evaluate[string](fmt.Sprintf(`%s(%d)`, overflowJS, width))))
	}
}

// phonePages are the pages every width visits: path, what shows it has
// rendered, and the screenshot's name.
var phonePages = []struct{ path, ready, shot string }{
	{"/", `.inbox`, "dashboard"},
	{"/chats", `#conv-list`, "chats-list"},
	{"/chats/new", `#new-chat input[name=to]`, "chats-new"},
	{"/recipients", `main .table`, "recipients"},
	{"/broadcasts", `main .page-head h1`, "broadcasts"}, // a list or the empty state: other tests add broadcasts
	{"/settings", `main .subnav`, "settings"},
	{"/credits", `main .credit-card`, "credits"},
	{"/simulator/phone?phone=%2B15550100901", `#phone-device .bubble`, "phone-simulator"},
	{"/no-such-page", `.error-code`, "error-404"},
}

// phoneFixture is the demo with a phone simulator whose phone has texted
// the demo inbox a long text (through the real webhook, so Chats lists its
// conversation), and a recipient whose name and address are long.
func phoneFixture(t *testing.T) *fixture {
	t.Helper()
	// The simulator needs the webhook's base URL before the server exists:
	// give it a forwarder, pointed at the server once it runs.
	var parley atomic.Pointer[url.URL]
	hookSrv := httptest.NewServer(&httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(parley.Load()) }})
	t.Cleanup(hookSrv.Close)
	sim := simulator.New(simulator.Config{BaseURL: hookSrv.URL, APIKey: "simkey01", APISecret: "simsecret", Logger: testLogger()})
	f := newFixtureWith(t, serverOpts{simulator: sim, callbacks: func(st *models.Store, pub *web.Publisher) web.ProviderCallbacks {
		return webhook.New(webhook.Config{}, st, pub, nil, testLogger())
	}})
	u, err := url.Parse(f.URL)
	if err != nil {
		t.Fatal(err)
	}
	parley.Store(u)
	c := f.client(t)
	c.login(adminEmail, adminPassword)
	if code := sendFromPhone(t, c, "+15550100901", "+15550100100", longText); code != http.StatusOK {
		t.Fatalf("send from the simulated phone: %d", code)
	}
	if _, err := f.Store.DB().NewRaw(`INSERT INTO recipients (org_id, name, phone, email) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		f.Demo.Org.ID, "Maximiliana Wolfeschlegelsteinhausenbergerdorff", "+15550100902",
		"maximiliana.wolfeschlegelsteinhausenbergerdorff@example-clinic.test").Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestBrowserPhoneWidth(t *testing.T) {
	f := phoneFixture(t)
	browser := browsertest.NewBrowser(t)
	for _, size := range []struct {
		w, h int
		to   string
	}{{390, 844, "+15550100301"}, {360, 740, "+15550100302"}} {
		t.Run(fmt.Sprintf("%dpx", size.w), func(t *testing.T) {
			tab := browsertest.NewIncognitoTab(t, browser)
			browsertest.Do(t, tab, "set a phone's viewport", chromedp.EmulateViewport(int64(size.w), int64(size.h), chromedp.EmulateMobile))
			console := browsertest.RecordConsole(t, tab)
			phoneWidth(t, f, tab, size.w, size.to)
			console.Check(t, tab, "phone pages")
		})
	}
	// Without scripts there is no menu to open: the links stay listed.
	t.Run("390px without scripts", func(t *testing.T) {
		tab := browsertest.NewIncognitoTab(t, browser)
		browsertest.Do(t, tab, "set a phone's viewport, scripts off",
			chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile),
			chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
				_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
				return err
			}))
		browsertest.SignIn(t, tab, f.URL, "admin", adminEmail, adminPassword)
		if isVisible(t, tab, `.menu-btn`) {
			t.Error("without scripts the menu button shows, and could not open anything")
		}
		if !isVisible(t, tab, `#site-menu .nav a[href="/recipients"]`) {
			t.Error("without scripts the navigation is hidden")
		}
		noSideScroll(t, tab, "the dashboard without scripts", 390)
		browsertest.Screenshot(t, tab, "web/phone-390/dashboard-no-script.png")
	})
}

// phoneWidth runs the phone checks on a tab whose viewport is width wide;
// to is the number its new chat texts.

func phoneWidth(t *testing.T, f *fixture, tab context.Context, width int, to string) {
	dir := fmt.Sprintf("web/phone-%d/", width)
	shot := func(name string) { t.Helper(); browsertest.Screenshot(t, tab, dir+name+".png") }

	browsertest.Do(t, tab, "open /login", chromedp.Navigate(f.URL+"/login"), chromedp.WaitVisible(chromedp.CSS(`input[name=email]`)))
	noSideScroll(t, tab, "/login", width)
	shot("login")
	browsertest.SignIn(t, tab, f.URL, "admin", adminEmail, adminPassword)

	// 1. Every page fits the width.
	for _, p := range phonePages {
		browsertest.Do(t, tab, "open "+p.path, chromedp.Navigate(f.URL+p.path))
		browsertest.WaitFor(t, tab, p.path+" rendered", fmt.Sprintf(`document.readyState === "complete" && %s`, visibleJS(p.ready)))
		noSideScroll(t, tab, p.path, width)
		shot(p.shot)
	}

	// 2. The menu starts collapsed behind its button, opens with a click or
	// the keyboard, lists every page (the Asynq dashboard too), and a link
	// in it leads to the page with the menu collapsed again.
	browsertest.Do(t, tab, "open the dashboard", chromedp.Navigate(f.URL+"/"))
	browsertest.WaitFor(t, tab, "dashboard rendered", `document.readyState === "complete" && !!document.querySelector(".inbox")`)
	const btn = `.menu-btn[aria-controls="site-menu"]`
	menuState := func(step string) (expanded string, navShown bool) {
		t.Helper()
		expanded = browsertest.Get(t, tab, step+": read aria-expanded", chromedp.Evaluate[string](
			fmt.Sprintf(`String((document.querySelector(%s) || {getAttribute: () => "(no menu button)"}).getAttribute("aria-expanded"))`, browsertest.JSString(btn))))
		return expanded, isVisible(t, tab, `#site-menu .nav`)
	}
	if !isVisible(t, tab, btn) {
		t.Fatalf("at %dpx there is no visible menu button (%s)\n%s", width, btn, browsertest.PageState(tab))
	}
	if exp, shown := menuState("at first"); exp != "false" || shown {
		t.Errorf("at first the menu button has aria-expanded=%s and the navigation is shown=%v; want false and collapsed", exp, shown)
	}
	if top := browsertest.Get(t, tab, "where the page's h1 is", chromedp.Evaluate[float64](`document.querySelector("main h1").getBoundingClientRect().top`)); top > 200 {
		t.Errorf("the dashboard's h1 starts %.0fpx down: the navigation still fills the first screen", top)
	}
	browsertest.Do(t, tab, "open the menu", chromedp.Click(chromedp.CSS(btn)))
	browsertest.WaitFor(t, tab, "the menu opens", fmt.Sprintf(`document.querySelector(%s).getAttribute("aria-expanded") === "true" && %s`,
		browsertest.JSString(btn), visibleJS(`#site-menu .nav`)))
	for _, href := range []string{"/", "/chats", "/recipients", "/broadcasts", "/settings", "/credits", "/simulator/phone", "/admin/queues"} {
		if !isVisible(t, tab, fmt.Sprintf(`#site-menu .nav a[href=%q]`, href)) {
			t.Errorf("the open menu shows no link to %s", href)
		}
	}
	noSideScroll(t, tab, "the open menu", width)
	shot("menu-open")
	browsertest.Do(t, tab, "close the menu", chromedp.Click(chromedp.CSS(btn)))
	if exp, shown := menuState("after closing"); exp != "false" || shown {
		t.Errorf("after a second click the menu has aria-expanded=%s and shown=%v; want it collapsed", exp, shown)
	}
	// The keyboard: Enter on the focused button opens it, Escape closes it
	// and leaves the focus on the button.
	browsertest.Do(t, tab, "open the menu with Enter", chromedp.Focus(chromedp.CSS(btn)), chromedp.KeyEvent(kb.Enter))
	if exp, shown := menuState("after Enter"); exp != "true" || !shown {
		t.Errorf("Enter on the menu button: aria-expanded=%s, shown=%v; want it open", exp, shown)
	}
	browsertest.Do(t, tab, "press Escape", chromedp.KeyEvent(kb.Escape))
	if exp, shown := menuState("after Escape"); exp != "false" || shown {
		t.Errorf("Escape: aria-expanded=%s, shown=%v; want the menu collapsed", exp, shown)
	}
	if focused := browsertest.Get(t, tab, "what has the focus", chromedp.Evaluate[bool](fmt.Sprintf(`document.activeElement === document.querySelector(%s)`, browsertest.JSString(btn)))); !focused {
		t.Error("after Escape the focus is not on the menu button")
	}
	browsertest.Do(t, tab, "open the menu again", chromedp.Click(chromedp.CSS(btn)))
	browsertest.WaitFor(t, tab, "the menu opens again", visibleJS(`#site-menu .nav a[href="/recipients"]`))
	browsertest.Do(t, tab, "pick Recipients", chromedp.Click(chromedp.CSS(`#site-menu .nav a[href="/recipients"]`)))
	browsertest.WaitFor(t, tab, "Recipients opens", `location.pathname === "/recipients" && !!document.querySelector("main .table")`)
	if exp, shown := menuState("on the next page"); exp != "false" || shown {
		t.Errorf("on the page a menu link opened the menu has aria-expanded=%s and shown=%v; want it collapsed", exp, shown)
	}

	// 3. Chats: the new-chat form alone, then the thread alone with a way
	// back to the list, the list alone, a row back to the thread.
	browsertest.Do(t, tab, "open /chats/new", chromedp.Navigate(f.URL+"/chats/new"))
	browsertest.WaitFor(t, tab, "the new-chat form", visibleJS(`#new-chat input[name=to]`))
	if isVisible(t, tab, `#conv-list`) {
		t.Errorf("at %dpx the new-chat form shares the screen with the list", width)
	}
	browsertest.Do(t, tab, "start a chat",
		chromedp.SendKeys(chromedp.CSS(`#new-chat input[name=to]`), to),
		chromedp.SendKeys(chromedp.CSS(`#new-chat textarea[name=body]`), longText),
		chromedp.Click(chromedp.Search(`//form[@id="new-chat"]//button[normalize-space(.)="Start chat"]`)),
	)
	threadShown := `/^\/chats\/\d+$/.test(location.pathname) && ` + visibleJS(`#thread-pane .thread .timeline > .msg`)
	browsertest.WaitFor(t, tab, "the new thread", threadShown)
	threadPath := browsertest.Get(t, tab, "read the thread's path", chromedp.Evaluate[string](`location.pathname`))
	checkThreadAlone := func(step string) {
		t.Helper()
		if isVisible(t, tab, `#conv-list`) {
			t.Errorf("%s: at %dpx the thread shares the screen with the list", step, width)
		}
		if !isVisible(t, tab, `#thread-pane .thread-back`) {
			t.Errorf("%s: the thread has no visible ← Chats link", step)
		}
		noSideScroll(t, tab, step, width)
		// The long message wraps inside its bubble.
		spill := browsertest.Get(t, tab, step+": measure the bubbles", chromedp.Evaluate[string](`[...document.querySelectorAll("#thread-pane .msg-bubble")]
			.filter(b => b.scrollWidth > b.clientWidth || b.getBoundingClientRect().right > window.innerWidth)
			.map(b => b.innerText.slice(0, 40)).join(" | ")`))
		if spill != "" {
			t.Errorf("%s: these message bubbles do not wrap their text: %s", step, spill)
		}
	}
	checkThreadAlone("the new thread")
	shot("chats-thread")

	back := `#thread-pane .thread-back`
	if text := browsertest.Get(t, tab, "read the back link", chromedp.Evaluate[string](fmt.Sprintf(`(document.querySelector(%s) || {innerText: ""}).innerText.trim()`, browsertest.JSString(back)))); text != "← Chats" {
		t.Errorf("the back link reads %q, want %q", text, "← Chats")
	}
	browsertest.MarkNoReload(t, tab, "admin")
	browsertest.Do(t, tab, "go back to the list", chromedp.Click(chromedp.CSS(back)))
	listShown := `location.pathname === "/chats" && ` + visibleJS(`#conv-list .conv-row`) + ` && !` + visibleJS(`#thread-pane .thread`)
	browsertest.WaitFor(t, tab, "the list, alone", listShown)
	noSideScroll(t, tab, "the list after ← Chats", width)
	// The preview is one line, cut with an ellipsis.
	preview := browsertest.Get(t, tab, "measure the preview", chromedp.Evaluate[[]string](`(() => {
		const p = document.querySelector("#conv-list .conv-row .conv-preview"), s = getComputedStyle(p);
		return [s.textOverflow, s.whiteSpace, String(p.scrollWidth > p.clientWidth), String(Math.round(p.getBoundingClientRect().height / parseFloat(s.lineHeight)))];
	})()`))
	if preview[0] != "ellipsis" || preview[1] != "nowrap" || preview[2] != "true" || preview[3] != "1" {
		t.Errorf("the list's preview of a long message: text-overflow %s, white-space %s, cut %s, lines %s; want one line cut with an ellipsis",
			preview[0], preview[1], preview[2], preview[3])
	}
	shot("chats-list-after-back")

	browsertest.Do(t, tab, "open the row again", chromedp.Click(chromedp.CSS(`#conv-list a.conv-row[href=`+browsertest.JSString(threadPath)+`]`)))
	browsertest.WaitFor(t, tab, "the thread again", threadShown)
	checkThreadAlone("the thread opened from the list")
	browsertest.Do(t, tab, "back once more", chromedp.Click(chromedp.CSS(back)))
	browsertest.WaitFor(t, tab, "the list once more", listShown)
	browsertest.NotReloaded(t, tab, "admin")

	// 4. The Asynq dashboard is a third-party app: look, do not judge.
	browsertest.Do(t, tab, "open /admin/queues", chromedp.Navigate(f.URL+"/admin/queues"))
	browsertest.WaitFor(t, tab, "asynqmon rendered", `(() => { const r = document.getElementById("root"); return !!r && r.innerText.includes("Queues"); })()`)
	t.Logf("/admin/queues at %dpx (Asynq's own layout): %s", width, browsertest.Get(t, tab, "measure asynqmon", chromedp.Evaluate[string](`document.documentElement.scrollWidth + " wide in " + window.innerWidth`)))
	shot("queues")
}

// TestBrowserDesktopLayout: at 1366x768 the sidebar shows its navigation
// with no menu button, Chats shows the list beside the open thread with no
// back link, and no page scrolls sideways.
func TestBrowserDesktopLayout(t *testing.T) {
	f := phoneFixture(t)
	tab := browsertest.NewBrowser(t)
	const width = 1366
	browsertest.Do(t, tab, "set a laptop's viewport", chromedp.EmulateViewport(width, 768))
	console := browsertest.RecordConsole(t, tab)
	shot := func(name string) { t.Helper(); browsertest.Screenshot(t, tab, "web/desktop-1366/"+name+".png") }

	browsertest.Do(t, tab, "open /login", chromedp.Navigate(f.URL+"/login"), chromedp.WaitVisible(chromedp.CSS(`input[name=email]`)))
	noSideScroll(t, tab, "/login", width)
	shot("login")
	browsertest.SignIn(t, tab, f.URL, "admin", adminEmail, adminPassword)
	for _, p := range phonePages {
		browsertest.Do(t, tab, "open "+p.path, chromedp.Navigate(f.URL+p.path))
		browsertest.WaitFor(t, tab, p.path+" rendered", fmt.Sprintf(`document.readyState === "complete" && %s`, visibleJS(p.ready)))
		noSideScroll(t, tab, p.path, width)
		if p.path != "/no-such-page" {
			if isVisible(t, tab, `.menu-btn`) {
				t.Errorf("%s at %dpx shows the phone's menu button", p.path, width)
			}
			if !isVisible(t, tab, `#site-menu .nav a[href="/chats"]`) {
				t.Errorf("%s at %dpx does not show the sidebar's navigation", p.path, width)
			}
		}
		shot(p.shot)
	}

	browsertest.Do(t, tab, "open /chats/new", chromedp.Navigate(f.URL+"/chats/new"))
	browsertest.Do(t, tab, "start a chat",
		chromedp.WaitVisible(chromedp.CSS(`#new-chat input[name=to]`)),
		chromedp.SendKeys(chromedp.CSS(`#new-chat input[name=to]`), "+15550100303"),
		chromedp.SendKeys(chromedp.CSS(`#new-chat textarea[name=body]`), longText),
		chromedp.Click(chromedp.Search(`//form[@id="new-chat"]//button[normalize-space(.)="Start chat"]`)),
	)
	browsertest.WaitFor(t, tab, "the new thread", `/^\/chats\/\d+$/.test(location.pathname) && `+visibleJS(`#thread-pane .thread .timeline > .msg`))
	if !isVisible(t, tab, `#conv-list .conv-row`) {
		t.Errorf("at %dpx the open thread hides the list", width)
	}
	if isVisible(t, tab, `#thread-pane .thread-back`) {
		t.Errorf("at %dpx the thread shows the phone's ← Chats link", width)
	}
	noSideScroll(t, tab, "the thread beside the list", width)
	shot("chats-thread")
	console.Check(t, tab, "desktop pages")
}

// TestPhoneMenuMarkup: the layout's menu button names what it controls and
// starts collapsed, and nav.js is loaded before the body (so a phone never
// shows the menu open while the page loads).
func TestPhoneMenuMarkup(t *testing.T) {
	f := newFixture(t)
	c := f.client(t)
	c.login(adminEmail, adminPassword)
	_, body := c.get("/")
	d := doc(t, body)
	b := d.Find(`button.menu-btn`)
	if b.Length() != 1 || b.AttrOr("aria-expanded", "") != "false" || b.AttrOr("aria-controls", "") != "site-menu" || d.Find("#site-menu nav").Length() != 1 {
		t.Fatalf("dashboard menu button: %d found, aria-expanded %q, aria-controls %q; #site-menu nav: %d",
			b.Length(), b.AttrOr("aria-expanded", ""), b.AttrOr("aria-controls", ""), d.Find("#site-menu nav").Length())
	}
	if !strings.Contains(b.Text(), "Menu") {
		t.Errorf("the menu button reads %q, want it to say Menu", strings.TrimSpace(b.Text()))
	}
	script := d.Find(`head script[src*="js/nav"]`)
	if script.Length() != 1 || script.AttrOr("defer", "none") != "none" || script.AttrOr("async", "none") != "none" {
		t.Errorf("head has %d nav.js scripts (defer %q, async %q), want one that runs before the body",
			script.Length(), script.AttrOr("defer", "none"), script.AttrOr("async", "none"))
	}
	_, body = c.get("/chats/new")
	if back := doc(t, body).Find(`#thread-pane a.thread-back[href="/chats"]`); back.Length() != 1 {
		t.Errorf("the new-chat form has %d ← Chats links to /chats, want 1", back.Length())
	}
}
