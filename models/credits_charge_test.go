package models_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley/models"
)

var creditSeq atomic.Int64

// creditLocation makes a location of the demo organization with an active
// plan of planCredits and an SMS inbox of its own; it returns the
// location and the inbox's number.
func creditLocation(t *testing.T, st *models.Store, admin models.Scope, planCredits int) (*models.Location, *models.Inbox) {
	t.Helper()
	ctx := context.Background()
	n := creditSeq.Add(1)
	name := fmt.Sprintf("Credits %d %d", time.Now().UnixNano()%1e9, n)
	loc, err := st.CreateLocation(ctx, admin, models.LocationInput{Name: &name, PlanStatus: ptr(models.PlanActive), PlanCredits: &planCredits})
	if err != nil {
		t.Fatal(err)
	}
	num := fmt.Sprintf("+1555031%04d", (time.Now().UnixNano()/1000+n)%10000)
	ib, err := st.CreateInbox(ctx, admin, models.InboxInput{Name: &name, LocationID: &loc.ID, SMSNumber: &num})
	if err != nil {
		t.Fatal(err)
	}
	return loc, ib
}

// account reads a location's account and checks it against its ledger.
func account(t *testing.T, st *models.Store, locID int64) models.CreditAccount {
	t.Helper()
	var a models.CreditAccount
	if err := st.DB().NewSelect().Model(&a).Where("location_id = ?", locID).Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	var plan, purchased int64
	if err := st.DB().NewRaw("SELECT coalesce(sum(plan_delta), 0), coalesce(sum(purchased_delta), 0) FROM credit_ledger WHERE location_id = ?", locID).
		Scan(context.Background(), &plan, &purchased); err != nil {
		t.Fatal(err)
	}
	if plan != a.PlanBalance || purchased != a.PurchasedBalance {
		t.Errorf("account %d/%d, ledger %d/%d (plan/purchased)", a.PlanBalance, a.PurchasedBalance, plan, purchased)
	}
	return a
}

// The balance is checked when a message is composed (against what is
// left after the sends already waiting) and again when it is sent: a
// reply the composer let through, whose credits inbound messages spent
// first, fails at its claim with the reason, and nothing is charged for it.
func TestCreditsCheckedWhenComposedAndWhenSent(t *testing.T) {
	st, _, admin, _ := chatFixture(t)
	ctx := context.Background()
	loc, ib := creditLocation(t, st, admin, 4)
	if a := account(t, st, loc.ID); a.Balance() != 4 || a.PeriodStart == nil {
		t.Fatalf("a new active plan of 4: balance %d, period %v", a.Balance(), a.PeriodStart)
	}
	phone := fmt.Sprintf("+1555032%04d", creditSeq.Add(1))
	res, err := st.ReceiveSMS(ctx, models.InboundSMS{Provider: "vonage", ProviderMessageID: "cc-1-" + phone, From: phone, To: *ib.SMSNumber, Body: "Hello?", ReceivedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	conv := res.Change.Conversation.ID
	// The inbound text is not charged yet (pending): 4 available.
	ch, err := st.Reply(ctx, admin, conv, "First answer", false)
	if err != nil {
		t.Fatal(err)
	}
	first := *ch.Events[len(ch.Events)-1].MessageID
	// 4 less the 2 waiting for the first answer leaves 2: one more fits.
	ch, err = st.Reply(ctx, admin, conv, "Second answer", false)
	if err != nil {
		t.Fatal(err)
	}
	second := *ch.Events[len(ch.Events)-1].MessageID
	var ice *models.InsufficientCreditsError
	if _, err := st.Reply(ctx, admin, conv, "Third answer", false); !errors.As(err, &ice) || ice.Needed != 2 || ice.Available != 0 {
		t.Fatalf("third reply: %v, want insufficient credits (needs 2, 0 available)", err)
	}
	// The charge task runs: the inbound text (2, always) and the first
	// answer (2) fit; the second waits for its send.
	r, err := st.ChargeLocation(ctx, loc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if r.Charged != 2 || r.Waiting != 1 || r.Balance != 0 {
		t.Fatalf("charge run %+v, want 2 charged, 1 waiting, balance 0", r)
	}
	if _, _, err := st.ClaimSMS(ctx, first); err != nil {
		t.Fatalf("claim of the charged first answer: %v", err)
	}
	_, _, err = st.ClaimSMS(ctx, second)
	if !errors.Is(err, models.ErrNotSendable) {
		t.Fatalf("claim of the second answer: %v, want not sendable", err)
	}
	var m models.Message
	if err := st.DB().NewSelect().Model(&m).Where("id = ?", second).Scan(ctx); err != nil {
		t.Fatal(err)
	}
	if m.Status != models.MsgFailed || !strings.HasPrefix(m.StatusReason, models.ReasonInsufficientCredits) || !strings.Contains(m.StatusReason, "the balance is 0") {
		t.Errorf("second answer %s (%q), want failed for insufficient credits with the balance", m.Status, m.StatusReason)
	}
	var pending, charges int
	if err := st.DB().NewRaw("SELECT (SELECT count(*) FROM credit_pending WHERE location_id = ?), (SELECT count(*) FROM credit_ledger WHERE message_id = ?)", loc.ID, second).
		Scan(ctx, &pending, &charges); err != nil || pending != 0 || charges != 0 {
		t.Errorf("after the refusal: %d pending, %d ledger entries for the refused answer (%v); want none", pending, charges, err)
	}
	// The provider refuses the first answer outright: refunded, once.
	for range 2 {
		if _, err := st.RecordSendFailed(ctx, first, "refused by the test"); err != nil {
			t.Fatal(err)
		}
	}
	if a := account(t, st, loc.ID); a.Balance() != 2 || a.UsedOutbound != 0 || a.UsedInbound != 2 {
		t.Errorf("after the refund: balance %d, used outbound %d, inbound %d; want 2, 0, 2", a.Balance(), a.UsedOutbound, a.UsedInbound)
	}
}

// Inbound messages are charged even past zero (overage), never dropped,
// and STOP's confirmation goes out (and is charged) with no credits left.
func TestInboundChargedIntoOverage(t *testing.T) {
	st, _, admin, _ := chatFixture(t)
	ctx := context.Background()
	loc, ib := creditLocation(t, st, admin, 2)
	phone := fmt.Sprintf("+1555033%04d", creditSeq.Add(1))
	for i, body := range []string{"one", "two", "STOP"} {
		if _, err := st.ReceiveSMS(ctx, models.InboundSMS{Provider: "vonage", ProviderMessageID: fmt.Sprintf("ov-%d-%s", i, phone),
			From: phone, To: *ib.SMSNumber, Body: body, ReceivedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.ChargeLocation(ctx, loc.ID); err != nil {
		t.Fatal(err)
	}
	var confirm int64
	if err := st.DB().NewRaw(`SELECT m.id FROM messages m JOIN conversations c ON c.id = m.conversation_id JOIN recipients r ON r.id = c.recipient_id
		WHERE r.phone = ? AND m.direction = 'outbound' AND m.compliance`, phone).Scan(ctx, &confirm); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.ClaimSMS(ctx, confirm); err != nil {
		t.Fatalf("claim of STOP's confirmation with no credits: %v", err)
	}
	a := account(t, st, loc.ID)
	if a.Balance() != -6 || a.UsedInbound != 6 || a.UsedOutbound != 2 {
		t.Errorf("balance %d, used inbound %d, outbound %d; want -6 (overage), 6, 2", a.Balance(), a.UsedInbound, a.UsedOutbound)
	}
	if a.AlertLevel != 100 {
		t.Errorf("alert level %d, want 100", a.AlertLevel)
	}
}

// The ledger refuses to be edited or deleted.
func TestLedgerAppendOnly(t *testing.T) {
	st, demo, _, _ := chatFixture(t)
	ctx := context.Background()
	for _, q := range []string{"UPDATE credit_ledger SET note = 'edited' WHERE location_id = ?", "DELETE FROM credit_ledger WHERE location_id = ?"} {
		if _, err := st.DB().ExecContext(ctx, q, demo.Location.ID); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v, want refused as append-only", q, err)
		}
	}
}
