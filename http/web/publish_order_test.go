package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/models"
)

// stream collects what a socket received, in order, until a frame
// containing each of the markers has arrived.
func (ls *liveSocket) streamUntil(t *testing.T, markers ...string) string {
	t.Helper()
	var all strings.Builder
	deadline := time.After(5 * time.Second)
	for {
		done := true
		for _, m := range markers {
			if !strings.Contains(all.String(), m) {
				done = false
			}
		}
		if done {
			return all.String()
		}
		select {
		case f, ok := <-ls.frames:
			if !ok {
				t.Fatalf("socket closed before %q; got:\n%s", markers, all.String())
			}
			all.WriteString(f)
		case <-deadline:
			t.Fatalf("no frames with %q within 5s; got:\n%s", markers, all.String())
		}
	}
}

// matchesIn lists the first submatch of every match of re in s, in order.
func matchesIn(re *regexp.Regexp, s string) []string {
	var out []string
	for _, m := range re.FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	return out
}

// TestFrameOrderAcrossWebAndJobOrigins: changes of one conversation made by
// web actions (over HTTP), by the worker's send path and by the webhooks'
// inbound and receipt paths, committed in one order and handed to the one
// publisher in another (as goroutines racing from their commit to Notify
// can), never show an agent's socket an older state after a newer one:
// no list row or thread header from before the close once the close is
// shown, no older tick after a newer one, and every timeline item still
// arrives, a message item with its newest known status.
func TestFrameOrderAcrossWebAndJobOrigins(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	admin := f.client(t)
	admin.login(adminEmail, adminPassword)
	agent := f.client(t)
	agent.login(agentEmail, agentPassword)
	ws := agent.liveNow(t, f.URL)

	// Web: the admin starts a chat (message M, queued) and the agent views it.
	const phone = "+15550100611"
	resp, _ := admin.post("/chats", url.Values{"inbox": {itoa(f.Demo.Inbox.ID)}, "to": {phone}, "body": {"First message"}})
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("start chat: %d", resp.StatusCode)
	}
	id := mustInt(convLink.FindStringSubmatch(resp.Header.Get("HX-Location"))[1])
	ws.await(t, `id="conv-`+itoa(id)+`"`)
	ws.send(t, map[string]any{"view": id})
	ws.await(t, `innerHTML:#thread-viewers-`+itoa(id)) // joined the thread
	sc := models.Scope{OrgID: f.Demo.Org.ID, UserID: f.Demo.Admin.ID, Role: models.RoleAdmin}
	timeline, err := f.Store.Timeline(ctx, sc, id, 0)
	if err != nil {
		t.Fatal(err)
	}
	var m int64
	for _, ev := range timeline {
		if ev.Message != nil {
			m = ev.Message.ID
		}
	}

	// Committed, in this order, and held back: a second reply R (web), the
	// worker sending R and M (job), M's delivery receipt and an inbound
	// text (webhooks).
	must := func(ch *models.Change, err error) *models.Change {
		t.Helper()
		if err != nil || ch == nil {
			t.Fatalf("change: %v %v", ch, err)
		}
		return ch
	}
	r := must(f.Store.Reply(ctx, sc, id, "Second message", false))
	rID := *r.Events[0].MessageID
	sent := func(msg int64, part string) *models.Change {
		t.Helper()
		if _, _, err := f.Store.ClaimSMS(ctx, msg); err != nil {
			t.Fatal(err)
		}
		return must(f.Store.RecordSent(ctx, msg, "vonage", []string{part}))
	}
	sentR := sent(rID, "order-r-"+itoa(id))
	sentM := sent(m, "order-m-"+itoa(id))
	deliveredM := must(f.Store.ApplyReceipt(ctx, models.SMSReceipt{Provider: "vonage", ProviderMessageID: "order-m-" + itoa(id), Status: "delivered"}))
	in, err := f.Store.ReceiveSMS(ctx, models.InboundSMS{Provider: "vonage", ProviderMessageID: "order-in-" + itoa(id),
		From: phone, To: *f.Demo.Inbox.SMSNumber, Body: "Inbound before the close", ReceivedAt: time.Now()})
	if err != nil || in.Change == nil || in.Change.Conversation.ID != id {
		t.Fatalf("inbound: %+v %v", in, err)
	}

	// Web: the admin closes it, published at once.
	if resp, _ := admin.post("/chats/"+itoa(id)+"/close", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("close: %d", resp.StatusCode)
	}
	// The held changes reach the publisher late, newest status first.
	for _, ch := range []*models.Change{sentR, r, in.Change, deliveredM, sentM} {
		f.Pub.Notify(ch)
	}
	// Web: a note after everything, its frames the marker that the rest went out.
	resp, body := admin.post("/chats/"+itoa(id)+"/messages", url.Values{"body": {"Marker note"}, "note": {"on"}})
	seq := regexp.MustCompile(`beforeend:#timeline-\d+" data-seq="(\d+)"`).FindStringSubmatch(body)
	if resp.StatusCode != http.StatusOK || seq == nil {
		t.Fatalf("note: %d %s", resp.StatusCode, body)
	}
	got := ws.streamUntil(t, `afterbegin:#conv-list" data-seq="`+seq[1]+`"`, `beforeend:#timeline-`+itoa(id)+`" data-seq="`+seq[1]+`"`)

	noneAfter := func(what string, states []string, newer string, older ...string) {
		t.Helper()
		shown := false
		for _, s := range states {
			if s == newer {
				shown = true
			}
			for _, o := range older {
				if shown && s == o {
					t.Errorf("%s went back from %s to %s: %v", what, newer, o, states)
					return
				}
			}
		}
		if !shown {
			t.Errorf("%s never showed %s: %v", what, newer, states)
		}
	}
	rows := matchesIn(regexp.MustCompile(`(?s)<a id="conv-`+itoa(id)+`" .*?data-status="(\w+)"`), got)
	noneAfter("the list row", rows, "closed", "open", "new")
	heads := matchesIn(regexp.MustCompile(`class="badge badge-(\w+)" id="thread-status-`+itoa(id)+`"`), got)
	noneAfter("the thread header", heads, "closed", "open", "new")
	// A tick is in a message's item (id="msg-status-M") or a status frame (#msg-status-M).
	ticks := func(msg int64) []string {
		return matchesIn(regexp.MustCompile(`msg-status-`+itoa(msg)+`"><span class="ticks ticks-(\w+)`), got)
	}
	ticksM := ticks(m)
	noneAfter("message M's tick", ticksM, "delivered", "sent", "sending", "queued")

	for _, want := range []string{"Second message", "Inbound before the close", "closed this", "Marker note"} {
		if !strings.Contains(got, want) {
			t.Errorf("no timeline item with %q reached the socket:\n%s", want, got)
		}
	}
	// R's item came after R's "sent" tick went out, so it shows sent.
	if ticksR := ticks(rID); len(ticksR) == 0 || ticksR[len(ticksR)-1] != "sent" {
		t.Errorf("message R's ticks %v: its late item should show its newest status, sent", ticksR)
	}
}

// TestActionAnswersWhenPublisherQueueIsFull: with the publisher's queue
// full (nothing drains it), a web action still answers at once with its
// own result; the live copy for other screens is dropped and counted.
func TestActionAnswersWhenPublisherQueueIsFull(t *testing.T) {
	f := newFixtureWith(t, serverOpts{pubQueue: 4, pubIdle: true}) // one change per shard
	ctx := context.Background()
	sc := models.Scope{OrgID: f.Demo.Org.ID, UserID: f.Demo.Admin.ID, Role: models.RoleAdmin}
	ch, err := f.Store.StartConversation(ctx, sc, models.StartInput{InboxID: f.Demo.Inbox.ID, To: "+15550100612", Body: "Fills the queue"})
	if err != nil {
		t.Fatal(err)
	}
	f.Pub.Notify(ch) // its shard's one place
	if n := f.Pub.Dropped(); n != 0 {
		t.Fatalf("dropped %d changes before the queue was full", n)
	}
	a := f.client(t)
	a.login(adminEmail, adminPassword)
	start := time.Now()
	resp, body := a.post("/chats/"+itoa(ch.Conversation.ID)+"/messages", url.Values{"body": {"Answered anyway"}})
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Answered anyway") {
		t.Fatalf("reply with a full publisher queue: %d\n%s", resp.StatusCode, body)
	}
	if n := f.Pub.Dropped(); n != 1 {
		t.Errorf("dropped %d changes, want 1 (the reply's live copy)", n)
	}
	t.Logf("reply answered in %v with the queue full", time.Since(start))
}

// TestDroppedChangeResyncsItsInbox: a change the full queue drops is not
// silently lost for the screens that show its inbox: once the publisher
// runs, they are told to resync (reload), since later frames move their
// sequence past the dropped events.
func TestDroppedChangeResyncsItsInbox(t *testing.T) {
	f := newFixtureWith(t, serverOpts{pubQueue: 4, pubIdle: true}) // one change per shard
	ctx := context.Background()
	agent := f.client(t)
	agent.login(agentEmail, agentPassword)
	ws := agent.liveNow(t, f.URL)
	f.awaitMembers(t, "inbox:"+itoa(f.Demo.Inbox.ID), 1)
	sc := models.Scope{OrgID: f.Demo.Org.ID, UserID: f.Demo.Admin.ID, Role: models.RoleAdmin}
	ch, err := f.Store.StartConversation(ctx, sc, models.StartInput{InboxID: f.Demo.Inbox.ID, To: "+15550100613", Body: "first"})
	if err != nil {
		t.Fatal(err)
	}
	f.Pub.Notify(ch) // fills its shard
	more, err := f.Store.Reply(ctx, sc, ch.Conversation.ID, "second", false)
	if err != nil {
		t.Fatal(err)
	}
	f.Pub.Notify(more) // dropped
	if n := f.Pub.Dropped(); n != 1 {
		t.Fatalf("dropped %d, want 1", n)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); f.Pub.Run(runCtx) }()
	t.Cleanup(func() { stop(); <-done })
	ws.await(t, `id="resync"`)
}
