package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/parley-chat/parley/internal/browsertest"
	"github.com/parley-chat/parley/models"
)

// TestBrowserChatsSearchFindsMessageText: a word typed into the Chats
// search finds the conversation by its message, the row shows the message
// with the word marked (markup in the message stays text), and opening it
// shows that message marked, not the newest. Desktop and 390 px.
func TestBrowserChatsSearchFindsMessageText(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	sc := models.Scope{OrgID: f.Demo.Org.ID, UserID: f.Demo.Admin.ID, Role: models.RoleAdmin}
	start, err := f.Store.StartConversation(ctx, sc, models.StartInput{InboxID: f.Demo.Inbox.ID, To: "+15550100733",
		Body: `Your <img src=x onerror="window.__xss=1"> zucchini bread is ready for pickup at the front desk`})
	if err != nil {
		t.Fatal(err)
	}
	id := start.Conversation.ID
	for i := range 12 {
		if _, err := f.Store.Reply(ctx, sc, id, fmt.Sprintf("Later message %d about something else", i), false); err != nil {
			t.Fatal(err)
		}
	}
	// Another conversation that must not be listed.
	if _, err := f.Store.StartConversation(ctx, sc, models.StartInput{InboxID: f.Demo.Inbox.ID, To: "+15550100734", Body: "Carrot cake"}); err != nil {
		t.Fatal(err)
	}
	row := fmt.Sprintf("#conv-%d", id)

	tab := browsertest.NewBrowser(t)
	console := browsertest.RecordConsole(t, tab)
	browsertest.SignIn(t, tab, f.URL, "A", adminEmail, adminPassword)
	browsertest.Do(t, tab, "open /chats",
		chromedp.Navigate(f.URL+"/chats"),
		chromedp.WaitVisible(chromedp.CSS(`#conv-list`)),
	)
	browsertest.Do(t, tab, "type a message's word into the search",
		chromedp.SendKeys(chromedp.CSS(`#chat-filters input[name=q]`), "zucch\r"),
	)
	browsertest.WaitFor(t, tab, "the row shows the matching message with the word marked",
		fmt.Sprintf(`(function () {
			var r = document.querySelector(%q);
			var m = r && r.querySelector(".conv-snippet mark");
			return !!m && m.innerText === "zucchini" && document.querySelectorAll("#conv-list .conv-row").length === 1 &&
				new URLSearchParams(location.search).get("q") === "zucch";
		})()`, row))
	snippet := browsertest.Get(t, tab, "read the snippet", chromedp.Text(chromedp.CSS(row+" .conv-snippet")))
	if want := "zucchini bread is ready"; !strings.Contains(snippet, want) {
		t.Errorf("snippet %q lacks %q", snippet, want)
	}
	if bg := browsertest.Get(t, tab, "the mark's colour", chromedp.Evaluate[string](
		fmt.Sprintf(`getComputedStyle(document.querySelector(%q)).backgroundColor`, row+" .conv-snippet mark"))); bg != "rgb(253, 230, 138)" {
		t.Errorf("mark background %s: the snippet's style is not applied", bg)
	}
	browsertest.Screenshot(t, tab, "web/chats-search-text-desktop.png")

	browsertest.Do(t, tab, "open the conversation from the result", chromedp.Click(chromedp.CSS(row)))
	browsertest.WaitFor(t, tab, "the thread shows the matched message, marked",
		`(function () {
			var m = document.querySelector("#thread-pane .msg-hit");
			return !!m && m.innerText.includes("zucchini bread") && new URLSearchParams(location.search).has("hl");
		})()`)
	browsertest.Screenshot(t, tab, "web/chats-search-text-thread-desktop.png")

	browsertest.Do(t, tab, "a phone's viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	browsertest.Do(t, tab, "search on the phone",
		chromedp.Navigate(f.URL+"/chats?q=zucchini"),
		chromedp.WaitVisible(chromedp.CSS(row+" .conv-snippet mark")),
	)
	if browsertest.Get(t, tab, "measure the page's width",
		chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`)) {
		t.Error("the search results overflow 390 px horizontally")
	}
	browsertest.Screenshot(t, tab, "web/chats-search-text-phone.png")

	if browsertest.Get(t, tab, "no script from the message ran", chromedp.Evaluate[bool](`!!window.__xss`)) {
		t.Error("the message's markup ran")
	}
	console.CheckErrors(t, tab, "after the search")
}
