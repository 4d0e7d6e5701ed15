package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// pollInterval is how often the waits evaluate their condition.
const pollInterval = 50 * time.Millisecond

// Do runs the actions on the tab within StepTimeout, failing the test on error.
func Do(t testing.TB, tab context.Context, step string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, StepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", step, err)
	}
}

// Get runs one action that returns a value, within StepTimeout.
func Get[T any](t testing.TB, tab context.Context, step string, action chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, StepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, action)
	if err != nil {
		t.Fatalf("%s: %v", step, err)
	}
	return v
}

// WaitFor polls a JavaScript condition until it is true, failing the test
// with a description of the page if it is not within StepTimeout.
func WaitFor(t testing.TB, tab context.Context, step, cond string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, StepTimeout)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](cond,
		chromedp.WithPollingInterval(pollInterval), chromedp.WithPollingTimeout(StepTimeout-time.Second)))
	if err != nil {
		t.Fatalf("%s: waiting for %s: %v\n%s", step, cond, err, PageState(tab))
	}
}

// WaitWithin is WaitFor with a tighter bound, for steps whose speed is the point.
func WaitWithin(t testing.TB, tab context.Context, step, cond string, within time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, within+time.Second)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](cond,
		chromedp.WithPollingInterval(pollInterval), chromedp.WithPollingTimeout(within)))
	if err != nil {
		t.Fatalf("%s: not within %s: waiting for %s: %v\n%s", step, within, cond, err, PageState(tab))
	}
}

// WaitOK polls a JavaScript condition for up to StepTimeout and says
// whether it came true; the caller decides what a timeout means.
func WaitOK(tab context.Context, cond string) bool {
	ctx, cancel := context.WithTimeout(tab, StepTimeout)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](cond,
		chromedp.WithPollingInterval(pollInterval), chromedp.WithPollingTimeout(StepTimeout-time.Second)))
	return err == nil
}

// PageState describes where the tab is, for failure messages.
func PageState(tab context.Context) string {
	ctx, cancel := context.WithTimeout(tab, 3*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`location.href + "\n" + document.title + "\n" + (document.body ? document.body.innerText.slice(0, 800) : "(no body)")`))
	if err != nil {
		return "(page state unavailable: " + err.Error() + ")"
	}
	return "page: " + s
}

// JSString quotes s as a JavaScript string literal (JSON is valid JS).
func JSString(s string) string {
	b, _ := json.Marshal(s) // a string always marshals
	return string(b)
}

// TextOf is a JS expression for the visible text of the element with this id ("" if none).
func TextOf(id string) string {
	return fmt.Sprintf(`((document.getElementById(%s) || {}).innerText || "")`, JSString(id))
}

// WaitAcrossLoad is WaitFor for a condition that comes true on the page a
// navigation is still loading (a form's submit, a redirect): a poll that
// the navigation interrupts ("Cannot find context") is started again on
// the new page, until StepTimeout.
func WaitAcrossLoad(t testing.TB, tab context.Context, step, cond string) {
	t.Helper()
	deadline := time.Now().Add(StepTimeout)
	for {
		ctx, cancel := context.WithDeadline(tab, deadline)
		_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](cond, chromedp.WithPollingInterval(pollInterval)))
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) || tab.Err() != nil {
			t.Fatalf("%s: waiting for %s: %v\n%s", step, cond, err, PageState(tab))
		}
	}
}
