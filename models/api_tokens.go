package models

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// APIToken is a bearer token for the JSON API. It acts as its user, with
// exactly that user's role and inbox scope; only its SHA-256 is stored.
type APIToken struct {
	bun.BaseModel `bun:"table:api_tokens"`

	ID         int64      `bun:"id,pk,autoincrement" json:"id"`
	OrgID      int64      `bun:"org_id" json:"-"`
	UserID     int64      `bun:"user_id" json:"user_id"`
	Name       string     `bun:"name" json:"name"`
	TokenHash  []byte     `bun:"token_hash" json:"-"`
	CreatedAt  time.Time  `bun:"created_at,nullzero,default:now()" json:"created_at"`
	LastUsedAt *time.Time `bun:"last_used_at" json:"last_used_at"`
	RevokedAt  *time.Time `bun:"revoked_at" json:"revoked_at"`
}

// apiTokenPrefix marks Parley's tokens, so a leaked one is recognisable
// (secret scanners) and a session cookie is never mistaken for one.
const apiTokenPrefix = "pat_"

// newSecret returns a random 256-bit URL-safe string.
func newSecret() (string, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("store: random token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(raw), nil
}

// CreateAPIToken creates a token for the scope's own user and returns it
// in clear: the only time it is ever shown.
func (s *Store) CreateAPIToken(ctx context.Context, sc Scope, name string) (string, *APIToken, error) {
	name = strings.TrimSpace(name)
	if err := checkText("name", "The name", name); err != nil {
		return "", nil, err
	}
	if name == "" || len([]rune(name)) > 100 {
		return "", nil, fieldErr("name", "Give the token a name of 1 to 100 characters.")
	}
	secret, err := newSecret()
	if err != nil {
		return "", nil, err
	}
	token := apiTokenPrefix + secret
	t := &APIToken{OrgID: sc.OrgID, UserID: sc.UserID, Name: name, TokenHash: hashToken(token)}
	err = s.inTx(ctx, func(tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(t).Returning("*").Exec(ctx); err != nil {
			return fmt.Errorf("store: create api token: %w", err)
		}
		return audit(ctx, tx, sc, AuditChange{Action: "token.create", TargetType: "api_token",
			TargetID: t.ID, TargetName: t.Name, After: map[string]any{"name": t.Name, "user_id": t.UserID}})
	})
	if err != nil {
		return "", nil, err
	}
	return token, t, nil
}

// CreateAPITokenForEmail creates a token for the user with this email, for
// the CLI (`parley token create`); the audit log records it as via cli.
func (s *Store) CreateAPITokenForEmail(ctx context.Context, email, name string) (string, error) {
	u := new(User)
	err := s.db.NewSelect().Model(u).Where("email = ?", strings.ToLower(strings.TrimSpace(email))).
		Where("disabled_at IS NULL").Scan(ctx)
	if err != nil {
		return "", notFound("user "+email, err)
	}
	token, _, err := s.CreateAPIToken(ctx, Scope{OrgID: u.OrgID, UserID: u.ID, Role: u.Role, Name: u.Name, Via: ViaCLI}, name)
	return token, err
}

// APITokens lists the scope's own user's tokens, newest first, revoked ones included.
func (s *Store) APITokens(ctx context.Context, sc Scope) ([]APIToken, error) {
	var ts []APIToken
	err := s.db.NewSelect().Model(&ts).Where("org_id = ? AND user_id = ?", sc.OrgID, sc.UserID).
		Order("id DESC").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: api tokens: %w", err)
	}
	return ts, nil
}

// RevokeAPIToken revokes one of the scope's own user's tokens; the next
// request with it gets 401. Revoking a revoked token changes nothing.
func (s *Store) RevokeAPIToken(ctx context.Context, sc Scope, id int64) error {
	return s.inTx(ctx, func(tx bun.Tx) error {
		t := new(APIToken)
		err := tx.NewUpdate().Model(t).Set("revoked_at = now()").
			Where("id = ? AND org_id = ? AND user_id = ? AND revoked_at IS NULL", id, sc.OrgID, sc.UserID).
			Returning("*").Scan(ctx)
		if err != nil {
			return notFound("api token", err)
		}
		return audit(ctx, tx, sc, AuditChange{Action: "token.revoke", TargetType: "api_token",
			TargetID: t.ID, TargetName: t.Name})
	})
}

// UserByAPIToken resolves a bearer token to its user and scope. A revoked
// token, or one whose user is disabled, is ErrNotFound. The token's last
// use is recorded at most once a minute.
func (s *Store) UserByAPIToken(ctx context.Context, token string) (*SessionUser, error) {
	if !strings.HasPrefix(token, apiTokenPrefix) {
		return nil, ErrNotFound
	}
	var row struct {
		TokenID    int64      `bun:"token_id"`
		LastUsedAt *time.Time `bun:"last_used_at"`
		OrgName    string     `bun:"org_name"`
		User
	}
	err := s.db.NewRaw(`SELECT t.id AS token_id, t.last_used_at, o.name AS org_name, u.*
		FROM api_tokens t JOIN users u ON u.id = t.user_id JOIN organizations o ON o.id = u.org_id
		WHERE t.token_hash = ? AND t.revoked_at IS NULL AND u.disabled_at IS NULL`,
		hashToken(token)).Scan(ctx, &row)
	if err != nil {
		return nil, notFound("api token", err)
	}
	if row.LastUsedAt == nil || time.Since(*row.LastUsedAt) > touchEvery {
		if _, err := s.db.NewUpdate().Model((*APIToken)(nil)).Set("last_used_at = now()").
			Where("id = ?", row.TokenID).Exec(ctx); err != nil {
			return nil, fmt.Errorf("store: touch api token: %w", err)
		}
	}
	sc, err := s.scopeFor(ctx, &row.User)
	if err != nil {
		return nil, err
	}
	sc.Via, sc.TokenID = ViaAPI, row.TokenID
	return &SessionUser{OrgName: row.OrgName, User: row.User, Scope: sc}, nil
}
