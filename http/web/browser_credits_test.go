package web_test

// The Credits page in a browser after some charges: the balance and usage
// numbers, the server-drawn SVG chart (bars, axis labels, legend, its
// <title>), the breakdowns, at 1366 and at 390 wide without sideways
// scrolling. Screenshots go to $PARLEY_TEST_OUTPUT/web/desktop-1366/ and
// web/phone-390/.

import (
	"context"
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/parley-chat/parley/internal/browsertest"
)

func TestBrowserCredits(t *testing.T) {
	f := newFixture(t)
	chargeDemo(t, f, 4)
	var balance int64
	if err := f.Store.DB().NewRaw("SELECT plan_balance + purchased_balance FROM credit_accounts WHERE location_id = ?", f.Demo.Location.ID).
		Scan(context.Background(), &balance); err != nil {
		t.Fatal(err)
	}
	card := fmt.Sprintf("#credits-%d", f.Demo.Location.ID)

	browser := browsertest.NewBrowser(t)
	for _, size := range []struct {
		w, h   int
		mobile bool
		dir    string
	}{{1366, 900, false, "web/desktop-1366/"}, {390, 844, true, "web/phone-390/"}} {
		t.Run(fmt.Sprintf("%dpx", size.w), func(t *testing.T) {
			tab := browsertest.NewIncognitoTab(t, browser)
			vp := chromedp.EmulateViewport(int64(size.w), int64(size.h))
			if size.mobile {
				vp = chromedp.EmulateViewport(int64(size.w), int64(size.h), chromedp.EmulateMobile)
			}
			browsertest.Do(t, tab, "set the viewport", vp)
			console := browsertest.RecordConsole(t, tab)
			browsertest.SignIn(t, tab, f.URL, "admin", adminEmail, adminPassword)
			browsertest.Do(t, tab, "open Credits", chromedp.Navigate(f.URL+"/credits"))
			browsertest.WaitFor(t, tab, "the card rendered", fmt.Sprintf(`document.readyState === "complete" && !!document.querySelector(%q)`, card+" svg"))
			noSideScroll(t, tab, "/credits", size.w)

			shown := browsertest.Get(t, tab, "the balance", chromedp.Evaluate[string](fmt.Sprintf(`document.querySelector(%q).textContent.trim()`, card+" [data-balance]")))
			if shown != fmt.Sprint(balance) {
				t.Errorf("balance shows %q, the account has %d", shown, balance)
			}
			inbound := browsertest.Get(t, tab, "inbound used", chromedp.Evaluate[string](fmt.Sprintf(`document.querySelector(%q).textContent.trim()`, card+` [data-kind="inbound"]`)))
			if inbound == "0" || inbound == "" {
				t.Errorf("inbound used shows %q after 4 texts", inbound)
			}
			// The chart: a titled SVG with bars for today, axis labels and a legend.
			chart := browsertest.Get(t, tab, "the chart", chromedp.Evaluate[map[string]any](fmt.Sprintf(`(() => {
				const svg = document.querySelector(%q);
				const r = svg.getBoundingClientRect();
				return {title: svg.querySelector("title").textContent, bars: svg.querySelectorAll("rect.kind-inbound").length,
					ylabels: svg.querySelectorAll(".chart-y text").length, xlabels: svg.querySelectorAll(".chart-x text").length,
					legend: document.querySelector(%q).textContent, width: r.width, height: r.height};
			})()`, card+" svg", card+" .chart-legend")))
			if chart["title"] != "Daily credits used by kind, last 30 days" || chart["bars"].(float64) < 1 || chart["ylabels"].(float64) != 5 ||
				chart["xlabels"].(float64) < 4 || chart["width"].(float64) < 300 || chart["height"].(float64) < 100 {
				t.Errorf("chart: %v", chart)
			}
			if !isVisible(t, tab, card+" .credit-forecast") || !isVisible(t, tab, card+" .credit-convs a") {
				t.Error("the forecast or the top conversations are not shown")
			}
			browsertest.Screenshot(t, tab, size.dir+"credits.png")

			// The daily numbers open from their <details>, and fit.
			browsertest.Do(t, tab, "open the daily numbers", chromedp.Click(chromedp.Search(card+" .chart-table summary"), chromedp.NodeVisible))
			browsertest.WaitFor(t, tab, "the table shows", visibleJS(card+" .chart-table table"))
			noSideScroll(t, tab, "/credits with the table open", size.w)
			browsertest.Do(t, tab, "scroll to the download", chromedp.ScrollIntoView("#ledger-download"))
			browsertest.Screenshot(t, tab, size.dir+"credits-table.png")
			console.Check(t, tab, "credits")
		})
	}
}
