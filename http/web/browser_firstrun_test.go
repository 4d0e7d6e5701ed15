package web_test

// First run in a browser, at phone width (390) and desktop width (1366):
// an empty instance opens on /setup, the time zone field offers the IANA
// list, a bad field's error shows next to it, a good form signs the admin
// in, and the operators' Instance page fits both widths. Screenshots go to
// $PARLEY_TEST_OUTPUT/web/firstrun-<width>-*.png.

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/parley-chat/parley/internal/browsertest"
)

func TestBrowserFirstRun(t *testing.T) {
	for _, size := range []struct{ w, h int }{{390, 844}, {1366, 768}} {
		t.Run(fmt.Sprint(size.w), func(t *testing.T) {
			f := newFixtureWith(t, serverOpts{db: emptyStore(t)})
			tab := browsertest.NewBrowser(t)
			console := browsertest.RecordConsole(t, tab)
			shot := func(name string) { browsertest.Screenshot(t, tab, fmt.Sprintf("web/firstrun-%d-%s.png", size.w, name)) }
			opts := []chromedp.EmulateViewportOption{}
			if size.w < 700 {
				opts = append(opts, chromedp.EmulateMobile)
			}
			browsertest.Do(t, tab, "set the viewport", chromedp.EmulateViewport(int64(size.w), int64(size.h), opts...))

			browsertest.Do(t, tab, "open / on an empty instance",
				chromedp.Navigate(f.URL+"/"),
				chromedp.WaitVisible(chromedp.CSS(`input[name=timezone]`)))
			if path := browsertest.Get(t, tab, "path", chromedp.Evaluate[string](`location.pathname`)); path != "/setup" {
				t.Fatalf("an empty instance opened %s, want /setup", path)
			}
			if n := browsertest.Get(t, tab, "count zones", chromedp.Evaluate[int](`document.querySelectorAll("#timezones option").length`)); n < 300 {
				t.Errorf("the time zone list offers %d zones", n)
			}
			noSideScroll(t, tab, "/setup", size.w)
			shot("setup")

			fill := func(name, value string) chromedp.Action[chromedp.Void] {
				return chromedp.SetValue(chromedp.CSS(`input[name=`+name+`]`), value)
			}
			browsertest.Do(t, tab, "submit a bad time zone",
				fill("name", "Acme Dental"), fill("location_name", "Downtown"), fill("timezone", "Mars/Base"),
				fill("admin_name", "Ada Admin"), fill("admin_email", "ada@acme.test"), fill("admin_password", "ada password 1"),
				chromedp.Click(chromedp.CSS(`form button[type=submit]`)),
				chromedp.WaitVisible(chromedp.CSS(`#timezone-error`)))
			if msg := browsertest.Get(t, tab, "read the error", chromedp.Text(chromedp.CSS(`#timezone-error`))); !strings.Contains(msg, "not a time zone") {
				t.Errorf("time zone error %q", msg)
			}
			noSideScroll(t, tab, "/setup with an error", size.w)
			shot("setup-error")

			browsertest.Do(t, tab, "submit the corrected form",
				fill("timezone", "Europe/Paris"), fill("admin_password", "ada password 1"),
				chromedp.Click(chromedp.CSS(`form button[type=submit]`)),
				chromedp.WaitReady(chromedp.CSS(`aside.sidebar`))) // the setup page has none
			if path := browsertest.Get(t, tab, "path", chromedp.Evaluate[string](`location.pathname`)); path != "/" {
				t.Errorf("after first run the path is %s, want /", path)
			}
			if h1 := browsertest.Get(t, tab, "read h1", chromedp.Text(chromedp.CSS(`main h1`))); !strings.Contains(h1, "Ada Admin") {
				t.Errorf("home after first run: h1 %q", h1)
			}

			browsertest.Do(t, tab, "open the Instance page",
				chromedp.Navigate(f.URL+"/admin/instance"),
				chromedp.WaitVisible(chromedp.CSS(`main .instance-deps`)))
			if txt := browsertest.Get(t, tab, "read the page", chromedp.Text(chromedp.CSS(`main`))); !strings.Contains(txt, "Acme Dental") || !strings.Contains(txt, "PostgreSQL") {
				t.Errorf("instance page text: %s", txt)
			}
			noSideScroll(t, tab, "/admin/instance", size.w)
			shot("instance")
			console.Check(t, tab, "first run")
		})
	}
}
