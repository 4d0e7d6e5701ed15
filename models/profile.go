package models

import (
	"context"
	"fmt"
	"strings"
	// The time zone database, so a profile's zone is validated the same
	// on a host without /usr/share/zoneinfo.
	_ "time/tzdata"

	"github.com/uptrace/bun"
)

// Profile is what a user sets for themselves on the profile page.
type Profile struct {
	Name string `json:"name"`
	// Timezone is an IANA zone ("" = the browser's).
	Timezone string `json:"timezone"`
	// Clock is Clock12, Clock24, or "" (the browser's locale).
	Clock         string `json:"clock"`
	NotifySound   bool   `json:"notify_sound"`
	NotifyDesktop bool   `json:"notify_desktop"`
}

// CheckTimezone validates an IANA time zone name ("" is allowed: the browser's).
func CheckTimezone(tz string) error {
	if tz == "" {
		return nil
	}
	if err := checkText("timezone", "The time zone", tz); err != nil {
		return err
	}
	if len(tz) > 64 {
		return fieldErr("timezone", "Choose a time zone from the list, such as America/New_York, or leave it empty for your browser's.")
	}
	return ValidTimezone("timezone", tz)
}

// UpdateProfile saves the scope's own user's name and preferences.
func (s *Store) UpdateProfile(ctx context.Context, sc Scope, p Profile) (*User, error) {
	p.Name, p.Timezone = strings.TrimSpace(p.Name), strings.TrimSpace(p.Timezone)
	if err := checkText("name", "The name", p.Name); err != nil {
		return nil, err
	}
	if p.Name == "" || len([]rune(p.Name)) > 200 {
		return nil, fieldErr("name", "Enter a name of 1 to 200 characters.")
	}
	if err := CheckTimezone(p.Timezone); err != nil {
		return nil, err
	}
	if p.Clock != "" && p.Clock != Clock12 && p.Clock != Clock24 {
		return nil, fieldErr("clock", "Choose the 12-hour or the 24-hour clock, or your browser's.")
	}
	u := new(User)
	err := s.inTx(ctx, func(tx bun.Tx) error {
		before := new(User)
		if err := tx.NewSelect().Model(before).Where("id = ? AND org_id = ?", sc.UserID, sc.OrgID).For("UPDATE").Scan(ctx); err != nil {
			return notFound("user", err)
		}
		err := tx.NewUpdate().Model(u).
			Set("name = ?, timezone = ?, clock = ?, notify_sound = ?, notify_desktop = ?",
				p.Name, p.Timezone, p.Clock, p.NotifySound, p.NotifyDesktop).
			Where("id = ?", sc.UserID).Returning("*").Scan(ctx)
		if err != nil {
			return fmt.Errorf("store: update profile: %w", err)
		}
		old := Profile{Name: before.Name, Timezone: before.Timezone, Clock: before.Clock,
			NotifySound: before.NotifySound, NotifyDesktop: before.NotifyDesktop}
		if old == p {
			return nil
		}
		return audit(ctx, tx, sc, AuditChange{Action: "user.profile", TargetType: "user", TargetID: u.ID,
			TargetName: u.Name, Before: old, After: p})
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// ChangePassword changes the scope's own user's password: the current one
// must match. Every other session of the user (sessionID is kept) is ended
// and their sockets closed after the commit.
func (s *Store) ChangePassword(ctx context.Context, sc Scope, sessionID int64, current, next string) error {
	if len(next) < MinPasswordLength {
		return fieldErr("new_password", "Use at least %d characters.", MinPasswordLength)
	}
	if err := checkText("new_password", "The password", next); err != nil {
		return err
	}
	u := new(User)
	if err := s.db.NewSelect().Model(u).Where("id = ? AND org_id = ?", sc.UserID, sc.OrgID).Scan(ctx); err != nil {
		return notFound("user", err)
	}
	if !checkPassword(current, u.PasswordHash) {
		return fieldErr("current_password", "That is not your current password.")
	}
	hash, err := HashPassword(next)
	if err != nil {
		return err
	}
	err = s.inTx(ctx, func(tx bun.Tx) error {
		if _, err := tx.NewUpdate().Model((*User)(nil)).Set("password_hash = ?, password_changed_at = now()", hash).
			Where("id = ?", u.ID).Exec(ctx); err != nil {
			return fmt.Errorf("store: change password: %w", err)
		}
		if err := cancelPasswordLinks(ctx, tx, u.ID); err != nil {
			return err
		}
		return audit(ctx, tx, sc, AuditChange{Action: "user.password_change", TargetType: "user",
			TargetID: u.ID, TargetName: u.Name})
	})
	if err != nil {
		return err
	}
	return s.EndOtherSessions(ctx, u.ID, sessionID)
}
