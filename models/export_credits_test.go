package models

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// RenewPlanAt renews one location's plan as RenewPlans does, as if it
// were now: property tests advance time without renewing every other
// test's locations.
func (s *Store) RenewPlanAt(ctx context.Context, locationID int64, now time.Time) (bool, error) {
	return s.renewPlan(ctx, locationID, now)
}

// SetPlanCreditsAt changes a location's plan credits as UpdateLocation
// does (the row and syncPlan in one transaction, without the audit),
// as if it were now.
func (s *Store) SetPlanCreditsAt(ctx context.Context, sc Scope, locationID int64, credits int, now time.Time) error {
	return s.inTx(ctx, func(tx bun.Tx) error {
		l := new(Location)
		if err := tx.NewSelect().Model(l).Where("id = ? AND org_id = ?", locationID, sc.OrgID).For("UPDATE").Scan(ctx); err != nil {
			return notFound("location", err)
		}
		old := l.PlanCredits
		l.PlanCredits = credits
		if _, err := tx.NewUpdate().Model(l).Column("plan_credits").WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("set plan credits: %w", err)
		}
		return syncPlan(ctx, tx, l, old, actorID(sc), now)
	})
}

// PeriodAt exposes the plan period arithmetic.
func PeriodAt(anchor time.Time, months int, tz *time.Location, now time.Time) (start, end time.Time, ok bool) {
	p, ok := periodAt(anchor, months, tz, now)
	return p.Start, p.End, ok
}
