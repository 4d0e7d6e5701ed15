package models_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/parley-chat/parley/models"
)

// TestDeleteRecipientWithConversations: the preview counts the
// conversations and messages; deleting removes them with the recipient,
// keeps the credit ledger's entries, and is audited with the counts. An
// opted-out recipient, another organization's, and a limited agent's view
// of conversations elsewhere are refused.
func TestDeleteRecipientWithConversations(t *testing.T) {
	ctx := context.Background()
	st, demo, admin, agent := chatFixture(t)
	forgetNewRecipients(t, st)
	const phone = "+15550108201"
	text, rid := texter(t, st, phone)
	text("second")
	var convID int64
	if err := st.DB().NewRaw("SELECT id FROM conversations WHERE recipient_id = ?", rid).Scan(ctx, &convID); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Reply(ctx, agent, convID, "An answer", false); err != nil {
		t.Fatal(err)
	}
	fp, err := st.RecipientDeletionPreview(ctx, agent, rid)
	if err != nil || fp.Conversations != 1 || fp.Messages != 3 {
		t.Fatalf("preview: %+v %v", fp, err)
	}
	// A ledger entry for the conversation (charged as the job would).
	if _, err := st.ChargeLocation(ctx, demo.Location.ID); err != nil {
		t.Fatal(err)
	}
	var ledger int
	if err := st.DB().NewRaw("SELECT count(*) FROM credit_ledger WHERE conversation_id = ?", convID).Scan(ctx, &ledger); err != nil || ledger == 0 {
		t.Fatalf("ledger entries before: %d %v", ledger, err)
	}
	other := otherOrgScope(t, st, "delete-rcpt")
	if _, err := st.DeleteRecipientWithConversations(ctx, other, rid); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("another org: %v", err)
	}
	if _, err := st.RecipientDeletionPreview(ctx, other, rid); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("another org's preview: %v", err)
	}
	// A second inbox's conversation, which an agent limited to the first
	// does not see.
	const second = "+15550100182"
	var inbox2 int64
	if err := st.DB().NewRaw(`INSERT INTO inboxes (org_id, location_id, name, sms_number) VALUES (?, ?, 'Delete Desk', ?)
		ON CONFLICT (sms_number) DO UPDATE SET name = excluded.name RETURNING id`, demo.Org.ID, demo.Location.ID, second).Scan(ctx, &inbox2); err != nil {
		t.Fatal(err)
	}
	in := sms(fmt.Sprintf("del-%d", time.Now().UnixNano()), phone, "to the second desk")
	in.To = second
	if _, err := st.ReceiveSMS(ctx, in); err != nil {
		t.Fatal(err)
	}
	limited := agent
	limited.InboxIDs = []int64{demo.Inbox.ID}
	if _, err := st.DeleteRecipientWithConversations(ctx, limited, rid); !errors.Is(err, models.ErrRecipientElsewhere) {
		t.Fatalf("limited agent: %v", err)
	}
	if _, err := st.DB().NewRaw("DELETE FROM conversations WHERE recipient_id = ? AND inbox_id = ?", rid, inbox2).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := st.DeleteRecipientWithConversations(ctx, agent, rid)
	if err != nil || got.Conversations != 1 || got.Messages != 3 {
		t.Fatalf("delete: %+v %v", got, err)
	}
	if _, err := st.RecipientByID(ctx, admin, rid); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("recipient after delete: %v", err)
	}
	var convs, after int
	if err := st.DB().NewRaw("SELECT count(*) FROM conversations WHERE id = ?", convID).Scan(ctx, &convs); err != nil || convs != 0 {
		t.Fatalf("conversation left: %d %v", convs, err)
	}
	if err := st.DB().NewRaw("SELECT count(*) FROM credit_ledger WHERE conversation_id = ?", convID).Scan(ctx, &after); err != nil || after != ledger {
		t.Fatalf("ledger entries after: %d, want %d (%v)", after, ledger, err)
	}
	var audits int
	if err := st.DB().NewRaw(`SELECT count(*) FROM audit_log WHERE action = 'recipient.delete' AND target_id = ?
		AND (before->>'messages')::int = 3 AND (before->>'conversations')::int = 1`, rid).Scan(ctx, &audits); err != nil || audits != 1 {
		t.Fatalf("audit: %d %v", audits, err)
	}

	// Opted out: never deleted.
	text2, rid2 := texter(t, st, "+15550108202")
	text2("STOP")
	if _, err := st.DeleteRecipientWithConversations(ctx, admin, rid2); !errors.Is(err, models.ErrRecipientOptedOut) {
		t.Fatalf("opted out: %v", err)
	}
}
