package models_test

import (
	"context"
	"strings"
	"testing"

	"github.com/parley-chat/parley/models"
)

// TestMigrationFailsStrandedEmail: email replies an earlier version queued
// (with an email:send outbox row no worker serves) are failed with a
// reason, shown on their timeline, and their outbox rows closed, by the
// migration that follows the email refusal.
func TestMigrationFailsStrandedEmail(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	db := st.DB()
	mg, err := models.NewMigrator(db)
	if err != nil {
		t.Fatal(err)
	}
	// The demo is seeded with today's schema (the seed writes today's
	// columns); then back to before the migration (and any later ones),
	// with a stranded email reply.
	demo, err := st.SeedDemo(ctx, demoOptions())
	if err != nil {
		t.Fatal(err)
	}
	for {
		name, err := mg.Down(ctx)
		if err != nil || name == "" {
			t.Fatalf("down: %q %v", name, err)
		}
		if strings.Contains(name, "email_unavailable") {
			break
		}
	}
	t.Cleanup(func() { _, _ = mg.Up(ctx) })
	var rcpt, conv, msg int64
	exec := func(q string, dest any, args ...any) {
		t.Helper()
		if err := db.NewRaw(q, args...).Scan(ctx, dest); err != nil {
			t.Fatal(err)
		}
	}
	exec("INSERT INTO recipients (org_id, email) VALUES (?, 'stranded@example.com') ON CONFLICT (org_id, email) WHERE email IS NOT NULL DO UPDATE SET name = '' RETURNING id", &rcpt, demo.Org.ID)
	exec(`INSERT INTO conversations (org_id, inbox_id, recipient_id, channel, status, origin) VALUES (?, ?, ?, 'email', 'open', 'agent') RETURNING id`,
		&conv, demo.Org.ID, demo.Inbox.ID, rcpt)
	exec(`INSERT INTO messages (org_id, conversation_id, direction, channel, body, author_type, author_user_id, status)
		VALUES (?, ?, 'outbound', 'email', 'stuck', 'user', ?, 'queued') RETURNING id`, &msg, demo.Org.ID, conv, demo.Admin.ID)
	var outboxID int64
	exec(`INSERT INTO outbox (org_id, task_type, queue, payload) VALUES (?, 'email:send', 'critical', jsonb_build_object('message_id', ?::bigint)) RETURNING id`,
		&outboxID, demo.Org.ID, msg)

	if _, err := mg.Up(ctx); err != nil {
		t.Fatal(err)
	}
	var status, reason string
	if err := db.NewRaw("SELECT status, status_reason FROM messages WHERE id = ?", msg).Scan(ctx, &status, &reason); err != nil {
		t.Fatal(err)
	}
	var events, open int
	exec("SELECT count(*) FROM conversation_events WHERE message_id = ? AND kind = 'message_status' AND detail->>'status' = 'failed'", &events, msg)
	exec("SELECT count(*) FROM outbox WHERE id = ? AND done_at IS NULL", &open, outboxID)
	if status != models.MsgFailed || reason == "" || events != 1 || open != 0 {
		t.Errorf("after the migration: %s (%q), %d failed events, %d open outbox rows", status, reason, events, open)
	}
}
