package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/parley-chat/parley/models"
)

func doc(t *testing.T, body string) *goquery.Document {
	t.Helper()
	d, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestChatsListAndFilters(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	admin := models.Scope{OrgID: f.Demo.Org.ID, UserID: f.Demo.Admin.ID, Role: models.RoleAdmin}
	open, err := f.Store.StartConversation(ctx, admin, models.StartInput{InboxID: f.Demo.Inbox.ID, To: "+15550100501", Body: "open one"})
	if err != nil {
		t.Fatal(err)
	}
	closed, err := f.Store.StartConversation(ctx, admin, models.StartInput{InboxID: f.Demo.Inbox.ID, To: "closed@example.org", Body: "closed one"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Store.Close(ctx, admin, closed.Conversation.ID); err != nil {
		t.Fatal(err)
	}
	c := f.client(t)
	c.login(agentEmail, agentPassword)
	for _, tc := range []struct {
		query      string
		want, dont int64
	}{
		{"", open.Conversation.ID, closed.Conversation.ID},
		{"?status=closed", closed.Conversation.ID, open.Conversation.ID},
		{"?status=all&q=0100501", open.Conversation.ID, closed.Conversation.ID},
		{"?status=all&q=closed%40example", closed.Conversation.ID, open.Conversation.ID},
	} {
		t.Run(tc.query, func(t *testing.T) {
			resp, body := c.get("/chats" + tc.query)
			if resp.StatusCode != 200 {
				t.Fatalf("%d", resp.StatusCode)
			}
			d := doc(t, body)
			if d.Find("#conv-"+itoa(tc.want)).Length() != 1 || d.Find("#conv-"+itoa(tc.dont)).Length() != 0 {
				t.Fatalf("rows: %v", d.Find(".conv-row").Map(func(_ int, s *goquery.Selection) string { return s.AttrOr("id", "") }))
			}
		})
	}
	if resp, _ := c.get("/chats?status=bogus"); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("unknown status filter: %d", resp.StatusCode)
	}
	// Opening a thread shows its messages and the composer's preview.
	resp, body := c.get("/chats/" + itoa(open.Conversation.ID))
	d := doc(t, body)
	if resp.StatusCode != 200 || !strings.Contains(d.Find("#timeline-"+itoa(open.Conversation.ID)).Text(), "open one") {
		t.Fatalf("thread: %d", resp.StatusCode)
	}
	if d.Find("form.composer textarea[name=body]").Length() != 1 {
		t.Fatal("no composer")
	}
}

func TestNewChatErrorsNextToFields(t *testing.T) {
	f := newFixture(t)
	c := f.client(t)
	c.login(adminEmail, adminPassword)
	_, body := c.get("/chats/new?to=%2B15550100777")
	if v, _ := doc(t, body).Find("#new-chat input[name=to]").Attr("value"); v != "+15550100777" {
		t.Fatalf("prefilled to: %q", v)
	}
	count := func() (n int) {
		f.Store.DB().NewRaw("SELECT (SELECT count(*) FROM conversations) + (SELECT count(*) FROM recipients)").Scan(context.Background(), &n)
		return n
	}
	before := count()
	resp, body := c.post("/chats", url.Values{"inbox": {itoa(f.Demo.Inbox.ID)}, "to": {"call me maybe"}, "body": {"hello"}})
	d := doc(t, body)
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if msg := d.Find("#to-error").Text(); !strings.Contains(msg, "phone number") {
		t.Fatalf("to error %q", msg)
	}
	if v, _ := d.Find("textarea[name=body]").Html(); v != "hello" {
		t.Fatalf("body not kept: %q", v)
	}
	if d.Find("#body-error").Length() != 0 {
		t.Fatal("error shown on the wrong field")
	}
	if after := count(); after != before {
		t.Fatalf("a refused start stored %d rows", after-before)
	}
}

func TestComposerGateAndPreview(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	admin := models.Scope{OrgID: f.Demo.Org.ID, UserID: f.Demo.Admin.ID, Role: models.RoleAdmin}
	ch, err := f.Store.StartConversation(ctx, admin, models.StartInput{InboxID: f.Demo.Inbox.ID, To: "+15550100601", Body: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	f.Store.DB().NewRaw("UPDATE recipients SET sms_opted_out_at = now() WHERE phone = '+15550100601'").Exec(ctx)
	c := f.client(t)
	c.login(adminEmail, adminPassword)
	id := itoa(ch.Conversation.ID)
	resp, body := c.post("/chats/"+id+"/messages", url.Values{"body": {"are you there?"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(doc(t, body).Find(".field-error").Text(), "opted out") {
		t.Fatalf("reply to opted-out: %d\n%s", resp.StatusCode, body)
	}
	resp, body = c.post("/chats/"+id+"/messages", url.Values{"body": {"they opted out, leave them be"}, "note": {"on"}})
	if resp.StatusCode != 200 || !strings.Contains(body, "msg-note") {
		t.Fatalf("note on opted-out conversation: %d", resp.StatusCode)
	}
	for _, tc := range []struct{ body, want string }{
		{"Hello", "5 chars · 1 segment (GSM-7) · 2 credits"},
		{strings.Repeat("a", 161), "161 chars · 2 segments (GSM-7) · 4 credits"},
		{"Café ✓", "Unicode because of ✓"},
	} {
		_, got := c.post("/chats/preview", url.Values{"channel": {"sms"}, "body": {tc.body}})
		if !strings.Contains(doc(t, got).Text(), tc.want) {
			t.Errorf("preview of %q: %q, want %q", tc.body, doc(t, got).Text(), tc.want)
		}
	}
}
