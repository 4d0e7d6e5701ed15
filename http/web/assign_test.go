package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// Taking a conversation reads "Sam Agent took this", both in the frame
// the action answers with and in the thread loaded afresh (where the
// event's detail has been through jsonb), not "Sam Agent assigned this
// to Sam Agent"; giving it to someone else still names them.
func TestAssignToSelfReadsNaturally(t *testing.T) {
	f := newFixture(t)
	c := f.client(t)
	c.login(agentEmail, agentPassword)
	if resp, _ := c.post("/chats", url.Values{"inbox": {itoa(f.Demo.Inbox.ID)}, "to": {"+15550100779"}, "body": {"hello"}}); resp.StatusCode >= 400 {
		t.Fatalf("start: %d", resp.StatusCode)
	}
	var convID int64
	if err := f.Store.DB().NewRaw("SELECT c.id FROM conversations c JOIN recipients r ON r.id = c.recipient_id WHERE r.phone = '+15550100779'").Scan(context.Background(), &convID); err != nil {
		t.Fatal(err)
	}
	id := itoa(convID)
	events := func(body string) string { return doc(t, body).Find(".event").Text() }

	resp, body := c.post("/chats/"+id+"/assign", url.Values{"assignee": {"me"}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("assign: %d", resp.StatusCode)
	}
	if got := events(body); !strings.Contains(got, "Sam Agent took this") || strings.Contains(got, "assigned this to Sam Agent") {
		t.Fatalf("live frame reads %q", got)
	}
	_, body = c.get("/chats/" + id)
	if got := events(body); !strings.Contains(got, "Sam Agent took this") || strings.Contains(got, "assigned this to Sam Agent") {
		t.Fatalf("reloaded thread reads %q", got)
	}

	if resp, _ := c.post("/chats/"+id+"/assign", url.Values{"assignee": {itoa(f.Demo.Admin.ID)}}); resp.StatusCode != http.StatusOK {
		t.Fatalf("assign to admin: %d", resp.StatusCode)
	}
	_, body = c.get("/chats/" + id)
	if got := events(body); !strings.Contains(got, "Sam Agent assigned this to Avery Admin") {
		t.Fatalf("assigning to another reads %q", got)
	}
}
