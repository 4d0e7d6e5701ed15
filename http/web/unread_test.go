package web_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley/models"
)

// inbound texts the demo inbox from phone, as the webhook would store it,
// and publishes the change as the webhook does.
func (f *fixture) inbound(t *testing.T, phone, id, body string) *models.Change {
	t.Helper()
	// Provider ids are unique per run: the package's tests share a database.
	res, err := f.Store.ReceiveSMS(context.Background(), models.InboundSMS{Provider: "vonage", ProviderMessageID: id + "-" + runID + "-" + strconv.FormatInt(phoneSeq.Add(1), 10),
		From: phone, To: *f.Demo.Inbox.SMSNumber, Body: body, ReceivedAt: time.Now()})
	if err != nil || res.Change == nil {
		t.Fatalf("inbound %s: %+v %v", id, res, err)
	}
	f.Pub.Notify(res.Change)
	return res.Change
}

// runID and phoneSeq tell this run's provider ids, phones and users from an
// earlier run's (go test -count=N runs the tests again on the same database).
var runID = strconv.FormatInt(time.Now().UnixNano(), 36)

var phoneSeq atomic.Int64

// phoneBase starts this run's numbers at a random point of 8,000,000 to
// 8,999,999, clear of the fixed numbers tests use (+1555010xxxx,
// +15557654321); a number from the clock repeated every 10 s, so two tests
// could text from one phone and share a conversation.
var phoneBase = 8_000_000 + rand.Int64N(900_000)

// uniquePhone is a phone number no other test of this run has texted from.
func uniquePhone() string {
	return fmt.Sprintf("+1555%07d", phoneBase+phoneSeq.Add(1))
}

// eventKinds counts a conversation's events by kind.
func (f *fixture) eventKinds(t *testing.T, convID int64) map[string]int {
	t.Helper()
	var kinds []string
	if err := f.Store.DB().NewSelect().Table("conversation_events").Column("kind").
		Where("conversation_id = ?", convID).Scan(context.Background(), &kinds); err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, k := range kinds {
		out[k]++
	}
	return out
}

func (f *fixture) unread(t *testing.T, convID int64) int {
	t.Helper()
	var n int
	if err := f.Store.DB().NewSelect().Table("conversations").Column("unread_count").
		Where("id = ?", convID).Scan(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Re-opening a conversation after each new text marks it read but says
// "Sam opened this" once: the line tells the team who picked it up, and
// repeating it on every visit buried the messages. Another agent's first
// open is news and is recorded.
func TestReopeningRecordsOpenedOncePerAgent(t *testing.T) {
	f := newFixture(t)
	phone := uniquePhone()
	id := f.inbound(t, phone, "opened-1", "First text").Conversation.ID
	agent := f.client(t)
	agent.login(agentEmail, agentPassword)
	for i, text := range []string{"", "Second text", "Third text"} {
		if text != "" {
			f.inbound(t, phone, "opened-"+itoa(int64(i+1)), text)
		}
		if n := f.unread(t, id); n != 1 {
			t.Fatalf("visit %d: unread %d before the visit, want 1", i, n)
		}
		if resp, _ := agent.get("/chats/" + itoa(id)); resp.StatusCode != 200 {
			t.Fatalf("visit %d: %d", i, resp.StatusCode)
		}
		if n := f.unread(t, id); n != 0 {
			t.Fatalf("visit %d: unread %d after the visit, want 0", i, n)
		}
	}
	if k := f.eventKinds(t, id); k[models.EvOpened] != 1 {
		t.Errorf("after three visits by one agent: %d opened events (%v), want 1", k[models.EvOpened], k)
	}
	_, body := agent.get("/chats/" + itoa(id))
	if n := strings.Count(body, "Sam Agent opened this"); n != 1 {
		t.Errorf("the thread says %q %d times, want once", "Sam Agent opened this", n)
	}

	f.inbound(t, phone, "opened-4", "Fourth text")
	admin := f.client(t)
	admin.login(adminEmail, adminPassword)
	_, body = admin.get("/chats/" + itoa(id))
	if !strings.Contains(body, "Avery Admin opened this") {
		t.Error("another agent's first open is not on the timeline")
	}
}

// A text arriving on the thread an agent has open is read at once: the
// browser says so on its socket, the unread count goes to zero, and every
// list gets the row without a badge (and no timeline line).
func TestMessageOnOpenThreadIsRead(t *testing.T) {
	f := newFixture(t)
	phone := uniquePhone()
	id := f.inbound(t, phone, "read-1", "Hello").Conversation.ID
	agent := f.client(t)
	agent.login(agentEmail, agentPassword)
	agent.get("/chats/" + itoa(id)) // opened: unread 0
	ws := agent.liveNow(t, f.URL)
	ws.send(t, map[string]any{"view": id})
	ws.await(t, "innerHTML:#thread-viewers-"+itoa(id)) // joined the thread

	in := f.inbound(t, phone, "read-2", "Are you there?")
	ws.await(t, "Are you there?")
	if n := f.unread(t, id); n != 1 {
		t.Fatalf("unread %d after the text, want 1", n)
	}
	ws.send(t, map[string]any{"read": id})
	row := ws.await(t, `afterbegin:#conv-list" data-seq="`)
	for row != "" && strings.Contains(row, `data-seq="`+itoa(in.LastSeq())+`"`) {
		row = ws.await(t, `afterbegin:#conv-list" data-seq="`) // the text's own row
	}
	if strings.Contains(row, `class="unread"`) || strings.Contains(row, "is-unread") {
		t.Errorf("the row after the read still has a badge:\n%s", row)
	}
	if n := f.unread(t, id); n != 0 {
		t.Errorf("unread %d after the read, want 0", n)
	}
	if strings.Contains(row, "beforeend:#timeline-") {
		t.Errorf("the read put a line on the timeline:\n%s", row)
	}
	_, body := agent.get("/chats/" + itoa(id))
	if strings.Count(body, "opened this") != 1 {
		t.Errorf("thread after the read:\n%s", body)
	}

	// A conversation the socket does not view is not marked.
	other := f.inbound(t, uniquePhone(), "read-3", "Someone else").Conversation.ID
	ws.send(t, map[string]any{"read": other})
	ws.send(t, map[string]any{"view": other}) // a round trip: the read was handled before
	ws.await(t, "innerHTML:#thread-viewers-"+itoa(other))
	if n := f.unread(t, other); n != 1 {
		t.Errorf("a read for a thread the socket does not view cleared it: unread %d", n)
	}
}
