package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// DemoOptions configures SeedDemo.
type DemoOptions struct {
	AdminEmail    string
	AdminPassword string
	AgentEmail    string
	AgentPassword string
	SMSNumber     string
	EmailAddress  string
	// PlanCredits is the demo plan's credits per month (0: 5,000). Only a
	// new demo location gets them.
	PlanCredits int
}

// DemoResult says what SeedDemo found or created.
type DemoResult struct {
	Org          Organization
	Location     Location
	Inbox        Inbox
	Admin, Agent User
	// AdminCreated / AgentCreated are false when the user already existed;
	// an existing user's password is left as it is.
	AdminCreated, AgentCreated bool
}

// SeedDemo makes sure the demo organization exists: "Demo" with one
// location on an active Chat plan, one inbox with an SMS number and an
// email address, an admin (an instance operator too) and an agent. Running
// it again changes nothing that already exists (passwords included), except
// that the demo admin is made an operator if it is not one.
func (s *Store) SeedDemo(ctx context.Context, o DemoOptions) (*DemoResult, error) {
	adminHash, err := HashPassword(o.AdminPassword)
	if err != nil {
		return nil, fmt.Errorf("admin %w", err)
	}
	agentHash, err := HashPassword(o.AgentPassword)
	if err != nil {
		return nil, fmt.Errorf("agent %w", err)
	}
	r := &DemoResult{}
	err = s.inTx(ctx, func(tx bun.Tx) error {
		r.Org = Organization{Name: "Demo", Slug: "demo"}
		if err := findOrInsert(ctx, tx, &r.Org, "slug = ?", r.Org.Slug); err != nil {
			return err
		}
		now := time.Now().UTC().Truncate(time.Second)
		credits := o.PlanCredits
		if credits <= 0 {
			credits = 5000
		}
		r.Location = Location{OrgID: r.Org.ID, Name: "Main Office", Timezone: "America/New_York",
			PlanStatus: PlanActive, PlanName: fmt.Sprintf("Chat %d", credits), PlanCredits: credits, PlanPeriodStart: &now, PlanPeriodMonths: 1}
		if err := findOrInsert(ctx, tx, &r.Location, "org_id = ? AND name = ?", r.Org.ID, r.Location.Name); err != nil {
			return err
		}
		// The plan's first period (nothing when the location had it).
		if err := syncPlan(ctx, tx, &r.Location, r.Location.PlanCredits, nil, now); err != nil {
			return err
		}
		num, addr := o.SMSNumber, o.EmailAddress
		r.Inbox = Inbox{OrgID: r.Org.ID, LocationID: r.Location.ID, Name: "Front Desk", SMSNumber: &num, EmailAddress: &addr,
			HelpText: "Demo front desk. Reply to chat with our team. Reply STOP to opt out."}
		if err := findOrInsert(ctx, tx, &r.Inbox, "org_id = ? AND name = ?", r.Org.ID, r.Inbox.Name); err != nil {
			return err
		}
		r.Admin = User{OrgID: r.Org.ID, Email: o.AdminEmail, Name: "Avery Admin", Role: RoleAdmin, PasswordHash: adminHash, AllInboxes: true, IsOperator: true, NotifySound: true}
		if r.AdminCreated, err = insertUserOnce(ctx, tx, &r.Admin); err != nil {
			return err
		}
		// The demo admin operates the instance too (the Queues dashboard),
		// also when the user predates operators.
		if !r.Admin.IsOperator {
			if _, err := tx.NewUpdate().Model(&r.Admin).Set("is_operator = true").WherePK().Exec(ctx); err != nil {
				return fmt.Errorf("demo admin operator: %w", err)
			}
			r.Admin.IsOperator = true
		}
		r.Agent = User{OrgID: r.Org.ID, Email: o.AgentEmail, Name: "Sam Agent", Role: RoleAgent, PasswordHash: agentHash, AllInboxes: true, NotifySound: true}
		if r.AgentCreated, err = insertUserOnce(ctx, tx, &r.Agent); err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: seed demo: %w", err)
	}
	return r, nil
}

// findOrInsert loads the row matching where into model, or inserts model.
func findOrInsert(ctx context.Context, tx bun.Tx, model any, where string, args ...any) error {
	err := tx.NewSelect().Model(model).Where(where, args...).Limit(1).Scan(ctx)
	if err == nil {
		return nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("find %T: %w", model, err)
	}
	if _, err := tx.NewInsert().Model(model).Returning("*").Exec(ctx); err != nil {
		return fmt.Errorf("insert %T: %w", model, err)
	}
	return nil
}

// insertUserOnce inserts u unless a user with that email exists, which it
// loads instead. It refuses an existing email owned by another organization.
func insertUserOnce(ctx context.Context, tx bun.Tx, u *User) (bool, error) {
	want := u.OrgID
	existing := new(User)
	err := tx.NewSelect().Model(existing).Where("email = ?", u.Email).Scan(ctx)
	switch {
	case err == nil:
		if existing.OrgID != want {
			return false, fmt.Errorf("user %s belongs to another organization: %w", u.Email, ErrConflict)
		}
		*u = *existing
		return false, nil
	case !errors.Is(err, sql.ErrNoRows):
		return false, fmt.Errorf("find user: %w", err)
	}
	if _, err := tx.NewInsert().Model(u).Returning("*").Exec(ctx); err != nil {
		return false, fmt.Errorf("insert user: %w", err)
	}
	return true, nil
}
