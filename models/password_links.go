package models

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// Purposes of a one-time password link.
const (
	PurposeInvite = "invite" // a new user sets a first password (7 days)
	PurposeReset  = "reset"  // an admin's reset (24 hours)
)

// linkTTL is how long each purpose's link stays valid.
var linkTTL = map[string]time.Duration{PurposeInvite: 7 * 24 * time.Hour, PurposeReset: 24 * time.Hour}

// ErrLinkGone: the password link was used already or has expired (the
// page answers 410 Gone and says to ask for a new one).
var ErrLinkGone = errors.New("password link used or expired")

// PasswordLink is a one-time link to set a password; only the SHA-256 of
// its token is stored.
type PasswordLink struct {
	bun.BaseModel `bun:"table:password_links"`

	ID        int64      `bun:"id,pk,autoincrement"`
	UserID    int64      `bun:"user_id"`
	TokenHash []byte     `bun:"token_hash"`
	Purpose   string     `bun:"purpose"`
	CreatedBy *int64     `bun:"created_by"`
	CreatedAt time.Time  `bun:"created_at,nullzero,default:now()"`
	ExpiresAt time.Time  `bun:"expires_at"`
	UsedAt    *time.Time `bun:"used_at"`
}

// newPasswordLink stores a link for u in the caller's transaction and
// returns its token (shown once, to the admin who passes it on).
func newPasswordLink(ctx context.Context, tx bun.Tx, sc Scope, u *User, purpose string) (string, error) {
	// A newer link replaces any the user still holds.
	if err := cancelPasswordLinks(ctx, tx, u.ID); err != nil {
		return "", err
	}
	token, err := newSecret()
	if err != nil {
		return "", err
	}
	l := &PasswordLink{UserID: u.ID, TokenHash: hashToken(token), Purpose: purpose,
		ExpiresAt: time.Now().Add(linkTTL[purpose])}
	if sc.UserID != 0 {
		l.CreatedBy = &sc.UserID
	}
	if _, err := tx.NewInsert().Model(l).Exec(ctx); err != nil {
		return "", fmt.Errorf("store: create password link: %w", err)
	}
	return token, nil
}

// cancelPasswordLinks spends every link the user has not used: a newer
// link, a password change or a disabled account ends them.
func cancelPasswordLinks(ctx context.Context, tx bun.Tx, userID int64) error {
	if _, err := tx.NewUpdate().Model((*PasswordLink)(nil)).Set("used_at = now()").
		Where("user_id = ? AND used_at IS NULL", userID).Exec(ctx); err != nil {
		return fmt.Errorf("store: cancel password links: %w", err)
	}
	return nil
}

// ResetPasswordLink creates a one-time reset link (valid 24 hours) for a
// user of the scope's organization (admins only) and returns its token.
// The user's password is unchanged until the link is used; a user who was
// invited and never signed up gets a fresh invitation instead.
func (s *Store) ResetPasswordLink(ctx context.Context, sc Scope, userID int64) (string, error) {
	if err := require(sc, PermManageTeam); err != nil {
		return "", err
	}
	if userID == sc.UserID {
		// A link would skip the current-password check the profile asks for.
		return "", fieldErr("password", "Change your own password on your profile.")
	}
	var token string
	err := s.inTx(ctx, func(tx bun.Tx) error {
		u, err := teamUser(ctx, tx, sc.OrgID, userID, true)
		if err != nil {
			return err
		}
		// An operator's account opens the whole instance: only another
		// operator may hand out a way into it.
		if u.IsOperator {
			if err := requireOperator(ctx, tx, sc); err != nil {
				return err
			}
		}
		if u.DisabledAt != nil {
			return fieldErr("password", "%s is disabled: enable the account first.", u.Name)
		}
		purpose, action := PurposeReset, "user.password_reset"
		if u.Invited {
			purpose, action = PurposeInvite, "user.invite"
		}
		if token, err = newPasswordLink(ctx, tx, sc, &u.User, purpose); err != nil {
			return err
		}
		return audit(ctx, tx, sc, AuditChange{Action: action, TargetType: "user", TargetID: u.ID,
			TargetName: u.Name, After: map[string]any{"link": purpose}})
	})
	return token, err
}

// PasswordLinkInfo is what the set-a-password page shows.
type PasswordLinkInfo struct {
	Purpose   string
	Name      string
	Email     string
	ExpiresAt time.Time
}

// PasswordLinkByToken looks a link up: ErrNotFound if there is no such
// link, ErrLinkGone if it was used or has expired (or its user is disabled).
func (s *Store) PasswordLinkByToken(ctx context.Context, token string) (*PasswordLinkInfo, error) {
	var row struct {
		PasswordLink
		Name     string     `bun:"name"`
		Email    string     `bun:"email"`
		Disabled *time.Time `bun:"disabled_at"`
	}
	err := s.db.NewRaw(`SELECT l.*, u.name, u.email, u.disabled_at FROM password_links l
		JOIN users u ON u.id = l.user_id WHERE l.token_hash = ?`, hashToken(token)).Scan(ctx, &row)
	if err != nil {
		return nil, notFound("password link", err)
	}
	if row.UsedAt != nil || !row.ExpiresAt.After(time.Now()) || row.Disabled != nil {
		return nil, fmt.Errorf("store: password link: %w", ErrLinkGone)
	}
	return &PasswordLinkInfo{Purpose: row.Purpose, Name: row.Name, Email: row.Email, ExpiresAt: row.ExpiresAt}, nil
}

// UsePasswordLink sets the link's user's password and marks the link (and
// the user's other open links) used, once: a second use is ErrLinkGone.
// Every session of the user is ended after the commit; nobody is signed
// in. ip is the client's, for the audit log.
func (s *Store) UsePasswordLink(ctx context.Context, token, password, ip string) error {
	if len(password) < MinPasswordLength {
		return fieldErr("password", "Use at least %d characters.", MinPasswordLength)
	}
	if err := checkText("password", "The password", password); err != nil {
		return err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	var userID int64
	err = s.inTx(ctx, func(tx bun.Tx) error {
		l := new(PasswordLink)
		if err := tx.NewSelect().Model(l).Where("token_hash = ?", hashToken(token)).For("UPDATE").Scan(ctx); err != nil {
			return notFound("password link", err)
		}
		u := new(User)
		if err := tx.NewSelect().Model(u).Where("id = ?", l.UserID).For("UPDATE").Scan(ctx); err != nil {
			return notFound("user", err)
		}
		if l.UsedAt != nil || !l.ExpiresAt.After(time.Now()) || u.DisabledAt != nil {
			return fmt.Errorf("store: password link: %w", ErrLinkGone)
		}
		if _, err := tx.NewUpdate().Model((*PasswordLink)(nil)).Set("used_at = now()").
			Where("user_id = ? AND used_at IS NULL", u.ID).Exec(ctx); err != nil {
			return fmt.Errorf("store: use password link: %w", err)
		}
		if _, err := tx.NewUpdate().Model((*User)(nil)).Set("password_hash = ?, password_changed_at = now()", hash).
			Where("id = ?", u.ID).Exec(ctx); err != nil {
			return fmt.Errorf("store: set password: %w", err)
		}
		userID = u.ID
		sc := Scope{OrgID: u.OrgID, UserID: u.ID, Role: u.Role, Name: u.Name, Via: ViaWeb, IP: ip}
		return audit(ctx, tx, sc, AuditChange{Action: "user.password_set", TargetType: "user", TargetID: u.ID,
			TargetName: u.Name, After: map[string]any{"link": l.Purpose}})
	})
	if err != nil {
		return err
	}
	return s.EndUserSessions(ctx, userID)
}
