package models_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley/models"
)

func TestPeriodAt(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	utc := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		name        string
		anchor      time.Time
		months      int
		tz          *time.Location
		now         time.Time
		start, end  string
		beforeStart bool
	}{
		{name: "Jan 31 + 1 month is Feb 28", anchor: utc("2026-01-31T00:00:00Z"), months: 1, tz: time.UTC,
			now: utc("2026-02-15T12:00:00Z"), start: "2026-01-31T00:00:00Z", end: "2026-02-28T00:00:00Z"},
		{name: "the period after Feb 28 ends on Mar 31, not Mar 28", anchor: utc("2026-01-31T00:00:00Z"), months: 1, tz: time.UTC,
			now: utc("2026-03-01T00:00:00Z"), start: "2026-02-28T00:00:00Z", end: "2026-03-31T00:00:00Z"},
		{name: "leap year: Jan 31 + 1 month is Feb 29", anchor: utc("2028-01-31T00:00:00Z"), months: 1, tz: time.UTC,
			now: utc("2028-02-10T00:00:00Z"), start: "2028-01-31T00:00:00Z", end: "2028-02-29T00:00:00Z"},
		{name: "the end of a period starts the next", anchor: utc("2026-01-15T00:00:00Z"), months: 1, tz: time.UTC,
			now: utc("2026-02-15T00:00:00Z"), start: "2026-02-15T00:00:00Z", end: "2026-03-15T00:00:00Z"},
		// Midnight in New York is 05:00Z in winter and 04:00Z in summer:
		// the period keeps local midnight across the DST change (Mar 8 2026).
		{name: "across the start of DST", anchor: utc("2026-02-01T05:00:00Z"), months: 1, tz: ny,
			now: utc("2026-03-20T00:00:00Z"), start: "2026-03-01T05:00:00Z", end: "2026-04-01T04:00:00Z"},
		{name: "across the end of DST", anchor: utc("2026-10-01T04:00:00Z"), months: 1, tz: ny,
			now: utc("2026-11-01T04:30:00Z"), start: "2026-11-01T04:00:00Z", end: "2026-12-01T05:00:00Z"},
		{name: "just before local midnight is the old period", anchor: utc("2026-02-01T05:00:00Z"), months: 1, tz: ny,
			now: utc("2026-04-01T03:59:59Z"), start: "2026-03-01T05:00:00Z", end: "2026-04-01T04:00:00Z"},
		{name: "quarterly", anchor: utc("2026-01-15T00:00:00Z"), months: 3, tz: time.UTC,
			now: utc("2026-08-01T00:00:00Z"), start: "2026-07-15T00:00:00Z", end: "2026-10-15T00:00:00Z"},
		{name: "yearly across years", anchor: utc("2025-06-30T00:00:00Z"), months: 12, tz: time.UTC,
			now: utc("2027-01-01T00:00:00Z"), start: "2026-06-30T00:00:00Z", end: "2027-06-30T00:00:00Z"},
		{name: "36 months", anchor: utc("2024-02-29T00:00:00Z"), months: 36, tz: time.UTC,
			now: utc("2027-03-01T00:00:00Z"), start: "2027-02-28T00:00:00Z", end: "2030-02-28T00:00:00Z"},
		{name: "six months from Aug 31", anchor: utc("2025-08-31T00:00:00Z"), months: 6, tz: time.UTC,
			now: utc("2026-03-01T00:00:00Z"), start: "2026-02-28T00:00:00Z", end: "2026-08-31T00:00:00Z"},
		{name: "before the anchor", anchor: utc("2026-05-01T00:00:00Z"), months: 1, tz: time.UTC,
			now: utc("2026-04-30T23:59:59Z"), beforeStart: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start, end, ok := models.PeriodAt(tc.anchor, tc.months, tc.tz, tc.now)
			if tc.beforeStart {
				if ok {
					t.Fatalf("a period before the anchor: %v – %v", start, end)
				}
				return
			}
			if !ok || !start.Equal(utc(tc.start)) || !end.Equal(utc(tc.end)) {
				t.Fatalf("period %v – %v (ok %v), want %s – %s", start, end, ok, tc.start, tc.end)
			}
			if start.After(tc.now) || !end.After(tc.now) {
				t.Fatalf("period %v – %v does not contain %v", start, end, tc.now)
			}
		})
	}
}

// planWorld is a location of its own with an active plan, for the credits tests.
type planWorld struct {
	st    *models.Store
	admin models.Scope
	loc   *models.Location
}

func newPlanWorld(t *testing.T, name string, credits int, anchor time.Time) *planWorld {
	t.Helper()
	st, _, admin, _ := chatFixture(t)
	admin.Name = "Demo Admin"
	l, err := st.CreateLocation(context.Background(), admin, models.LocationInput{Name: ptr(name + " " + time.Now().Format("150405.000000")),
		PlanStatus: ptr(models.PlanActive), PlanName: ptr("Test"), PlanCredits: ptr(credits), PlanPeriodStart: &anchor, PlanPeriodMonths: ptr(1)})
	if err != nil {
		t.Fatal(err)
	}
	return &planWorld{st: st, admin: admin, loc: l}
}

var fakeMessageID atomic.Int64

func init() { fakeMessageID.Store(time.Now().UnixNano() / 1000) }

// charge charges credits to the location as an inbound message would (a
// pending charge settled by the credits:charge task): into overage if need be.
func (w *planWorld) charge(t *testing.T, credits int) {
	t.Helper()
	ctx := context.Background()
	if _, err := w.st.DB().NewRaw(`INSERT INTO credit_pending (message_id, kind, org_id, location_id, credits) VALUES (?, 'inbound', ?, ?, ?)`,
		fakeMessageID.Add(1), w.loc.OrgID, w.loc.ID, credits).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if r, err := w.st.ChargeLocation(ctx, w.loc.ID); err != nil || r.Charged != 1 {
		t.Fatalf("charge: %+v, %v", r, err)
	}
}

// account reads the account and checks the balance is the ledger's sum
// (each part its own column's).
func (w *planWorld) account(t *testing.T) *models.CreditAccount {
	t.Helper()
	ctx := context.Background()
	a, err := w.st.LocationAccount(ctx, w.admin, w.loc.ID)
	if err != nil {
		t.Fatal(err)
	}
	var sum struct {
		Plan      int64 `bun:"plan"`
		Purchased int64 `bun:"purchased"`
	}
	if err := w.st.DB().NewRaw(`SELECT coalesce(sum(plan_delta), 0) AS plan, coalesce(sum(purchased_delta), 0) AS purchased
		FROM credit_ledger WHERE location_id = ?`, w.loc.ID).Scan(ctx, &sum); err != nil {
		t.Fatal(err)
	}
	if a.PlanBalance != sum.Plan || a.PurchasedBalance != sum.Purchased {
		t.Fatalf("account plan %d purchased %d, ledger sums %d and %d", a.PlanBalance, a.PurchasedBalance, sum.Plan, sum.Purchased)
	}
	return a
}

// entries lists the location's ledger entries of a kind, oldest first.
func (w *planWorld) entries(t *testing.T, kind string) []models.LedgerEntry {
	t.Helper()
	var es []models.LedgerEntry
	if err := w.st.DB().NewSelect().Model(&es).Where("location_id = ? AND kind = ?", w.loc.ID, kind).Order("id").Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	return es
}

func TestSyncPlan(t *testing.T) {
	ctx := context.Background()
	anchor := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	w := newPlanWorld(t, "Sync", 100, anchor)

	// First activation grants the current period.
	a := w.account(t)
	if ps := w.entries(t, models.LedgerPeriod); len(ps) != 1 || ps[0].PlanDelta != 100 || ps[0].UserID == nil || *ps[0].UserID != w.admin.UserID {
		t.Fatalf("grant on activation: %+v", ps)
	}
	if a.Balance() != 100 || a.PeriodStart == nil || !a.PeriodStart.Equal(anchor) || !a.PeriodEnd.Equal(anchor.AddDate(0, 1, 0)) {
		t.Fatalf("account after activation: %+v", a)
	}

	// A change of credits within the period: the difference, once.
	w.charge(t, 30)
	if _, err := w.st.UpdateLocation(ctx, w.admin, w.loc.ID, models.LocationInput{PlanCredits: ptr(150)}); err != nil {
		t.Fatal(err)
	}
	if pc := w.entries(t, models.LedgerPlanChange); len(pc) != 1 || pc[0].PlanDelta != 50 {
		t.Fatalf("plan change: %+v", pc)
	}
	if a := w.account(t); a.Balance() != 120 || a.UsedInbound != 30 {
		t.Fatalf("after +50: %+v", a)
	}
	if e := lastAudit(t, w.st, "location", w.loc.ID); e.Action != "location.update" || jsonNum(e.After, "plan_credits") != 150 {
		t.Fatalf("audit: %s %s", e.Action, e.After)
	}
	// Saving the same plan again writes nothing.
	if _, err := w.st.UpdateLocation(ctx, w.admin, w.loc.ID, models.LocationInput{PlanCredits: ptr(150), PlanName: ptr("Test")}); err != nil {
		t.Fatal(err)
	}
	if n := len(w.entries(t, models.LedgerPlanChange)) + len(w.entries(t, models.LedgerPeriod)); n != 2 {
		t.Fatalf("an unchanged plan wrote entries: %d", n)
	}

	// Moving the anchor starts the period it now falls in: unused plan
	// credits expire, the new period's are granted, usage starts afresh.
	moved := time.Now().Add(-48 * time.Hour).UTC().Truncate(time.Second)
	if _, err := w.st.UpdateLocation(ctx, w.admin, w.loc.ID, models.LocationInput{PlanPeriodStart: &moved}); err != nil {
		t.Fatal(err)
	}
	ps := w.entries(t, models.LedgerPeriod)
	if len(ps) != 2 || ps[1].PlanDelta != 30 || !strings.Contains(ps[1].Note, "120 unused expired") {
		t.Fatalf("grant on the moved anchor: %+v", ps)
	}
	if a := w.account(t); a.Balance() != 150 || !a.PeriodStart.Equal(moved) || a.UsedInbound != 0 {
		t.Fatalf("after the move: %+v", a)
	}

	// Suspending keeps the balance; no entry.
	if _, err := w.st.UpdateLocation(ctx, w.admin, w.loc.ID, models.LocationInput{PlanStatus: ptr(models.PlanSuspended)}); err != nil {
		t.Fatal(err)
	}
	if a := w.account(t); a.Balance() != 150 || len(w.entries(t, models.LedgerPeriod)) != 2 {
		t.Fatalf("after suspending: %+v", a)
	}

	// Bad plan input changes nothing.
	for _, tc := range []struct {
		name  string
		in    models.LocationInput
		field string
	}{
		{"negative credits", models.LocationInput{PlanCredits: ptr(-1)}, "plan_credits"},
		{"too many credits", models.LocationInput{PlanCredits: ptr(models.MaxPlanCredits + 1)}, "plan_credits"},
		{"no months", models.LocationInput{PlanPeriodMonths: ptr(0)}, "plan_period_months"},
		{"37 months", models.LocationInput{PlanPeriodMonths: ptr(37)}, "plan_period_months"},
		{"start in 1999", models.LocationInput{PlanPeriodStart: ptr(time.Date(1999, 12, 31, 0, 0, 0, 0, time.UTC))}, "plan_period_start"},
	} {
		_, err := w.st.UpdateLocation(ctx, w.admin, w.loc.ID, tc.in)
		wantField(t, tc.name, err, tc.field)
	}
	manager := w.admin
	manager.Role = models.RoleManager
	if _, err := w.st.UpdateLocation(ctx, manager, w.loc.ID, models.LocationInput{PlanCredits: ptr(1)}); !errors.Is(err, models.ErrForbidden) {
		t.Fatalf("a manager changed the plan: %v", err)
	}
}

func TestRenewPlansConcurrent(t *testing.T) {
	ctx := context.Background()
	anchor := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	over := newPlanWorld(t, "Renew overage", 100, anchor)
	under := newPlanWorld(t, "Renew unused", 100, anchor)
	over.charge(t, 130) // 30 into overage
	under.charge(t, 40) // 60 unused
	if _, err := under.st.PurchaseCredits(ctx, under.admin, under.loc.ID, 25, "pack"); err != nil {
		t.Fatal(err)
	}
	if a := over.account(t); a.PlanBalance != -30 {
		t.Fatalf("overage: %+v", a)
	}

	// The period ended: four workers renew at once.
	now := anchor.AddDate(0, 1, 0).Add(time.Minute)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := over.st.RenewPlans(ctx, now); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	ps := over.entries(t, models.LedgerPeriod)
	if len(ps) != 2 || ps[1].PlanDelta != 100 || !strings.Contains(ps[1].Note, "30 overage carried") {
		t.Fatalf("overage location's grants: %+v", ps)
	}
	if a := over.account(t); a.PlanBalance != 70 || a.Balance() != 70 || !a.PeriodStart.Equal(anchor.AddDate(0, 1, 0)) || a.UsedInbound != 0 {
		t.Fatalf("overage carried: %+v", a)
	}
	ps = under.entries(t, models.LedgerPeriod)
	if len(ps) != 2 || ps[1].PlanDelta != 40 || !strings.Contains(ps[1].Note, "60 unused expired") {
		t.Fatalf("unused location's grants: %+v", ps)
	}
	if a := under.account(t); a.PlanBalance != 100 || a.PurchasedBalance != 25 || a.Balance() != 125 {
		t.Fatalf("unused expired, purchased kept: %+v", a)
	}

	// Renewing again within the new period grants nothing.
	if _, err := over.st.RenewPlans(ctx, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if n, m := len(over.entries(t, models.LedgerPeriod)), len(under.entries(t, models.LedgerPeriod)); n != 2 || m != 2 {
		t.Fatalf("a second renewal granted again: %d, %d", n, m)
	}
}

func TestPurchaseCredits(t *testing.T) {
	ctx := context.Background()
	w := newPlanWorld(t, "Purchase", 10, time.Now().Add(-time.Hour))
	w.charge(t, 25) // 15 into overage

	e, err := w.st.PurchaseCredits(ctx, w.admin, w.loc.ID, 20, "Top-up for the fair")
	if err != nil {
		t.Fatal(err)
	}
	if e.PlanDelta != 15 || e.PurchasedDelta != 5 || e.Credits() != 20 || e.Kind != models.LedgerPurchase {
		t.Fatalf("purchase entry: %+v", e)
	}
	if a := w.account(t); a.PlanBalance != 0 || a.PurchasedBalance != 5 || a.Balance() != 5 {
		t.Fatalf("overage settled first: %+v", a)
	}
	if au := lastAudit(t, w.st, "location", w.loc.ID); au.Action != "credits.purchase" || jsonNum(au.After, "credits") != 20 {
		t.Fatalf("audit: %s %s", au.Action, au.After)
	}
	ps, err := w.st.RecentPurchases(ctx, w.admin, w.loc.ID, 10)
	if err != nil || len(ps) != 1 || ps[0].Credits != 20 || ps[0].Note != "Top-up for the fair" || ps[0].UserName == nil {
		t.Fatalf("recent purchases: %+v, %v", ps, err)
	}

	for _, tc := range []struct {
		name    string
		credits int64
		note    string
		field   string
	}{
		{"no credits", 0, "", "credits"},
		{"negative", -5, "", "credits"},
		{"too many", models.MaxPurchase + 1, "", "credits"},
		{"long note", 5, strings.Repeat("n", 201), "note"},
	} {
		_, err := w.st.PurchaseCredits(ctx, w.admin, w.loc.ID, tc.credits, tc.note)
		wantField(t, tc.name, err, tc.field)
	}
	manager := w.admin
	manager.Role = models.RoleManager
	if _, err := w.st.PurchaseCredits(ctx, manager, w.loc.ID, 5, ""); !errors.Is(err, models.ErrForbidden) {
		t.Fatalf("a manager bought credits: %v", err)
	}
	if _, err := w.st.RecentPurchases(ctx, manager, w.loc.ID, 10); err != nil {
		t.Fatalf("a manager cannot see purchases: %v", err)
	}
	other := otherOrgScope(t, w.st, "purchase-other")
	if _, err := w.st.PurchaseCredits(ctx, other, w.loc.ID, 5, ""); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("another organization bought credits here: %v", err)
	}
	if _, err := w.st.LocationAccount(ctx, other, w.loc.ID); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("another organization read the account: %v", err)
	}
	if a := w.account(t); a.Balance() != 5 {
		t.Fatalf("refused purchases moved the balance: %+v", a)
	}
}

func TestRateCard(t *testing.T) {
	ctx := context.Background()
	st, _, admin, agent := chatFixture(t)
	other := otherOrgScope(t, st, "rate-card-other")
	manager := admin
	manager.Role = models.RoleManager

	rc, err := st.RateCardOf(ctx, other)
	if err != nil || rc.SMS.Outbound != 2 || rc.MMS.Inbound != 4 || rc.Email.Forwarded != 1 || rc.UpdatedAt != nil {
		t.Fatalf("default card: %+v, %v", rc, err)
	}
	if _, err := st.RateCardOf(ctx, agent); !errors.Is(err, models.ErrForbidden) {
		t.Fatalf("an agent read the rate card: %v", err)
	}
	bad := models.DefaultRateCard()
	bad.SMS.Outbound = -1
	_, err = st.UpdateRateCard(ctx, other, bad)
	wantField(t, "negative", err, "sms_outbound")
	bad = models.DefaultRateCard()
	bad.Email.Forwarded = models.MaxRate + 1
	_, err = st.UpdateRateCard(ctx, other, bad)
	wantField(t, "too high", err, "email_forwarded")
	if _, err := st.UpdateRateCard(ctx, manager, models.DefaultRateCard()); !errors.Is(err, models.ErrForbidden) {
		t.Fatalf("a manager changed the rate card: %v", err)
	}

	card := models.DefaultRateCard()
	card.SMS.Outbound, card.MMS.Forwarded, card.Email.Inbound = 3, 0, 2
	got, err := st.UpdateRateCard(ctx, other, card)
	if err != nil || got.SMS.Outbound != 3 || got.MMS.Forwarded != 0 || got.Email.Inbound != 2 || got.UpdatedAt == nil {
		t.Fatalf("saved card: %+v, %v", got, err)
	}
	if rc, _ := st.RateCardOf(ctx, other); rc.SMS.Outbound != 3 || rc.SMS.Inbound != 2 {
		t.Fatalf("read back: %+v", rc)
	}
	if rc, _ := st.RateCardOf(ctx, admin); rc.SMS.Outbound == 3 {
		t.Fatal("another organization's card changed")
	}
	e := lastAudit(t, st, "organization", other.OrgID)
	var after models.RateCard
	if e.Action != "credits.rate_card" || json.Unmarshal(e.After, &after) != nil || after.SMS.Outbound != 3 || after.MMS.Forwarded != 0 {
		t.Fatalf("audit: %s %s", e.Action, e.After)
	}
	n := auditCount(t, st, "organization", other.OrgID)
	if _, err := st.UpdateRateCard(ctx, other, card); err != nil {
		t.Fatal(err)
	}
	if auditCount(t, st, "organization", other.OrgID) != n {
		t.Fatal("saving the same card was audited")
	}
}

// jsonNum is a number field of a JSON object (-1 when it is not one).
func jsonNum(raw json.RawMessage, key string) float64 {
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return -1
	}
	v, ok := m[key].(float64)
	if !ok {
		return -1
	}
	return v
}
