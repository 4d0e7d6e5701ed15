package web_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/parley-chat/parley/models"
)

// TestChatsSearchByPhoneHoweverTyped: a number typed with punctuation, in
// part or in full, finds its conversation on the Chats page and its
// recipient on the Recipients page; the row shows what the list needs.
func TestChatsSearchByPhoneHoweverTyped(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	admin := models.Scope{OrgID: f.Demo.Org.ID, UserID: f.Demo.Admin.ID, Role: models.RoleAdmin}
	ch, err := f.Store.StartConversation(ctx, admin, models.StartInput{InboxID: f.Demo.Inbox.ID, To: "+15557654321", Body: "Your table is ready"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Store.DB().NewRaw("UPDATE recipients SET name = 'Rosa Martinez' WHERE phone = '+15557654321'").Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Store.Assign(ctx, admin, ch.Conversation.ID, f.Demo.Agent.ID); err != nil {
		t.Fatal(err)
	}
	id := itoa(ch.Conversation.ID)
	c := f.client(t)
	c.login(agentEmail, agentPassword)
	for _, q := range []string{"(555) 765-4321", "765-4321", "+1 555 765 4321", "rosa mart"} {
		resp, body := c.get("/chats?q=" + url.QueryEscape(q))
		if resp.StatusCode != 200 {
			t.Fatalf("%q: %d", q, resp.StatusCode)
		}
		row := doc(t, body).Find("#conv-" + id)
		if row.Length() != 1 {
			t.Errorf("chats %q: conversation %s not listed", q, id)
			continue
		}
		got := map[string]string{
			"href": row.AttrOr("href", ""), "hx-get": row.AttrOr("hx-get", ""), "status": row.AttrOr("data-status", ""),
			"assignee": row.AttrOr("data-assignee", ""), "search": row.AttrOr("data-search", ""),
			"name": row.Find(".conv-name").Text(), "badge": row.Find(".badge-open").Text(),
			"chip": row.Find(".chip").Text(), "preview": row.Find(".conv-preview").Text(),
			"assigned": strings.TrimSpace(row.Find(".conv-assignee").Text()), "avatar": row.Find(".avatar").Text(),
		}
		want := map[string]string{
			"href": "/chats/" + id, "hx-get": "/chats/" + id, "status": "open", "assignee": itoa(f.Demo.Agent.ID),
			"search": "rosa martinez  +15557654321", "name": "Rosa Martinez", "badge": "Open", "chip": "SMS · Front Desk",
			"preview": "Your table is ready", "assigned": "→ Sam Agent", "avatar": "RM",
		}
		for k, w := range want {
			if got[k] != w {
				t.Errorf("chats %q: row %s = %q, want %q", q, k, got[k], w)
			}
		}
		if row.Find("time.conv-time").AttrOr("datetime", "") == "" {
			t.Errorf("chats %q: row without its time", q)
		}
		_, body = c.get("/recipients?q=" + url.QueryEscape(q))
		if !strings.Contains(body, "Rosa Martinez") || !strings.Contains(body, "1 recipient matching") {
			t.Errorf("recipients %q: Rosa Martinez not listed", q)
		}
	}
}

// TestRecipientsPageSaysMoreWithoutCounting: past one page the Recipients
// page says "more than" instead of counting every match.
func TestRecipientsPageSaysMoreWithoutCounting(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.Store.DB().NewRaw(`INSERT INTO recipients (org_id, name, phone)
		SELECT ?, 'Bulk ' || i, '+1555020' || lpad(i::text, 4, '0') FROM generate_series(1, 55) AS i`, f.Demo.Org.ID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	c := f.client(t)
	c.login(agentEmail, agentPassword)
	_, body := c.get("/recipients?q=bulk")
	if !strings.Contains(body, "More than 50 recipients matching") {
		t.Fatalf("first page: %s", doc(t, body).Find("section.card p.muted").First().Text())
	}
	next, ok := doc(t, body).Find(`a[href^="/recipients?q=bulk&after="]`).Attr("href")
	if !ok {
		t.Fatal("no next page link")
	}
	_, body = c.get(next)
	if !strings.Contains(body, "5 recipients on this page matching") {
		t.Fatalf("second page: %s", doc(t, body).Find("section.card p.muted").First().Text())
	}
}
