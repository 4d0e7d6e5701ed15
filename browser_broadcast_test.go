package main

// A chat-enabled SMS broadcast end to end, through the real program:
// `parley serve` with the Vonage simulator (issue 13's journey). An admin
// imports a CSV of 1,000 recipients with 25 bad rows into a new group
// (the worker runs the import; the bad rows are reported), composes the
// broadcast to that group in the browser (the live estimate enables
// Send), watches its progress bar finish over the socket without a
// reload, two recipients answer from the simulator's phone page, their
// chats are marked with the broadcast in Chats, and the reply dashboard
// counts two replies. Screenshots at desktop and phone width go under
// $PARLEY_TEST_OUTPUT/broadcast.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/parley-chat/parley/internal/browsertest"
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

// importBroadcastGroup imports, through the import page, a generated CSV of
// n recipients and bad bad rows into a new group, lets the worker run it
// and checks the counts and the refused rows it reports. It returns the
// group's name and the first phones of the file.
func importBroadcastGroup(t *testing.T, tab context.Context, base string, n, bad int) (string, []string) {
	t.Helper()
	name := fmt.Sprintf("Parents %d", rand.IntN(1_000_000))
	var csv strings.Builder
	csv.WriteString("Name,Mobile,Email\n")
	phones := make([]string, 0, n)
	seen := map[string]bool{}
	for len(phones) < n {
		p := randomPhone()
		if seen[p] {
			continue
		}
		seen[p] = true
		phones = append(phones, p)
		fmt.Fprintf(&csv, "Pat%d Lee,%s,\n", len(phones), p)
		if len(phones)%40 == 0 && len(phones)/40 <= bad {
			fmt.Fprintf(&csv, "Bad %d,12,\n", len(phones)/40)
		}
	}
	path := filepath.Join(t.TempDir(), "parents.csv")
	if err := os.WriteFile(path, []byte(csv.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	browsertest.Do(t, tab, "open the import page", chromedp.Navigate(base+"/recipients/import"),
		chromedp.WaitVisible(chromedp.CSS(`#import-upload input[name=file]`)))
	browsertest.Do(t, tab, "upload the CSV",
		chromedp.SetUploadFiles(chromedp.CSS(`#import-upload input[name=file]`), []string{path}),
		chromedp.Click(chromedp.CSS(`#import-upload button[type=submit]`)))
	browsertest.WaitAcrossLoad(t, tab, "the preview", `document.querySelector("#import-group") !== null`)
	browsertest.Do(t, tab, "import into a new group",
		chromedp.SetValue(chromedp.CSS(`#import-group`), "new"),
		chromedp.SendKeys(chromedp.CSS(`#import-new-group`), name),
		chromedp.Click(chromedp.CSS(`#import-start`)))
	browsertest.WaitAcrossLoad(t, tab, "the worker finishes the import",
		`(p => p && p.dataset.status === "done")(document.getElementById("import-progress"))`)
	counts := browsertest.Get(t, tab, "the import's counts", chromedp.Evaluate[[]string](
		`["import-imported", "import-merged", "import-failed"].map(id => document.getElementById(id).textContent.trim())`))
	if want := fmt.Sprint([]string{fmt.Sprint(n), "0", fmt.Sprint(bad)}); fmt.Sprint(counts) != want {
		t.Fatalf("import counts (imported, merged, failed) = %v, want %s", counts, want)
	}
	report := browsertest.Get(t, tab, "download the error report", chromedp.Evaluate[string](
		`fetch(document.getElementById("import-errors").href).then(r => r.text())`, chromedp.EvalAwaitPromise))
	if got := strings.Count(report, "Bad "); got != bad {
		t.Errorf("the error report names %d bad rows, want %d:\n%s", got, bad, report)
	}
	broadcastShot(t, tab, "import-done")
	return name, phones[:2]
}

func TestBrowserBroadcastRepliesBecomeChats(t *testing.T) {
	browsertest.ChromiumPath(t)
	// 1,000 texts through the simulator: the send rate is raised from
	// Vonage's default 30/s so the bar finishes within a step.
	// Its shutdown once waited out the default 15 s grace (seen once in
	// three runs, cause not found yet): 30 s here.
	base := serveForBrowserEnv(t, map[string]string{"PARLEY_SMS_RATE": "1000", "PARLEY_SHUTDOWN_GRACE": "30s"})
	const inbox = "+15550100100"
	const total = 1000

	admin := browsertest.NewBrowser(t)
	phone := browsertest.NewIncognitoTab(t, admin)
	console := browsertest.RecordConsole(t, admin)

	browsertest.SignIn(t, admin, base, "admin", "admin@demo.parley.test", "parley-demo-admin")
	group, phones := importBroadcastGroup(t, admin, base, total, 25)
	name := "Snow day " + group[len("Parents "):]
	browsertest.Do(t, admin, "admin composes a broadcast",
		chromedp.Navigate(base+"/broadcasts/new"),
		chromedp.WaitVisible(chromedp.CSS(`#bc-form`)),
		chromedp.SendKeys(chromedp.CSS(`#bc-form input[name=name]`), name),
		chromedp.Click(chromedp.Search(fmt.Sprintf(`//label[contains(@class,"bc-check")][contains(., %s)]/input`, xpathString(group)))),
		chromedp.SendKeys(chromedp.CSS(`#bc-form textarea[name=body]`), "Hi {first_name|there}, school is closed tomorrow. Questions? Reply here."),
	)
	browsertest.WaitFor(t, admin, "the estimate reaches the group and enables Send",
		fmt.Sprintf(`document.querySelector("#est-reached") && document.querySelector("#est-reached").innerText.startsWith("%d ") && !document.querySelector("#bc-send").disabled`, total))
	if got := browsertest.Get(t, admin, "read the credits", chromedp.Text(chromedp.CSS(`#est-credits`))); !strings.HasPrefix(got, fmt.Sprint(2*total)+" ") {
		t.Errorf("the estimate's credits read %q, want %d (%d texts of one segment at 2 credits)", got, 2*total, total)
	}
	broadcastShot(t, admin, "compose")

	browsertest.Do(t, admin, "admin sends", chromedp.Click(chromedp.CSS(`#bc-send`)))
	browsertest.WaitAcrossLoad(t, admin, "the broadcast's page", `document.querySelector("#bc-progress") !== null`)
	browsertest.MarkNoReload(t, admin, "admin")
	// Live: the bar finishes over the socket, the page is not reloaded.
	browsertest.WaitFor(t, admin, "the progress bar finishes live",
		fmt.Sprintf(`(p => p && p.dataset.status === "sent" && p.dataset.done === "%d" && p.dataset.total === "%d")(document.querySelector("#bc-progress"))`, total, total))
	// The header and the tabs follow too: no Cancel button once sent, and
	// the All tab counts everyone.
	browsertest.WaitFor(t, admin, "the header and the tabs follow live",
		fmt.Sprintf(`document.querySelector("#bc-cancel button") === null && document.querySelector("#bc-when").innerText.trim() === "sent" && document.querySelector("#bc-tab-n-all").innerText.trim() === "%d"`, total))
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
