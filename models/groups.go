package models

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// Groups: named sets of an organization's recipients (a class, a team, a
// mailing list), a broadcast's audience. Any user may read them; creating,
// renaming, deleting and changing members needs PermEditRecipients, and
// each change is in the audit log. Deleting a group deletes its
// memberships, never the recipients.

// Group is a named set of recipients.
type Group struct {
	bun.BaseModel `bun:"table:groups,alias:grp"`

	ID        int64     `bun:"id,pk,autoincrement"`
	OrgID     int64     `bun:"org_id"`
	Name      string    `bun:"name"`
	CreatedAt time.Time `bun:"created_at,nullzero,default:now()"`
	UpdatedAt time.Time `bun:"updated_at,nullzero,default:now()"`
	// Members is how many recipients the group holds that the reader may
	// see (read by Groups and GroupByID).
	Members int `bun:"members,scanonly"`
}

// maxGroupName is the longest group name (the table's check).
const maxGroupName = 100

// groupName checks and trims a group's name.
func groupName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if err := checkText("name", "The name", name); err != nil {
		return "", err
	}
	switch n := utf8.RuneCountInString(name); {
	case n == 0:
		return "", fieldErr("name", "Give the group a name.")
	case n > maxGroupName:
		return "", fieldErr("name", "The name is too long (at most %d characters).", maxGroupName)
	}
	return name, nil
}

// errGroupNameTaken is the answer to a name another group of the
// organization has (names are unique whatever their case).
func errGroupNameTaken() error {
	return fieldErr("name", groupNameTakenMsg)
}

// groupNameTakenMsg is errGroupNameTaken's message.
const groupNameTakenMsg = "Another group already has this name."

// groupWriteErr turns the unique index's refusal (a race the check before
// it lost) into the field error.
func groupWriteErr(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == "groups_org_name_key" {
		return errGroupNameTaken()
	}
	return err
}

// groupNameTaken reports whether another of the organization's groups
// (not id) has this name, whatever its case.
func groupNameTaken(ctx context.Context, db bun.IDB, orgID, id int64, name string) (bool, error) {
	taken, err := db.NewSelect().Model((*Group)(nil)).
		Where("org_id = ? AND lower(name) = lower(?) AND id <> ?", orgID, name, id).Exists(ctx)
	if err != nil {
		return false, fmt.Errorf("group name taken: %w", err)
	}
	return taken, nil
}

// groupMembersCount is the member count column of a query over groups
// AS grp: every member for a scope of all inboxes, else those it may see.
func groupMembersCount(sc Scope) (string, []any) {
	if sc.AllInboxes() {
		return "(SELECT count(*) FROM group_members AS gm WHERE gm.group_id = grp.id) AS members", nil
	}
	return `(SELECT count(*) FROM group_members AS gm WHERE gm.group_id = grp.id AND EXISTS (
		SELECT 1 FROM conversations AS vc WHERE vc.recipient_id = gm.recipient_id AND vc.inbox_id = ANY(?))) AS members`,
		[]any{pgdialect.Array(sc.InboxIDs)}
}

// Groups lists the organization's groups by name, with their member counts.
func (s *Store) Groups(ctx context.Context, sc Scope) ([]Group, error) {
	var gs []Group
	col, args := groupMembersCount(sc)
	err := s.db.NewSelect().Model(&gs).Column("grp.*").ColumnExpr(col, args...).
		Where("grp.org_id = ?", sc.OrgID).OrderExpr("lower(grp.name), grp.id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: groups: %w", err)
	}
	return gs, nil
}

// GroupChoices lists the organization's groups by name without their
// member counts (a count reads every membership; a page that only offers
// the groups to choose from should not pay for it).
func (s *Store) GroupChoices(ctx context.Context, sc Scope) ([]Group, error) {
	var gs []Group
	if err := s.db.NewSelect().Model(&gs).Where("grp.org_id = ?", sc.OrgID).OrderExpr("lower(grp.name), grp.id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: group choices: %w", err)
	}
	return gs, nil
}

// GroupByID loads one of the organization's groups with its member
// count; another organization's id is ErrNotFound.
func (s *Store) GroupByID(ctx context.Context, sc Scope, id int64) (*Group, error) {
	g := new(Group)
	col, args := groupMembersCount(sc)
	err := s.db.NewSelect().Model(g).Column("grp.*").ColumnExpr(col, args...).
		Where("grp.id = ? AND grp.org_id = ?", id, sc.OrgID).Scan(ctx)
	if err != nil {
		return nil, notFound("group", err)
	}
	return g, nil
}

// groupInOrg locks one of the organization's groups against deletion for
// the transaction (a membership change), else ErrNotFound.
func groupInOrg(ctx context.Context, tx bun.Tx, sc Scope, id int64, lock string) (*Group, error) {
	g := new(Group)
	if err := tx.NewSelect().Model(g).Where("grp.id = ? AND grp.org_id = ?", id, sc.OrgID).For(lock + " OF grp").Scan(ctx); err != nil {
		return nil, notFound("group", err)
	}
	return g, nil
}

// CreateGroup adds a group. A bad or taken name is a FieldError on "name".
func (s *Store) CreateGroup(ctx context.Context, sc Scope, name string) (*Group, error) {
	if err := require(sc, PermEditRecipients); err != nil {
		return nil, err
	}
	name, err := groupName(name)
	if err != nil {
		return nil, err
	}
	var g *Group
	err = s.inTx(ctx, func(tx bun.Tx) error {
		g, err = createGroup(ctx, tx, sc, name)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: create group: %w", err)
	}
	return g, nil
}

// createGroup creates a group named name (as groupName returned it) in
// tx, audited: the groups page's creation and an import's new group. A
// name another group has is errGroupNameTaken.
func createGroup(ctx context.Context, tx bun.Tx, sc Scope, name string) (*Group, error) {
	if taken, err := groupNameTaken(ctx, tx, sc.OrgID, 0, name); err != nil || taken {
		if err != nil {
			return nil, err
		}
		return nil, errGroupNameTaken()
	}
	g := &Group{OrgID: sc.OrgID, Name: name}
	if _, err := tx.NewInsert().Model(g).Returning("*").Exec(ctx); err != nil {
		return nil, groupWriteErr(err)
	}
	return g, audit(ctx, tx, sc, AuditChange{Action: "group.create", TargetType: "group", TargetID: g.ID, TargetName: g.Name,
		After: map[string]any{"name": g.Name}})
}

// RenameGroup renames one of the organization's groups. A bad or taken
// name is a FieldError on "name"; another organization's id ErrNotFound.
func (s *Store) RenameGroup(ctx context.Context, sc Scope, id int64, name string) (*Group, error) {
	if err := require(sc, PermEditRecipients); err != nil {
		return nil, err
	}
	name, err := groupName(name)
	if err != nil {
		return nil, err
	}
	var g *Group
	err = s.inTx(ctx, func(tx bun.Tx) error {
		var err error
		if g, err = groupInOrg(ctx, tx, sc, id, "NO KEY UPDATE"); err != nil {
			return err
		}
		if g.Name == name {
			return nil
		}
		if taken, err := groupNameTaken(ctx, tx, sc.OrgID, id, name); err != nil || taken {
			if err != nil {
				return err
			}
			return errGroupNameTaken()
		}
		before := g.Name
		g.Name = name
		if _, err := tx.NewUpdate().Model(g).Column("name").Set("updated_at = now()").WherePK().Returning("*").Exec(ctx); err != nil {
			return groupWriteErr(err)
		}
		return audit(ctx, tx, sc, AuditChange{Action: "group.rename", TargetType: "group", TargetID: g.ID, TargetName: g.Name,
			Before: map[string]any{"name": before}, After: map[string]any{"name": g.Name}})
	})
	if err != nil {
		return nil, fmt.Errorf("store: rename group: %w", err)
	}
	return s.GroupByID(ctx, sc, g.ID)
}

// DeleteGroup deletes one of the organization's groups and its
// memberships; the recipients stay.
func (s *Store) DeleteGroup(ctx context.Context, sc Scope, id int64) error {
	if err := require(sc, PermEditRecipients); err != nil {
		return err
	}
	err := s.inTx(ctx, func(tx bun.Tx) error {
		g, err := groupInOrg(ctx, tx, sc, id, "UPDATE")
		if err != nil {
			return err
		}
		var members int
		if err := tx.NewSelect().TableExpr("group_members").Where("group_id = ?", id).ColumnExpr("count(*)").Scan(ctx, &members); err != nil {
			return err
		}
		if _, err := tx.NewDelete().Model(g).WherePK().Exec(ctx); err != nil {
			return err
		}
		return audit(ctx, tx, sc, AuditChange{Action: "group.delete", TargetType: "group", TargetID: g.ID, TargetName: g.Name,
			Before: map[string]any{"name": g.Name, "members": members}})
	})
	if err != nil {
		return fmt.Errorf("store: delete group: %w", err)
	}
	return nil
}
