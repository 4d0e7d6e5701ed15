package browsertest

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"
)

// MarkNoReload sets a marker on the tab's window. NotReloaded later checks
// it is still there, which proves every update since arrived in place (a
// socket frame, an htmx swap) and not by loading a new document.
func MarkNoReload(t testing.TB, tab context.Context, who string) {
	t.Helper()
	Do(t, tab, who+" sets the no-reload marker", chromedp.Evaluate[chromedp.Void](`window.__noReload = true`))
}

// NotReloaded fails the test if the tab loaded a new document since MarkNoReload.
func NotReloaded(t testing.TB, tab context.Context, who string) {
	t.Helper()
	if m := Get(t, tab, who+": read the no-reload marker", chromedp.Evaluate[string](`String(window.__noReload)`)); m != "true" {
		t.Fatalf("%s's page was reloaded (marker %q); every update must arrive live", who, m)
	}
}
