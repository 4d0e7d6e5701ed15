package models

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// ErrAlreadySetUp: first run was asked for while an organization exists.
// It is an ErrConflict.
var ErrAlreadySetUp = fmt.Errorf("an organization already exists: %w", ErrConflict)

// NewOrganization is what CreateOrganization makes: an organization, its
// first location and its first admin. Field errors name the form fields:
// name, location_name, timezone, admin_name, admin_email, admin_password.
type NewOrganization struct {
	Name          string
	LocationName  string
	Timezone      string // an IANA zone Go's time.LoadLocation knows
	AdminName     string
	AdminEmail    string
	AdminPassword string
	// FirstRun creates the instance's first organization: refused with
	// ErrAlreadySetUp once one exists, and its admin is an operator.
	FirstRun bool
}

// CreatedOrganization is what CreateOrganization made.
type CreatedOrganization struct {
	Org      Organization
	Location Location
	Admin    User
}

// Length limits of what CreateOrganization names (the schema's own).
const (
	maxOrgName      = 200
	maxLocationName = 200
	maxUserName     = 200
)

// validate trims the input and returns every bad field at once (joined
// *FieldErrors, the first of which errors.As finds).
func (in *NewOrganization) validate() error {
	in.Name = strings.TrimSpace(in.Name)
	in.LocationName = strings.TrimSpace(in.LocationName)
	in.Timezone = strings.TrimSpace(in.Timezone)
	in.AdminName = strings.TrimSpace(in.AdminName)
	var errs []error
	name := func(field, what, v string, max int) {
		if err := checkText(field, what, v); err != nil {
			errs = append(errs, err)
		} else if v == "" || len([]rune(v)) > max {
			errs = append(errs, fieldErr(field, "%s must be 1 to %d characters.", what, max))
		}
	}
	name("name", "The organization's name", in.Name, maxOrgName)
	name("location_name", "The location's name", in.LocationName, maxLocationName)
	if err := ValidTimezone("timezone", in.Timezone); err != nil {
		errs = append(errs, err)
	}
	name("admin_name", "The admin's name", in.AdminName, maxUserName)
	if email, ok := ParseEmail(in.AdminEmail); !ok || checkText("admin_email", "", in.AdminEmail) != nil {
		errs = append(errs, fieldErr("admin_email", "Enter an email address such as name@example.com."))
	} else {
		in.AdminEmail = email
	}
	if len(in.AdminPassword) < MinPasswordLength {
		errs = append(errs, fieldErr("admin_password", "Use at least %d characters.", MinPasswordLength))
	} else if len(in.AdminPassword) > 1000 {
		errs = append(errs, fieldErr("admin_password", "Use at most 1000 characters."))
	}
	return errors.Join(errs...)
}

// ValidTimezone checks that tz is an IANA time zone name Go's tz database
// knows ("UTC" included; "Local" and "" are not zones). field names the
// form field a *FieldError goes next to.
func ValidTimezone(field, tz string) error {
	if tz == "" || tz == "Local" || strings.ContainsAny(tz, "\x00\\") || strings.HasPrefix(tz, "/") || strings.Contains(tz, "..") {
		return fieldErr(field, "Choose a time zone from the list, such as America/New_York.")
	}
	if _, err := time.LoadLocation(tz); err != nil {
		return fieldErr(field, "%q is not a time zone. Choose one from the list, such as America/New_York.", tz)
	}
	return nil
}

// CreateOrganization creates an organization with its first location (on
// an inactive Chat plan) and its first admin, and audit-logs all three, in
// one transaction. With in.FirstRun it is the instance's first-run: the
// table is locked and the creation refused with ErrAlreadySetUp if any
// organization exists, so two racing first-runs cannot both succeed, and
// the admin becomes an instance operator (the audit actor is that admin
// unless sc names one). Otherwise only an operator, or the CLI (Via cli),
// may create one. A taken email is a *FieldError on admin_email.
func (s *Store) CreateOrganization(ctx context.Context, sc Scope, in NewOrganization) (*CreatedOrganization, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	hash, err := HashPassword(in.AdminPassword)
	if err != nil {
		return nil, fieldErr("admin_password", "Use at least %d characters.", MinPasswordLength)
	}
	r := &CreatedOrganization{}
	err = s.inTx(ctx, func(tx bun.Tx) error {
		if in.FirstRun {
			// SHARE ROW EXCLUSIVE conflicts with itself and with every
			// insert: a racing first-run waits, then sees this one's row.
			if _, err := tx.ExecContext(ctx, "LOCK TABLE organizations IN SHARE ROW EXCLUSIVE MODE"); err != nil {
				return fmt.Errorf("lock organizations: %w", err)
			}
			exists, err := tx.NewSelect().Model((*Organization)(nil)).Exists(ctx)
			if err != nil {
				return fmt.Errorf("any organization: %w", err)
			}
			if exists {
				return ErrAlreadySetUp
			}
		} else if err := requireOperator(ctx, tx, sc); err != nil {
			return err
		}
		taken, err := tx.NewSelect().Model((*User)(nil)).Where("email = ?", in.AdminEmail).Exists(ctx)
		if err != nil {
			return fmt.Errorf("email taken: %w", err)
		}
		if taken {
			return fieldErr("admin_email", "Someone already signs in with this email. Use another.")
		}
		slug, err := freeSlug(ctx, tx, in.Name)
		if err != nil {
			return err
		}
		r.Org = Organization{Name: in.Name, Slug: slug}
		if _, err := tx.NewInsert().Model(&r.Org).Returning("*").Exec(ctx); err != nil {
			return fmt.Errorf("insert organization: %w", err)
		}
		r.Location = Location{OrgID: r.Org.ID, Name: in.LocationName, Timezone: in.Timezone, PlanStatus: PlanInactive}
		if _, err := tx.NewInsert().Model(&r.Location).Returning("*").Exec(ctx); err != nil {
			return fmt.Errorf("insert location: %w", err)
		}
		r.Admin = User{OrgID: r.Org.ID, Email: in.AdminEmail, Name: in.AdminName, Role: RoleAdmin,
			PasswordHash: hash, AllInboxes: true, IsOperator: in.FirstRun}
		if _, err := tx.NewInsert().Model(&r.Admin).Returning("*").Exec(ctx); err != nil {
			if isUniqueViolation(err) {
				return fieldErr("admin_email", "Someone already signs in with this email. Use another.")
			}
			return fmt.Errorf("insert admin: %w", err)
		}
		return auditNewOrganization(ctx, tx, sc, r, in.FirstRun)
	})
	if err != nil {
		var fe *FieldError
		if errors.As(err, &fe) || errors.Is(err, ErrNotFound) || errors.Is(err, ErrAlreadySetUp) {
			return nil, err
		}
		return nil, fmt.Errorf("store: create organization: %w", err)
	}
	return r, nil
}

// auditNewOrganization records the organization, its location and its
// admin in the new organization's audit log.
func auditNewOrganization(ctx context.Context, tx bun.Tx, sc Scope, r *CreatedOrganization, firstRun bool) error {
	asc := sc
	asc.OrgID = r.Org.ID
	if firstRun && sc.UserID == 0 && sc.Via != ViaCLI {
		// The first-run page has no signed-in user: the admin it creates acts.
		asc.UserID, asc.Name = r.Admin.ID, r.Admin.Name
	}
	changes := []AuditChange{
		{Action: "organization.create", TargetType: "organization", TargetID: r.Org.ID, TargetName: r.Org.Name,
			After: map[string]any{"name": r.Org.Name, "slug": r.Org.Slug, "first_run": firstRun}},
		{Action: "location.create", TargetType: "location", TargetID: r.Location.ID, TargetName: r.Location.Name,
			After: map[string]any{"name": r.Location.Name, "timezone": r.Location.Timezone}},
		{Action: "user.create", TargetType: "user", TargetID: r.Admin.ID, TargetName: r.Admin.Name,
			After: map[string]any{"email": r.Admin.Email, "name": r.Admin.Name, "role": r.Admin.Role, "is_operator": r.Admin.IsOperator}},
	}
	for _, ch := range changes {
		if err := audit(ctx, tx, asc, ch); err != nil {
			return err
		}
	}
	return nil
}

// freeSlug derives an organization slug from its name ("Acme Dental" →
// "acme-dental") and adds -2, -3, … until it is free.
func freeSlug(ctx context.Context, tx bun.Tx, name string) (string, error) {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
	}
	base := strings.TrimRight(b.String(), "-")
	if len(base) > 50 {
		base = strings.TrimRight(base[:50], "-")
	}
	if base == "" {
		base = "org"
	}
	for i := 1; i < 1000; i++ {
		slug := base
		if i > 1 {
			slug = fmt.Sprintf("%s-%d", base, i)
		}
		taken, err := tx.NewSelect().Model((*Organization)(nil)).Where("slug = ?", slug).Exists(ctx)
		if err != nil {
			return "", fmt.Errorf("slug taken: %w", err)
		}
		if !taken {
			return slug, nil
		}
	}
	return "", fmt.Errorf("no free slug for %q: %w", name, ErrConflict)
}

// requireOperator refuses (ErrForbidden, a 404) unless the scope's user is
// an instance operator or the change comes from the CLI, which acts with
// the authority of whoever runs it on the server.
func requireOperator(ctx context.Context, db bun.IDB, sc Scope) error {
	if sc.Via == ViaCLI {
		return nil
	}
	if sc.UserID == 0 {
		return ErrForbidden
	}
	ok, err := db.NewSelect().Model((*User)(nil)).
		Where("id = ? AND is_operator AND disabled_at IS NULL", sc.UserID).Exists(ctx)
	if err != nil {
		return fmt.Errorf("store: operator check: %w", err)
	}
	if !ok {
		return ErrForbidden
	}
	return nil
}

// HasOrganization reports whether any organization exists (first run is
// over once one does).
func (s *Store) HasOrganization(ctx context.Context) (bool, error) {
	ok, err := s.db.NewSelect().Model((*Organization)(nil)).Exists(ctx)
	if err != nil {
		return false, fmt.Errorf("store: any organization: %w", err)
	}
	return ok, nil
}

// SetOperator makes the user with this email an instance operator, or
// stops them being one, and audit-logs it as an instance-wide change (no
// organization). Only an operator or the CLI may. It returns the user; an
// unknown email is ErrNotFound, and a change to what already holds is
// recorded nowhere.
func (s *Store) SetOperator(ctx context.Context, sc Scope, email string, operator bool) (*User, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	u := new(User)
	err := s.inTx(ctx, func(tx bun.Tx) error {
		if err := requireOperator(ctx, tx, sc); err != nil {
			return err
		}
		if err := tx.NewSelect().Model(u).Where("email = ?", email).For("UPDATE").Scan(ctx); err != nil {
			return notFound("user "+email, err)
		}
		if u.IsOperator == operator {
			return nil
		}
		before := u.IsOperator
		if _, err := tx.NewUpdate().Model(u).Set("is_operator = ?", operator).WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("store: set operator: %w", err)
		}
		u.IsOperator = operator
		action := "operator.grant"
		if !operator {
			action = "operator.revoke"
		}
		asc := sc
		asc.OrgID = 0 // instance-wide
		return audit(ctx, tx, asc, AuditChange{Action: action, TargetType: "user", TargetID: u.ID, TargetName: u.Name,
			Before: map[string]any{"is_operator": before}, After: map[string]any{"is_operator": operator}})
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// InstanceOrganization is one organization as operators see it.
type InstanceOrganization struct {
	ID        int64     `bun:"id"`
	Name      string    `bun:"name"`
	Slug      string    `bun:"slug"`
	CreatedAt time.Time `bun:"created_at"`
	Users     int       `bun:"users"`
	Inboxes   int       `bun:"inboxes"`
}

// InstanceOrganizations lists every organization with its counts of
// enabled users and unarchived inboxes, oldest first. Operators only
// (ErrForbidden otherwise).
func (s *Store) InstanceOrganizations(ctx context.Context, sc Scope) ([]InstanceOrganization, error) {
	if err := requireOperator(ctx, s.db, sc); err != nil {
		return nil, err
	}
	var out []InstanceOrganization
	err := s.db.NewRaw(`SELECT o.id, o.name, o.slug, o.created_at,
		(SELECT count(*) FROM users u WHERE u.org_id = o.id AND u.disabled_at IS NULL) AS users,
		(SELECT count(*) FROM inboxes i WHERE i.org_id = o.id AND i.archived_at IS NULL) AS inboxes
		FROM organizations o ORDER BY o.created_at, o.id LIMIT 1000`).Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("store: instance organizations: %w", err)
	}
	return out, nil
}
