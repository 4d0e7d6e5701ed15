package main

// The email loop end to end, through the real program: `parley serve` with
// no mail relay, so outbound mail goes to the built-in mailbox simulator,
// and the mailbox's own mail goes over SMTP to Parley's real listener. An
// agent works on /chats in one browser context, a person plays a mailbox
// in another. Nothing here calls the store: every message crosses SMTP.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/parley-chat/parley/internal/browsertest"
)

// emailShot saves a screenshot under $PARLEY_TEST_OUTPUT/email, from the
// top of the page (see smsShot).
func emailShot(t *testing.T, tab context.Context, name string) {
	t.Helper()
	browsertest.Do(t, tab, "scroll to the top for "+name, chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`))
	browsertest.Screenshot(t, tab, "email/"+name)
}

// phoneShot saves a screenshot at a phone's width, then puts the desktop
// viewport back.
func phoneShot(t *testing.T, tab context.Context, name string) {
	t.Helper()
	browsertest.Do(t, tab, "phone width for "+name, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	emailShot(t, tab, name)
	browsertest.Do(t, tab, "desktop width after "+name, chromedp.EmulateViewport(1280, 800))
}

// mailItems is a JS expression: the mailbox list's items (a.mailbox-item)
// that Parley sent the person (not .is-sent) and whose snippet or subject
// contains text.
func mailItems(text string) string {
	return fmt.Sprintf(`[...document.querySelectorAll("#mailbox-list a.mailbox-item:not(.is-sent)")].filter(a => a.innerText.includes(%s))`,
		browsertest.JSString(text))
}

// readerHeader is a JS expression: the open message's header value.
func readerHeader(name string) string {
	return fmt.Sprintf(`(document.querySelector('#mailbox-reader dd[data-header=%q]') || {innerText: ""}).innerText.trim()`, name)
}

func TestBrowserEmailMailboxToAgent(t *testing.T) {
	browsertest.ChromiumPath(t) // skip before starting a server for nothing
	base := serveForBrowser(t)
	const (
		inboxAddr = "demo@inbound.parley.test"
		subject   = "Saturday appointment"
		question  = "Hello, can I move my appointment to Saturday morning?"
		answer    = "Yes, Saturday at 10 works. See you then."
		followUp  = "Perfect, thank you!"
	)
	person := fmt.Sprintf("pat.%06d@example.com", rand.IntN(1_000_000))
	t.Logf("mailbox %s", person)

	agent := browsertest.NewBrowser(t)
	mbox := browsertest.NewIncognitoTab(t, agent)
	agentConsole := browsertest.RecordConsole(t, agent)
	mboxConsole := browsertest.RecordConsole(t, mbox)

	started := time.Now()
	step := func(name string) { t.Helper(); t.Logf("%5.1fs %s", time.Since(started).Seconds(), name) }

	step("1. the agent opens Chats")
	browsertest.SignIn(t, agent, base, "agent", "agent@demo.parley.test", "parley-demo-agent")
	browsertest.Do(t, agent, "agent opens /chats",
		chromedp.Navigate(base+"/chats"),
		chromedp.WaitVisible(chromedp.CSS(`#conv-list`)),
	)
	browsertest.WaitFor(t, agent, "agent goes live", browsertest.LiveCond)
	browsertest.MarkNoReload(t, agent, "agent")

	// The mailbox page is behind the app's login too: an admin plays the person.
	browsertest.SignIn(t, mbox, base, "mailbox", "admin@demo.parley.test", "parley-demo-admin")
	browsertest.Do(t, mbox, "mailbox opens",
		chromedp.Navigate(base+"/simulator/mailbox?address="+url.QueryEscape(person)+"&name="+url.QueryEscape("Pat Example")),
		chromedp.WaitVisible(chromedp.CSS(`#mailbox-compose textarea[name=text]`)),
	)

	step("2. the person writes to the inbox (SMTP to the listener)")
	browsertest.Do(t, mbox, "mailbox writes",
		chromedp.SetValue(chromedp.CSS(`#mailbox-compose select[name=to]`), inboxAddr),
		chromedp.SendKeys(chromedp.CSS(`#mailbox-compose input[name=subject]`), subject),
		chromedp.SendKeys(chromedp.CSS(`#mailbox-compose textarea[name=text]`), question),
		chromedp.Click(chromedp.CSS(`#mailbox-compose button[type=submit]`)),
	)
	browsertest.WaitFor(t, mbox, "mailbox says delivered", `(() => { const n = document.querySelector("#mailbox-compose .alert-ok");
		return !!n && n.innerText.includes("Delivered"); })()`)

	step("3. the agent gets the conversation live")
	rowsJS := fmt.Sprintf(`[...document.querySelectorAll("#conv-list > .conv-row")].filter(r => r.innerText.includes(%s) || (r.dataset.search || "").includes(%s))`,
		browsertest.JSString(person), browsertest.JSString(person))
	browsertest.WaitWithin(t, agent, "agent sees the new email conversation", fmt.Sprintf(
		`(() => { const r = %s; return r.length === 1 && r[0].querySelector(".conv-preview").innerText.includes(%s); })()`,
		rowsJS, browsertest.JSString(question)), 10*time.Second)
	row := browsertest.Get(t, agent, "agent reads the row", chromedp.Evaluate[string](rowsJS+`[0].innerText`))
	if !strings.Contains(row, "Email") {
		t.Errorf("the new row %q does not say it is email", row)
	}
	browsertest.NotReloaded(t, agent, "agent")
	emailShot(t, agent, "email-agent-new.png")

	step("4. the agent opens the thread and replies")
	id := browsertest.Get(t, agent, "agent reads the conversation id", chromedp.Evaluate[string](rowsJS+`[0].id.replace("conv-", "")`))
	timeline := "timeline-" + id
	browsertest.Do(t, agent, "agent clicks the row", chromedp.Evaluate[chromedp.Void](rowsJS+`[0].click()`))
	browsertest.WaitFor(t, agent, "agent sees the thread", fmt.Sprintf(
		`!!document.querySelector('#thread-pane .thread[data-conv="%s"]') && %s.includes(%s)`,
		id, browsertest.TextOf(timeline), browsertest.JSString(question)))
	if head := browsertest.Get(t, agent, "agent reads the thread's head", chromedp.Evaluate[string](browsertest.TextOf("thread-pane"))); !strings.Contains(head, subject) {
		t.Errorf("the email thread does not show its subject %q", subject)
	}
	body := "#body-" + id
	browsertest.Do(t, agent, "agent types the reply", chromedp.SendKeys(chromedp.CSS(body), answer))
	browsertest.Do(t, agent, "agent sends the reply",
		chromedp.Click(chromedp.Search(fmt.Sprintf(`//form[@id="composer-%s"]//button[normalize-space(.)="Send"]`, id))))
	replyMsg := fmt.Sprintf(`[...document.querySelectorAll("#%s .msg-outbound")].filter(m => m.querySelector(".msg-bubble").innerText.includes(%s))`,
		timeline, browsertest.JSString(answer))
	browsertest.WaitFor(t, agent, "agent sees the reply", replyMsg+`.length === 1`)
	browsertest.WaitFor(t, agent, "agent's composer is empty again", fmt.Sprintf(`document.querySelector(%s).value === ""`, browsertest.JSString(body)))

	step("5. the mailbox gets the reply, threaded")
	browsertest.WaitFor(t, mbox, "mailbox lists the reply", mailItems(answer)+`.length === 1`)
	browsertest.Do(t, mbox, "mailbox opens its own first mail", chromedp.Evaluate[chromedp.Void](
		`[...document.querySelectorAll("#mailbox-list a.mailbox-item.is-sent")].find(a => a.innerText.includes(`+browsertest.JSString(subject)+`)).click()`))
	browsertest.WaitAcrossLoad(t, mbox, "mailbox shows its first mail", `document.querySelector("#mailbox-reader .badge-sent") !== null`)
	firstID := browsertest.Get(t, mbox, "mailbox reads its Message-ID", chromedp.Evaluate[string](readerHeader("Message-ID")))
	if firstID == "" || firstID == "—" {
		t.Fatalf("the person's first mail shows no Message-ID (%q)", firstID)
	}
	browsertest.Do(t, mbox, "mailbox opens the reply", chromedp.Evaluate[chromedp.Void](mailItems(answer)+`[0].click()`))
	browsertest.WaitAcrossLoad(t, mbox, "mailbox shows the reply", `!!document.querySelector("#mailbox-reader") && !document.querySelector("#mailbox-reader .badge-sent") && !!document.querySelector("#mailbox-reply")`)
	inReplyTo := browsertest.Get(t, mbox, "mailbox reads In-Reply-To", chromedp.Evaluate[string](readerHeader("In-Reply-To")))
	refs := browsertest.Get(t, mbox, "mailbox reads References", chromedp.Evaluate[string](readerHeader("References")))
	replyTo := browsertest.Get(t, mbox, "mailbox reads Reply-To", chromedp.Evaluate[string](readerHeader("Reply-To")))
	subj := browsertest.Get(t, mbox, "mailbox reads the subject", chromedp.Text(chromedp.CSS(`#mailbox-reader-subject`)))
	bare := strings.Trim(firstID, "<>")
	if !strings.Contains(inReplyTo, bare) {
		t.Errorf("the reply's In-Reply-To is %q, want the person's message %q", inReplyTo, firstID)
	}
	if !strings.Contains(refs, bare) {
		t.Errorf("the reply's References is %q, want it to include %q", refs, firstID)
	}
	// The reply address is the inbox's local part, "+", the thread's token,
	// at PARLEY_EMAIL_DOMAIN (here the base URL's host).
	if !regexp.MustCompile(`demo\+[a-z2-7]{32}@127\.0\.0\.1`).MatchString(replyTo) {
		t.Errorf("the reply's Reply-To is %q, want the conversation's address demo+<token>@127.0.0.1", replyTo)
	}
	if strings.TrimSpace(subj) != "Re: "+subject {
		t.Errorf("the reply's subject is %q, want %q", subj, "Re: "+subject)
	}
	mboxConsole.CheckErrors(t, mbox, "mailbox's reply")
	emailShot(t, mbox, "email-mailbox-reply.png")
	phoneShot(t, mbox, "email-mailbox-reply-phone.png")

	step("6. the person replies; it lands in the same conversation without the quote")
	browsertest.Do(t, mbox, "mailbox replies",
		chromedp.SendKeys(chromedp.CSS(`#mailbox-reply textarea[name=text]`), followUp),
		chromedp.Click(chromedp.CSS(`#mailbox-reply button[type=submit]`)),
	)
	browsertest.WaitFor(t, mbox, "mailbox says the reply went", `(() => { const n = document.querySelector("#mailbox-reply .alert-ok");
		return !!n && n.innerText.includes("delivered"); })()`)
	inbound := fmt.Sprintf(`[...document.querySelectorAll("#%s .msg-inbound .msg-bubble")].map(b => b.innerText.trim())`, timeline)
	browsertest.WaitFor(t, agent, "agent sees the follow-up in the same thread", inbound+`.some(t => t.includes(`+browsertest.JSString(followUp)+`))`)
	got := browsertest.Get(t, agent, "agent reads the follow-up", chromedp.Evaluate[string](inbound+`.find(t => t.includes(`+browsertest.JSString(followUp)+`))`))
	if strings.Contains(got, answer) || strings.Contains(got, "wrote:") || strings.Contains(got, ">") {
		t.Errorf("the follow-up shows %q: the quoted reply was not stripped", got)
	}
	if n := browsertest.Get(t, agent, "agent counts rows for the person", chromedp.Evaluate[int](rowsJS+`.length`)); n != 1 {
		t.Errorf("the agent's list has %d rows for %s after the follow-up, want 1 (the same conversation)", n, person)
	}
	browsertest.NotReloaded(t, agent, "agent")
	agentConsole.CheckErrors(t, agent, "agent's thread")
	emailShot(t, agent, "email-agent-thread.png")
	phoneShot(t, agent, "email-agent-thread-phone.png")

	step("7. a reply to an address that bounces fails live")
	bouncer := fmt.Sprintf("gone.%06d@bounce.test", rand.IntN(1_000_000))
	const (
		bounceQ = "Do you have parking?"
		bounceA = "Yes, behind the building."
	)
	browsertest.Do(t, mbox, "mailbox switches to an address that bounces",
		chromedp.Navigate(base+"/simulator/mailbox?address="+url.QueryEscape(bouncer)+"&name=Gone"),
		chromedp.WaitVisible(chromedp.CSS(`#mailbox-compose textarea[name=text]`)),
		chromedp.SetValue(chromedp.CSS(`#mailbox-compose select[name=to]`), inboxAddr),
		chromedp.SendKeys(chromedp.CSS(`#mailbox-compose input[name=subject]`), "Parking"),
		chromedp.SendKeys(chromedp.CSS(`#mailbox-compose textarea[name=text]`), bounceQ),
		chromedp.Click(chromedp.CSS(`#mailbox-compose button[type=submit]`)),
	)
	browsertest.WaitFor(t, mbox, "mailbox says delivered", `!!document.querySelector("#mailbox-compose .alert-ok")`)
	bRows := fmt.Sprintf(`[...document.querySelectorAll("#conv-list > .conv-row")].filter(r => r.innerText.includes(%s) || (r.dataset.search || "").includes(%s))`,
		browsertest.JSString(bouncer), browsertest.JSString(bouncer))
	browsertest.WaitWithin(t, agent, "agent sees the second conversation", bRows+`.length === 1`, 10*time.Second)
	bid := browsertest.Get(t, agent, "agent reads its id", chromedp.Evaluate[string](bRows+`[0].id.replace("conv-", "")`))
	browsertest.Do(t, agent, "agent opens it", chromedp.Evaluate[chromedp.Void](bRows+`[0].click()`))
	browsertest.WaitFor(t, agent, "agent sees its thread", fmt.Sprintf(`%s.includes(%s)`, browsertest.TextOf("timeline-"+bid), browsertest.JSString(bounceQ)))
	browsertest.Do(t, agent, "agent answers", chromedp.SendKeys(chromedp.CSS("#body-"+bid), bounceA),
		chromedp.Click(chromedp.Search(fmt.Sprintf(`//form[@id="composer-%s"]//button[normalize-space(.)="Send"]`, bid))))
	failed := fmt.Sprintf(`[...document.querySelectorAll("#timeline-%s .msg-outbound")].filter(m => m.innerText.includes(%s) && !!m.querySelector(".ticks-failed, .msg-failed, [data-status=failed]"))`,
		bid, browsertest.JSString(bounceA))
	if !browsertest.WaitOK(agent, failed+`.length === 1`) {
		t.Errorf("within %s, the answer to %s is not shown failed; its message reads %q", browsertest.StepTimeout, bouncer,
			browsertest.Get(t, agent, "agent reads the answer", chromedp.Evaluate[string](fmt.Sprintf(
				`([...document.querySelectorAll("#timeline-%s .msg-outbound")].find(m => m.innerText.includes(%s)) || {outerHTML: "(none)"}).outerHTML`,
				bid, browsertest.JSString(bounceA)))))
	}
	browsertest.NotReloaded(t, agent, "agent")
	emailShot(t, agent, "email-agent-bounced.png")

	step("8. every email, either way, was charged once")
	// The question, the reply, the follow-up; then the bounced answer,
	// charged (it went out) and not refunded (the relay took it).
	checkCharges(t, person, 3)
	for _, m := range checkCharges(t, bouncer, 2) {
		if m.Direction == "outbound" && m.Refunded != 0 {
			t.Errorf("the bounced answer was refunded %d credits; a bounce comes after the send", m.Refunded)
		}
	}

	step("done")
	agentConsole.CheckErrors(t, agent, "agent's bounce")
	mboxConsole.CheckErrors(t, mbox, "mailbox's session")
}
