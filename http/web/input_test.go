package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// PostgreSQL refuses text holding a NUL byte, so a NUL typed or pasted
// into a form used to reach the database and answer 500. Each form
// refuses it next to the field instead (422), storing nothing.
func TestNULRefusedNextToFields(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	count := func() (n int) {
		t.Helper()
		if err := f.Store.DB().NewRaw(`SELECT (SELECT count(*) FROM conversations) + (SELECT count(*) FROM recipients)
			+ (SELECT count(*) FROM messages) + (SELECT count(*) FROM outbox) + (SELECT count(*) FROM sessions)`).Scan(ctx, &n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	const invalid = "invalid characters"

	t.Run("login email", func(t *testing.T) {
		c := f.client(t)
		before := count()
		tok := c.csrf("/login")
		resp, body := c.do("POST", "/login", url.Values{"_csrf": {tok}, "email": {"admin@demo.parley.test\x00"}, "password": {adminPassword}}, nil)
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("status %d", resp.StatusCode)
		}
		d := doc(t, body)
		if msg := d.Find("#email-error").Text(); !strings.Contains(msg, invalid) {
			t.Fatalf("email error %q\n%s", msg, body)
		}
		if v, _ := d.Find("input[name=email]").Attr("aria-describedby"); v != "email-error" {
			t.Fatalf("the email field does not point at its error: %q", v)
		}
		if after := count(); after != before {
			t.Fatalf("a refused login stored %d rows", after-before)
		}
	})

	c := f.client(t)
	c.login(adminEmail, adminPassword)
	for _, tc := range []struct{ name, to, body, field string }{
		{"new chat to", "+1555010\x000777", "hello", "to"},
		{"new chat body", "+15550100777", "hel\x00lo", "body"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := count()
			resp, body := c.post("/chats", url.Values{"inbox": {itoa(f.Demo.Inbox.ID)}, "to": {tc.to}, "body": {tc.body}})
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("status %d", resp.StatusCode)
			}
			if msg := doc(t, body).Find("#" + tc.field + "-error").Text(); !strings.Contains(msg, invalid) {
				t.Fatalf("%s error %q", tc.field, msg)
			}
			if after := count(); after != before {
				t.Fatalf("a refused start stored %d rows", after-before)
			}
		})
	}

	t.Run("reply", func(t *testing.T) {
		resp, _ := c.post("/chats", url.Values{"inbox": {itoa(f.Demo.Inbox.ID)}, "to": {"+15550100778"}, "body": {"hello"}})
		if resp.StatusCode >= 400 {
			t.Fatalf("start: %d", resp.StatusCode)
		}
		var convID int64
		if err := f.Store.DB().NewRaw("SELECT c.id FROM conversations c JOIN recipients r ON r.id = c.recipient_id WHERE r.phone = '+15550100778'").Scan(ctx, &convID); err != nil {
			t.Fatal(err)
		}
		before := count()
		resp, body := c.post("/chats/"+itoa(convID)+"/messages", url.Values{"body": {"thanks\x00"}})
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("reply status %d", resp.StatusCode)
		}
		if msg := doc(t, body).Find("#composer-error-" + itoa(convID)).Text(); !strings.Contains(msg, invalid) {
			t.Fatalf("composer error %q", msg)
		}
		if after := count(); after != before {
			t.Fatalf("a refused reply stored %d rows", after-before)
		}
	})
}
