package web_test

// Groups in a real browser, at desktop width and at 390 px: create a
// group, add members from a search, filter the Recipients list by it,
// export it as CSV (the file's rows checked), remove one member.
// Screenshots in $PARLEY_TEST_OUTPUT/web/groups/.

import (
	"context"
	"encoding/csv"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/parley-chat/parley/internal/browsertest"
	"github.com/parley-chat/parley/models"
)

func TestBrowserGroups(t *testing.T) {
	f := newFixture(t)
	forgetNewRecipients(t, f)
	ctx := context.Background()
	admin := models.Scope{OrgID: f.Demo.Org.ID, UserID: f.Demo.Admin.ID, Role: models.RoleAdmin}
	browser := browsertest.NewBrowser(t)
	console := browsertest.RecordConsole(t, browser)
	browsertest.SignIn(t, browser, f.URL, "admin", adminEmail, adminPassword)

	for _, size := range []struct {
		w, h   int
		mobile bool
	}{{1366, 768, false}, {390, 844, true}} {
		// Each width its own people and group.
		sfx := fmt.Sprintf("%d%d", size.w, time.Now().UnixNano()%1_000_000)
		word := "Orchard" + sfx
		var names []string
		for i := range 3 {
			name := fmt.Sprintf("%s Person %d", word, i)
			if _, err := f.Store.CreateRecipient(ctx, admin, models.RecipientInput{Name: &name,
				Email: new(fmt.Sprintf("orchard-%s-%d@example.test", sfx, i)), Phone: new(fmt.Sprintf("+1555020%d%03d", i, size.w%1000))}); err != nil {
				t.Fatal(err)
			}
			names = append(names, name)
		}
		groupName := "Orchard group " + sfx
		shot := func(name string) {
			t.Helper()
			noSideScroll(t, browser, name, size.w)
			browsertest.Screenshot(t, browser, fmt.Sprintf("web/groups/%s-%d.png", name, size.w))
		}
		opts := []chromedp.EmulateViewportOption{}
		if size.mobile {
			opts = append(opts, chromedp.EmulateMobile)
		}

		// Create the group.
		browsertest.Do(t, browser, fmt.Sprintf("open Groups at %dpx", size.w),
			chromedp.EmulateViewport(int64(size.w), int64(size.h), opts...),
			chromedp.Navigate(f.URL+"/groups"), chromedp.WaitVisible(chromedp.CSS(`form.group-new input[name=name]`)))
		browsertest.Do(t, browser, "create the group",
			chromedp.SendKeys(chromedp.CSS(`form.group-new input[name=name]`), groupName),
			chromedp.Click(chromedp.CSS(`form.group-new button[type=submit]`)))
		browsertest.WaitAcrossLoad(t, browser, "the group's page", `location.pathname.startsWith("/groups/") && document.querySelector("h1").innerText === `+browsertest.JSString(groupName))
		groupPath := browsertest.Get(t, browser, "the group's path", chromedp.Evaluate[string](`location.pathname`))

		// Add members from a search.
		browsertest.Do(t, browser, "add everyone matching",
			chromedp.SendKeys(chromedp.CSS(`form.group-add input[name=q]`), strings.ToLower(word)),
			chromedp.Click(chromedp.CSS(`form.group-add button[value=add_all]`)))
		browsertest.WaitAcrossLoad(t, browser, "members added", `document.querySelector(".alert-ok") && document.querySelector(".alert-ok").innerText.includes("Added 3 recipients")`)
		if n := browsertest.Get(t, browser, "count the members", chromedp.Evaluate[int](`document.querySelectorAll("table tbody tr").length`)); n != 3 {
			t.Fatalf("at %dpx the group lists %d members, want 3", size.w, n)
		}
		shot("group")

		// Filter the Recipients list by the group.
		browsertest.Do(t, browser, "open Recipients",
			chromedp.Navigate(f.URL+"/recipients"), chromedp.WaitVisible(chromedp.CSS(`form.filter-bar select[name=group_id]`)))
		gid := strings.TrimPrefix(groupPath, "/groups/")
		browsertest.Do(t, browser, "filter by the group",
			chromedp.SetValue(chromedp.CSS(`form.filter-bar select[name=group_id]`), gid),
			chromedp.Click(chromedp.CSS(`form.filter-bar button[type=submit]`)))
		browsertest.WaitAcrossLoad(t, browser, "the filtered list", `location.search.includes("group_id=`+gid+`") && document.querySelector(".list-count")`)
		listed := browsertest.Get(t, browser, "the listed names", chromedp.Evaluate[[]string](
			`[...document.querySelectorAll('table tbody td[data-label="Name"]')].map(td => td.innerText.trim())`))
		want := slices.Clone(names)
		slices.Reverse(want)
		if !slices.Equal(listed, want) {
			t.Fatalf("at %dpx the list filtered by the group shows %q, want %q", size.w, listed, want)
		}
		shot("recipients-filtered")

		// Export: the link's file holds the group's rows.
		href := browsertest.Get(t, browser, "the export link", chromedp.Evaluate[string](`document.querySelector("a[download]").href`))
		if !strings.Contains(href, "/recipients.csv?") || !strings.Contains(href, "group_id="+gid) {
			t.Fatalf("export link %q", href)
		}
		body := browsertest.Get(t, browser, "download the CSV", chromedp.Evaluate[string](
			fmt.Sprintf(`fetch(%s, {credentials: "same-origin"}).then(r => r.text())`, browsertest.JSString(href)), chromedp.EvalAwaitPromise))
		rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
		if err != nil || len(rows) != 4 || rows[0][0] != "id" {
			t.Fatalf("the CSV: %v\n%s", err, body)
		}
		for i, r := range rows[1:] {
			if r[1] != want[i] || r[6] != groupName || !strings.HasPrefix(r[2], "+1555020") {
				t.Errorf("CSV row %d: %q", i+1, r)
			}
		}

		// Remove one, from the group's page.
		browsertest.Do(t, browser, "back to the group",
			chromedp.Navigate(f.URL+groupPath), chromedp.WaitVisible(chromedp.CSS(`table tbody input[type=checkbox]`)))
		browsertest.Do(t, browser, "remove the first",
			chromedp.Click(chromedp.CSS(`table tbody tr:first-child input[type=checkbox]`)),
			chromedp.Click(chromedp.CSS(`#bulk button[value=remove]`)))
		browsertest.WaitAcrossLoad(t, browser, "member removed", `document.querySelector(".alert-ok") && document.querySelector(".alert-ok").innerText.includes("Removed 1 recipient")`)
		left := browsertest.Get(t, browser, "the members left", chromedp.Evaluate[[]string](
			`[...document.querySelectorAll('table tbody td[data-label="Name"]')].map(td => td.innerText.trim())`))
		if !slices.Equal(left, want[1:]) {
			t.Fatalf("at %dpx after removing one the group lists %q, want %q", size.w, left, want[1:])
		}
		shot("group-removed")
		browsertest.Do(t, browser, "the groups list", chromedp.Navigate(f.URL+"/groups"), chromedp.WaitVisible(chromedp.CSS(`table`)))
		shot("groups")
	}
	console.Check(t, browser, "groups")
}
