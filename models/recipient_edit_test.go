package models_test

import (
	"context"
	"errors"
	"testing"

	"github.com/parley-chat/parley/models"
)

func strp(s string) *string { return &s }

// forgetNewRecipients deletes, when the test ends, the recipients it
// created (their conversations, messages and events go with them), so
// later tests that count the demo's open conversations see none of them.
func forgetNewRecipients(t *testing.T, st *models.Store) {
	t.Helper()
	ctx := context.Background()
	var last int64
	if err := st.DB().NewRaw("SELECT coalesce(max(id), 0) FROM recipients").Scan(ctx, &last); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := st.DB().NewRaw("DELETE FROM recipients WHERE id > ?", last).Exec(ctx); err != nil {
			t.Errorf("forget the test's recipients: %v", err)
		}
	})
}

// fieldOf returns the field a FieldError names, or "" (and fails if err is
// some other error).
func fieldOf(t *testing.T, err error) string {
	t.Helper()
	var fe *models.FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("want a FieldError, got %v", err)
	}
	return fe.Field
}

// TestEditRecipient: an edit normalizes the phone to E.164 and trims the
// name; bad input and another recipient's phone or email are a FieldError
// naming the field and change nothing.
func TestEditRecipient(t *testing.T) {
	ctx := context.Background()
	st, demo, admin, agent := chatFixture(t)
	forgetNewRecipients(t, st)
	ch, err := st.StartConversation(ctx, admin, models.StartInput{InboxID: demo.Inbox.ID, To: "+15550104401", Body: "Hi"})
	if err != nil {
		t.Fatal(err)
	}
	id := ch.Conversation.RecipientID
	other, err := st.CreateRecipient(ctx, agent, models.RecipientInput{Name: strp("Other"), Phone: strp("(555) 010-4402"), Email: strp("Other@Example.com")})
	if err != nil {
		t.Fatal(err)
	}
	if *other.Phone != "+15550104402" || *other.Email != "other@example.com" {
		t.Fatalf("created: %+v", other)
	}

	r, _, err := st.UpdateRecipient(ctx, agent, id, models.RecipientInput{Name: strp("  Ada Lovelace "), Phone: strp("555 010 4403"),
		Email: strp(""), Notes: strp("Prefers mornings")})
	if err != nil {
		t.Fatal(err)
	}
	if r.Name != "Ada Lovelace" || *r.Phone != "+15550104403" || r.Email != nil || r.Notes != "Prefers mornings" {
		t.Fatalf("updated: %+v", r)
	}
	row, err := st.ConversationByID(ctx, admin, ch.Conversation.ID)
	if err != nil || row.DisplayName() != "Ada Lovelace" {
		t.Fatalf("the thread names the recipient %q (%v)", row.DisplayName(), err)
	}

	for _, c := range []struct {
		in    models.RecipientInput
		field string
	}{
		{models.RecipientInput{Phone: strp("+1 555 010 4402")}, "phone"},   // another recipient's number
		{models.RecipientInput{Email: strp("OTHER@example.com")}, "email"}, // another's address
		{models.RecipientInput{Phone: strp("12")}, "phone"},
		{models.RecipientInput{Email: strp("not an address")}, "email"},
		{models.RecipientInput{Phone: strp("")}, "phone"}, // neither phone nor email left
		{models.RecipientInput{Name: strp(string(make([]byte, 201)))}, "name"},
		{models.RecipientInput{Notes: strp("bad \x00 byte")}, "notes"},
	} {
		_, _, err := st.UpdateRecipient(ctx, agent, id, c.in)
		if f := fieldOf(t, err); f != c.field {
			t.Errorf("%+v: field %q, want %q (%v)", c.in, f, c.field, err)
		}
	}
	again, err := st.RecipientByID(ctx, admin, id)
	if err != nil || again.Name != "Ada Lovelace" || *again.Phone != "+15550104403" {
		t.Fatalf("a refused edit changed the recipient: %+v %v", again, err)
	}
	if _, err := st.CreateRecipient(ctx, agent, models.RecipientInput{Phone: strp("+15550104403")}); fieldOf(t, err) != "phone" {
		t.Fatalf("duplicate create: %v", err)
	}

	// Deleting: refused while it has conversations; fine without.
	if err := st.DeleteRecipient(ctx, agent, id); !errors.Is(err, models.ErrConflict) {
		t.Fatalf("delete with conversations: %v", err)
	}
	if err := st.DeleteRecipient(ctx, agent, other.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := st.RecipientByID(ctx, admin, other.ID); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("deleted recipient: %v", err)
	}
}

// TestRecipientScope (R9): another organization's recipient is not found;
// an agent limited to chosen inboxes sees, lists and edits only the
// recipients with a conversation in them.
func TestRecipientScope(t *testing.T) {
	ctx := context.Background()
	st, demo, admin, _ := chatFixture(t)
	forgetNewRecipients(t, st)
	ch, err := st.StartConversation(ctx, admin, models.StartInput{InboxID: demo.Inbox.ID, To: "+15550104411", Body: "Hi"})
	if err != nil {
		t.Fatal(err)
	}
	seen := ch.Conversation.RecipientID
	unseen, err := st.CreateRecipient(ctx, admin, models.RecipientInput{Name: strp("Scope Unseen"), Phone: strp("+15550104412")})
	if err != nil {
		t.Fatal(err)
	}
	other := otherOrgScope(t, st, "recipient-scope")
	if _, err := st.RecipientByID(ctx, other, seen); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("another org's recipient: %v", err)
	}
	if _, _, err := st.UpdateRecipient(ctx, other, seen, models.RecipientInput{Name: strp("Hijack")}); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("another org's edit: %v", err)
	}
	limited := models.Scope{OrgID: demo.Org.ID, UserID: demo.Agent.ID, Role: models.RoleAgent, InboxIDs: []int64{demo.Inbox.ID}}
	if _, err := st.RecipientByID(ctx, limited, seen); err != nil {
		t.Fatalf("limited agent, recipient in its inbox: %v", err)
	}
	if _, err := st.RecipientByID(ctx, limited, unseen.ID); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("limited agent, recipient without a conversation there: %v", err)
	}
	if _, _, err := st.UpdateRecipient(ctx, limited, unseen.ID, models.RecipientInput{Name: strp("x")}); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("limited agent edited an unseen recipient: %v", err)
	}
	page, err := st.Recipients(ctx, limited, "010-44", 0, 200)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range page.Recipients {
		if r.ID == unseen.ID {
			t.Fatal("the list shows a limited agent a recipient outside its inboxes")
		}
	}
	none := models.Scope{OrgID: demo.Org.ID, UserID: demo.Agent.ID, Role: models.RoleAgent, InboxIDs: []int64{}}
	if _, err := st.RecipientByID(ctx, none, seen); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("agent with no inboxes: %v", err)
	}
	convs, err := st.RecipientConversations(ctx, limited, seen)
	if err != nil || len(convs) != 1 || convs[0].ID != ch.Conversation.ID {
		t.Fatalf("recipient conversations: %+v %v", convs, err)
	}
}
