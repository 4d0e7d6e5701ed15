package models

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// LocationInput creates or changes a location; a nil field is left as it
// is (on create: its default). QuietStart and QuietEnd are "HH:MM" in the
// location's timezone, both set or both "" (no quiet hours).
type LocationInput struct {
	Name       *string
	Timezone   *string
	QuietStart *string
	QuietEnd   *string
	PlanStatus *string
	PlanName   *string
	// PlanCredits is the plan's credits per period; PlanPeriodStart its
	// anchor (periods run from it), PlanPeriodMonths their length.
	// Changing any plan field needs PermManageCredits.
	PlanCredits      *int
	PlanPeriodStart  *time.Time
	PlanPeriodMonths *int
}

// touchesPlan reports whether the input changes the location's Chat plan.
func (in LocationInput) touchesPlan() bool {
	return in.PlanStatus != nil || in.PlanName != nil || in.PlanCredits != nil || in.PlanPeriodStart != nil || in.PlanPeriodMonths != nil
}

// locationAudit is what the audit log records of a location.
type locationAudit struct {
	Name       string  `json:"name"`
	Timezone   string  `json:"timezone"`
	QuietStart *string `json:"quiet_start"`
	QuietEnd   *string `json:"quiet_end"`
	PlanStatus string  `json:"plan_status"`
	PlanName   string  `json:"plan_name"`
	Archived   bool    `json:"archived"`

	PlanCredits      int        `json:"plan_credits"`
	PlanPeriodStart  *time.Time `json:"plan_period_start"`
	PlanPeriodMonths int        `json:"plan_period_months"`
}

func (l *Location) audited() locationAudit {
	return locationAudit{Name: l.Name, Timezone: l.Timezone, QuietStart: l.QuietStart, QuietEnd: l.QuietEnd,
		PlanStatus: l.PlanStatus, PlanName: l.PlanName, Archived: l.ArchivedAt != nil,
		PlanCredits: l.PlanCredits, PlanPeriodStart: l.PlanPeriodStart, PlanPeriodMonths: l.PlanPeriodMonths}
}

// TimeLocation is the location's timezone (UTC if it cannot be loaded).
func (l *Location) TimeLocation() *time.Location {
	if tz, err := time.LoadLocation(l.Timezone); err == nil {
		return tz
	}
	return time.UTC
}

// clockOf cuts PostgreSQL's "HH:MM:SS" time to "HH:MM".
func clockOf(p *string) *string {
	if p == nil || len(*p) < 5 {
		return p
	}
	v := (*p)[:5]
	return &v
}

// tidy puts the location's times in the form the pages and the API show.
func (l *Location) tidy() {
	l.QuietStart, l.QuietEnd = clockOf(l.QuietStart), clockOf(l.QuietEnd)
}

// AllLocations lists the organization's locations, archived ones
// included, by id: those after afterID, at most limit (0: all). Managers
// and admins only.
func (s *Store) AllLocations(ctx context.Context, sc Scope, afterID int64, limit int) ([]Location, error) {
	if err := require(sc, PermViewSettings); err != nil {
		return nil, err
	}
	var locs []Location
	q := s.db.NewSelect().Model(&locs).Where("org_id = ? AND id > ?", sc.OrgID, afterID).Order("id")
	if limit > 0 {
		q = q.Limit(int64(limit))
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: all locations: %w", err)
	}
	for i := range locs {
		locs[i].tidy()
	}
	return locs, nil
}

// LocationByID loads one of the organization's locations for its
// settings page (managers and admins); another organization's is ErrNotFound.
func (s *Store) LocationByID(ctx context.Context, sc Scope, id int64) (*Location, error) {
	if err := require(sc, PermViewSettings); err != nil {
		return nil, err
	}
	l := new(Location)
	if err := s.db.NewSelect().Model(l).Where("id = ? AND org_id = ?", id, sc.OrgID).Scan(ctx); err != nil {
		return nil, notFound("location", err)
	}
	l.tidy()
	return l, nil
}

// CreateLocation adds a location (admins only): a name, and by default
// UTC, no quiet hours and an inactive plan.
func (s *Store) CreateLocation(ctx context.Context, sc Scope, in LocationInput) (*Location, error) {
	if err := require(sc, PermManageSettings); err != nil {
		return nil, err
	}
	if in.Name == nil {
		return nil, fieldErr("name", "The name is required.")
	}
	if in.touchesPlan() {
		if err := require(sc, PermManageCredits); err != nil {
			return nil, err
		}
	}
	l := &Location{OrgID: sc.OrgID, Timezone: "UTC", PlanStatus: PlanInactive, PlanPeriodMonths: 1}
	if err := in.apply(l); err != nil {
		return nil, err
	}
	err := s.inTx(ctx, func(tx bun.Tx) error {
		_, err := tx.NewInsert().Model(l).
			Column("org_id", "name", "timezone", "quiet_start", "quiet_end", "plan_status", "plan_name",
				"plan_credits", "plan_period_start", "plan_period_months").
			Returning("*").Exec(ctx)
		if err != nil {
			return locationWriteErr(err)
		}
		l.tidy()
		if err := syncPlan(ctx, tx, l, 0, actorID(sc), time.Now()); err != nil {
			return err
		}
		return audit(ctx, tx, sc, AuditChange{Action: "location.create", TargetType: "location",
			TargetID: l.ID, TargetName: l.Name, After: l.audited()})
	})
	if err != nil {
		return nil, err
	}
	return l, nil
}

// UpdateLocation changes the fields in set (admins only) and records the
// change. Bad input is a *FieldError and changes nothing.
func (s *Store) UpdateLocation(ctx context.Context, sc Scope, id int64, in LocationInput) (*Location, error) {
	if in.touchesPlan() {
		if err := require(sc, PermManageCredits); err != nil {
			return nil, err
		}
	}
	return s.changeLocation(ctx, sc, id, "location.update", func(l *Location) error { return in.apply(l) })
}

// ArchiveLocation archives a location (archived true) or brings it back.
// An archived location keeps its inboxes and history but gets no new inboxes.
func (s *Store) ArchiveLocation(ctx context.Context, sc Scope, id int64, archived bool) (*Location, error) {
	action := "location.unarchive"
	if archived {
		action = "location.archive"
	}
	return s.changeLocation(ctx, sc, id, action, func(l *Location) error {
		switch {
		case archived && l.ArchivedAt == nil:
			now := time.Now().UTC()
			l.ArchivedAt = &now
		case !archived:
			l.ArchivedAt = nil
		}
		return nil
	})
}

// changeLocation locks a location, applies change, and saves and audits
// it if anything changed.
func (s *Store) changeLocation(ctx context.Context, sc Scope, id int64, action string, change func(*Location) error) (*Location, error) {
	if err := require(sc, PermManageSettings); err != nil {
		return nil, err
	}
	l := new(Location)
	err := s.inTx(ctx, func(tx bun.Tx) error {
		if err := tx.NewSelect().Model(l).Where("id = ? AND org_id = ?", id, sc.OrgID).For("UPDATE").Scan(ctx); err != nil {
			return notFound("location", err)
		}
		l.tidy()
		before := l.audited()
		if err := change(l); err != nil {
			return err
		}
		after := l.audited()
		if sameJSON(before, after) {
			return nil
		}
		_, err := tx.NewUpdate().Model(l).
			Column("name", "timezone", "quiet_start", "quiet_end", "plan_status", "plan_name", "archived_at",
				"plan_credits", "plan_period_start", "plan_period_months").
			WherePK().Exec(ctx)
		if err != nil {
			return locationWriteErr(err)
		}
		if err := syncPlan(ctx, tx, l, before.PlanCredits, actorID(sc), time.Now()); err != nil {
			return err
		}
		after = l.audited() // syncPlan may have anchored the plan
		return audit(ctx, tx, sc, AuditChange{Action: action, TargetType: "location",
			TargetID: l.ID, TargetName: l.Name, Before: before, After: after})
	})
	if err != nil {
		return nil, err
	}
	return l, nil
}

// apply validates the input's fields and sets them on l.
func (in LocationInput) apply(l *Location) error {
	if in.Name != nil {
		name, err := cleanName("name", "The name", *in.Name)
		if err != nil {
			return err
		}
		l.Name = name
	}
	if in.Timezone != nil {
		tz := strings.TrimSpace(*in.Timezone)
		if err := ValidTimezone("timezone", tz); err != nil {
			return err
		}
		l.Timezone = tz
	}
	if in.QuietStart != nil || in.QuietEnd != nil {
		start, end := l.QuietStart, l.QuietEnd
		if in.QuietStart != nil {
			start = optClock(*in.QuietStart)
		}
		if in.QuietEnd != nil {
			end = optClock(*in.QuietEnd)
		}
		for _, f := range []struct {
			name string
			v    *string
		}{{"quiet_start", start}, {"quiet_end", end}} {
			if f.v == nil {
				continue
			}
			if m, ok := clockMinutes(*f.v); !ok || m >= 24*60 {
				return fieldErr(f.name, "Write the time as HH:MM (00:00 to 23:59).")
			}
		}
		switch {
		case start == nil && end != nil:
			return fieldErr("quiet_start", "Set when quiet hours start, or clear both times.")
		case start != nil && end == nil:
			return fieldErr("quiet_end", "Set when quiet hours end, or clear both times.")
		case start != nil && *start == *end:
			return fieldErr("quiet_end", "Quiet hours must end at another time than they start.")
		}
		l.QuietStart, l.QuietEnd = start, end
	}
	if in.PlanStatus != nil {
		switch st := strings.TrimSpace(*in.PlanStatus); st {
		case PlanActive, PlanInactive, PlanSuspended:
			l.PlanStatus = st
		default:
			return fieldErr("plan_status", "Choose active, inactive or suspended.")
		}
	}
	if in.PlanName != nil {
		name := strings.TrimSpace(*in.PlanName)
		if err := checkText("plan_name", "The plan name", name); err != nil {
			return err
		}
		if len([]rune(name)) > 100 {
			return fieldErr("plan_name", "The plan name is too long (at most 100 characters).")
		}
		l.PlanName = name
	}
	if in.PlanCredits != nil {
		if *in.PlanCredits < 0 || *in.PlanCredits > MaxPlanCredits {
			return fieldErr("plan_credits", "Enter a whole number of credits from 0 to %d.", MaxPlanCredits)
		}
		l.PlanCredits = *in.PlanCredits
	}
	if in.PlanPeriodStart != nil {
		start := in.PlanPeriodStart.UTC().Truncate(time.Second)
		if start.Year() < 2000 || start.After(time.Now().AddDate(2, 0, 0)) {
			return fieldErr("plan_period_start", "Choose a date from 2000 up to two years from now.")
		}
		l.PlanPeriodStart = &start
	}
	if in.PlanPeriodMonths != nil {
		if *in.PlanPeriodMonths < 1 || *in.PlanPeriodMonths > 36 {
			return fieldErr("plan_period_months", "Choose a period from 1 to 36 months.")
		}
		l.PlanPeriodMonths = *in.PlanPeriodMonths
	}
	return nil
}

// MaxPlanCredits bounds a plan's credits per period.
const MaxPlanCredits = 100_000_000

// actorID is the acting user's id, or nil for a token-less system actor.
func actorID(sc Scope) *int64 {
	if sc.UserID == 0 {
		return nil
	}
	id := sc.UserID
	return &id
}

// optClock reads an optional "HH:MM" ("" is none; "9:30" is "09:30").
func optClock(s string) *string {
	s = padClock(strings.TrimSpace(s))
	if s == "" {
		return nil
	}
	return &s
}

// locationWriteErr explains a refused insert or update.
func locationWriteErr(err error) error {
	if isUniqueViolation(err) {
		return fieldErr("name", "Another location has this name.")
	}
	return fmt.Errorf("store: save location: %w", err)
}
