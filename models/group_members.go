package models

import (
	"context"
	"fmt"
	"slices"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// A group's members: added by hand (a list of ids) or as everyone a
// recipients search matches (one INSERT ... SELECT, however many), and
// removed by hand. Adding someone already in the group changes nothing;
// an id the scope may not see (another organization's, or outside a
// limited agent's inboxes) refuses the whole change as ErrNotFound.

// MaxGroupMemberIDs is the most recipient ids one change names.
const MaxGroupMemberIDs = 10000

// memberIDs checks a list of recipient ids: at least one, at most
// MaxGroupMemberIDs, duplicates dropped (sorted).
func memberIDs(ids []int64) ([]int64, error) {
	if len(ids) == 0 {
		return nil, fieldErr("recipient_ids", "Choose at least one recipient.")
	}
	if len(ids) > MaxGroupMemberIDs {
		return nil, fieldErr("recipient_ids", "At most %d recipients at a time; add a search's results instead.", MaxGroupMemberIDs)
	}
	ids = slices.Clone(ids)
	slices.Sort(ids)
	return slices.Compact(ids), nil
}

// allVisible returns ErrNotFound unless the scope may see every one of
// the (distinct) recipient ids.
func allVisible(ctx context.Context, db bun.IDB, sc Scope, ids []int64) error {
	var n int
	q := visibleRecipients(db.NewSelect().TableExpr("recipients AS r").ColumnExpr("count(*)").
		Where("r.id IN (?)", bun.List(ids)), sc, "r")
	if err := q.Scan(ctx, &n); err != nil {
		return fmt.Errorf("recipients visible: %w", err)
	}
	if n != len(ids) {
		return fmt.Errorf("recipient: %w", ErrNotFound)
	}
	return nil
}

// AddGroupMembers adds recipients to one of the organization's groups
// and returns how many were not members before.
func (s *Store) AddGroupMembers(ctx context.Context, sc Scope, groupID int64, ids []int64) (int, error) {
	if err := require(sc, PermEditRecipients); err != nil {
		return 0, err
	}
	ids, err := memberIDs(ids)
	if err != nil {
		return 0, err
	}
	var added int
	err = s.inTx(ctx, func(tx bun.Tx) error {
		g, err := groupInOrg(ctx, tx, sc, groupID, "KEY SHARE")
		if err != nil {
			return err
		}
		if err := allVisible(ctx, tx, sc, ids); err != nil {
			return err
		}
		res, err := tx.NewRaw(`INSERT INTO group_members (org_id, group_id, recipient_id)
			SELECT ?, ?, r.id FROM recipients AS r WHERE r.org_id = ? AND r.id IN (?)
			ON CONFLICT DO NOTHING`, sc.OrgID, g.ID, sc.OrgID, bun.List(ids)).Exec(ctx)
		if err != nil {
			return err
		}
		added = rowsAffected(res)
		return audit(ctx, tx, sc, AuditChange{Action: "group.add_members", TargetType: "group", TargetID: g.ID, TargetName: g.Name,
			After: map[string]any{"added": added, "recipient_ids": ids}})
	})
	if err != nil {
		return 0, fmt.Errorf("store: add group members: %w", err)
	}
	return added, nil
}

// AddGroupMembersMatching adds everyone f matches that the scope may see
// (the recipients list's search, and its group filter) to one of the
// organization's groups, in one statement, and returns how many were not
// members before.
func (s *Store) AddGroupMembersMatching(ctx context.Context, sc Scope, groupID int64, f RecipientFilter) (int, error) {
	if err := require(sc, PermEditRecipients); err != nil {
		return 0, err
	}
	var added int
	err := s.inTx(ctx, func(tx bun.Tx) error {
		g, err := groupInOrg(ctx, tx, sc, groupID, "KEY SHARE")
		if err != nil {
			return err
		}
		if err := f.check(ctx, tx, sc); err != nil {
			return err
		}
		match, _ := f.apply(tx.NewSelect().TableExpr("recipients AS recipient").Column("recipient.id"), sc, "recipient")
		res, err := tx.NewRaw(`INSERT INTO group_members (org_id, group_id, recipient_id)
			SELECT ?, ?, m.id FROM (?) AS m ON CONFLICT DO NOTHING`, sc.OrgID, g.ID, match).Exec(ctx)
		if err != nil {
			return err
		}
		added = rowsAffected(res)
		after := map[string]any{"added": added, "q": f.Query}
		if f.GroupID != 0 {
			after["from_group_id"] = f.GroupID
		}
		return audit(ctx, tx, sc, AuditChange{Action: "group.add_members", TargetType: "group", TargetID: g.ID, TargetName: g.Name, After: after})
	})
	if err != nil {
		return 0, fmt.Errorf("store: add matching group members: %w", err)
	}
	return added, nil
}

// RemoveGroupMembers takes recipients out of one of the organization's
// groups (the recipients stay) and returns how many were members.
func (s *Store) RemoveGroupMembers(ctx context.Context, sc Scope, groupID int64, ids []int64) (int, error) {
	if err := require(sc, PermEditRecipients); err != nil {
		return 0, err
	}
	ids, err := memberIDs(ids)
	if err != nil {
		return 0, err
	}
	var removed int
	err = s.inTx(ctx, func(tx bun.Tx) error {
		g, err := groupInOrg(ctx, tx, sc, groupID, "KEY SHARE")
		if err != nil {
			return err
		}
		if err := allVisible(ctx, tx, sc, ids); err != nil {
			return err
		}
		res, err := tx.NewRaw(`DELETE FROM group_members WHERE group_id = ? AND recipient_id IN (?)`, g.ID, bun.List(ids)).Exec(ctx)
		if err != nil {
			return err
		}
		removed = rowsAffected(res)
		return audit(ctx, tx, sc, AuditChange{Action: "group.remove_members", TargetType: "group", TargetID: g.ID, TargetName: g.Name,
			Before: map[string]any{"removed": removed, "recipient_ids": ids}})
	})
	if err != nil {
		return 0, fmt.Errorf("store: remove group members: %w", err)
	}
	return removed, nil
}

// groupMembersSQL selects the distinct ids (as "id") of the members of
// the organization's groups (parameters: the organization, the groups as
// an array), for use as a subquery: a broadcast's audience, and
// GroupMemberIDs. It does not check the groups; GroupMemberIDs does.
const groupMembersSQL = `SELECT DISTINCT gm.recipient_id AS id FROM group_members AS gm WHERE gm.org_id = ? AND gm.group_id = ANY(?)`

// GroupMemberIDs returns the ids of everyone in any of the groups, each
// once, in ascending order. A group that is not the organization's is
// ErrNotFound.
func (s *Store) GroupMemberIDs(ctx context.Context, sc Scope, groupIDs []int64) ([]int64, error) {
	if len(groupIDs) == 0 {
		return nil, nil
	}
	groupIDs = slices.Compact(slices.Sorted(slices.Values(groupIDs)))
	n, err := s.db.NewSelect().Model((*Group)(nil)).Where("org_id = ? AND id IN (?)", sc.OrgID, bun.List(groupIDs)).Count(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: group member ids: %w", err)
	}
	if int(n) != len(groupIDs) {
		return nil, fmt.Errorf("store: group member ids: group: %w", ErrNotFound)
	}
	var ids []int64
	if err := s.db.NewRaw(groupMembersSQL+" ORDER BY id", sc.OrgID, pgdialect.Array(groupIDs)).Scan(ctx, &ids); err != nil {
		return nil, fmt.Errorf("store: group member ids: %w", err)
	}
	return ids, nil
}

// rowsAffected is how many rows a statement changed (0 if the driver
// cannot say).
func rowsAffected(res interface{ RowsAffected() (int64, error) }) int {
	n, _ := res.RowsAffected()
	return int(n)
}
