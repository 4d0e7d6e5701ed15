package models_test

import (
	"context"
	"testing"
)

// TestEnsureEmailThreadKeepsToken: a conversation's reply token is made
// once; a later call keeps it and fills in a subject only if it had none.
func TestEnsureEmailThreadKeepsToken(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	demo, err := st.SeedDemo(ctx, demoOptions())
	if err != nil {
		t.Fatal(err)
	}
	var rcpt, conv int64
	if err := st.DB().NewRaw("INSERT INTO recipients (org_id, email) VALUES (?, 'thread-keeps@example.com') ON CONFLICT (org_id, email) WHERE email IS NOT NULL DO UPDATE SET name = '' RETURNING id", demo.Org.ID).Scan(ctx, &rcpt); err != nil {
		t.Fatal(err)
	}
	if err := st.DB().NewRaw("INSERT INTO conversations (org_id, inbox_id, recipient_id, channel, status, origin) VALUES (?, ?, ?, 'email', 'closed', 'agent') RETURNING id", demo.Org.ID, demo.Inbox.ID, rcpt).Scan(ctx, &conv); err != nil {
		t.Fatal(err)
	}
	first, err := st.EnsureEmailThread(ctx, demo.Org.ID, conv, "")
	if err != nil {
		t.Fatal(err)
	}
	again, err := st.EnsureEmailThread(ctx, demo.Org.ID, conv, "Opening hours")
	if err != nil {
		t.Fatal(err)
	}
	third, err := st.EnsureEmailThread(ctx, demo.Org.ID, conv, "Something else")
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Token) != 32 || again.Token != first.Token || third.Token != first.Token {
		t.Errorf("tokens %q, %q, %q: want one token kept", first.Token, again.Token, third.Token)
	}
	if first.Subject != "" || again.Subject != "Opening hours" || third.Subject != "Opening hours" {
		t.Errorf("subjects %q, %q, %q", first.Subject, again.Subject, third.Subject)
	}
}
