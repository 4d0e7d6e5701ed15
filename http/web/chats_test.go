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
	closed, err := f.Store.StartConversation(ctx, admin, models.StartInput{InboxID: f.Demo.Inbox.ID, To: "+15550100502", Body: "closed one"})
	if err != nil {
		t.Fatal(err)
	}
	// Searching finds a recipient by email too (email chats cannot be started yet).
	if _, err := f.Store.DB().NewRaw("UPDATE recipients SET email = 'closed@example.org' WHERE phone = '+15550100502'").Exec(ctx); err != nil {
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

// The new-chat form offers email: an email address needs a subject
// (refused next to the Subject field, 422, nothing stored, the field shown
// and what was typed kept); with one, the chat starts and its first
// message is queued as email:send. A reply on an email conversation is
// queued the same way.
func TestEmailStartAndReplyFromPages(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c := f.client(t)
	c.login(adminEmail, adminPassword)
	_, body := c.get("/chats/new")
	form := doc(t, body).Find("#new-chat")
	if hint := form.Find("p.muted").Text(); !strings.Contains(hint, "email address") || strings.Contains(hint, "not available") {
		t.Fatalf("new-chat hint %q", hint)
	}
	if _, hidden := form.Find("#new-chat-subject").Attr("hidden"); !hidden || form.Find("input[name=subject]").Length() != 1 {
		t.Fatalf("the subject field is missing or shown before an email address is typed")
	}
	count := func() (n int) {
		t.Helper()
		if err := f.Store.DB().NewRaw(`SELECT (SELECT count(*) FROM conversations) + (SELECT count(*) FROM recipients)
			+ (SELECT count(*) FROM messages) + (SELECT count(*) FROM outbox) + (SELECT count(*) FROM email_threads)`).Scan(ctx, &n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	emails := func() (n int) {
		t.Helper()
		if err := f.Store.DB().NewRaw("SELECT count(*) FROM outbox WHERE task_type = 'email:send'").Scan(ctx, &n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	before := count()
	resp, body := c.post("/chats", url.Values{"inbox": {itoa(f.Demo.Inbox.ID)}, "to": {"someone@example.org"}, "body": {"hello"}})
	d := doc(t, body)
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if msg := d.Find("#subject-error").Text(); !strings.Contains(msg, "subject") {
		t.Fatalf("subject error %q", msg)
	}
	if _, hidden := d.Find("#new-chat-subject").Attr("hidden"); hidden {
		t.Fatal("the subject field with its error is hidden")
	}
	if v, _ := d.Find("#new-chat input[name=to]").Attr("value"); v != "someone@example.org" {
		t.Fatalf("to not kept: %q", v)
	}
	if after := count(); after != before {
		t.Fatalf("a refused email start stored %d rows", after-before)
	}

	queued := emails()
	resp, body = c.post("/chats", url.Values{"inbox": {itoa(f.Demo.Inbox.ID)}, "to": {"someone@example.org"}, "body": {"hello"}, "subject": {"Your booking"}})
	if resp.StatusCode >= 400 {
		t.Fatalf("start status %d\n%s", resp.StatusCode, body)
	}
	var convID int64
	if err := f.Store.DB().NewRaw(`SELECT c.id FROM conversations c JOIN email_threads t ON t.conversation_id = c.id
		WHERE c.channel = 'email' AND t.subject = 'Your booking'`).Scan(ctx, &convID); err != nil {
		t.Fatalf("no email conversation with the subject: %v", err)
	}
	if n := emails(); n != queued+1 {
		t.Fatalf("%d email:send rows queued, want 1", n-queued)
	}

	resp, body = c.post("/chats/"+itoa(convID)+"/messages", url.Values{"body": {"one more thing"}})
	if resp.StatusCode >= 400 {
		t.Fatalf("reply status %d\n%s", resp.StatusCode, body)
	}
	if n := emails(); n != queued+2 {
		t.Fatalf("the reply queued %d email:send rows, want 1", n-queued-1)
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
