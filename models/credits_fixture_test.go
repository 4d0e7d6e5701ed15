package models_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/parley-chat/parley/models"
)

// tb is what the ledger fixtures need of a test: *testing.T and
// *rapid.T both have it.
type tb interface {
	Helper()
	Fatalf(format string, args ...any)
}

// ledgerSeq makes the ledger fixtures' names, numbers and provider ids
// unique across the run (and across -count runs on one database).
var ledgerSeq atomic.Int64

func init() { ledgerSeq.Store(time.Now().UnixNano() / 1000 % 1_000_000 * 100) }

// ledgerLoc is an organization of its own with one location (an active
// plan) and one SMS inbox, so a test's ledger and balance are its own.
type ledgerLoc struct {
	st     *models.Store
	admin  models.Scope
	loc    *models.Location
	inbox  *models.Inbox
	number string // the inbox's SMS number
	tag    string // unique prefix for provider ids and phone numbers
}

// newLedgerLoc creates the organization, an admin, a location whose plan
// grants planCredits per month from anchor, and its inbox.
func newLedgerLoc(t tb, st *models.Store, planCredits int, anchor time.Time) *ledgerLoc {
	t.Helper()
	ctx := context.Background()
	n := ledgerSeq.Add(1)
	slug := fmt.Sprintf("ledger-%d", n)
	var orgID, userID int64
	db := st.DB()
	if err := db.NewRaw("INSERT INTO organizations (name, slug) VALUES (?, ?) RETURNING id", "Ledger "+slug, slug).Scan(ctx, &orgID); err != nil {
		t.Fatalf("org: %v", err)
	}
	if err := db.NewRaw(`INSERT INTO users (org_id, email, name, role, password_hash) VALUES (?, ?, 'Ledger Admin', 'admin', 'x') RETURNING id`,
		orgID, "admin@"+slug+".test").Scan(ctx, &userID); err != nil {
		t.Fatalf("user: %v", err)
	}
	admin := models.Scope{OrgID: orgID, UserID: userID, Role: models.RoleAdmin}
	name, status, months := "Ledger location", models.PlanActive, 1
	loc, err := st.CreateLocation(ctx, admin, models.LocationInput{Name: &name, PlanStatus: &status,
		PlanCredits: &planCredits, PlanPeriodStart: &anchor, PlanPeriodMonths: &months})
	if err != nil {
		t.Fatalf("location: %v", err)
	}
	number := fmt.Sprintf("+1555%07d", n%10_000_000)
	inboxName := "Ledger desk"
	ib, err := st.CreateInbox(ctx, admin, models.InboxInput{Name: &inboxName, LocationID: &loc.ID, SMSNumber: &number})
	if err != nil {
		t.Fatalf("inbox: %v", err)
	}
	return &ledgerLoc{st: st, admin: admin, loc: loc, inbox: ib, number: number, tag: slug}
}

// phone is the i-th sender's number (+1556..., never an inbox's number;
// recipients are per organization, so fixtures may share them).
func (f *ledgerLoc) phone(i int) string { return fmt.Sprintf("+1556%07d", i) }

// receive stores one inbound SMS from phone with a unique provider id.
func (f *ledgerLoc) receive(t tb, phone, body string) *models.InboundResult {
	t.Helper()
	id := fmt.Sprintf("%s-%d", f.tag, ledgerSeq.Add(1))
	res, err := f.st.ReceiveSMS(context.Background(), models.InboundSMS{Provider: "vonage", ProviderMessageID: id,
		From: phone, To: f.number, Body: body})
	if err != nil {
		t.Fatalf("receive %s: %v", id, err)
	}
	return res
}

// account reads the location's account.
func (f *ledgerLoc) account(t tb) models.CreditAccount {
	t.Helper()
	var a models.CreditAccount
	if err := f.st.DB().NewSelect().Model(&a).Where("location_id = ?", f.loc.ID).Scan(context.Background()); err != nil {
		t.Fatalf("account: %v", err)
	}
	return a
}

// ledgerSums is what the ledger of one location adds up to.
type ledgerSums struct {
	Entries   int64 `bun:"entries"`
	Plan      int64 `bun:"plan"`
	Purchased int64 `bun:"purchased"`
	// Charges by kind, and refunds: counts of entries and credits (positive).
	Inbound        int64 `bun:"inbound"`
	InboundCredits int64 `bun:"inbound_credits"`
	Outbound       int64 `bun:"outbound"`
	OutboundCreds  int64 `bun:"outbound_credits"`
	Refunds        int64 `bun:"refunds"`
	RefundCredits  int64 `bun:"refund_credits"`
	Pending        int64 `bun:"pending"`
	// DoubleCharges: (message, kind) pairs charged more than once;
	// DoubleRefunds: messages refunded more than once; Orphans: refunds
	// with no outbound charge of their message; MinRunning: the lowest
	// the balance ever was, replaying the ledger in order.
	DoubleCharges int64 `bun:"double_charges"`
	DoubleRefunds int64 `bun:"double_refunds"`
	Orphans       int64 `bun:"orphans"`
	MinRunning    int64 `bun:"min_running"`
}

// sums adds up the location's ledger.
func (f *ledgerLoc) sums(t tb) ledgerSums {
	t.Helper()
	var s ledgerSums
	err := f.st.DB().NewRaw(`SELECT count(*) AS entries, coalesce(sum(plan_delta), 0) AS plan, coalesce(sum(purchased_delta), 0) AS purchased,
			count(*) FILTER (WHERE kind = 'inbound') AS inbound,
			coalesce(-sum(plan_delta + purchased_delta) FILTER (WHERE kind = 'inbound'), 0) AS inbound_credits,
			count(*) FILTER (WHERE kind = 'outbound') AS outbound,
			coalesce(-sum(plan_delta + purchased_delta) FILTER (WHERE kind = 'outbound'), 0) AS outbound_credits,
			count(*) FILTER (WHERE kind = 'refund') AS refunds,
			coalesce(sum(plan_delta + purchased_delta) FILTER (WHERE kind = 'refund'), 0) AS refund_credits,
			(SELECT count(*) FROM credit_pending WHERE location_id = ?0) AS pending,
			(SELECT count(*) FROM (SELECT 1 FROM credit_ledger WHERE location_id = ?0 AND kind IN ('inbound', 'outbound', 'forwarded')
				GROUP BY message_id, kind HAVING count(*) > 1) d) AS double_charges,
			(SELECT count(*) FROM (SELECT 1 FROM credit_ledger WHERE location_id = ?0 AND kind = 'refund'
				GROUP BY message_id HAVING count(*) > 1) d) AS double_refunds,
			(SELECT count(*) FROM credit_ledger r WHERE r.location_id = ?0 AND r.kind = 'refund' AND NOT EXISTS (
				SELECT 1 FROM credit_ledger c WHERE c.message_id = r.message_id AND c.kind = 'outbound' AND c.id < r.id)) AS orphans,
			(SELECT coalesce(min(run), 0) FROM (SELECT sum(plan_delta + purchased_delta) OVER (ORDER BY id) AS run
				FROM credit_ledger WHERE location_id = ?0) x) AS min_running
		FROM credit_ledger WHERE location_id = ?0`, f.loc.ID).Scan(context.Background(), &s)
	if err != nil {
		t.Fatalf("ledger sums: %v", err)
	}
	return s
}

// checkBooks fails unless the account equals its ledger, part by part,
// purchased credits are not negative, nothing was charged or refunded
// twice and no refund lacks its charge.
func (f *ledgerLoc) checkBooks(t tb) (models.CreditAccount, ledgerSums) {
	t.Helper()
	a, s := f.account(t), f.sums(t)
	switch {
	case a.PlanBalance != s.Plan || a.PurchasedBalance != s.Purchased:
		t.Fatalf("account plan %d purchased %d, ledger sums plan %d purchased %d", a.PlanBalance, a.PurchasedBalance, s.Plan, s.Purchased)
	case a.PurchasedBalance < 0:
		t.Fatalf("purchased balance %d below zero", a.PurchasedBalance)
	case s.DoubleCharges != 0 || s.DoubleRefunds != 0:
		t.Fatalf("%d messages charged twice for one kind, %d refunded twice", s.DoubleCharges, s.DoubleRefunds)
	case s.Orphans != 0:
		t.Fatalf("%d refunds without an earlier charge", s.Orphans)
	}
	return a, s
}
