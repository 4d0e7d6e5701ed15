package models

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// ClosureInput is a holiday or closure as typed: dates as YYYY-MM-DD.
type ClosureInput struct {
	Name     string
	StartsOn string
	EndsOn   string // "" means the same day as StartsOn
}

// closureAudit is what the audit log records of a closure.
type closureAudit struct {
	Name     string `json:"name"`
	StartsOn string `json:"starts_on"`
	EndsOn   string `json:"ends_on"`
}

func (c *Closure) audited() closureAudit {
	return closureAudit{Name: c.Name, StartsOn: c.StartsOn.Format(time.DateOnly), EndsOn: c.EndsOn.Format(time.DateOnly)}
}

// InboxClosures lists an inbox's closures by start date (managers and admins).
func (s *Store) InboxClosures(ctx context.Context, sc Scope, inboxID int64) ([]Closure, error) {
	if err := require(sc, PermViewSettings); err != nil {
		return nil, err
	}
	var cs []Closure
	err := s.db.NewSelect().Model(&cs).Where("inbox_id = ? AND org_id = ?", inboxID, sc.OrgID).
		Order("starts_on", "id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: inbox closures: %w", err)
	}
	return cs, nil
}

// AddClosure adds a closure to an inbox (admins only).
func (s *Store) AddClosure(ctx context.Context, sc Scope, inboxID int64, in ClosureInput) (*Closure, error) {
	if err := require(sc, PermManageSettings); err != nil {
		return nil, err
	}
	name, err := cleanName("closure_name", "The name", in.Name)
	if err != nil {
		return nil, err
	}
	start, err := time.Parse(time.DateOnly, strings.TrimSpace(in.StartsOn))
	if err != nil {
		return nil, fieldErr("starts_on", "Choose the first day (YYYY-MM-DD).")
	}
	end := start
	if strings.TrimSpace(in.EndsOn) != "" {
		if end, err = time.Parse(time.DateOnly, strings.TrimSpace(in.EndsOn)); err != nil {
			return nil, fieldErr("ends_on", "Choose the last day (YYYY-MM-DD).")
		}
	}
	if start.Year() < 1900 || start.Year() > 9999 {
		return nil, fieldErr("starts_on", "Choose a first day between the years 1900 and 9999.")
	}
	if end.Year() > 9999 {
		return nil, fieldErr("ends_on", "Choose a last day before the year 10000.")
	}
	if end.Before(start) {
		return nil, fieldErr("ends_on", "The last day cannot be before the first.")
	}
	c := &Closure{OrgID: sc.OrgID, InboxID: inboxID, Name: name, StartsOn: start, EndsOn: end}
	err = s.inTx(ctx, func(tx bun.Tx) error {
		ib, err := inboxInScope(ctx, tx, sc, inboxID)
		if err != nil {
			return err
		}
		if _, err := tx.NewInsert().Model(c).Column("org_id", "inbox_id", "name", "starts_on", "ends_on").
			Returning("id, created_at").Exec(ctx); err != nil {
			return fmt.Errorf("store: add closure: %w", err)
		}
		return audit(ctx, tx, sc, AuditChange{Action: "inbox.add_closure", TargetType: "inbox",
			TargetID: ib.ID, TargetName: ib.Name, After: c.audited()})
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// RemoveClosure removes one of an inbox's closures (admins only).
func (s *Store) RemoveClosure(ctx context.Context, sc Scope, inboxID, closureID int64) error {
	return removeInboxItem(ctx, s, sc, inboxID, closureID, "closure", "inbox.remove_closure",
		func(c *Closure) any { return c.audited() })
}

// removeInboxItem deletes one row of an inbox's settings (a closure, a
// forwarding rule: a table with id, inbox_id and org_id) and audits what
// it was (admins only).
func removeInboxItem[T any](ctx context.Context, s *Store, sc Scope, inboxID, id int64, what, action string, audited func(*T) any) error {
	if err := require(sc, PermManageSettings); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx bun.Tx) error {
		ib, err := inboxInScope(ctx, tx, sc, inboxID)
		if err != nil {
			return err
		}
		row := new(T)
		err = tx.NewDelete().Model(row).Where("id = ? AND inbox_id = ? AND org_id = ?", id, inboxID, sc.OrgID).
			Returning("*").Scan(ctx)
		if err != nil {
			return notFound(what, err)
		}
		return audit(ctx, tx, sc, AuditChange{Action: action, TargetType: "inbox",
			TargetID: ib.ID, TargetName: ib.Name, Before: audited(row)})
	})
}
