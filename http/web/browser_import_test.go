package web_test

// The CSV import page in a browser (issue 13): upload 1,000 recipients
// with 25 bad rows, check the preview and its mapping selects, change one
// mapping, send the rows to a new group at a location, watch the progress
// card poll to done and stop polling, read the counts, download the error
// report; then cancel a 50,000-row import mid-run and check nothing was
// imported. Screenshots: web/desktop-1366/import-*.png and
// web/phone-390/import-*.png.

import (
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/parley-chat/parley/internal/browsertest"
	"github.com/parley-chat/parley/models"
)

// importRowFault is what a generated file row does wrong, by file row
// number (the header is row 1), and the field its error names.
type importRowFault map[int]string

// importTestCSV writes n recipients to dir/name: a name, a mobile, an
// email in a column the header does not name ("Work email", so the
// mapping must be changed for it), an SMS opt-out. Every 40th row from
// the 6th is bad: 10 bad phones, 10 bad emails, 5 with neither; the last
// row repeats the first's phone (merged); row 502 is opted out of SMS.
func importTestCSV(t *testing.T, dir, name string, n int) (string, importRowFault) {
	t.Helper()
	var b strings.Builder
	b.WriteString("Name,Mobile,Work email,SMS opt-out\n")
	bad := importRowFault{}
	kind := 0
	for i := 0; i < n; i++ {
		phone, email, out := fmt.Sprintf("(555) 013-%04d", i), fmt.Sprintf("p%04d@import.example", i), ""
		if i%40 == 5 {
			switch {
			case kind < 10:
				phone, bad[i+2] = "12", models.ImportPhone
			case kind < 20:
				email, bad[i+2] = "p@@import.example", models.ImportEmail
			default:
				phone, email, bad[i+2] = "", "", models.ImportPhone
			}
			kind++
		}
		if i == 500 {
			out = "yes"
		}
		if i == n-1 {
			phone, email = "555 013 0000", ""
		}
		fmt.Fprintf(&b, "Person %04d,%s,%s,%s\n", i, phone, email, out)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, bad
}

// uploadImport opens the import page, uploads the file and waits for its preview.
func uploadImport(t *testing.T, tab context.Context, base, path string) {
	t.Helper()
	browsertest.Do(t, tab, "open the import page", chromedp.Navigate(base+"/recipients/import"),
		chromedp.WaitVisible(chromedp.CSS(`#import-upload input[name=file]`)))
	browsertest.Do(t, tab, "upload "+filepath.Base(path),
		chromedp.SetUploadFiles(chromedp.CSS(`#import-upload input[name=file]`), []string{path}),
		chromedp.Click(chromedp.CSS(`#import-upload button[type=submit]`)))
	browsertest.WaitAcrossLoad(t, tab, "the preview", `!!document.getElementById("import-mapping") && document.readyState === "complete" && `+htmxSettledJS)
}

// htmxSettledJS is true once htmx finished its requests and swaps (a
// click on a form it has not processed yet may be lost).
const htmxSettledJS = `!document.querySelector(".htmx-request, .htmx-swapping, .htmx-settling, .htmx-added")`

// runningImport returns the organization's running import (the one just started).
func runningImport(t *testing.T, f *fixture) int64 {
	t.Helper()
	var id int64
	if err := f.Store.DB().NewRaw("SELECT id FROM imports WHERE org_id = ? AND status = 'running' ORDER BY id DESC LIMIT 1", f.Demo.Org.ID).
		Scan(context.Background(), &id); err != nil {
		t.Fatalf("the running import: %v", err)
	}
	return id
}

// countPollsJS counts the page's htmx requests (only the progress card
// makes any) in window.__polls; set after the page loaded.
const countPollsJS = `window.__polls = 0; window.__pollLog = [];
if (!window.__pollsHooked) {
  window.__pollsHooked = true; // a boosted page keeps its body, and so its listeners
  document.body.addEventListener("htmx:beforeRequest", (e) => {
    window.__polls++;
    window.__pollLog.push(((e.detail.pathInfo || {}).requestPath || "?") + " from " + (e.detail.elt.id || e.detail.elt.tagName) + (e.detail.elt.isConnected ? "" : " (detached)"));
  });
}
true`

// pollsStopped checks the progress card no longer polls: it has no
// trigger, and no request goes out in 2.5 s (2.5 poll intervals). The
// wait is the point here: an absence has no event to wait for.
func pollsStopped(t *testing.T, tab context.Context, step string) {
	t.Helper()
	if trig := browsertest.Get(t, tab, step+": the card's trigger", chromedp.Evaluate[string](
		`document.getElementById("import-progress").getAttribute("hx-trigger") || ""`)); trig != "" {
		t.Errorf("%s: the finished card still has hx-trigger %q", step, trig)
	}
	got := browsertest.Get(t, tab, step+": requests over 2.5 s", chromedp.Evaluate[[]string](
		`(async () => { const a = window.__pollLog.length; await new Promise(r => setTimeout(r, 2500)); return window.__pollLog.slice(a); })()`,
		chromedp.EvalAwaitPromise))
	if len(got) != 0 {
		t.Errorf("%s: the page still polls once finished: %v", step, got)
	}
}

func TestBrowserImport(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	dir := t.TempDir()
	small, bad := importTestCSV(t, dir, "people.csv", 1000)
	var big strings.Builder
	big.WriteString("Name,Email\n")
	for i := 0; i < 50000; i++ {
		fmt.Fprintf(&big, "Big %05d,big%05d@import.example\n", i, i)
	}
	bigPath := filepath.Join(dir, "big.csv")
	if err := os.WriteFile(bigPath, []byte(big.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	const groupName = "Imported volunteers"
	if _, err := f.Store.DB().NewRaw("INSERT INTO groups (org_id, name) VALUES (?, 'Existing group') ON CONFLICT DO NOTHING", f.Demo.Org.ID).Exec(ctx); err != nil {
		t.Fatal(err)
	}

	browser := browsertest.NewBrowser(t)
	tab := browser
	browsertest.Do(t, tab, "desktop viewport", chromedp.EmulateViewport(1366, 900))
	console := browsertest.RecordConsole(t, tab)
	browsertest.SignIn(t, tab, f.URL, "admin", adminEmail, adminPassword)

	// The recipients list leads to the import page.
	browsertest.Do(t, tab, "open Recipients", chromedp.Navigate(f.URL+"/recipients"), chromedp.WaitVisible(chromedp.CSS(`#recipients-import`)))
	browsertest.Do(t, tab, "follow Import CSV", chromedp.Click(chromedp.CSS(`#recipients-import`)))
	browsertest.WaitAcrossLoad(t, tab, "the import page", `!!document.getElementById("import-upload")`)

	// 1. The preview: the first rows, a select per column with its guess.
	uploadImport(t, tab, f.URL, small)
	title := browsertest.Get(t, tab, "the preview's title", chromedp.Evaluate[string](`document.querySelector(".card-title").textContent`))
	if !strings.Contains(title, "people.csv") || !strings.Contains(title, "1000 rows") {
		t.Errorf("preview title %q, want the file's name and 1000 rows", title)
	}
	cells := browsertest.Get(t, tab, "the preview rows", chromedp.Evaluate[[]string](
		`[...document.querySelectorAll(".import-preview tbody tr")].map(r => r.cells[0].textContent + "|" + r.cells[1].textContent)`))
	if len(cells) != 10 || cells[0] != "Person 0000|(555) 013-0000" {
		t.Errorf("preview rows = %v, want the first 10 rows", cells)
	}
	mapping := browsertest.Get(t, tab, "the mapping selects", chromedp.Evaluate[map[string]string](
		`Object.fromEntries([...document.querySelectorAll("#import-mapping select[name=col]")].map(s => [s.dataset.header, s.value]))`))
	want := map[string]string{"Name": models.ImportName, "Mobile": models.ImportPhone, "Work email": "", "SMS opt-out": models.ImportSMSOptOut}
	if fmt.Sprint(mapping) != fmt.Sprint(want) {
		t.Errorf("guessed mapping = %v, want %v", mapping, want)
	}
	groups := browsertest.Get(t, tab, "the group picker", chromedp.Evaluate[[]string](`[...document.querySelectorAll("#import-group option")].map(o => o.textContent)`))
	locs := browsertest.Get(t, tab, "the location picker", chromedp.Evaluate[[]string](`[...document.querySelectorAll("#import-location option")].map(o => o.textContent)`))
	if !strings.Contains(strings.Join(groups, "|"), "Existing group") || groups[len(groups)-1] != "A new group…" ||
		!strings.Contains(strings.Join(locs, "|"), f.Demo.Location.Name) {
		t.Errorf("pickers: groups %v, locations %v", groups, locs)
	}

	// 2. Map "Work email" to Email, send the rows to a new group at the
	// demo location, import.
	loc := strconv.FormatInt(f.Demo.Location.ID, 10)
	browsertest.Do(t, tab, "change the mapping and choose the targets",
		chromedp.SetValue(chromedp.CSS(`select[data-header="Work email"]`), models.ImportEmail),
		chromedp.SetValue(chromedp.CSS(`#import-group`), "new"),
		chromedp.SendKeys(chromedp.CSS(`#import-new-group`), groupName),
		chromedp.SetValue(chromedp.CSS(`#import-location`), loc))
	browsertest.Screenshot(t, tab, "web/desktop-1366/import-preview.png")
	browsertest.Do(t, tab, "start the import", chromedp.Click(chromedp.CSS(`#import-start`)))
	browsertest.WaitAcrossLoad(t, tab, "the import runs",
		`document.readyState === "complete" && (document.getElementById("import-progress") || {dataset: {}}).dataset.status === "running"`)
	if !isVisible(t, tab, "#import-cancel") {
		t.Error("a running import shows no Cancel button")
	}
	browsertest.Get(t, tab, "count the polls", chromedp.Evaluate[bool](countPollsJS))
	browsertest.WaitFor(t, tab, "the card polls while running", `window.__polls >= 1`)
	id := runningImport(t, f)

	// 3. The worker's job runs it; the bar reaches done.
	if err := f.Store.RunImport(ctx, id, nil); err != nil {
		t.Fatal(err)
	}
	browsertest.WaitFor(t, tab, "the bar reaches done",
		`document.getElementById("import-progress").dataset.status === "done" && document.getElementById("import-bar").value === 100`)
	counts := browsertest.Get(t, tab, "the counts", chromedp.Evaluate[[]string](
		`["import-imported", "import-merged", "import-failed"].map(id => document.getElementById(id).textContent)`))
	if fmt.Sprint(counts) != "[974 1 25]" {
		t.Errorf("counts shown (imported, merged, failed) = %v, want [974 1 25]", counts)
	}
	if n := browsertest.Get(t, tab, "the refused rows listed", chromedp.Evaluate[int](`document.querySelectorAll("#import-progress tbody tr").length`)); n != 20 {
		t.Errorf("the page lists %d refused rows, want the first 20", n)
	}
	pollsStopped(t, tab, "done")
	browsertest.Screenshot(t, tab, "web/desktop-1366/import-done.png")

	// Where the rows went: the group's link, its members, the location.
	var gid int64
	if err := f.Store.DB().NewRaw("SELECT id FROM groups WHERE org_id = ? AND name = ?", f.Demo.Org.ID, groupName).Scan(ctx, &gid); err != nil {
		t.Fatalf("the new group: %v", err)
	}
	link := browsertest.Get(t, tab, "the group link", chromedp.Evaluate[[]string](
		`((a) => a ? [a.textContent, a.getAttribute("href")] : [])(document.getElementById("import-group-link"))`))
	if fmt.Sprint(link) != fmt.Sprintf("[%s /groups/%d]", groupName, gid) {
		t.Errorf("group link = %v, want %s to /groups/%d", link, groupName, gid)
	}
	var members, located int
	var optedOut bool
	if err := f.Store.DB().NewRaw("SELECT count(*) FROM group_members WHERE group_id = ?", gid).Scan(ctx, &members); err != nil {
		t.Fatal(err)
	}
	if err := f.Store.DB().NewRaw("SELECT count(*) FROM recipients WHERE org_id = ? AND location_id = ? AND phone LIKE '+1555013%'",
		f.Demo.Org.ID, f.Demo.Location.ID).Scan(ctx, &located); err != nil {
		t.Fatal(err)
	}
	if err := f.Store.DB().NewRaw("SELECT sms_opted_out_at IS NOT NULL AND sms_opt_out_source = 'import' FROM recipients WHERE org_id = ? AND phone = '+15550130500'",
		f.Demo.Org.ID).Scan(ctx, &optedOut); err != nil {
		t.Fatal(err)
	}
	if members != 974 || located != 974 || !optedOut {
		t.Errorf("group members %d, recipients at the location %d (want 974 each); row 502 opted out of SMS by the import: %v", members, located, optedOut)
	}

	// 4. The error report names every bad row and its field.
	report := browsertest.Get(t, tab, "download the error report", chromedp.Evaluate[string](
		`fetch(document.getElementById("import-errors").href).then(r => r.text())`, chromedp.EvalAwaitPromise))
	lines, err := csv.NewReader(strings.NewReader(report)).ReadAll()
	if err != nil {
		t.Fatalf("error report: %v\n%s", err, report)
	}
	if len(lines) == 0 || strings.Join(lines[0][:3], ",") != "row,field,message" {
		t.Fatalf("error report header: %v", lines)
	}
	got := importRowFault{}
	for _, l := range lines[1:] {
		n, err := strconv.Atoi(l[0])
		if err != nil || len(l) != 7 || !strings.HasPrefix(l[3], "Person ") {
			t.Errorf("error report line %v: want a row number, field, message and the row's 4 values", l)
			continue
		}
		got[n] = l[1]
	}
	if fmt.Sprint(sortedFaults(got)) != fmt.Sprint(sortedFaults(bad)) {
		t.Errorf("error report rows and fields:\n got %v\nwant %v", sortedFaults(got), sortedFaults(bad))
	}
	console.CheckErrors(t, tab, "import")
	browsertest.Do(t, tab, "follow the group link", chromedp.Click(chromedp.CSS(`#import-group-link`)))
	browsertest.WaitAcrossLoad(t, tab, "the group's page", fmt.Sprintf(
		`location.pathname === "/groups/%d" && (document.querySelector("main h1") || {}).textContent.includes(%s)`, gid, browsertest.JSString(groupName)))

	// 5. A 50,000-row import, cancelled while it runs: nothing imported.
	uploadImport(t, tab, f.URL, bigPath)
	browsertest.Do(t, tab, "start the big import", chromedp.Click(chromedp.CSS(`#import-start`)))
	browsertest.WaitAcrossLoad(t, tab, "the big import runs",
		`document.readyState === "complete" && (document.getElementById("import-progress") || {dataset: {}}).dataset.status === "running"`)
	browsertest.Get(t, tab, "count the polls", chromedp.Evaluate[bool](countPollsJS))
	bigID := runningImport(t, f)
	staged, release, ran := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	var once sync.Once
	unblock := func() { once.Do(func() { close(release) }) }
	t.Cleanup(unblock)
	go func() {
		first := true
		ran <- f.Store.RunImport(ctx, bigID, func(*models.Import) {
			if first { // hold the run after its first batch until the cancel
				first = false
				close(staged)
				<-release
			}
		})
	}()
	select {
	case <-staged:
	case err := <-ran:
		t.Fatalf("the big import ended before its first batch was held: %v", err)
	}
	browsertest.WaitFor(t, tab, "the bar moves", `document.getElementById("import-bar").value >= 10`)
	if !isVisible(t, tab, "#import-cancel") {
		t.Fatal("the running import shows no Cancel button")
	}
	browsertest.Screenshot(t, tab, "web/desktop-1366/import-running.png")
	// The card is swapped every second: click Cancel between two swaps
	// (in one script, so no swap comes between the check and the click).
	browsertest.WaitFor(t, tab, "cancel", `(() => { if (!(`+htmxSettledJS+`)) return false;
		document.getElementById("import-cancel").click(); return true; })()`)
	browsertest.WaitAcrossLoad(t, tab, "cancelled",
		`document.readyState === "complete" && (document.getElementById("import-progress") || {dataset: {}}).dataset.status === "cancelled"`)
	unblock()
	select {
	case err := <-ran:
		if err != nil {
			t.Errorf("the cancelled run: %v", err)
		}
	case <-time.After(browsertest.StepTimeout):
		t.Fatal("the cancelled run did not stop")
	}
	// The Cancel form is inside the polled card: its boosted answer (a
	// whole page) must replace the page, not the card.
	if n := browsertest.Get(t, tab, "count the pages", chromedp.Evaluate[[]int](
		`[document.querySelectorAll("main").length, document.querySelectorAll("#import-progress").length]`)); fmt.Sprint(n) != "[1 1]" {
		t.Errorf("after Cancel the page has %d <main> and %d progress cards, want one each (the page swapped into the card)", n[0], n[1])
	}
	if text := browsertest.Get(t, tab, "the card", chromedp.Text(chromedp.CSS(`#import-progress h2`))); !strings.Contains(text, "cancelled, nothing imported") {
		t.Errorf("cancelled card says %q", text)
	}
	browsertest.Get(t, tab, "count the polls", chromedp.Evaluate[bool](countPollsJS))
	pollsStopped(t, tab, "cancelled")
	var bigRecipients, bigStaged int
	var status string
	if err := f.Store.DB().NewRaw("SELECT count(*) FROM recipients WHERE email LIKE 'big%@import.example'").Scan(ctx, &bigRecipients); err != nil {
		t.Fatal(err)
	}
	if err := f.Store.DB().NewRaw("SELECT count(*) FROM import_rows WHERE import_id = ?", bigID).Scan(ctx, &bigStaged); err != nil {
		t.Fatal(err)
	}
	if err := f.Store.DB().NewRaw("SELECT status FROM imports WHERE id = ?", bigID).Scan(ctx, &status); err != nil {
		t.Fatal(err)
	}
	if bigRecipients != 0 || bigStaged != 0 || status != models.ImportCancelled {
		t.Errorf("after the cancel: %d recipients from the big file, %d rows staged, status %s; want 0, 0, cancelled", bigRecipients, bigStaged, status)
	}
	browsertest.Screenshot(t, tab, "web/desktop-1366/import-cancelled.png")
	console.CheckErrors(t, tab, "cancelled import")

	// 6. At 390 px: the upload form, a preview (its table scrolls in its
	// own box) and the finished import fit the phone.
	phone := browsertest.NewIncognitoTab(t, browser)
	browsertest.Do(t, phone, "phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	phoneConsole := browsertest.RecordConsole(t, phone)
	browsertest.SignIn(t, phone, f.URL, "admin on a phone", adminEmail, adminPassword)
	browsertest.Do(t, phone, "open the import page", chromedp.Navigate(f.URL+"/recipients/import"), chromedp.WaitVisible(chromedp.CSS(`#import-upload`)))
	noSideScroll(t, phone, "the upload form", 390)
	browsertest.Screenshot(t, phone, "web/phone-390/import-upload.png")
	uploadImport(t, phone, f.URL, small)
	noSideScroll(t, phone, "the preview", 390)
	browsertest.Screenshot(t, phone, "web/phone-390/import-preview.png")
	browsertest.Do(t, phone, "open the finished import", chromedp.Navigate(fmt.Sprintf("%s/recipients/import/%d", f.URL, id)),
		chromedp.WaitVisible(chromedp.CSS(`#import-imported`)))
	noSideScroll(t, phone, "the finished import", 390)
	browsertest.Screenshot(t, phone, "web/phone-390/import-done.png")
	phoneConsole.CheckErrors(t, phone, "phone")
}

// sortedFaults lists row:field pairs in row order.
func sortedFaults(m importRowFault) []string {
	var out []string
	for r, f := range m {
		out = append(out, fmt.Sprintf("%05d:%s", r, f))
	}
	sort.Strings(out)
	return out
}
