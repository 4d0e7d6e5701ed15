package browsertest

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"
)

// Login fills in Parley's sign-in form on the current page and submits it.
// It does not wait for the result: a test checks what it expects to see.
func Login(t testing.TB, tab context.Context, email, password string) {
	t.Helper()
	Do(t, tab, "fill in the sign-in form",
		chromedp.WaitVisible(chromedp.CSS(`input[name=email]`)),
		chromedp.Clear(chromedp.CSS(`input[name=email]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=email]`), email),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), password),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)),
	)
}

// SignIn opens baseURL/login, signs in and waits for the dashboard (its
// inbox list). who names the person in step descriptions.
func SignIn(t testing.TB, tab context.Context, baseURL, who, email, password string) {
	t.Helper()
	Do(t, tab, who+" opens /login",
		chromedp.Navigate(baseURL+"/login"),
		chromedp.WaitVisible(chromedp.CSS(`input[name=email]`)),
	)
	Login(t, tab, email, password)
	Do(t, tab, who+" waits for the dashboard", chromedp.WaitVisible(chromedp.CSS(`.inbox`)))
}

// LiveCond is a JS condition, true once the Chats page's socket is open
// (its live indicator says so).
const LiveCond = `(() => { const s = document.getElementById("live-state"); return !!s && s.dataset.state === "live"; })()`
