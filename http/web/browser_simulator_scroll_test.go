package web_test

import (
	"fmt"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/parley-chat/parley/http/simulator"
	"github.com/parley-chat/parley/internal/browsertest"
)

// The phone simulator polls its thread every second: a reader scrolled up
// keeps their place, and one at the bottom stays there as texts arrive.
func TestBrowserPhoneKeepsScroll(t *testing.T) {
	hookSrv := httptest.NewServer(&hookRecorder{})
	t.Cleanup(hookSrv.Close)
	sim := simulator.New(simulator.Config{BaseURL: hookSrv.URL, APIKey: "simkey01", APISecret: "simsecret", Logger: testLogger()})
	f := newFixtureWith(t, serverOpts{simulator: sim})
	const phone, inbox = "+15550100901", "+15550100100"
	c := f.client(t)
	c.login(adminEmail, adminPassword)
	for i := range 30 {
		if code := sendFromPhone(t, c, phone, inbox, "Text number "+strconv.Itoa(i)); code != 200 {
			t.Fatalf("send %d: %d", i, code)
		}
	}

	tab := browsertest.NewBrowser(t)
	console := browsertest.RecordConsole(t, tab)
	if _, err := chromedp.Call(tab, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: `window.__polls = 0; document.addEventListener("htmx:afterSettle", function (e) { if (e.target.id === "phone-screen") { window.__polls++; } });`,
	}); err != nil {
		t.Fatal(err)
	}
	browsertest.SignIn(t, tab, f.URL, "A", adminEmail, adminPassword)
	browsertest.Do(t, tab, "A opens the phone", chromedp.Navigate(f.URL+"/simulator/phone?phone=%2B15550100901"),
		chromedp.WaitVisible(chromedp.CSS("#phone-screen .bubble")))
	const atBottom = `(() => { const s = document.getElementById("phone-screen"); return s.scrollHeight - s.scrollTop - s.clientHeight < 8; })()`
	browsertest.WaitFor(t, tab, "the phone starts at its newest text", atBottom)

	// Scrolled up: two polls later the same text is still in view.
	browsertest.Do(t, tab, "A scrolls up", chromedp.Evaluate[chromedp.Void](`document.getElementById("phone-screen").scrollTop = 200`))
	top := browsertest.Get(t, tab, "read the scroll", chromedp.Evaluate[int](`Math.round(document.getElementById("phone-screen").scrollTop)`))
	if top == 0 {
		t.Fatal("the thread does not scroll: the test needs more texts")
	}
	polls := browsertest.Get(t, tab, "count polls", chromedp.Evaluate[int](`window.__polls`))
	browsertest.WaitFor(t, tab, "two polls", fmt.Sprintf(`window.__polls >= %d`, polls+2))
	if got := browsertest.Get(t, tab, "read the scroll", chromedp.Evaluate[int](`Math.round(document.getElementById("phone-screen").scrollTop)`)); got != top {
		t.Errorf("after two polls the thread is scrolled to %d, was %d", got, top)
	}

	// At the bottom: a new text comes into view.
	browsertest.Do(t, tab, "A scrolls to the bottom", chromedp.Evaluate[chromedp.Void](
		`(() => { const s = document.getElementById("phone-screen"); s.scrollTop = s.scrollHeight; })()`))
	if code := sendFromPhone(t, c, phone, inbox, "The newest text"); code != 200 {
		t.Fatalf("send: %d", code)
	}
	browsertest.WaitFor(t, tab, "the new text arrives", `document.getElementById("phone-screen").innerText.includes("The newest text")`)
	if !browsertest.Get(t, tab, "at the bottom", chromedp.Evaluate[bool](atBottom)) {
		t.Error("a reader at the bottom was left above the new text")
	}
	console.CheckErrors(t, tab, "the phone")
}
