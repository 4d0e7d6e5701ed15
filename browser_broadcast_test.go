package main

// A chat-enabled SMS broadcast end to end, through the real program:
// `parley serve` with the Vonage simulator. An admin composes the
// broadcast to a group in the browser (the live estimate enables Send),
// watches its progress bar finish over the socket without a reload, two
// recipients answer from the simulator's phone page, their chats are
// marked with the broadcast in Chats, and the reply dashboard counts two
// replies. Screenshots at desktop and phone width go under
// $PARLEY_TEST_OUTPUT/broadcast.
//
// The full journey starts with a CSV import of 1,000 recipients;
// until the import page exists the group is seeded through the database
// (seedBroadcastGroup): replace that step with the import when it lands.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/parley-chat/parley/internal/browsertest"
	"github.com/parley-chat/parley/models"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// broadcastShot saves a screenshot at desktop width and one at a phone's,
// and fails if the phone's page is wider than the phone.
func broadcastShot(t *testing.T, tab context.Context, name string) {
	t.Helper()
	browsertest.Do(t, tab, "scroll to the top for "+name, chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`))
	browsertest.Screenshot(t, tab, "broadcast/desktop-"+name+".png")
	browsertest.Do(t, tab, "phone width for "+name, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	wide := browsertest.Get(t, tab, "page width at 390 for "+name, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
	if wide > 390 {
		t.Errorf("%s: the page is %d px wide at a 390 px phone", name, wide)
	}
	browsertest.Screenshot(t, tab, "broadcast/phone-"+name+".png")
	browsertest.Do(t, tab, "desktop width after "+name, chromedp.EmulateViewport(1280, 800))
}

// seedBroadcastGroup adds a group of n recipients with fresh phone
// numbers to the demo organization and returns its name and the numbers.
func seedBroadcastGroup(t *testing.T, n int) (string, []string) {
	t.Helper()
	ctx := context.Background()
	db, err := models.OpenDB(ctx, env.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	name := fmt.Sprintf("Parents %d", rand.IntN(1_000_000))
	var org, group int64
	if err := db.NewRaw(`SELECT id FROM organizations ORDER BY id LIMIT 1`).Scan(ctx, &org); err != nil {
		t.Fatal(err)
	}
	if err := db.NewRaw(`INSERT INTO groups (org_id, name) VALUES (?, ?) RETURNING id`, org, name).Scan(ctx, &group); err != nil {
		t.Fatal(err)
	}
	phones, names := make([]string, n), make([]string, n)
	for i := range n {
		phones[i], names[i] = randomPhone(), fmt.Sprintf("Pat%d Lee", i+1)
	}
	if _, err := db.NewRaw(`WITH r AS (INSERT INTO recipients (org_id, name, phone) SELECT ?, nm, ph FROM unnest(?::text[], ?::text[]) AS x(nm, ph) RETURNING id)
		INSERT INTO group_members (org_id, group_id, recipient_id) SELECT ?, ?, id FROM r`,
		org, pgdialect.Array(names), pgdialect.Array(phones), org, group).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	return name, phones
}

func TestBrowserBroadcastRepliesBecomeChats(t *testing.T) {
	browsertest.ChromiumPath(t)
	base := serveForBrowser(t)
	const inbox = "+15550100100"
	group, phones := seedBroadcastGroup(t, 3)
	name := "Snow day " + group[len("Parents "):]

	admin := browsertest.NewBrowser(t)
	phone := browsertest.NewIncognitoTab(t, admin)
	console := browsertest.RecordConsole(t, admin)

	browsertest.SignIn(t, admin, base, "admin", "admin@demo.parley.test", "parley-demo-admin")
	browsertest.Do(t, admin, "admin composes a broadcast",
		chromedp.Navigate(base+"/broadcasts/new"),
		chromedp.WaitVisible(chromedp.CSS(`#bc-form`)),
		chromedp.SendKeys(chromedp.CSS(`#bc-form input[name=name]`), name),
		chromedp.Click(chromedp.Search(fmt.Sprintf(`//label[contains(@class,"bc-check")][contains(., %s)]/input`, xpathString(group)))),
		chromedp.SendKeys(chromedp.CSS(`#bc-form textarea[name=body]`), "Hi {first_name|there}, school is closed tomorrow. Questions? Reply here."),
	)
	browsertest.WaitFor(t, admin, "the estimate reaches the group and enables Send",
		`document.querySelector("#est-reached") && document.querySelector("#est-reached").innerText.startsWith("3 ") && !document.querySelector("#bc-send").disabled`)
	if got := browsertest.Get(t, admin, "read the credits", chromedp.Text(chromedp.CSS(`#est-credits`))); !strings.HasPrefix(got, "6 ") {
		t.Errorf("the estimate's credits read %q, want 6 (3 texts of one segment at 2 credits)", got)
	}
	broadcastShot(t, admin, "compose")

	browsertest.Do(t, admin, "admin sends", chromedp.Click(chromedp.CSS(`#bc-send`)))
	browsertest.WaitAcrossLoad(t, admin, "the broadcast's page", `document.querySelector("#bc-progress") !== null`)
	browsertest.MarkNoReload(t, admin, "admin")
	// Live: the bar finishes over the socket, the page is not reloaded.
	browsertest.WaitFor(t, admin, "the progress bar finishes live",
		`(p => p && p.dataset.status === "sent" && p.dataset.done === "3" && p.dataset.total === "3")(document.querySelector("#bc-progress"))`)
	browsertest.NotReloaded(t, admin, "admin")
	id := browsertest.Get(t, admin, "the broadcast's id", chromedp.Evaluate[string](`location.pathname.split("/").pop()`))
	broadcastShot(t, admin, "sent")

	// Two recipients answer from the phone page.
	browsertest.SignIn(t, phone, base, "phone", "admin@demo.parley.test", "parley-demo-admin")
	for i, text := range []string{"Will the buses run Friday?", "Thanks for letting us know"} {
		browsertest.Do(t, phone, "phone opens "+phones[i],
			chromedp.Navigate(base+"/simulator/phone?phone="+url.QueryEscape(phones[i])),
			chromedp.WaitVisible(chromedp.CSS(`#phone-device input[name=text]`)),
		)
		browsertest.WaitFor(t, phone, "the phone got the broadcast", bubbles("bubble-in", `t.includes("school is closed")`)+" > 0")
		phoneSend(t, phone, inbox, text)
	}

	// Chats: two conversations marked with the broadcast.
	browsertest.Do(t, admin, "admin opens Chats", chromedp.Navigate(base+"/chats"), chromedp.WaitVisible(chromedp.CSS(`#conv-list`)))
	marked := fmt.Sprintf(`[...document.querySelectorAll("#conv-list .conv-row .badge-broadcast")].filter(b => b.innerText.trim() === %s).length`,
		browsertest.JSString("Broadcast: "+name))
	browsertest.WaitAcrossLoad(t, admin, "two chats marked with the broadcast", marked+" === 2")
	broadcastShot(t, admin, "chats")
	browsertest.Do(t, admin, "admin opens a marked chat",
		chromedp.Click(chromedp.Search(`//a[contains(@class,"conv-row")][.//span[contains(@class,"badge-broadcast")]]`)),
		chromedp.WaitVisible(chromedp.CSS(`.thread-head .badge-broadcast`)),
	)
	if href := browsertest.Get(t, admin, "the thread's broadcast link", chromedp.Evaluate[string](`document.querySelector(".thread-head .badge-broadcast").getAttribute("href")`)); href != "/broadcasts/"+id {
		t.Errorf("the thread head links to %q, want /broadcasts/%s", href, id)
	}

	// The dashboard: replied 2, the two answers in the Replied tab.
	browsertest.Do(t, admin, "admin opens the dashboard", chromedp.Navigate(base+"/broadcasts/"+id), chromedp.WaitVisible(chromedp.CSS(`#bc-replies`)))
	if got := browsertest.Get(t, admin, "replied count", chromedp.Text(chromedp.CSS(`#bc-n-replied`))); strings.TrimSpace(got) != "2" {
		t.Errorf("the dashboard counts %q replies, want 2", got)
	}
	rows := browsertest.Get(t, admin, "replied rows", chromedp.Evaluate[int](`document.querySelectorAll("#bc-replies .bc-reply-row[data-state=replied]").length`))
	if rows != 2 {
		t.Errorf("the Replied tab lists %d rows, want 2", rows)
	}
	broadcastShot(t, admin, "dashboard")

	// Bulk actions on the reply chats (none ticked: all of them).
	browsertest.Do(t, admin, "admin assigns the reply chats to themself",
		chromedp.SetValue(chromedp.CSS(`#bc-assignee`), browsertest.Get(t, admin, "admin's id", chromedp.Evaluate[string](`document.body.dataset.userId`))),
		chromedp.Click(chromedp.Search(`//button[normalize-space(.)="Assign chats"]`)),
	)
	browsertest.WaitAcrossLoad(t, admin, "the chats are assigned",
		`document.body.innerText.includes("The chats were assigned.") && [...document.querySelectorAll("#bc-replies .bc-reply-preview")].filter(c => c.innerText.includes("→ Avery Admin")).length === 2`)
	browsertest.Do(t, admin, "admin closes the reply chats", chromedp.Click(chromedp.Search(`//button[normalize-space(.)="Close chats"]`)))
	browsertest.WaitAcrossLoad(t, admin, "the chats are closed", `document.body.innerText.includes("The chats were closed.")`)
	browsertest.Do(t, admin, "admin opens Chats again", chromedp.Navigate(base+"/chats"), chromedp.WaitVisible(chromedp.CSS(`#conv-list`)))
	if n := browsertest.Get(t, admin, "marked open chats", chromedp.Evaluate[int](marked)); n != 0 {
		t.Errorf("%d chats marked with the broadcast are still open after Close chats", n)
	}
	console.CheckErrors(t, admin, "the broadcast journey")
}

// xpathString quotes s for an XPath expression (no quotes in the names here).
func xpathString(s string) string { return `"` + s + `"` }
