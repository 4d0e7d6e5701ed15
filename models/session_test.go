package models_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/parley-chat/parley/models"
)

func TestSeedDemoTwice(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	// Fresh emails, so this test does not depend on running first.
	opts := demoOptions()
	opts.AdminEmail, opts.AgentEmail = "twice-admin@demo.parley.test", "twice-agent@demo.parley.test"
	first, err := st.SeedDemo(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !first.AdminCreated || !first.AgentCreated {
		t.Fatalf("first run should create users: %+v", first)
	}
	opts.AdminPassword = "a different password"
	second, err := st.SeedDemo(ctx, opts)
	if err != nil {
		t.Fatalf("second run: %v", err)
	}
	if second.AdminCreated || second.Org.ID != first.Org.ID || second.Inbox.ID != first.Inbox.ID {
		t.Fatalf("second run changed things: %+v", second)
	}
	if *second.Inbox.SMSNumber != "+15550100100" || !second.Location.ChatEnabled() {
		t.Fatalf("inbox/location: %+v %+v", second.Inbox, second.Location)
	}
	// The second run must not reset the admin's password.
	if _, err := st.Authenticate(ctx, "twice-admin@demo.parley.test", "correct horse battery"); err != nil {
		t.Fatalf("original password no longer works: %v", err)
	}
}

func TestAuthenticateAndSessions(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	if _, err := st.SeedDemo(ctx, demoOptions()); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, email, password string }{
		{"wrong password", "admin@demo.parley.test", "nope nope nope"},
		{"unknown email", "ghost@demo.parley.test", "correct horse battery"},
		{"empty", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := st.Authenticate(ctx, tc.email, tc.password); !errors.Is(err, models.ErrInvalidCredentials) {
				t.Fatalf("got %v, want ErrInvalidCredentials", err)
			}
		})
	}
	u, err := st.Authenticate(ctx, "  Admin@Demo.Parley.Test ", "correct horse battery")
	if err != nil {
		t.Fatalf("case-insensitive email: %v", err)
	}
	token, err := st.CreateSession(ctx, u.ID, time.Hour, "127.0.0.1", "test")
	if err != nil {
		t.Fatal(err)
	}
	su, err := st.SessionByToken(ctx, token, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if su.User.ID != u.ID || su.Scope.OrgID != u.OrgID || !su.Scope.AllInboxes() {
		t.Fatalf("session user: %+v", su)
	}
	if _, err := st.SessionByToken(ctx, token+"x", time.Hour); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("forged token: %v", err)
	}
	if err := st.EndSession(ctx, su.SessionID); err != nil {
		t.Fatal(err)
	}
	if _, err := st.SessionByToken(ctx, token, time.Hour); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("after logout: %v", err)
	}

	expired, _ := st.CreateSession(ctx, u.ID, -time.Minute, "", "")
	if _, err := st.SessionByToken(ctx, expired, time.Hour); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("expired session accepted: %v", err)
	}
	if n, err := st.DeleteExpiredSessions(ctx); err != nil || n < 1 {
		t.Fatalf("sweep: %d, %v", n, err)
	}
}

func TestLimitedAgentScope(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	demo, err := st.SeedDemo(ctx, demoOptions())
	if err != nil {
		t.Fatal(err)
	}
	db := st.DB()
	if _, err := db.NewRaw("UPDATE users SET all_inboxes = false WHERE id = ?", demo.Agent.ID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.NewRaw("UPDATE users SET all_inboxes = true WHERE id = ?", demo.Agent.ID).Exec(ctx) })
	token, _ := st.CreateSession(ctx, demo.Agent.ID, time.Hour, "", "")
	su, err := st.SessionByToken(ctx, token, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if su.Scope.AllInboxes() || su.Scope.CanSeeInbox(demo.Inbox.ID) {
		t.Fatalf("agent with no inboxes sees %v", su.Scope.InboxIDs)
	}
	d, err := st.Dashboard(ctx, su.Scope)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Locations) != 1 || len(d.Locations[0].Inboxes) != 0 {
		t.Fatalf("limited agent's dashboard lists inboxes: %+v", d.Locations)
	}
	if _, err := db.NewRaw("INSERT INTO user_inboxes (org_id, user_id, inbox_id) VALUES (?, ?, ?)", demo.Org.ID, demo.Agent.ID, demo.Inbox.ID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	su, _ = st.SessionByToken(ctx, token, time.Hour)
	if !su.Scope.CanSeeInbox(demo.Inbox.ID) {
		t.Fatalf("granted inbox not in scope: %v", su.Scope.InboxIDs)
	}
}
