package web_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/parley-chat/parley/internal/browsertest"
	"github.com/parley-chat/parley/models"
)

// TestBrowserLateItemTakesItsPlace: a timeline item that reaches the
// browser after a newer one (its change was handed to the publisher late)
// is shown in event order, not arrival order.
func TestBrowserLateItemTakesItsPlace(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	sc := models.Scope{OrgID: f.Demo.Org.ID, UserID: f.Demo.Admin.ID, Role: models.RoleAdmin}
	start, err := f.Store.StartConversation(ctx, sc, models.StartInput{InboxID: f.Demo.Inbox.ID, To: "+15550100631", Body: "Opening message"})
	if err != nil {
		t.Fatal(err)
	}
	id := start.Conversation.ID
	note := func(body string) *models.Change {
		t.Helper()
		ch, err := f.Store.Reply(ctx, sc, id, body, true)
		if err != nil {
			t.Fatal(err)
		}
		return ch
	}
	has := func(text string) string {
		return fmt.Sprintf(`document.querySelector("#timeline-%d").innerText.includes(%s)`, id, browsertest.JSString(text))
	}

	tab := browsertest.NewBrowser(t)
	console := browsertest.RecordConsole(t, tab)
	browsertest.SignIn(t, tab, f.URL, "A", adminEmail, adminPassword)
	browsertest.Do(t, tab, "A opens the thread",
		chromedp.Navigate(f.URL+"/chats/"+strconv.FormatInt(id, 10)),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf("#timeline-%d", id))))
	browsertest.WaitFor(t, tab, "A goes live", browsertest.LiveCond)
	// Once a note made after the page arrives, the socket views the thread
	// (it came live, or in the catch-up that follows joining).
	f.Pub.Notify(note("Warm-up note"))
	browsertest.WaitFor(t, tab, "A sees the warm-up note", has("Warm-up note"))

	first, second := note("Written first"), note("Written second")
	f.Pub.Notify(second)
	browsertest.WaitFor(t, tab, "A sees the second note", has("Written second"))
	f.Pub.Notify(first)
	browsertest.WaitFor(t, tab, "A sees the first note", has("Written first"))

	seqs := browsertest.Get(t, tab, "A reads the timeline's order", chromedp.Evaluate[[]int64](fmt.Sprintf(
		`Array.from(document.querySelectorAll("#timeline-%d > [data-seq]")).map(e => Number(e.dataset.seq))`, id)))
	pos := map[int64]int{}
	for i, s := range seqs {
		if i > 0 && s <= seqs[i-1] {
			t.Errorf("timeline out of event order at %d: %v", i, seqs)
		}
		pos[s] = i
	}
	a, okA := pos[first.LastSeq()]
	b, okB := pos[second.LastSeq()]
	if !okA || !okB || a > b {
		t.Errorf("the first note (seq %d) is at %d, the second (seq %d) at %d: %v", first.LastSeq(), a, second.LastSeq(), b, seqs)
	}
	console.CheckErrors(t, tab, "after the late item")
}
