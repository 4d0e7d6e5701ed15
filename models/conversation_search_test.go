package models_test

import (
	"context"
	"testing"

	"github.com/parley-chat/parley/models"
)

// searchTexts reads the search text of each conversation of the
// organization, by recipient name.
func searchTexts(t *testing.T, st *models.Store, orgID int64) map[int64]string {
	t.Helper()
	var rows []struct {
		ID         int64  `bun:"id"`
		SearchText string `bun:"search_text"`
	}
	if err := st.DB().NewRaw(`SELECT id, search_text FROM conversations WHERE org_id = ?`, orgID).Scan(context.Background(), &rows); err != nil {
		t.Fatal(err)
	}
	out := map[int64]string{}
	for _, r := range rows {
		out[r.ID] = r.SearchText
	}
	return out
}

// A conversation's search text is its recipient's name, email and phone,
// lower-cased: set when the conversation is opened (by any code path) and
// rewritten when the recipient's name, email or phone changes; and the
// search's walk, which reads only that copy, finds the new name.
func TestConversationSearchTextKeptInStep(t *testing.T) {
	ctx := context.Background()
	st, demo, admin, _ := chatFixture(t)
	db := st.DB()
	// Started by an agent, through the store (a bun insert).
	ch, err := st.StartConversation(ctx, admin, models.StartInput{InboxID: demo.Inbox.ID, To: "(555) 010-0917", Body: "Hello"})
	if err != nil {
		t.Fatal(err)
	}
	if got := searchTexts(t, st, demo.Org.ID)[ch.Conversation.ID]; got != "  +15550100917" {
		t.Errorf("started conversation: search text %q", got)
	}

	// Inserted in SQL, by a statement that names no search text.
	sc, _ := searchOrg(t, st, "search-text", 3,
		`(ARRAY['Alice Able', 'Alice Baker', 'Bob Cole'])[i]`,
		`'+1555010' || lpad(i::text, 4, '0')`, `'open'`)
	texts := searchTexts(t, st, sc.OrgID)
	var want []struct {
		ID   int64  `bun:"id"`
		Text string `bun:"text"`
	}
	err = db.NewRaw(`SELECT c.id, lower(r.name || ' ' || coalesce(r.email, '') || ' ' || coalesce(r.phone, '')) AS text
		FROM conversations AS c JOIN recipients AS r ON r.id = c.recipient_id WHERE c.org_id = ?`, sc.OrgID).Scan(ctx, &want)
	if err != nil {
		t.Fatal(err)
	}
	if len(want) != 3 || len(texts) != 3 {
		t.Fatalf("%d conversations, want 3", len(texts))
	}
	for _, w := range want {
		if texts[w.ID] != w.Text || w.Text == "" {
			t.Errorf("conversation %d: search text %q, want %q", w.ID, texts[w.ID], w.Text)
		}
	}

	// Bob Cole's conversation is the oldest of the three: make it the
	// newest, then rename him and give him an email.
	var bob int64
	if err := db.NewRaw(`SELECT recipient_id FROM conversations WHERE org_id = ? AND search_text LIKE 'bob cole%'`, sc.OrgID).Scan(ctx, &bob); err != nil {
		t.Fatal(err)
	}
	if _, err := db.NewRaw(`UPDATE conversations SET last_message_at = now() WHERE recipient_id = ?`, bob).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := db.NewRaw(`UPDATE recipients SET name = 'Alice Cole', email = 'alice@example.com' WHERE id = ?`, bob).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	var text string
	if err := db.NewRaw(`SELECT search_text FROM conversations WHERE recipient_id = ?`, bob).Scan(ctx, &text); err != nil {
		t.Fatal(err)
	}
	if text != "alice cole alice@example.com +15550100003" {
		t.Errorf("after the rename: search text %q", text)
	}
	// Two of three match, so the walk fills a page of one by itself (it
	// reads the search text only): the renamed recipient comes first.
	p, err := st.Conversations(ctx, sc, models.ConversationFilter{Query: "ALICE", Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if got := names(p); len(got) != 1 || got[0] != "Alice Cole" || !p.More {
		t.Errorf("search after the rename: %v (more %v), want [Alice Cole] and more", got, p.More)
	}
	if p, err := st.Conversations(ctx, sc, models.ConversationFilter{Query: "bob"}); err != nil || len(p.Rows) != 0 {
		t.Errorf("the old name still found: %v, %v", names(p), err)
	}
	// A change of phone is followed too; a change of anything else leaves it.
	if _, err := db.NewRaw(`UPDATE recipients SET phone = '+15550107777', sms_opted_out_at = now() WHERE id = ?`, bob).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if err := db.NewRaw(`SELECT search_text FROM conversations WHERE recipient_id = ?`, bob).Scan(ctx, &text); err != nil {
		t.Fatal(err)
	}
	if text != "alice cole alice@example.com +15550107777" {
		t.Errorf("after the new phone: search text %q", text)
	}
	if p, err := st.Conversations(ctx, sc, models.ConversationFilter{Query: "010-7777"}); err != nil || len(names(p)) != 1 {
		t.Errorf("search by the new phone: %v, %v", names(p), err)
	}
}
