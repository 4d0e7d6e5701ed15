package models

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// Plan periods, their grants, purchases and mid-period plan changes: the
// ledger entries that add credits.
//
// A plan's periods run from its anchor (plan_period_start) in steps of
// plan_period_months, in the location's timezone. At each period start the
// plan's credits are granted afresh: unused plan credits expire, overage
// (a negative plan balance) is carried and paid from the new credits, and
// purchased credits are untouched.

// planPeriod is one period of a plan: [Start, End).
type planPeriod struct{ Start, End time.Time }

// addMonths adds n months to t, keeping its day of month where the target
// month has it and clamping to the month's last day where it has not (Jan
// 31 + 1 month is Feb 28 or 29, not Mar 3).
func addMonths(t time.Time, n int) time.Time {
	y, m, d := t.Date()
	first := time.Date(y, m+time.Month(n), 1, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), t.Location())
	last := first.AddDate(0, 1, -1).Day()
	return first.AddDate(0, 0, min(d, last)-1)
}

// periodAt is the plan period containing now for a plan anchored at
// anchor with periods of months months, in tz; ok is false before anchor.
func periodAt(anchor time.Time, months int, tz *time.Location, now time.Time) (p planPeriod, ok bool) {
	if months < 1 {
		months = 1
	}
	a := anchor.In(tz)
	if now.Before(a) {
		return planPeriod{}, false
	}
	n := now.In(tz)
	k := ((n.Year()-a.Year())*12 + int(n.Month()) - int(a.Month())) / months
	for k > 0 && addMonths(a, k*months).After(now) {
		k--
	}
	for !addMonths(a, (k+1)*months).After(now) {
		k++
	}
	return planPeriod{Start: addMonths(a, k*months).UTC(), End: addMonths(a, (k+1)*months).UTC()}, true
}

// periodKey is the idempotency key of a plan period's grant: one per
// location and period start, so a period is granted once however many
// workers renew it.
func periodKey(locationID int64, start time.Time) string {
	return fmt.Sprintf("period:%d:%d", locationID, start.Unix())
}

// randomKey is a unique idempotency key for an entry a person makes (a
// purchase, a plan change): each one is its own entry.
func randomKey(prefix string, locationID int64) string {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err)) // the kernel's entropy source failed: nothing is safe to do
	}
	return fmt.Sprintf("%s:%d:%s", prefix, locationID, hex.EncodeToString(b))
}

// grantPeriod starts period p on a locked account: the plan's credits
// granted (expiring unused ones, paying carried overage), this period's
// usage and alerts reset. key is the entry's idempotency key.
func grantPeriod(a *CreditAccount, l *Location, p planPeriod, key string, userID *int64) LedgerEntry {
	delta := int64(l.PlanCredits) - max(a.PlanBalance, 0)
	expired := max(a.PlanBalance, 0)
	a.PlanBalance += delta
	a.PeriodStart, a.PeriodEnd = &p.Start, &p.End
	a.UsedOutbound, a.UsedInbound, a.UsedForwarded, a.AlertLevel = 0, 0, 0, 0
	note := fmt.Sprintf("%d plan credits for %s to %s", l.PlanCredits, p.Start.Format("2006-01-02"), p.End.Format("2006-01-02"))
	if expired > 0 {
		note += fmt.Sprintf("; %d unused expired", expired)
	}
	if l.PlanCredits > 0 && a.PlanBalance < int64(l.PlanCredits) {
		note += fmt.Sprintf("; %d overage carried", int64(l.PlanCredits)-a.PlanBalance)
	}
	return LedgerEntry{OrgID: a.OrgID, LocationID: a.LocationID, Kind: LedgerPeriod, IdemKey: key,
		PlanDelta: delta, UserID: userID, Note: note}
}

// syncPlan brings a locked location's account in line with its plan after
// an administrator changed it (in the same transaction): an active plan
// whose current period was never granted (first activation, a moved
// anchor, another length) gets it; a change of credits within the granted
// period moves the plan balance by the difference. An active plan with no
// anchor is anchored now. Inactive and suspended plans keep their balance.
func syncPlan(ctx context.Context, tx bun.Tx, l *Location, oldCredits int, userID *int64, now time.Time) error {
	if l.PlanStatus != PlanActive {
		return nil
	}
	if l.PlanPeriodStart == nil {
		start := now.UTC().Truncate(time.Second)
		l.PlanPeriodStart = &start
		if _, err := tx.NewUpdate().Model(l).Column("plan_period_start").WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("anchor plan: %w", err)
		}
	}
	a, err := lockAccount(ctx, tx, l.ID)
	if err != nil {
		return err
	}
	p, ok := periodAt(*l.PlanPeriodStart, l.PlanPeriodMonths, l.TimeLocation(), now)
	if !ok {
		return nil // the plan starts later: the renewal task grants it then
	}
	var e LedgerEntry
	switch {
	case a.PeriodStart == nil || !a.PeriodStart.Equal(p.Start) || !a.PeriodEnd.Equal(p.End):
		key := periodKey(l.ID, p.Start)
		have, err := existingKeys(ctx, tx, []string{key})
		if err != nil {
			return err
		}
		if have[key] { // this period was granted before the anchor moved away and back
			key = randomKey("period", l.ID)
		}
		e = grantPeriod(a, l, p, key, userID)
	case l.PlanCredits != oldCredits:
		delta := int64(l.PlanCredits - oldCredits)
		a.PlanBalance += delta
		e = LedgerEntry{OrgID: a.OrgID, LocationID: a.LocationID, Kind: LedgerPlanChange, IdemKey: randomKey("plan", l.ID),
			PlanDelta: delta, UserID: userID, Note: fmt.Sprintf("plan credits %d → %d this period", oldCredits, l.PlanCredits)}
	default:
		return nil
	}
	if err := appendLedger(ctx, tx, []LedgerEntry{e}); err != nil {
		return err
	}
	return saveAccount(ctx, tx, a)
}

// RenewPlans grants every active plan whose period ended its next period,
// each location in its own transaction; it returns how many it renewed.
// Several workers may run it at once: each account is locked and checked
// again, and a period's grant has one idempotency key, so every period is
// granted exactly once.
func (s *Store) RenewPlans(ctx context.Context, now time.Time) (int, error) {
	var due []int64
	err := s.db.NewRaw(`SELECT a.location_id FROM credit_accounts a JOIN locations l ON l.id = a.location_id
		WHERE l.plan_status = ? AND l.plan_period_start <= ? AND (a.period_end IS NULL OR a.period_end <= ?)
		ORDER BY a.location_id`, PlanActive, now, now).Scan(ctx, &due)
	if err != nil {
		return 0, fmt.Errorf("store: plans due: %w", err)
	}
	n := 0
	for _, id := range due {
		renewed, err := s.renewPlan(ctx, id, now)
		if err != nil {
			return n, fmt.Errorf("store: renew plan of location %d: %w", id, err)
		}
		if renewed {
			n++
		}
	}
	return n, nil
}

// renewPlan grants location id the plan period containing now if its
// current one has ended, in one transaction; it reports whether it did.
// It waits for the account's lock (charges hold it for milliseconds; a
// concurrent renewal finishes first and this one finds the period
// granted).
func (s *Store) renewPlan(ctx context.Context, id int64, now time.Time) (bool, error) {
	renewed := false
	err := s.inTx(ctx, func(tx bun.Tx) error {
		renewed = false
		a := new(CreditAccount)
		err := tx.NewSelect().Model(a).Where("location_id = ?", id).For("UPDATE").Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // the location is gone: nothing to renew
		}
		if err != nil {
			return fmt.Errorf("lock account: %w", err)
		}
		l := new(Location)
		if err := tx.NewSelect().Model(l).Where("id = ?", id).Scan(ctx); err != nil {
			return notFound("location", err)
		}
		if l.PlanStatus != PlanActive || l.PlanPeriodStart == nil || (a.PeriodEnd != nil && a.PeriodEnd.After(now)) {
			return nil
		}
		p, ok := periodAt(*l.PlanPeriodStart, l.PlanPeriodMonths, l.TimeLocation(), now)
		if !ok {
			return nil
		}
		key := periodKey(id, p.Start)
		have, err := existingKeys(ctx, tx, []string{key})
		if err != nil || have[key] {
			return err
		}
		e := grantPeriod(a, l, p, key, nil)
		if err := appendLedger(ctx, tx, []LedgerEntry{e}); err != nil {
			return err
		}
		renewed = true
		return saveAccount(ctx, tx, a)
	})
	return renewed, err
}

// MaxPurchase bounds one purchase of credits.
const MaxPurchase = 10_000_000

// PurchaseCredits adds purchased credits to a location (admins): they
// never expire and are spent after the plan's. They pay any overage first.
// The purchase is a ledger entry with its note and who made it, and is in
// the audit log.
func (s *Store) PurchaseCredits(ctx context.Context, sc Scope, locationID int64, credits int64, note string) (*LedgerEntry, error) {
	if err := require(sc, PermManageCredits); err != nil {
		return nil, err
	}
	if credits < 1 || credits > MaxPurchase {
		return nil, fieldErr("credits", "Enter a whole number of credits from 1 to %d.", MaxPurchase)
	}
	if err := checkText("note", "The note", note); err != nil {
		return nil, err
	}
	if len([]rune(note)) > 200 {
		return nil, fieldErr("note", "The note is too long (at most 200 characters).")
	}
	var e LedgerEntry
	err := s.inTx(ctx, func(tx bun.Tx) error {
		l := new(Location)
		if err := tx.NewSelect().Model(l).Where("id = ? AND org_id = ?", locationID, sc.OrgID).Scan(ctx); err != nil {
			return notFound("location", err)
		}
		a, err := lockAccount(ctx, tx, l.ID)
		if err != nil {
			return err
		}
		toPlan := min(credits, max(-a.PlanBalance, 0))
		a.PlanBalance += toPlan
		a.PurchasedBalance += credits - toPlan
		e = LedgerEntry{OrgID: a.OrgID, LocationID: l.ID, Kind: LedgerPurchase, IdemKey: randomKey("purchase", l.ID),
			PlanDelta: toPlan, PurchasedDelta: credits - toPlan, Note: note}
		if sc.UserID != 0 {
			e.UserID = &sc.UserID
		}
		entries := []LedgerEntry{e}
		if err := appendLedger(ctx, tx, entries); err != nil {
			return err
		}
		e = entries[0] // with its id and time
		if err := saveAccount(ctx, tx, a); err != nil {
			return err
		}
		return audit(ctx, tx, sc, AuditChange{Action: "credits.purchase", TargetType: "location", TargetID: l.ID,
			TargetName: l.Name, After: map[string]any{"credits": credits, "note": note, "balance": a.Balance()}})
	})
	if err != nil {
		return nil, fmt.Errorf("store: purchase credits: %w", err)
	}
	return &e, nil
}

// RateCardOf returns the organization's rate card (managers and admins).
func (s *Store) RateCardOf(ctx context.Context, sc Scope) (RateCard, error) {
	if err := require(sc, PermViewCredits); err != nil {
		return RateCard{}, err
	}
	return loadRateCard(ctx, s.db, sc.OrgID)
}

// MaxRate bounds one rate of the card.
const MaxRate = 1000

// UpdateRateCard replaces the organization's rate card (admins) and
// audit-logs the change. It applies to messages stored from then on; a
// message keeps the price it was stored with.
func (s *Store) UpdateRateCard(ctx context.Context, sc Scope, rc RateCard) (RateCard, error) {
	if err := require(sc, PermManageCredits); err != nil {
		return RateCard{}, err
	}
	for _, f := range []struct {
		name string
		r    Rates
	}{{"sms", rc.SMS}, {"mms", rc.MMS}, {"email", rc.Email}} {
		for _, v := range []struct {
			kind string
			n    int
		}{{ChargeOutbound, f.r.Outbound}, {ChargeInbound, f.r.Inbound}, {ChargeForwarded, f.r.Forwarded}} {
			if v.n < 0 || v.n > MaxRate {
				return RateCard{}, fieldErr(f.name+"_"+v.kind, "Enter a whole number of credits from 0 to %d.", MaxRate)
			}
		}
	}
	var out RateCard
	err := s.inTx(ctx, func(tx bun.Tx) error {
		before, err := loadRateCard(ctx, tx, sc.OrgID)
		if err != nil {
			return err
		}
		row := rowOfCard(sc.OrgID, rc)
		if _, err := tx.NewInsert().Model(row).On("CONFLICT (org_id) DO UPDATE").
			Set("sms_outbound = EXCLUDED.sms_outbound, sms_inbound = EXCLUDED.sms_inbound, sms_forwarded = EXCLUDED.sms_forwarded").
			Set("mms_outbound = EXCLUDED.mms_outbound, mms_inbound = EXCLUDED.mms_inbound, mms_forwarded = EXCLUDED.mms_forwarded").
			Set("email_outbound = EXCLUDED.email_outbound, email_inbound = EXCLUDED.email_inbound, email_forwarded = EXCLUDED.email_forwarded").
			Set("updated_at = now()").Returning("*").Exec(ctx); err != nil {
			return fmt.Errorf("save rate card: %w", err)
		}
		out = row.card()
		before.UpdatedAt, rc.UpdatedAt = nil, nil
		if sameJSON(before, rc) {
			return nil
		}
		return audit(ctx, tx, sc, AuditChange{Action: "credits.rate_card", TargetType: "organization", TargetID: sc.OrgID,
			Before: before, After: rc})
	})
	if err != nil {
		return RateCard{}, fmt.Errorf("store: update rate card: %w", err)
	}
	return out, nil
}
