package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/parley-chat/parley/models"
)

// GET /api/v1/conversations?q= finds a conversation by a word of its
// messages and says which message matched, as the Chats page does.
func TestAPIConversationsSearchMessageText(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	admin := models.Scope{OrgID: f.Demo.Org.ID, UserID: f.Demo.Admin.ID, Role: models.RoleAdmin}
	start, err := f.Store.StartConversation(ctx, admin, models.StartInput{InboxID: f.Demo.Inbox.ID, To: "+15550100744",
		Body: "The okapi sticker you asked about is in stock"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Store.StartConversation(ctx, admin, models.StartInput{InboxID: f.Demo.Inbox.ID, To: "+15550100745", Body: "Unrelated"}); err != nil {
		t.Fatal(err)
	}
	token, _, err := f.Store.CreateAPIToken(ctx, admin, "search")
	if err != nil {
		t.Fatal(err)
	}
	resp, body := f.apiGet(t, token, "/api/v1/conversations?q="+url.QueryEscape("OKAPI stick"))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	var out struct {
		Data []struct {
			ID    int64 `json:"id"`
			Match *struct {
				MessageID int64    `json:"message_id"`
				IsNote    bool     `json:"is_note"`
				Snippet   string   `json:"snippet"`
				Matched   []string `json:"matched"`
			} `json:"match"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Data) != 1 || out.Data[0].ID != start.Conversation.ID || out.Data[0].Match == nil {
		t.Fatalf("found %s", body)
	}
	m := out.Data[0].Match
	var msgID int64
	for _, e := range start.Events {
		if e.MessageID != nil {
			msgID = *e.MessageID
		}
	}
	if msgID == 0 || m.MessageID != msgID || m.IsNote || m.Snippet != "The okapi sticker you asked about is in stock" ||
		len(m.Matched) != 2 || m.Matched[0] != "okapi" || m.Matched[1] != "sticker" {
		t.Errorf("match %+v", m)
	}
}
