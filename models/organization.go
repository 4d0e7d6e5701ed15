package models

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/uptrace/bun"
)

// OrganizationInput changes an organization's settings; a nil field is
// left as it is (the API's PATCH sends only what changes).
type OrganizationInput struct {
	Name           *string
	DefaultCountry *string // ISO 3166-1 alpha-2
}

// orgAudit is what the audit log records of an organization.
type orgAudit struct {
	Name           string `json:"name"`
	DefaultCountry string `json:"default_country"`
}

// UpdateOrganization changes the scope's organization (admins only) and
// records the change in the audit log. Bad input is a *FieldError and
// changes nothing.
func (s *Store) UpdateOrganization(ctx context.Context, sc Scope, in OrganizationInput) (*Organization, error) {
	if err := require(sc, PermManageSettings); err != nil {
		return nil, err
	}
	o := new(Organization)
	err := s.inTx(ctx, func(tx bun.Tx) error {
		if err := tx.NewSelect().Model(o).Where("id = ?", sc.OrgID).For("UPDATE").Scan(ctx); err != nil {
			return notFound("organization", err)
		}
		before := orgAudit{Name: o.Name, DefaultCountry: o.DefaultCountry}
		if in.Name != nil {
			name, err := cleanName("name", "The name", *in.Name)
			if err != nil {
				return err
			}
			o.Name = name
		}
		if in.DefaultCountry != nil {
			c := strings.ToUpper(strings.TrimSpace(*in.DefaultCountry))
			if !ValidCountry(c) {
				return fieldErr("default_country", "Choose a country (a two-letter ISO code such as US or GB).")
			}
			o.DefaultCountry = c
		}
		after := orgAudit{Name: o.Name, DefaultCountry: o.DefaultCountry}
		if after == before {
			return nil
		}
		if _, err := tx.NewUpdate().Model(o).Column("name", "default_country").WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("store: update organization: %w", err)
		}
		return audit(ctx, tx, sc, AuditChange{Action: "organization.update", TargetType: "organization",
			TargetID: o.ID, TargetName: o.Name, Before: before, After: after})
	})
	if err != nil {
		return nil, err
	}
	return o, nil
}

// cleanName trims a name and checks it is 1 to 200 characters of text.
func cleanName(field, what, s string) (string, error) {
	s = strings.TrimSpace(s)
	if err := checkText(field, what, s); err != nil {
		return "", err
	}
	if s == "" {
		return "", fieldErr(field, "%s is required.", what)
	}
	if len([]rune(s)) > 200 {
		return "", fieldErr(field, "%s is too long (at most 200 characters).", what)
	}
	return s, nil
}

// sameJSON reports whether two audit values encode alike.
func sameJSON(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(x) == string(y)
}
