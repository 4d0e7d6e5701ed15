package web_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/emersion/go-smtp"
	"github.com/parley-chat/parley/channels/email"
	"github.com/parley-chat/parley/internal/browsertest"
)

// mailFromParley puts in pat's mailbox a message shaped as Parley's
// worker sends one: a reply in a thread, with Reply-To, Auto-Submitted
// and List-Unsubscribe.
func mailFromParley(t *testing.T, addr, subject, text string) {
	t.Helper()
	raw, err := email.Build(email.Outbound{From: email.Address{Name: "Front Desk", Email: demoInboxEmail},
		To: []email.Address{{Name: "Pat Example", Email: "pat@example.com"}}, ReplyTo: "demo+a1b2c3d4e5@parley.test",
		Subject: subject, Text: text, Domain: "parley.test", InReplyTo: "first-question@example.com",
		References: []string{"first-question@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	raw = append([]byte("List-Unsubscribe: <https://parley.test/unsubscribe/u7x>\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"), raw...)
	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.SendMail("bounce-b1@parley.test", []string{"pat@example.com"}, bytes.NewReader(raw)); err != nil {
		t.Fatal(err)
	}
	_ = c.Quit()
}

// TestBrowserMailbox: a person writes to an inbox from the mailbox page,
// sees the message listed, opens Parley's mail with its headers, replies,
// and sees new mail arrive without reloading; at desktop and phone width.
func TestBrowserMailbox(t *testing.T) {
	rec := newSMTPRecorder(t)
	mb := runMailbox(t, func() string { return rec.addr })
	f := newFixtureWith(t, serverOpts{mailbox: mb})
	mailFromParley(t, mb.Addr(), "Your appointment", "Hello Pat,\n\nYour appointment is on Friday at 10:00.\nReply to this email to change it.")

	browser := browsertest.NewBrowser(t)
	tab := browsertest.NewIncognitoTab(t, browser)
	browsertest.Do(t, tab, "desktop viewport", chromedp.EmulateViewport(1366, 900))
	console := browsertest.RecordConsole(t, tab)
	browsertest.SignIn(t, tab, f.URL, "admin", adminEmail, adminPassword)
	browsertest.Do(t, tab, "open the mailbox from the navigation",
		chromedp.Click(chromedp.CSS(`.nav a[href="/simulator/mailbox"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#mailbox-compose textarea[name=text]`)))
	browsertest.WaitFor(t, tab, "the nav marks the mailbox", `!!document.querySelector('.nav a[href="/simulator/mailbox"][aria-current=page]')`)
	browsertest.WaitFor(t, tab, "Parley's mail is listed", `document.getElementById("mailbox-list").innerText.includes("Your appointment")`)

	// Compose.
	browsertest.Do(t, tab, "write to Front Desk",
		chromedp.SetValue(chromedp.CSS(`#mailbox-compose input[name=subject]`), "Parking question"),
		chromedp.SendKeys(chromedp.CSS(`#mailbox-compose textarea[name=text]`), "Is there parking nearby?"),
		chromedp.Click(chromedp.CSS(`#mailbox-compose button[type=submit]`)))
	browsertest.WaitFor(t, tab, "the mail is delivered", `document.getElementById("mailbox-compose").innerText.includes("Delivered to Front Desk.")`)
	browsertest.WaitWithin(t, tab, "the sent mail is listed at once (not on the next poll)",
		`document.getElementById("mailbox-list").innerText.includes("Parking question")`, 1200*time.Millisecond)
	if got := rec.messages(); len(got) != 1 || !bytes.Contains(got[0].raw, []byte("Is there parking nearby?")) {
		t.Fatalf("the listener got %d messages", len(got))
	}

	// Open Parley's mail: its headers and text.
	browsertest.Do(t, tab, "open Parley's mail", chromedp.Click(chromedp.CSS(`a.mailbox-item:not(.is-sent)`)))
	browsertest.WaitAcrossLoad(t, tab, "the mail opens", `!!document.getElementById("mailbox-reader")`)
	headers := browsertest.Get(t, tab, "read the headers", chromedp.Evaluate[map[string]string](
		`Object.fromEntries([...document.querySelectorAll("dd[data-header]")].map(d => [d.dataset.header, d.innerText]))`))
	for k, want := range map[string]string{"In-Reply-To": "<first-question@example.com>", "Reply-To": "<demo+a1b2c3d4e5@parley.test>",
		"List-Unsubscribe": "<https://parley.test/unsubscribe/u7x>", "References": "<first-question@example.com>", "Auto-Submitted": "—"} {
		if headers[k] != want {
			t.Errorf("%s shows %q, want %q", k, headers[k], want)
		}
	}
	if !strings.HasSuffix(headers["Message-ID"], "@parley.test>") {
		t.Errorf("Message-ID shows %q", headers["Message-ID"])
	}
	browsertest.WaitFor(t, tab, "the text shows", `document.querySelector(".mailbox-text").innerText.includes("Friday at 10:00")`)
	browsertest.Screenshot(t, tab, "mailbox/desktop-1366-open.png")

	// Reply.
	browsertest.Do(t, tab, "reply",
		chromedp.SendKeys(chromedp.CSS(`#mailbox-reply textarea[name=text]`), "Could we make it 11:00?"),
		chromedp.Click(chromedp.CSS(`#mailbox-reply button[type=submit]`)))
	browsertest.WaitFor(t, tab, "the reply is delivered", `document.getElementById("mailbox-reply").innerText.includes("Reply delivered.")`)
	browsertest.WaitFor(t, tab, "the reply is listed", `document.getElementById("mailbox-list").innerText.includes("Re: Your appointment")`)
	got := rec.messages()
	if len(got) != 2 || got[1].rcpts[0] != "demo+a1b2c3d4e5@parley.test" || !bytes.Contains(got[1].raw, []byte("> Your appointment is on Friday at 10:00.")) {
		t.Errorf("the reply on the wire: %d messages", len(got))
	}

	// New mail arrives while the page is open.
	mailFromParley(t, mb.Addr(), "Your appointment", "11:00 is fine. See you then.")
	browsertest.WaitFor(t, tab, "new mail shows up without a reload",
		`document.querySelectorAll("#mailbox-list a.mailbox-item:not(.is-sent)").length === 2`)
	browsertest.Screenshot(t, tab, "mailbox/desktop-1366.png")
	console.CheckErrors(t, tab, "the mailbox at desktop width")

	// Phone width: nothing scrolls sideways; the open mail comes first.
	phone := browsertest.NewIncognitoTab(t, browser)
	browsertest.Do(t, phone, "phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	browsertest.SignIn(t, phone, f.URL, "admin", adminEmail, adminPassword)
	browsertest.Do(t, phone, "open the mailbox", chromedp.Navigate(f.URL+"/simulator/mailbox?address=pat%40example.com&name=Pat+Example"),
		chromedp.WaitVisible(chromedp.CSS(`#mailbox-list a.mailbox-item`)))
	noSideScroll(t, phone, "the mailbox", 390)
	browsertest.Screenshot(t, phone, "mailbox/phone-390.png")
	browsertest.Do(t, phone, "open a mail", chromedp.Click(chromedp.CSS(`a.mailbox-item:not(.is-sent)`)))
	browsertest.WaitAcrossLoad(t, phone, "the mail opens", `!!document.getElementById("mailbox-reader")`)
	noSideScroll(t, phone, "an open mail", 390)
	if !browsertest.Get(t, phone, "the reader is above the list", chromedp.Evaluate[bool](
		`document.getElementById("mailbox-reader").getBoundingClientRect().top < document.getElementById("mailbox-list").getBoundingClientRect().top`)) {
		t.Error("at phone width the open mail is not first")
	}
	browsertest.Screenshot(t, phone, "mailbox/phone-390-open.png")
}
