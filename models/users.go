package models

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// Roles a user can hold.
const (
	RoleAdmin   = "admin"
	RoleManager = "manager"
	RoleAgent   = "agent"
)

// User is a team member of one organization.
type User struct {
	bun.BaseModel `bun:"table:users"`

	ID           int64      `bun:"id,pk,autoincrement"`
	OrgID        int64      `bun:"org_id"`
	Email        string     `bun:"email"`
	Name         string     `bun:"name"`
	Role         string     `bun:"role"`
	PasswordHash string     `bun:"password_hash"`
	AllInboxes   bool       `bun:"all_inboxes"`
	DisabledAt   *time.Time `bun:"disabled_at"`
	// IsOperator: an instance operator (the Asynq dashboard, instance
	// health); it grants nothing inside other organizations.
	IsOperator bool `bun:"is_operator"`
	// Profile preferences: Timezone "" means the browser's.
	Timezone string `bun:"timezone"`
	// Clock is "12" or "24" (hours), or "" to follow the browser's locale.
	Clock             string    `bun:"clock"`
	NotifySound       bool      `bun:"notify_sound"`
	NotifyDesktop     bool      `bun:"notify_desktop"`
	PasswordChangedAt time.Time `bun:"password_changed_at,nullzero,default:now()"`
	CreatedAt         time.Time `bun:"created_at,nullzero,default:now()"`
}

// Uses24h reports whether the user chose the 24-hour clock.
func (u *User) Uses24h() bool { return u.Clock == Clock24 }

// The clocks a profile may choose ("" follows the browser's locale).
const (
	Clock12 = "12"
	Clock24 = "24"
)

// IsAdmin reports whether the user administers the organization.
func (u *User) IsAdmin() bool { return u.Role == RoleAdmin }

// Scope is what a signed-in user may see: every Store read and write that
// serves a user takes one, so a query can never leave its organization (or,
// for a limited agent, its inboxes).
type Scope struct {
	OrgID  int64
	UserID int64
	Role   string
	// InboxIDs lists the inboxes a limited agent may see; nil means all of
	// the organization's inboxes.
	InboxIDs []int64

	// Who is acting, for the audit log: set per request, not part of what
	// the scope may see.
	Name    string // the user's name when the change was made
	Via     string // ViaWeb, ViaAPI, ViaCLI or ViaSystem ("" counts as web)
	IP      string // the client's address
	TokenID int64  // the API token, when Via is ViaAPI
}

// AllInboxes reports whether the scope covers every inbox of the organization.
func (s Scope) AllInboxes() bool { return s.InboxIDs == nil }

// CanSeeInbox reports whether the scope includes the inbox (which must
// already be known to belong to s.OrgID).
func (s Scope) CanSeeInbox(id int64) bool {
	if s.InboxIDs == nil {
		return true
	}
	for _, x := range s.InboxIDs {
		if x == id {
			return true
		}
	}
	return false
}

// visibleInboxes restricts a query to the scope's inboxes; col names the
// query's inbox id column. Every scoped query goes through it (R9).
func visibleInboxes(q *bun.SelectQuery, sc Scope, col string) *bun.SelectQuery {
	if sc.AllInboxes() {
		return q
	}
	return q.Where(col+" = ANY(?)", pgdialect.Array(sc.InboxIDs))
}

// Assignees lists who a conversation in the inbox may be assigned to:
// enabled users of the organization who can see the inbox.
func (s *Store) Assignees(ctx context.Context, sc Scope, inboxID int64) ([]User, error) {
	var users []User
	err := s.db.NewSelect().Model(&users).
		Where("org_id = ? AND disabled_at IS NULL", sc.OrgID).
		Where("(role <> 'agent' OR all_inboxes OR id IN (SELECT user_id FROM user_inboxes WHERE inbox_id = ?))", inboxID).
		Order("name", "id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: assignees: %w", err)
	}
	return users, nil
}
