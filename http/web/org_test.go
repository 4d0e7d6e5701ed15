package web_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/parley-chat/parley/models"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func mustInt(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

// otherUser is a signed-in admin of a second organization.
type otherUser struct {
	*client
	orgID, userID, inboxID int64
}

// otherOrgUser creates organization "Rival" with an active location, an
// inbox and an admin, and signs that admin in.
func otherOrgUser(t *testing.T, f *fixture) *otherUser {
	t.Helper()
	ctx := context.Background()
	db := f.Store.DB()
	hash, err := models.HashPassword("rival password 1")
	if err != nil {
		t.Fatal(err)
	}
	o := &otherUser{client: f.client(t)}
	steps := []struct {
		sql  string
		args []any
		dest *int64
	}{
		{"INSERT INTO organizations (name, slug) VALUES ('Rival', 'rival') ON CONFLICT (slug) DO UPDATE SET name = excluded.name RETURNING id", nil, &o.orgID},
	}
	for _, s := range steps {
		if err := db.NewRaw(s.sql, s.args...).Scan(ctx, s.dest); err != nil {
			t.Fatal(err)
		}
	}
	var locID int64
	if err := db.NewRaw(`INSERT INTO locations (org_id, name, plan_status) VALUES (?, 'HQ', 'active')
		ON CONFLICT (org_id, name) DO UPDATE SET plan_status = 'active' RETURNING id`, o.orgID).Scan(ctx, &locID); err != nil {
		t.Fatal(err)
	}
	// Credits to send with, bought as an admin would (a ledger entry
	// and the account, in step).
	if _, err := db.ExecContext(ctx, `WITH l AS (INSERT INTO credit_ledger (org_id, location_id, kind, idem_key, plan_delta, purchased_delta, note)
			VALUES (?, ?, 'purchase', 'test-rival-' || clock_timestamp(), 0, 1000, 'test fixture') RETURNING location_id)
		UPDATE credit_accounts a SET purchased_balance = purchased_balance + 1000 FROM l WHERE a.location_id = l.location_id`, o.orgID, locID); err != nil {
		t.Fatal(err)
	}
	if err := db.NewRaw(`INSERT INTO inboxes (org_id, location_id, name, sms_number) VALUES (?, ?, 'Rival desk', '+15550109999')
		ON CONFLICT (sms_number) DO UPDATE SET name = excluded.name RETURNING id`, o.orgID, locID).Scan(ctx, &o.inboxID); err != nil {
		t.Fatal(err)
	}
	if err := db.NewRaw(`INSERT INTO users (org_id, email, name, role, password_hash) VALUES (?, 'boss@rival.test', 'Rival Boss', 'admin', ?)
		ON CONFLICT (email) DO UPDATE SET password_hash = excluded.password_hash RETURNING id`, o.orgID, hash).Scan(ctx, &o.userID); err != nil {
		t.Fatal(err)
	}
	o.client.login("boss@rival.test", "rival password 1")
	return o
}
