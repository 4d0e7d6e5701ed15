package main

// The SMS loop end to end, through the real program: `parley serve` with
// the built-in Vonage simulator, an agent on /chats in one browser context
// and the simulator's phone page in another. Texts from the phone go
// through the signed inbound webhook, the agent's reply through the outbox,
// the job worker and the real Vonage SDK to the simulator, and its delivery
// receipt back through the signed status webhook.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/parley-chat/parley/internal/browsertest"
)

// smsShot saves a screenshot under $PARLEY_TEST_OUTPUT/sms.
// It scrolls to the top first: the sidebar is sticky and as tall as the
// viewport, so a full-page capture of a scrolled page draws it out of place
// (clicking the phone's Send button scrolls the page, which is taller than 800px).
func smsShot(t *testing.T, tab context.Context, name string) {
	t.Helper()
	browsertest.Do(t, tab, "scroll to the top for "+name, chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`))
	browsertest.Screenshot(t, tab, "sms/"+name)
}

// serveForBrowser migrates, seeds the demo and runs `parley serve` in-process
// on a free loopback port, with PARLEY_BASE_URL set to exactly that address
// (the simulator posts its webhooks there and the SDK is pointed there). It
// returns the base URL once /readyz answers 200; the server stops when the
// test ends, after the browser (started later, so cleaned up first).
//
// Two runs of this package at once on one Redis see each other's live
// events: the hub's pub/sub channel ("parley:hub") ignores the database
// number that testenv hands out, and both databases have a conversation 1.
func serveForBrowser(t *testing.T) string {
	t.Helper()
	return serveForBrowserEnv(t, nil)
}

// serveForBrowserEnv is serveForBrowser with more settings for serve.
func serveForBrowserEnv(t *testing.T, vars map[string]string) string {
	t.Helper()
	if code, _, stderr := parley(t, nil, "migrate", "up"); code != 0 {
		t.Fatalf("migrate up: %s", stderr)
	}
	if code, _, stderr := parley(t, nil, "seed", "--demo"); code != 0 {
		t.Fatalf("seed --demo: %s", stderr)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	base := "http://" + addr

	ctx, cancel := context.WithCancel(context.Background())
	type exit struct {
		code   int
		stderr string
	}
	done := make(chan exit, 1)
	go func() {
		env := map[string]string{"PARLEY_HTTP_ADDR": addr, "PARLEY_BASE_URL": base}
		for k, v := range vars {
			env[k] = v
		}
		code, _, stderr := parleyCtx(ctx, t, env, "serve")
		done <- exit{code, stderr}
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case e := <-done:
			if e.code != 0 {
				t.Errorf("serve exited %d after shutdown", e.code)
			}
			if t.Failed() {
				log := e.stderr
				if len(log) > 16<<10 {
					log = "…" + log[len(log)-16<<10:]
				}
				t.Logf("serve's log:\n%s", log)
			}
		case <-time.After(45 * time.Second):
			t.Error("serve did not stop within 45s of its context ending")
		}
	})

	// The server announces readiness only through /readyz: poll it, bounded.
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base
			}
		}
		select {
		case e := <-done:
			done <- e // for the cleanup
			t.Fatalf("serve exited %d before it was ready:\n%s", e.code, e.stderr)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve never became ready on %s: %v", base, err)
		}
	}
}

// randomPhone is a US number no earlier run used (the database lives for the
// whole `go test` run, -count included). It never ends in 0999, the suffix
// the simulator refuses.
func randomPhone() string {
	for {
		n := fmt.Sprintf("+1555%07d", rand.IntN(10_000_000))
		if !strings.HasSuffix(n, "0999") {
			return n
		}
	}
}

// phoneSend types a text on the phone page, picks the inbox and clicks
// Send, then waits for the text's bubble on the phone.
func phoneSend(t *testing.T, phone context.Context, inbox, text string) {
	t.Helper()
	browsertest.Do(t, phone, "phone types "+text,
		chromedp.WaitVisible(chromedp.CSS(`#phone-device input[name=text]`)),
		chromedp.SendKeys(chromedp.CSS(`#phone-device input[name=text]`), text),
		chromedp.SetValue(chromedp.CSS(`#phone-device select[name=inbox]`), inbox),
	)
	if v := browsertest.Get(t, phone, "phone reads its text field", chromedp.Value(chromedp.CSS(`#phone-device input[name=text]`))); v != text {
		t.Fatalf("the phone's text field holds %q after typing %q", v, text)
	}
	browsertest.Do(t, phone, "phone clicks Send",
		chromedp.Click(chromedp.Search(`//div[@id="phone-device"]//form//button[normalize-space(.)="Send"]`)))
	browsertest.WaitFor(t, phone, "phone shows "+text, fmt.Sprintf(`%s > 0 && !document.querySelector("#phone-device .field-error")`,
		bubbles("bubble-out", fmt.Sprintf(`t === %s`, browsertest.JSString(text)))))
}

// bubbles is a JS expression: how many of the phone's bubbles of this kind
// (bubble-out: typed on the phone; bubble-in: received) have a text t for
// which match (a JS expression over t) is true.
func bubbles(kind, match string) string {
	return fmt.Sprintf(`[...document.querySelectorAll("#phone-screen .%s .bubble-text")].map(b => b.innerText.trim()).filter(t => %s).length`,
		kind, match)
}

// nextPoll waits until the phone page's poll has replaced its thread twice:
// the first swap may come from a request already under way, the second was
// asked for after this call, so the page then shows what the simulator held
// at least as late as now.
func nextPoll(t *testing.T, phone context.Context, step string) {
	t.Helper()
	for i := 0; i < 2; i++ {
		browsertest.Do(t, phone, step+": mark the thread", chromedp.Evaluate[chromedp.Void](`window.__screen = document.getElementById("phone-screen")`))
		browsertest.WaitFor(t, phone, step+": the poll replaces the thread", `document.getElementById("phone-screen") !== window.__screen`)
	}
}

func TestBrowserSMSPhoneToAgent(t *testing.T) {
	browsertest.ChromiumPath(t) // skip before starting a server for nothing
	base := serveForBrowser(t)
	const (
		inbox    = "+15550100100"
		question = "Hi, is the clinic open Saturday?"
		answer   = "Yes, 9 to noon."
	)
	number := randomPhone()
	t.Logf("phone %s", number)

	agent := browsertest.NewBrowser(t)
	phone := browsertest.NewIncognitoTab(t, agent)
	agentConsole := browsertest.RecordConsole(t, agent)
	phoneConsole := browsertest.RecordConsole(t, phone)

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

	// The phone page is behind the app's login too: an admin plays the phone.
	browsertest.SignIn(t, phone, base, "phone", "admin@demo.parley.test", "parley-demo-admin")
	browsertest.Do(t, phone, "phone opens the simulator",
		chromedp.Navigate(base+"/simulator/phone?phone="+url.QueryEscape(number)),
		chromedp.WaitVisible(chromedp.CSS(`#phone-device input[name=text]`)),
	)
	if top := browsertest.Get(t, phone, "phone reads its number", chromedp.Text(chromedp.CSS(`#phone-device .phone-top`))); strings.TrimSpace(top) != number {
		t.Fatalf("the phone page shows number %q, want %q", top, number)
	}
	browsertest.MarkNoReload(t, phone, "phone")

	step("2. the phone texts the inbox")
	phoneSend(t, phone, inbox, question)

	step("3. the agent gets the conversation")
	rowSel := fmt.Sprintf(`#conv-list > .conv-row[data-search$=%s]`, browsertest.JSString(" "+number))
	rowCond := fmt.Sprintf(`(() => { const r = document.querySelector(%s);
		return !!r && r.querySelector(".conv-preview").innerText.includes(%s) && r.querySelector(".badge").innerText.trim() === "New"; })()`,
		browsertest.JSString(rowSel), browsertest.JSString(question))
	browsertest.WaitWithin(t, agent, "agent sees the new conversation's row", rowCond, 10*time.Second)
	if n := browsertest.Get(t, agent, "agent counts the rows", chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll(%s).length`, browsertest.JSString(rowSel)))); n != 1 {
		t.Errorf("the agent's list has %d rows for %s, want 1", n, number)
	}
	row := browsertest.Get(t, agent, "agent reads the row", chromedp.Evaluate[string](fmt.Sprintf(`document.querySelector(%s).innerText`, browsertest.JSString(rowSel))))
	for _, want := range []string{number, question, "New", "SMS · Front Desk"} {
		if !strings.Contains(row, want) {
			t.Errorf("the agent's new row %q lacks %q", row, want)
		}
	}
	browsertest.NotReloaded(t, agent, "agent")
	agentConsole.CheckErrors(t, agent, "agent's list")
	smsShot(t, agent, "sms-agent-new.png")

	step("4. the agent opens the thread and replies")
	id := browsertest.Get(t, agent, "agent reads the conversation id", chromedp.Evaluate[string](fmt.Sprintf(
		`document.querySelector(%s).id.replace("conv-", "")`, browsertest.JSString(rowSel))))
	timeline := "timeline-" + id
	browsertest.Do(t, agent, "agent clicks the row", chromedp.Click(chromedp.CSS(rowSel)))
	browsertest.WaitFor(t, agent, "agent sees the thread", fmt.Sprintf(
		`!!document.querySelector('#thread-pane .thread[data-conv="%s"]') && %s.includes(%s) && location.pathname === "/chats/%s"`,
		id, browsertest.TextOf(timeline), browsertest.JSString(question), id))
	body := "#body-" + id
	browsertest.Do(t, agent, "agent types the reply", chromedp.SendKeys(chromedp.CSS(body), answer))
	browsertest.Do(t, agent, "agent sends the reply",
		chromedp.Click(chromedp.Search(fmt.Sprintf(`//form[@id="composer-%s"]//button[normalize-space(.)="Send"]`, id))))
	// The reply's message id names its delivery ticks: #msg-status-<id>.
	replyMsg := fmt.Sprintf(`[...document.querySelectorAll("#%s .msg-outbound")].filter(m => m.querySelector(".msg-bubble").innerText.trim() === %s)`,
		timeline, browsertest.JSString(answer))
	browsertest.WaitFor(t, agent, "agent sees the reply", replyMsg+`.length === 1 && !!`+replyMsg+`[0].querySelector(".ticks-wrap")`)
	browsertest.WaitFor(t, agent, "agent's composer is empty again", fmt.Sprintf(`document.querySelector(%s).value === ""`, browsertest.JSString(body)))
	ticks := browsertest.Get(t, agent, "agent reads the reply's ticks id", chromedp.Evaluate[string](replyMsg+`[0].querySelector(".ticks-wrap").id`))
	t.Logf("reply ticks: #%s", ticks)

	step("5. the phone gets the reply")
	browsertest.WaitFor(t, phone, "phone shows the reply", bubbles("bubble-in", fmt.Sprintf(`t === %s`, browsertest.JSString(answer)))+` === 1`)
	meta := browsertest.Get(t, phone, "phone reads the reply's details", chromedp.Evaluate[string](fmt.Sprintf(
		`[...document.querySelectorAll("#phone-screen .bubble-in")].find(b => b.querySelector(".bubble-text").innerText.trim() === %s).querySelector(".bubble-meta").innerText`,
		browsertest.JSString(answer))))
	if !strings.Contains(meta, "from "+inbox) || !strings.Contains(meta, "delivered") {
		t.Errorf("the reply's bubble on the phone says %q, want it from %s and delivered", meta, inbox)
	}
	phoneConsole.CheckErrors(t, phone, "phone's reply")
	smsShot(t, phone, "sms-phone-reply.png")

	step("6. the agent sees the reply delivered")
	browsertest.WaitFor(t, agent, "agent's reply is delivered", fmt.Sprintf(
		`!!document.querySelector(%s)`, browsertest.JSString("#"+ticks+" .ticks.ticks-delivered")))
	browsertest.NotReloaded(t, agent, "agent")
	agentConsole.CheckErrors(t, agent, "agent's thread")
	smsShot(t, agent, "sms-agent-delivered.png")

	step("7. the phone texts STOP")
	phoneSend(t, phone, inbox, "STOP")
	confirm := `t.startsWith("You are unsubscribed") && t.includes("Reply START")`
	browsertest.WaitFor(t, phone, "phone gets the opt-out confirmation", bubbles("bubble-in", confirm)+` >= 1`)
	// The agent's side: the event, the head's badge, the automated
	// confirmation, and a composer that says nothing can be sent.
	browsertest.WaitFor(t, agent, "agent sees the opt-out", fmt.Sprintf(
		`[...document.querySelectorAll("#%s .event")].some(e => e.innerText.includes("The recipient opted out"))`, timeline))
	browsertest.WaitFor(t, agent, "agent's header says opted out", fmt.Sprintf(`%s.includes("Opted out")`, browsertest.TextOf("thread-head-"+id)))
	confirmMsg := fmt.Sprintf(`[...document.querySelectorAll("#%s .msg-outbound")].filter(m => { const t = m.querySelector(".msg-bubble").innerText.trim(); return %s; })`,
		timeline, confirm)
	browsertest.WaitFor(t, agent, "agent sees the confirmation delivered", confirmMsg+`.length >= 1 && !!`+confirmMsg+`[0].querySelector(".ticks-delivered")`)
	// Exactly one confirmation: by now the one send has gone all the way
	// (its receipt came back). Let the phone poll the simulator afresh and count.
	nextPoll(t, phone, "phone refreshes after the confirmation")
	if n := browsertest.Get(t, phone, "phone counts confirmations", chromedp.Evaluate[int](bubbles("bubble-in", confirm))); n != 1 {
		t.Errorf("the phone received %d opt-out confirmations, want exactly 1", n)
	}
	if n := browsertest.Get(t, agent, "agent counts confirmations", chromedp.Evaluate[int](confirmMsg+`.length`)); n != 1 {
		t.Errorf("the agent's thread shows %d opt-out confirmations, want exactly 1", n)
	}
	if n := browsertest.Get(t, phone, "phone counts its STOP", chromedp.Evaluate[int](bubbles("bubble-out", `t === "STOP"`))); n != 1 {
		t.Errorf("the phone shows its STOP %d times, want once", n)
	}
	smsShot(t, phone, "sms-phone-stop.png")
	smsShot(t, agent, "sms-agent-opted-out.png")
	// The composer, rendered before the STOP, must now say that nothing can
	// be sent (notes still can), without a reload.
	blocked := fmt.Sprintf(`(() => { const b = document.querySelector("#composer-%s .composer-blocked"); return !!b && b.innerText.includes("opted out"); })()`, id)
	if !browsertest.WaitOK(agent, blocked) {
		t.Errorf("within %s of the opt-out, the agent's open composer does not show it is blocked (no .composer-blocked notice): "+
			"the opt-out reached the timeline and the header live, but not the composer", browsertest.StepTimeout)
	}
	browsertest.NotReloaded(t, agent, "agent")
	browsertest.NotReloaded(t, phone, "phone")
	agentConsole.CheckErrors(t, agent, "agent's opt-out")
	phoneConsole.CheckErrors(t, phone, "phone's opt-out")

	step("8. the agent's next text is refused")
	// Whatever the composer showed, the server refuses to text an opted-out
	// recipient, says so in the composer, and nothing reaches the phone.
	const tooLate = "Are you still there?"
	browsertest.Do(t, agent, "agent types after the opt-out", chromedp.SendKeys(chromedp.CSS(body), tooLate))
	browsertest.Do(t, agent, "agent sends after the opt-out",
		chromedp.Click(chromedp.Search(fmt.Sprintf(`//form[@id="composer-%s"]//button[normalize-space(.)="Send"]`, id))))
	// The refusal is a 422 whose body is the composer with the reason.
	if !browsertest.WaitOK(agent, fmt.Sprintf(`%s.includes("opted out of SMS; nothing can be sent to them")`, browsertest.TextOf("composer-error-"+id))) {
		t.Errorf("within %s of sending to the opted-out recipient, the agent's composer shows no reason (#composer-error-%s); its text is %q",
			browsertest.StepTimeout, id, browsertest.Get(t, agent, "agent reads the composer's text", chromedp.Evaluate[string](browsertest.TextOf("composer-"+id))))
	} else if v := browsertest.Get(t, agent, "agent reads the composer", chromedp.Value(chromedp.CSS(body))); v != tooLate {
		t.Errorf("after the refused send the composer holds %q, want the agent's text %q kept", v, tooLate)
	}
	if n := browsertest.Get(t, agent, "agent looks for the refused text", chromedp.Evaluate[int](fmt.Sprintf(
		`[...document.querySelectorAll("#%s .msg")].filter(m => m.innerText.includes(%s)).length`, timeline, browsertest.JSString(tooLate)))); n != 0 {
		t.Errorf("the refused text shows %d times in the agent's timeline, want never", n)
	}
	nextPoll(t, phone, "phone refreshes after the refused send")
	if n := browsertest.Get(t, phone, "phone counts what it received", chromedp.Evaluate[int](bubbles("bubble-in", "true"))); n != 2 {
		t.Errorf("the phone received %d texts, want 2 (the reply and the opt-out confirmation)", n)
	}
	browsertest.NotReloaded(t, agent, "agent")
	smsShot(t, agent, "sms-agent-refused.png")

	step("9. every text, either way, was charged once")
	// The question, the reply, the STOP and its confirmation; the
	// refused text was never stored.
	checkCharges(t, number, 4)

	step("done")
	agentConsole.CheckErrors(t, agent, "agent's refused send")
	phoneConsole.CheckErrors(t, phone, "phone's session")
}
