package web_test

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/parley-chat/parley/internal/browsertest"
)

// The new-chat form's Subject field appears while the To looks like an
// email address (and goes again for a phone number), at desktop and
// phone width, and an email chat started with it lands on its thread.
func TestBrowserStartEmailChat(t *testing.T) {
	f := newFixture(t)
	tab := browsertest.NewBrowser(t)
	console := browsertest.RecordConsole(t, tab)
	openChatsAs(t, f, tab, "A", adminEmail, adminPassword)
	shown := `(() => { const s = document.querySelector("#new-chat-subject"); return !!s && !s.hidden && s.offsetParent !== null; })()`
	hidden := `(() => { const s = document.querySelector("#new-chat-subject"); return !!s && s.hidden; })()`

	for _, width := range []int64{390, 1280} {
		browsertest.Do(t, tab, "A opens New chat",
			chromedp.EmulateViewport(width, 800),
			chromedp.Navigate(f.URL+"/chats/new"),
			chromedp.WaitVisible(chromedp.CSS(`#new-chat input[name=to]`)),
		)
		browsertest.WaitFor(t, tab, "no subject before an address", hidden)
		browsertest.Do(t, tab, "A types an email address", chromedp.SendKeys(chromedp.CSS(`#new-chat input[name=to]`), "guest@example.org"))
		browsertest.WaitFor(t, tab, "the subject appears", shown)
		if over := browsertest.Get(t, tab, "A measures the page", chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`)); over {
			t.Errorf("at %d px the page scrolls sideways", width)
			browsertest.Screenshot(t, tab, "web/new-chat-subject.png")
		}
		browsertest.Do(t, tab, "A types a phone number instead",
			chromedp.Evaluate[chromedp.Void](`(() => { document.querySelector("#new-chat input[name=to]").value = ""; })()`),
			chromedp.SendKeys(chromedp.CSS(`#new-chat input[name=to]`), "+15550109999"),
		)
		browsertest.WaitFor(t, tab, "the subject goes", hidden)
	}

	browsertest.Do(t, tab, "A starts an email chat",
		chromedp.Evaluate[chromedp.Void](`(() => { document.querySelector("#new-chat input[name=to]").value = ""; })()`),
		chromedp.SendKeys(chromedp.CSS(`#new-chat input[name=to]`), "guest@example.org"),
		chromedp.SendKeys(chromedp.CSS(`#new-chat input[name=subject]`), "Your stay"),
		chromedp.SendKeys(chromedp.CSS(`#new-chat textarea[name=body]`), "Welcome, see you soon"),
		chromedp.Click(chromedp.Search(`//form[@id="new-chat"]//button[normalize-space(.)="Start chat"]`)),
	)
	browsertest.WaitFor(t, tab, "A lands on the email thread",
		`/^\/chats\/\d+$/.test(location.pathname) && !!document.querySelector("#thread-pane .thread[data-conv]") &&
		 document.querySelector("#thread-pane .timeline").innerText.includes("Welcome, see you soon")`)
	var subject string
	if err := f.Store.DB().NewRaw(`SELECT t.subject FROM email_threads t JOIN conversations c ON c.id = t.conversation_id
		JOIN recipients r ON r.id = c.recipient_id WHERE r.email = 'guest@example.org'`).Scan(context.Background(), &subject); err != nil || subject != "Your stay" {
		t.Errorf("thread subject %q (%v)", subject, err)
	}
	console.Check(t, tab, "after starting an email chat")
}
