package web_test

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/parley-chat/parley/internal/browsertest"
)

// TestBrowserUnsubscribe: a recipient opens an email's unsubscribe link,
// unsubscribes, thinks better of it and subscribes again from the same
// page; at desktop and phone width, with no session.
func TestBrowserUnsubscribe(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	addr, tok := emailRecipient(t, f, "changeable")
	optedOut := func() (out bool) {
		t.Helper()
		if err := f.Store.DB().NewRaw("SELECT email_opted_out_at IS NOT NULL FROM recipients WHERE email = ?", addr).Scan(ctx, &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	browser := browsertest.NewBrowser(t)
	for _, vp := range []struct {
		name string
		w, h int64
	}{{"desktop", 1366, 900}, {"phone", 390, 844}} {
		tab := browsertest.NewIncognitoTab(t, browser)
		console := browsertest.RecordConsole(t, tab)
		browsertest.Do(t, tab, vp.name+" viewport", chromedp.EmulateViewport(vp.w, vp.h),
			chromedp.Navigate(f.URL+"/unsubscribe/"+tok), chromedp.WaitVisible(chromedp.CSS(`form[action="/unsubscribe/`+tok+`"] button`)))
		browsertest.Screenshot(t, tab, "unsubscribe/"+vp.name+"-ask.png")
		browsertest.Do(t, tab, "unsubscribe", chromedp.Click(chromedp.CSS(`form[action="/unsubscribe/`+tok+`"] button`)))
		browsertest.WaitAcrossLoad(t, tab, "the page says unsubscribed and offers the way back",
			`document.querySelector("h1").innerText.includes("unsubscribed") && !!document.querySelector("#resubscribe button")`)
		if !optedOut() {
			t.Fatalf("%s: not opted out after the click", vp.name)
		}
		browsertest.Screenshot(t, tab, "unsubscribe/"+vp.name+"-done.png")
		browsertest.Do(t, tab, "subscribe again", chromedp.Click(chromedp.CSS(`#resubscribe button`)))
		browsertest.WaitAcrossLoad(t, tab, "the page says subscribed again", `document.querySelector("h1").innerText.includes("subscribed again")`)
		if optedOut() {
			t.Fatalf("%s: still opted out after subscribing again", vp.name)
		}
		browsertest.Screenshot(t, tab, "unsubscribe/"+vp.name+"-again.png")
		console.Check(t, tab, "the unsubscribe page at "+vp.name+" width")
	}
}
