package models

import (
	"context"
	"fmt"
	"net/mail"
	"slices"
	"strings"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// TeamUser is a user as the team pages and the API show them: the user and,
// for an agent limited to chosen inboxes, those inboxes.
type TeamUser struct {
	User
	// InboxIDs are the chosen inboxes of a "chat agent only" (empty when
	// the user sees every inbox).
	InboxIDs []int64 `bun:"inbox_ids,array"`
	// Invited: the user has never set a password (an invitation not yet used).
	Invited bool `bun:"invited"`
}

// SeesAllInboxes reports whether the user sees every inbox of the organization.
func (u *TeamUser) SeesAllInboxes() bool { return u.Role != RoleAgent || u.AllInboxes }

// HasInbox reports whether id is one of the user's chosen inboxes.
func (u *TeamUser) HasInbox(id int64) bool { return slices.Contains(u.InboxIDs, id) }

// invitedHash is the password hash of a user invited but not yet signed
// up: no password ever matches it (it is not an argon2id hash).
const invitedHash = "!invited"

const teamUserSelect = `SELECT u.*, u.password_hash = '` + invitedHash + `' AS invited,
	COALESCE((SELECT array_agg(ui.inbox_id ORDER BY ui.inbox_id) FROM user_inboxes ui WHERE ui.user_id = u.id), '{}') AS inbox_ids
	FROM users u`

// TeamUsers lists the organization's users by id, after afterID, at most
// limit of them (0: all). Managers and admins may; agents get ErrForbidden.
func (s *Store) TeamUsers(ctx context.Context, sc Scope, afterID int64, limit int) ([]TeamUser, error) {
	if err := require(sc, PermViewSettings); err != nil {
		return nil, err
	}
	q := teamUserSelect + ` WHERE u.org_id = ? AND u.id > ? ORDER BY u.id`
	args := []any{sc.OrgID, afterID}
	if limit > 0 {
		q += ` LIMIT ?`
		args = append(args, limit)
	}
	var out []TeamUser
	if err := s.db.NewRaw(q, args...).Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("store: team users: %w", err)
	}
	return out, nil
}

// TeamUser loads one user of the scope's organization; another
// organization's user is ErrNotFound.
func (s *Store) TeamUser(ctx context.Context, sc Scope, id int64) (*TeamUser, error) {
	if err := require(sc, PermViewSettings); err != nil {
		return nil, err
	}
	return teamUser(ctx, s.db, sc.OrgID, id, false)
}

func teamUser(ctx context.Context, db bun.IDB, orgID, id int64, lock bool) (*TeamUser, error) {
	q := teamUserSelect + ` WHERE u.org_id = ? AND u.id = ?`
	if lock {
		q += ` FOR UPDATE OF u`
	}
	u := new(TeamUser)
	if err := db.NewRaw(q, orgID, id).Scan(ctx, u); err != nil {
		return nil, notFound("user", err)
	}
	return u, nil
}

// NewUser is the team form's "add someone".
type NewUser struct {
	Name  string
	Email string
	Role  string
	// AllInboxes or InboxIDs: what an agent may see (ignored for others).
	AllInboxes bool
	InboxIDs   []int64
	// Invite: no password now; a one-time invite link is returned instead.
	// Otherwise Password is set at once.
	Invite   bool
	Password string
}

// CreateUser adds a user to the scope's organization (admins only). With
// Invite, the user has no usable password and the returned token is a
// one-time invite link's (valid 7 days); otherwise the token is "".
func (s *Store) CreateUser(ctx context.Context, sc Scope, in NewUser) (*TeamUser, string, error) {
	if err := require(sc, PermManageTeam); err != nil {
		return nil, "", err
	}
	st := teamState{Name: strings.TrimSpace(in.Name), Email: strings.ToLower(strings.TrimSpace(in.Email)),
		Role: in.Role, AllInboxes: in.AllInboxes, InboxIDs: in.InboxIDs}
	if err := st.check(); err != nil {
		return nil, "", err
	}
	hash := invitedHash
	if !in.Invite {
		if len(in.Password) < MinPasswordLength {
			return nil, "", fieldErr("password", "Use at least %d characters, or send an invitation instead.", MinPasswordLength)
		}
		var err error
		if hash, err = HashPassword(in.Password); err != nil {
			return nil, "", err
		}
	}
	var (
		out   *TeamUser
		token string
	)
	err := s.inTx(ctx, func(tx bun.Tx) error {
		if err := checkInboxes(ctx, tx, sc.OrgID, st); err != nil {
			return err
		}
		u := &User{OrgID: sc.OrgID, Name: st.Name, Email: st.Email, Role: st.Role,
			PasswordHash: hash, AllInboxes: st.AllInboxes, NotifySound: true}
		if _, err := tx.NewInsert().Model(u).Returning("*").Exec(ctx); err != nil {
			if isUniqueViolation(err) {
				return fieldErr("email", "Someone already signs in with %s.", st.Email)
			}
			return fmt.Errorf("store: create user: %w", err)
		}
		if err := setUserInboxes(ctx, tx, u, st); err != nil {
			return err
		}
		action := "user.create"
		if in.Invite {
			action = "user.invite"
			var err error
			if token, err = newPasswordLink(ctx, tx, sc, u, PurposeInvite); err != nil {
				return err
			}
		}
		if err := audit(ctx, tx, sc, AuditChange{Action: action, TargetType: "user", TargetID: u.ID,
			TargetName: u.Name, After: st}); err != nil {
			return err
		}
		var err error
		out, err = teamUser(ctx, tx, sc.OrgID, u.ID, false)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	return out, token, nil
}

// UserChange is an edit of a user: nil fields stay as they are.
type UserChange struct {
	Name       *string
	Email      *string
	Role       *string
	AllInboxes *bool
	InboxIDs   []int64 // nil: unchanged; set AllInboxes false to limit to these
	Disabled   *bool
}

// UserChanged is the result of UpdateUser.
type UserChanged struct {
	User *TeamUser
	// AccessReduced: the user lost a permission or an inbox, or was
	// disabled; their sessions were ended (signed out everywhere).
	AccessReduced bool
}

// UpdateUser edits a user of the scope's organization (admins only):
// name, email, role, inbox access, disabled. The last enabled admin can
// be neither demoted nor disabled: every change takes the organization's
// row lock first, so two admins demoting each other at once cannot leave
// none. A change that takes access away ends the user's sessions (and
// closes their sockets) after the commit, so nothing keeps streaming what
// they lost.
func (s *Store) UpdateUser(ctx context.Context, sc Scope, id int64, ch UserChange) (*UserChanged, error) {
	if err := require(sc, PermManageTeam); err != nil {
		return nil, err
	}
	var res UserChanged
	err := s.inTx(ctx, func(tx bun.Tx) error {
		if _, err := tx.NewRaw(`SELECT id FROM organizations WHERE id = ? FOR UPDATE`, sc.OrgID).Exec(ctx); err != nil {
			return fmt.Errorf("store: lock organization: %w", err)
		}
		cur, err := teamUser(ctx, tx, sc.OrgID, id, true)
		if err != nil {
			return err
		}
		// An operator's account opens the whole instance: only another
		// operator may change it (its email, role or access).
		if cur.IsOperator && id != sc.UserID {
			if err := requireOperator(ctx, tx, sc); err != nil {
				return err
			}
		}
		before := stateOf(cur)
		after := before
		after.InboxIDs = slices.Clone(before.InboxIDs)
		if ch.Name != nil {
			after.Name = strings.TrimSpace(*ch.Name)
		}
		if ch.Email != nil {
			after.Email = strings.ToLower(strings.TrimSpace(*ch.Email))
		}
		if ch.Role != nil {
			after.Role = *ch.Role
		}
		if ch.AllInboxes != nil {
			after.AllInboxes = *ch.AllInboxes
		}
		if ch.InboxIDs != nil {
			after.InboxIDs = ch.InboxIDs
		}
		if ch.Disabled != nil {
			after.Disabled = *ch.Disabled
		}
		if err := after.check(); err != nil {
			return err
		}
		if err := checkInboxes(ctx, tx, sc.OrgID, after); err != nil {
			return err
		}
		if after.Disabled && !before.Disabled && id == sc.UserID {
			return fieldErr("disabled", "You cannot disable yourself.")
		}
		after.normalize()
		if after.equal(before) {
			res.User = cur
			return nil
		}
		var disabledAt any = bun.Safe("disabled_at")
		if after.Disabled != before.Disabled {
			disabledAt = bun.Safe("NULL")
			if after.Disabled {
				disabledAt = bun.Safe("now()")
			}
		}
		_, err = tx.NewUpdate().Model((*User)(nil)).
			Set("name = ?, email = ?, role = ?, all_inboxes = ?, disabled_at = ?", after.Name, after.Email, after.Role, after.AllInboxes, disabledAt).
			Where("id = ? AND org_id = ?", id, sc.OrgID).Exec(ctx)
		if err != nil {
			if isUniqueViolation(err) {
				return fieldErr("email", "Someone already signs in with %s.", after.Email)
			}
			return fmt.Errorf("store: update user: %w", err)
		}
		if after.Disabled && !before.Disabled {
			if err := cancelPasswordLinks(ctx, tx, id); err != nil {
				return err
			}
		}
		if err := setUserInboxes(ctx, tx, &cur.User, after); err != nil {
			return err
		}
		var admins int
		if err := tx.NewRaw(`SELECT count(*) FROM users WHERE org_id = ? AND role = 'admin' AND disabled_at IS NULL`,
			sc.OrgID).Scan(ctx, &admins); err != nil {
			return fmt.Errorf("store: count admins: %w", err)
		}
		if admins == 0 {
			field := "role"
			if after.Disabled && !before.Disabled {
				field = "disabled"
			}
			return fieldErr(field, "%s is the last admin: make someone else an admin first.", before.Name)
		}
		action := "user.update"
		switch {
		case after.Disabled && !before.Disabled:
			action = "user.disable"
		case !after.Disabled && before.Disabled:
			action = "user.enable"
		}
		if err := audit(ctx, tx, sc, AuditChange{Action: action, TargetType: "user", TargetID: id,
			TargetName: after.Name, Before: before, After: after}); err != nil {
			return err
		}
		res.AccessReduced = accessReduced(before, after)
		res.User, err = teamUser(ctx, tx, sc.OrgID, id, false)
		return err
	})
	if err != nil {
		return nil, err
	}
	if res.AccessReduced {
		if err := s.EndUserSessions(ctx, id); err != nil {
			return nil, err
		}
	}
	return &res, nil
}

// teamState is what the team pages edit of a user, and what the audit log
// records before and after (never a password or its hash).
type teamState struct {
	Name       string  `json:"name"`
	Email      string  `json:"email"`
	Role       string  `json:"role"`
	AllInboxes bool    `json:"all_inboxes"`
	InboxIDs   []int64 `json:"inbox_ids"`
	Disabled   bool    `json:"disabled"`
}

func stateOf(u *TeamUser) teamState {
	st := teamState{Name: u.Name, Email: u.Email, Role: u.Role, AllInboxes: u.AllInboxes,
		InboxIDs: u.InboxIDs, Disabled: u.DisabledAt != nil}
	st.normalize()
	return st
}

// normalize: admins and managers see every inbox; so does an agent with
// all inboxes, whose chosen list is then empty.
func (st *teamState) normalize() {
	if st.Role != RoleAgent {
		st.AllInboxes = true
	}
	if st.AllInboxes || st.InboxIDs == nil {
		st.InboxIDs = []int64{}
	}
	slices.Sort(st.InboxIDs)
	st.InboxIDs = slices.Compact(st.InboxIDs)
}

func (st teamState) equal(o teamState) bool {
	return st.Name == o.Name && st.Email == o.Email && st.Role == o.Role && st.AllInboxes == o.AllInboxes &&
		st.Disabled == o.Disabled && slices.Equal(st.InboxIDs, o.InboxIDs)
}

// check validates the fields a person typed, each error naming its field.
func (st teamState) check() error {
	if err := checkText("name", "The name", st.Name); err != nil {
		return err
	}
	if st.Name == "" || len([]rune(st.Name)) > 200 {
		return fieldErr("name", "Enter a name of 1 to 200 characters.")
	}
	if err := checkText("email", "The email", st.Email); err != nil {
		return err
	}
	if a, err := mail.ParseAddress(st.Email); err != nil || a.Address != st.Email || len(st.Email) > 254 {
		return fieldErr("email", "Enter an email address such as name@example.org.")
	}
	switch st.Role {
	case RoleAdmin, RoleManager, RoleAgent:
	default:
		return fieldErr("role", "Choose admin, manager or agent.")
	}
	if st.Role == RoleAgent && !st.AllInboxes && len(st.InboxIDs) == 0 {
		return fieldErr("inbox_ids", "Choose at least one inbox, or all inboxes.")
	}
	return nil
}

// checkInboxes refuses chosen inboxes that are not the organization's.
func checkInboxes(ctx context.Context, tx bun.Tx, orgID int64, st teamState) error {
	if st.Role != RoleAgent || st.AllInboxes || len(st.InboxIDs) == 0 {
		return nil
	}
	n, err := tx.NewSelect().Table("inboxes").Where("org_id = ? AND id = ANY(?)", orgID, pgdialect.Array(st.InboxIDs)).Count(ctx)
	if err != nil {
		return fmt.Errorf("store: check inboxes: %w", err)
	}
	if int(n) != len(slices.Compact(slices.Sorted(slices.Values(st.InboxIDs)))) {
		return fieldErr("inbox_ids", "Choose inboxes of this organization.")
	}
	return nil
}

// setUserInboxes makes user_inboxes hold exactly the chosen inboxes (none
// for a user who sees them all).
func setUserInboxes(ctx context.Context, tx bun.Tx, u *User, st teamState) error {
	st.normalize()
	if _, err := tx.NewDelete().Table("user_inboxes").Where("user_id = ?", u.ID).Exec(ctx); err != nil {
		return fmt.Errorf("store: clear user inboxes: %w", err)
	}
	if len(st.InboxIDs) == 0 {
		return nil
	}
	_, err := tx.NewRaw(`INSERT INTO user_inboxes (org_id, user_id, inbox_id) SELECT ?, ?, unnest(?::bigint[])`,
		u.OrgID, u.ID, pgdialect.Array(st.InboxIDs)).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: set user inboxes: %w", err)
	}
	return nil
}

var roleRank = map[string]int{RoleAgent: 0, RoleManager: 1, RoleAdmin: 2}

// accessReduced reports whether after lets the user do or see less than
// before: disabled, a lower role, or an inbox lost.
func accessReduced(before, after teamState) bool {
	if after.Disabled && !before.Disabled {
		return true
	}
	if roleRank[after.Role] < roleRank[before.Role] {
		return true
	}
	if after.AllInboxes {
		return false
	}
	if before.AllInboxes {
		return true
	}
	for _, id := range before.InboxIDs {
		if !slices.Contains(after.InboxIDs, id) {
			return true
		}
	}
	return false
}
