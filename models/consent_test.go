package models_test

import (
	"context"
	"errors"
	"testing"

	"github.com/parley-chat/parley/models"
)

// TestManualOptOut: only an admin may opt a recipient out by hand; it is
// recorded with the admin as actor and the reason, audited, put on the
// open conversation's timeline, fails queued texts, and the send gate
// then refuses a reply. Opting back in lets sends through again.
func TestManualOptOut(t *testing.T) {
	ctx := context.Background()
	st, demo, admin, agent := chatFixture(t)
	forgetNewRecipients(t, st)
	ch, err := st.StartConversation(ctx, admin, models.StartInput{InboxID: demo.Inbox.ID, To: "+15550104421", Body: "Queued before the opt-out"})
	if err != nil {
		t.Fatal(err)
	}
	conv, rid := ch.Conversation.ID, ch.Conversation.RecipientID
	queued := *ch.Events[len(ch.Events)-1].MessageID

	manager := models.Scope{OrgID: demo.Org.ID, UserID: demo.Agent.ID, Role: models.RoleManager}
	for _, sc := range []models.Scope{agent, manager} {
		if _, err := st.SetConsent(ctx, sc, rid, models.ChannelSMS, true, ""); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("%s opted out by hand: %v", sc.Role, err)
		}
	}
	if _, err := st.SetConsent(ctx, admin, rid, "fax", true, ""); fieldOf(t, err) != "channel" {
		t.Fatal("unknown channel accepted")
	}
	admin.Name, admin.Via = "Demo Admin", models.ViaAPI
	changes, err := st.SetConsent(ctx, admin, rid, models.ChannelSMS, true, "Asked by phone")
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 1 || changes[0].Conversation.ID != conv || !changes[0].Conversation.OptedOut {
		t.Fatalf("changes: %+v", changes)
	}
	last := changes[0].Events[len(changes[0].Events)-1]
	if last.Kind != models.EvOptedOut || last.ActorUserID == nil || *last.ActorUserID != admin.UserID || last.Detail["reason"] != "Asked by phone" {
		t.Fatalf("timeline event: %+v", last)
	}
	hist, err := st.ConsentHistory(ctx, admin, rid)
	if err != nil || len(hist) != 1 {
		t.Fatalf("history: %+v %v", hist, err)
	}
	h := hist[0]
	if h.Action != models.ConsentOptOut || h.Source != models.ConsentByAgent || h.Detail != "Asked by phone" ||
		h.ActorUserID == nil || *h.ActorUserID != admin.UserID || h.ActorName == nil || *h.ActorName == "" {
		t.Fatalf("history entry: %+v", h)
	}
	var audits int
	if err := st.DB().NewRaw(`SELECT count(*) FROM audit_log WHERE action = 'recipient.opt_out' AND target_id = ? AND actor_user_id = ? AND via = 'api'
		AND (after->>'opted_out')::boolean`, rid, admin.UserID).Scan(ctx, &audits); err != nil || audits != 1 {
		t.Fatalf("audit entries: %d %v", audits, err)
	}
	var status, reason string
	if err := st.DB().NewRaw("SELECT status, status_reason FROM messages WHERE id = ?", queued).Scan(ctx, &status, &reason); err != nil ||
		status != models.MsgFailed || reason != models.ReasonOptedOut {
		t.Fatalf("queued text after the opt-out: %s %q %v", status, reason, err)
	}
	if _, err := st.Reply(ctx, agent, conv, "Are you there?", false); !errors.Is(err, models.ErrOptedOut) {
		t.Fatalf("reply after a manual opt-out: %v", err)
	}
	if _, err := st.Reply(ctx, agent, conv, "Opted out by phone call", true); err != nil {
		t.Fatalf("a note stays possible: %v", err)
	}
	// The same state again records nothing.
	if again, err := st.SetConsent(ctx, admin, rid, models.ChannelSMS, true, ""); err != nil || len(again) != 0 {
		t.Fatalf("opting out twice: %+v %v", again, err)
	}
	if _, err := st.SetConsent(ctx, admin, rid, models.ChannelSMS, false, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Reply(ctx, agent, conv, "Welcome back", false); err != nil {
		t.Fatalf("reply after opting back in: %v", err)
	}
	if hist, _ := st.ConsentHistory(ctx, admin, rid); len(hist) != 2 || hist[0].Action != models.ConsentOptIn {
		t.Fatalf("history after opting in: %+v", hist)
	}
	other := otherOrgScope(t, st, "consent-scope")
	if _, err := st.SetConsent(ctx, other, rid, models.ChannelSMS, true, ""); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("another org's admin: %v", err)
	}
}
