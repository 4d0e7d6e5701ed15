package models

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// Session is a signed-in browser. Only the SHA-256 of its cookie token is stored.
type Session struct {
	bun.BaseModel `bun:"table:sessions"`

	ID         int64     `bun:"id,pk,autoincrement"`
	TokenHash  []byte    `bun:"token_hash"`
	UserID     int64     `bun:"user_id"`
	CreatedAt  time.Time `bun:"created_at,nullzero,default:now()"`
	LastSeenAt time.Time `bun:"last_seen_at,nullzero,default:now()"`
	ExpiresAt  time.Time `bun:"expires_at"`
	IP         string    `bun:"ip"`
	UserAgent  string    `bun:"user_agent"`
}

// SessionUser is what each authenticated request needs: who, and what they may see.
type SessionUser struct {
	SessionID int64
	OrgName   string
	User      User
	Scope     Scope
}

func hashToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// Authenticate checks an email and password. Unknown email, wrong password
// and disabled user all return ErrInvalidCredentials, in similar time. An
// email that could never be stored (a NUL byte, invalid UTF-8) is a
// *FieldError on "email", refused before the query.
func (s *Store) Authenticate(ctx context.Context, email, password string) (*User, error) {
	if err := checkText("email", "The email", email); err != nil {
		return nil, err
	}
	u := new(User)
	err := s.db.NewSelect().Model(u).
		Where("email = ?", strings.ToLower(strings.TrimSpace(email))).
		Scan(ctx)
	if err != nil {
		checkPassword(password, dummyHash)
		if !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("store: authenticate: %w", err)
		}
		return nil, ErrInvalidCredentials
	}
	if !checkPassword(password, u.PasswordHash) || u.DisabledAt != nil {
		return nil, ErrInvalidCredentials
	}
	return u, nil
}

// CreateSession starts a session for a user and returns the cookie token.
func (s *Store) CreateSession(ctx context.Context, userID int64, ttl time.Duration, ip, userAgent string) (string, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("store: session token: %w", err)
	}
	token := base64.RawURLEncoding.EncodeToString(raw)
	if len(userAgent) > 300 {
		userAgent = userAgent[:300]
	}
	sess := &Session{TokenHash: hashToken(token), UserID: userID, ExpiresAt: time.Now().Add(ttl), IP: ip, UserAgent: userAgent}
	if _, err := s.db.NewInsert().Model(sess).Exec(ctx); err != nil {
		return "", fmt.Errorf("store: create session: %w", err)
	}
	return token, nil
}

// touchEvery bounds how often a busy session's expiry is slid forward:
// one write a minute per browser, not one per request.
const touchEvery = time.Minute

// SessionByToken resolves a cookie token to its user and scope, sliding
// the session's expiry. Expired sessions and disabled users are ErrNotFound.
func (s *Store) SessionByToken(ctx context.Context, token string, ttl time.Duration) (*SessionUser, error) {
	var row struct {
		SessionID  int64     `bun:"session_id"`
		LastSeenAt time.Time `bun:"last_seen_at"`
		OrgName    string    `bun:"org_name"`
		User
	}
	// Every page runs this first: a cached prepared statement, not a new
	// text planned per request (BENCHMARKS.md, B6).
	rows, err := queryCached(ctx, s.db.DB, `SELECT s.id AS session_id, s.last_seen_at, o.name AS org_name, u.*
		FROM sessions s JOIN users u ON u.id = s.user_id JOIN organizations o ON o.id = u.org_id
		WHERE s.token_hash = $1 AND s.expires_at > now() AND u.disabled_at IS NULL`, hashToken(token))
	if err == nil {
		err = s.db.ScanRows(ctx, rows, &row)
	}
	if err == nil && row.SessionID == 0 {
		err = sql.ErrNoRows
	}
	if err != nil {
		return nil, notFound("session", err)
	}
	if time.Since(row.LastSeenAt) > touchEvery {
		if _, err := execCached(ctx, s.db.DB, `UPDATE sessions SET last_seen_at = now(), expires_at = $1 WHERE id = $2`,
			time.Now().Add(ttl), row.SessionID); err != nil {
			return nil, fmt.Errorf("store: touch session: %w", err)
		}
	}
	scope, err := s.scopeFor(ctx, &row.User)
	if err != nil {
		return nil, err
	}
	return &SessionUser{SessionID: row.SessionID, OrgName: row.OrgName, User: row.User, Scope: scope}, nil
}

// scopeFor computes what a user may see.
func (s *Store) scopeFor(ctx context.Context, u *User) (Scope, error) {
	sc := Scope{OrgID: u.OrgID, UserID: u.ID, Role: u.Role, Name: u.Name}
	if u.Role != RoleAgent || u.AllInboxes {
		return sc, nil
	}
	sc.InboxIDs = []int64{}
	err := s.db.NewSelect().Table("user_inboxes").Column("inbox_id").
		Where("user_id = ?", u.ID).Where("org_id = ?", u.OrgID).
		Order("inbox_id").Scan(ctx, &sc.InboxIDs)
	if err != nil {
		return sc, fmt.Errorf("store: user inboxes: %w", err)
	}
	return sc, nil
}

// SessionsEndedFunc is told that a login ended (sessionID), or every login
// of userID (sessionID 0), after the deletion committed: it closes their
// sockets on every node (wired to hub.Hub.EndSessions).
type SessionsEndedFunc func(ctx context.Context, userID, sessionID int64) (int, error)

// OnSessionsEnded sets what EndSession and EndUserSessions tell once the
// sessions are gone. Set it before the store is used.
func (s *Store) OnSessionsEnded(fn SessionsEndedFunc) { s.sessionsEnded = fn }

// EndSession ends one login (logout): the session is deleted and its
// sockets, on every node, are told to close at once.
func (s *Store) EndSession(ctx context.Context, id int64) error {
	var userIDs []int64
	if err := s.db.NewDelete().Model((*Session)(nil)).Where("id = ?", id).
		Returning("user_id").Scan(ctx, &userIDs); err != nil {
		return fmt.Errorf("store: end session: %w", err)
	}
	if len(userIDs) == 0 {
		return nil // already ended
	}
	return s.tellSessionsEnded(ctx, userIDs[0], id)
}

// EndUserSessions ends every login of a user, and closes their sockets on
// every node at once: for a password change or a disabled user.
func (s *Store) EndUserSessions(ctx context.Context, userID int64) error {
	if _, err := s.db.NewDelete().Model((*Session)(nil)).Where("user_id = ?", userID).Exec(ctx); err != nil {
		return fmt.Errorf("store: end user sessions: %w", err)
	}
	// Told even if no row was left: a socket may outlive its row (a
	// session that expired between two re-checks).
	return s.tellSessionsEnded(ctx, userID, 0)
}

// EndOtherSessions ends every login of a user but keepSessionID (a
// password change keeps the browser that made it) and closes those
// logins' sockets on every node, one notice per ended session.
func (s *Store) EndOtherSessions(ctx context.Context, userID, keepSessionID int64) error {
	var ended []int64
	if err := s.db.NewDelete().Model((*Session)(nil)).Where("user_id = ? AND id <> ?", userID, keepSessionID).
		Returning("id").Scan(ctx, &ended); err != nil {
		return fmt.Errorf("store: end other sessions: %w", err)
	}
	for _, id := range ended {
		if err := s.tellSessionsEnded(ctx, userID, id); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) tellSessionsEnded(ctx context.Context, userID, sessionID int64) error {
	if s.sessionsEnded == nil {
		return nil
	}
	if _, err := s.sessionsEnded(ctx, userID, sessionID); err != nil {
		return fmt.Errorf("store: close ended sessions' sockets: %w", err)
	}
	return nil
}

// LiveSessions returns which of ids are still signed in (not expired, their
// user not disabled) and slides their expiry, at most once a minute each,
// as SessionByToken does: open sockets keep their login alive. One query
// for every socket of a node (their periodic re-check).
func (s *Store) LiveSessions(ctx context.Context, ids []int64, ttl time.Duration) ([]int64, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var live []int64
	err := s.db.NewRaw(`WITH live AS (
			SELECT s.id, s.last_seen_at FROM sessions s JOIN users u ON u.id = s.user_id
			WHERE s.id = ANY(?) AND s.expires_at > now() AND u.disabled_at IS NULL),
		touched AS (
			UPDATE sessions SET last_seen_at = now(), expires_at = ?
			WHERE id IN (SELECT id FROM live WHERE last_seen_at < now() - ?::interval))
		SELECT id FROM live`,
		pgdialect.Array(ids), time.Now().Add(ttl), fmt.Sprintf("%d milliseconds", touchEvery.Milliseconds())).
		Scan(ctx, &live)
	if err != nil {
		return nil, fmt.Errorf("store: live sessions: %w", err)
	}
	return live, nil
}

// DeleteExpiredSessions removes sessions past their expiry and returns how many.
func (s *Store) DeleteExpiredSessions(ctx context.Context) (int64, error) {
	res, err := s.db.NewDelete().Model((*Session)(nil)).Where("expires_at <= now()").Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: delete expired sessions: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}
