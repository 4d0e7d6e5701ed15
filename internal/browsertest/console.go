package browsertest

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Console keeps the console messages and uncaught exceptions of a tab.
type Console struct {
	mu   sync.Mutex
	msgs []chromedp.ConsoleMessage
}

// RecordConsole starts recording the tab's console, from now until the test ends.
func RecordConsole(t testing.TB, tab context.Context) *Console {
	t.Helper()
	ctx, cancel := context.WithCancel(tab)
	t.Cleanup(cancel)
	r := &Console{}
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

// Problems returns the uncaught exceptions and the security messages (CSP
// violations: "Refused to execute inline script ...") seen so far. Failed
// requests (the 401 of a wrong password) are expected and not listed.
func (r *Console) Problems() []string { return r.find(false) }

// Errors returns what Problems does, and also the page's calls of
// console.error (htmx reports a failed request or a swap target that is
// missing that way). The browser's own log of failed requests (source
// "network") is still left out.
func (r *Console) Errors() []string { return r.find(true) }

func (r *Console) find(errors bool) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, m := range r.msgs {
		if m.IsException() || m.Source == "security" || strings.Contains(m.Text, "Content Security Policy") ||
			(errors && m.Type == chromedp.ConsoleError && m.Source == "") {
			out = append(out, m.String()+" ("+m.URL+")")
		}
	}
	return out
}

// Check fails the test (without stopping it) if the page threw or violated
// the CSP so far.
func (r *Console) Check(t testing.TB, tab context.Context, step string) {
	t.Helper()
	r.check(t, tab, step, r.Problems)
}

// CheckErrors is Check that also fails on calls of console.error (see Errors).
func (r *Console) CheckErrors(t testing.TB, tab context.Context, step string) {
	t.Helper()
	r.check(t, tab, step, r.Errors)
}

func (r *Console) check(t testing.TB, tab context.Context, step string, problems func() []string) {
	t.Helper()
	// A round trip to the page: the browser sends the events that came before
	// its reply first. The recorder's goroutine may still be draining them,
	// and a missing message sends no event to wait for, so poll briefly.
	Get(t, tab, step+": console round trip", chromedp.Evaluate[int](`1`))
	deadline := time.Now().Add(200 * time.Millisecond)
	for {
		if p := problems(); len(p) > 0 {
			t.Errorf("%s: browser console reported problems:\n  %s", step, strings.Join(p, "\n  "))
			return
		}
		if time.Now().After(deadline) {
			return
		}
		time.Sleep(20 * time.Millisecond) // see above: waiting for an absence
	}
}
