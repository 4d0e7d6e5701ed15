package models_test

import (
	"context"
	"errors"
	"testing"

	"github.com/parley-chat/parley/models"
)

// chatFixture seeds the demo and returns the admin's and agent's scopes.
func chatFixture(t testing.TB) (*models.Store, *models.DemoResult, models.Scope, models.Scope) {
	t.Helper()
	ctx := context.Background()
	st := openStore(t)
	demo, err := st.SeedDemo(ctx, demoOptions())
	if err != nil {
		t.Fatal(err)
	}
	admin := models.Scope{OrgID: demo.Org.ID, UserID: demo.Admin.ID, Role: models.RoleAdmin}
	agent := models.Scope{OrgID: demo.Org.ID, UserID: demo.Agent.ID, Role: models.RoleAgent}
	return st, demo, admin, agent
}

// otherOrgScope creates a second organization with its own admin.
func otherOrgScope(t *testing.T, st *models.Store, slug string) models.Scope {
	t.Helper()
	ctx := context.Background()
	var orgID, userID int64
	db := st.DB()
	if err := db.NewRaw("INSERT INTO organizations (name, slug) VALUES (?, ?) ON CONFLICT (slug) DO UPDATE SET name = excluded.name RETURNING id", "Other "+slug, slug).Scan(ctx, &orgID); err != nil {
		t.Fatal(err)
	}
	if err := db.NewRaw(`INSERT INTO users (org_id, email, name, role, password_hash) VALUES (?, ?, 'Other Admin', 'admin', 'x')
		ON CONFLICT (email) DO UPDATE SET name = excluded.name RETURNING id`, orgID, "admin@"+slug+".test").Scan(ctx, &userID); err != nil {
		t.Fatal(err)
	}
	return models.Scope{OrgID: orgID, UserID: userID, Role: models.RoleAdmin}
}

func TestStartReplyAssignCloseReopen(t *testing.T) {
	ctx := context.Background()
	st, demo, admin, agent := chatFixture(t)

	ch, err := st.StartConversation(ctx, admin, models.StartInput{InboxID: demo.Inbox.ID, To: "(555) 010-0142", Body: "Hello from the front desk"})
	if err != nil {
		t.Fatal(err)
	}
	c := ch.Conversation
	if c.Channel != models.ChannelSMS || c.Status != models.StatusOpen || c.Origin != models.OriginAgent || c.Address() != "+15550100142" {
		t.Fatalf("started conversation: %+v", c)
	}
	if len(ch.Events) != 2 || ch.Events[0].Kind != models.EvCreated || ch.Events[1].Kind != models.EvMessage || ch.Events[1].Message.Status != models.MsgQueued {
		t.Fatalf("events: %+v", ch.Events)
	}
	var outbox int
	st.DB().NewRaw("SELECT count(*) FROM outbox WHERE task_type = 'sms:send' AND (payload->>'message_id')::bigint = ?", *ch.Events[1].MessageID).Scan(ctx, &outbox)
	if outbox != 1 {
		t.Fatalf("outbox rows for the message: %d", outbox)
	}

	// Starting again with the same number continues the same conversation.
	again, err := st.StartConversation(ctx, agent, models.StartInput{InboxID: demo.Inbox.ID, To: "+1 555 010 0142", Body: "Second"})
	if err != nil {
		t.Fatal(err)
	}
	if again.Conversation.ID != c.ID || len(again.Events) != 1 {
		t.Fatalf("second start opened another conversation: %d vs %d", again.Conversation.ID, c.ID)
	}

	note, err := st.Reply(ctx, agent, c.ID, "Internal: call them back", true)
	if err != nil || !note.Events[0].Message.IsNote || note.Events[0].Message.Status != models.MsgNone {
		t.Fatalf("note: %+v %v", note, err)
	}
	if note.Conversation.LastMessagePreview != "Second" {
		t.Fatalf("a note must not become the preview: %q", note.Conversation.LastMessagePreview)
	}

	as, err := st.Assign(ctx, agent, c.ID, demo.Agent.ID)
	if err != nil || as.Conversation.AssigneeName == nil || *as.Conversation.AssigneeName != "Sam Agent" || as.Events[0].Kind != models.EvAssigned {
		t.Fatalf("assign: %+v %v", as, err)
	}
	mine, _ := st.Conversations(ctx, agent, models.ConversationFilter{Assignee: "mine"})
	unassigned, _ := st.Conversations(ctx, agent, models.ConversationFilter{Assignee: "unassigned"})
	if len(mine.Rows) != 1 || len(unassigned.Rows) != 0 {
		t.Fatalf("mine %d, unassigned %d", len(mine.Rows), len(unassigned.Rows))
	}

	cl, err := st.Close(ctx, admin, c.ID)
	if err != nil || cl.Conversation.Status != models.StatusClosed {
		t.Fatalf("close: %v", err)
	}
	open, _ := st.Conversations(ctx, admin, models.ConversationFilter{Status: "open"})
	closed, _ := st.Conversations(ctx, admin, models.ConversationFilter{Status: "closed"})
	if len(open.Rows) != 0 || len(closed.Rows) != 1 {
		t.Fatalf("after close: open %d closed %d", len(open.Rows), len(closed.Rows))
	}
	re, err := st.Reopen(ctx, admin, c.ID)
	if err != nil || re.Conversation.Status != models.StatusOpen || re.Events[0].Kind != models.EvReopened {
		t.Fatalf("reopen: %v", err)
	}

	tl, err := st.Timeline(ctx, admin, c.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, e := range tl {
		kinds = append(kinds, e.Kind)
	}
	want := []string{"created", "message", "message", "message", "assigned", "closed", "reopened"}
	if len(kinds) != len(want) {
		t.Fatalf("timeline kinds %v, want %v", kinds, want)
	}
	for i := range want {
		if kinds[i] != want[i] {
			t.Fatalf("timeline kinds %v, want %v", kinds, want)
		}
	}
	since, err := st.EventsSince(ctx, admin, tl[4].ID, 100)
	if err != nil || len(since) != 2 {
		t.Fatalf("events since: %d %v", len(since), err)
	}
	if seq, _ := st.LatestSeq(ctx, admin); seq != tl[len(tl)-1].ID {
		t.Fatalf("latest seq %d, want %d", seq, tl[len(tl)-1].ID)
	}

	search, err := st.Conversations(ctx, admin, models.ConversationFilter{Query: "0100142"})
	if err != nil || len(search.Rows) != 1 {
		t.Fatalf("search by phone: %v", err)
	}
	if none, _ := st.Conversations(ctx, admin, models.ConversationFilter{Query: "%"}); len(none.Rows) != 0 {
		t.Fatalf("a %% search must match the character, not everything: %d rows", len(none.Rows))
	}
}

func TestChatInputErrors(t *testing.T) {
	ctx := context.Background()
	st, demo, admin, _ := chatFixture(t)
	for _, tc := range []struct{ name, to, body, field string }{
		{"bad address", "not a number", "hi", "to"},
		{"empty body", "+15550100150", "   ", "body"},
		{"invalid utf-8", "+15550100150", "bad \xff", "body"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := st.StartConversation(ctx, admin, models.StartInput{InboxID: demo.Inbox.ID, To: tc.to, Body: tc.body})
			var fe *models.FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field {
				t.Fatalf("got %v, want a field error on %s", err, tc.field)
			}
		})
	}
	var n int
	st.DB().NewRaw("SELECT count(*) FROM recipients WHERE phone = '+15550100150'").Scan(ctx, &n)
	if n != 0 {
		t.Fatal("a refused start left a recipient behind")
	}
}

func TestOptOutAndPlanGate(t *testing.T) {
	ctx := context.Background()
	st, demo, admin, _ := chatFixture(t)
	ch, err := st.StartConversation(ctx, admin, models.StartInput{InboxID: demo.Inbox.ID, To: "+15550100160", Body: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	st.DB().NewRaw("UPDATE recipients SET sms_opted_out_at = now() WHERE phone = '+15550100160'").Exec(ctx)
	if _, err := st.Reply(ctx, admin, ch.Conversation.ID, "still there?", false); !errors.Is(err, models.ErrOptedOut) {
		t.Fatalf("reply to opted-out recipient: %v", err)
	}
	if _, err := st.Reply(ctx, admin, ch.Conversation.ID, "note about the opt-out", true); err != nil {
		t.Fatalf("notes are allowed on opted-out conversations: %v", err)
	}
	st.DB().NewRaw("UPDATE locations SET plan_status = 'inactive' WHERE id = ?", demo.Location.ID).Exec(ctx)
	t.Cleanup(func() {
		st.DB().NewRaw("UPDATE locations SET plan_status = 'active' WHERE id = ?", demo.Location.ID).Exec(ctx)
	})
	if _, err := st.StartConversation(ctx, admin, models.StartInput{InboxID: demo.Inbox.ID, To: "+15550100161", Body: "hi"}); !errors.Is(err, models.ErrPlanInactive) {
		t.Fatalf("start without an active plan: %v", err)
	}
}

func TestChatTenantIsolation(t *testing.T) {
	ctx := context.Background()
	st, demo, admin, _ := chatFixture(t)
	ch, err := st.StartConversation(ctx, admin, models.StartInput{InboxID: demo.Inbox.ID, To: "+15550100170", Body: "private"})
	if err != nil {
		t.Fatal(err)
	}
	id := ch.Conversation.ID
	other := otherOrgScope(t, st, "isolation")
	checks := map[string]func() error{
		"by id":  func() error { _, err := st.ConversationByID(ctx, other, id); return err },
		"reply":  func() error { _, err := st.Reply(ctx, other, id, "x", false); return err },
		"assign": func() error { _, err := st.Assign(ctx, other, id, other.UserID); return err },
		"close":  func() error { _, err := st.Close(ctx, other, id); return err },
		"reopen": func() error { _, err := st.Reopen(ctx, other, id); return err },
		"opened": func() error { _, err := st.MarkOpened(ctx, other, id); return err },
		"start": func() error {
			_, err := st.StartConversation(ctx, other, models.StartInput{InboxID: demo.Inbox.ID, To: "+15550100171", Body: "x"})
			return err
		},
	}
	for name, fn := range checks {
		if err := fn(); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("%s from another organization: %v, want ErrNotFound", name, err)
		}
	}
	if page, _ := st.Conversations(ctx, other, models.ConversationFilter{Status: "all"}); len(page.Rows) != 0 {
		t.Errorf("another organization lists %d conversations", len(page.Rows))
	}
	if evs, _ := st.EventsSince(ctx, other, 0, 100); len(evs) != 0 {
		t.Errorf("another organization sees %d events", len(evs))
	}
	// Assigning to a user of another organization is refused as bad input.
	if _, err := st.Assign(ctx, admin, id, other.UserID); err == nil {
		t.Error("assigned to a user of another organization")
	}
	// A limited agent without the inbox sees nothing either.
	limited := models.Scope{OrgID: demo.Org.ID, UserID: demo.Agent.ID, Role: models.RoleAgent, InboxIDs: []int64{}}
	if _, err := st.ConversationByID(ctx, limited, id); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("limited agent: %v", err)
	}
}
