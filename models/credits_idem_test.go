package models_test

import (
	"context"
	"testing"
	"time"

	"github.com/parley-chat/parley/models"
)

// TestChargeIdempotent: charging again changes nothing; a pending charge
// written again for a message already charged (a replayed outbox write,
// a restored backup) is recognised by its ledger key, dropped, and not
// charged; a provider refusal recorded twice refunds once.
func TestChargeIdempotent(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	f := newLedgerLoc(t, st, 100, time.Now().Add(-time.Hour))
	res := f.receive(t, f.phone(1), "hello")
	in := *res.Change.Events[len(res.Change.Events)-1].MessageID
	conv := res.Change.Conversation.ID

	r1, err := st.ChargeLocation(ctx, f.loc.ID)
	if err != nil || r1.Charged != 1 {
		t.Fatalf("first run: %+v %v", r1, err)
	}
	r2, err := st.ChargeLocation(ctx, f.loc.ID)
	if err != nil || r2.Charged != 0 || r2.Duplicates != 0 {
		t.Fatalf("second run: %+v %v", r2, err)
	}

	// The same pending charge again.
	if _, err := st.DB().NewRaw(`INSERT INTO credit_pending (message_id, kind, org_id, location_id, credits) VALUES (?, 'inbound', ?, ?, 2)`,
		in, f.admin.OrgID, f.loc.ID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	r3, err := st.ChargeLocation(ctx, f.loc.ID)
	if err != nil || r3.Charged != 0 || r3.Duplicates != 1 {
		t.Fatalf("replayed pending charge: %+v %v, want 0 charged, 1 duplicate", r3, err)
	}
	_, s := f.checkBooks(t)
	if s.Inbound != 1 || s.Pending != 0 {
		t.Fatalf("after the replay: %d inbound charges, %d pending; want 1, 0", s.Inbound, s.Pending)
	}

	// An outbound message charged at its claim, refused by the provider,
	// the refusal recorded twice (a retried task).
	ch, err := st.Reply(ctx, f.admin, conv, "your order is ready", false)
	if err != nil {
		t.Fatal(err)
	}
	out := *ch.Events[len(ch.Events)-1].MessageID
	if _, _, err := st.ClaimSMS(ctx, out); err != nil {
		t.Fatal(err)
	}
	before := f.account(t)
	for range 2 {
		if _, err := st.RecordSendFailed(ctx, out, "Vonage: Invalid number"); err != nil {
			t.Fatal(err)
		}
	}
	// The same pending charge again for the refunded message, and a charge run.
	if _, err := st.DB().NewRaw(`INSERT INTO credit_pending (message_id, kind, org_id, location_id, credits) VALUES (?, 'outbound', ?, ?, 2)`,
		out, f.admin.OrgID, f.loc.ID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if r, err := st.ChargeLocation(ctx, f.loc.ID); err != nil || r.Charged != 0 {
		t.Fatalf("charge after the refund: %+v %v", r, err)
	}
	a, s := f.checkBooks(t)
	t.Logf("idempotency: %d entries (%d inbound, %d outbound, %d refunds); balance %d (before the refusal %d)",
		s.Entries, s.Inbound, s.Outbound, s.Refunds, a.Balance(), before.Balance())
	if s.Outbound != 1 || s.Refunds != 1 || a.Balance() != before.Balance()+models.CreditsPerSMSSegment || s.Pending != 0 {
		t.Fatalf("refusal twice: %d charges, %d refunds, balance %d (was %d), %d pending; want 1, 1, +%d, 0",
			s.Outbound, s.Refunds, a.Balance(), before.Balance(), s.Pending, models.CreditsPerSMSSegment)
	}
	if a.UsedOutbound != 0 {
		t.Errorf("used_outbound %d after the refund, want 0", a.UsedOutbound)
	}
}
