package models

import (
	"context"
	"errors"
	"fmt"

	"github.com/uptrace/bun"
)

// Where an import's rows go: a group (an existing one, or a new one named
// on the page) and a home location, chosen on the import page's preview.

// ImportTarget is a group or location an import may send its rows to.
type ImportTarget struct {
	ID   int64
	Name string
}

// ImportStart is the preview's confirmation: the mapping and where the
// rows go.
type ImportStart struct {
	Mapping []string
	// GroupID adds every imported row to an existing group.
	GroupID *int64
	// NewGroup, when set, names a group to create for the rows (instead
	// of GroupID); a blank name is a FieldError on "new_group".
	NewGroup *string
	// LocationID is the home location given to the recipients added.
	LocationID *int64
}

// ImportTargets lists the organization's groups and its locations that
// are not archived, by name, for the import page's pickers.
func (s *Store) ImportTargets(ctx context.Context, sc Scope) (groups, locations []ImportTarget, err error) {
	if err := importScope(sc); err != nil {
		return nil, nil, err
	}
	if err := s.db.NewSelect().Table("groups").Column("id", "name").Where("org_id = ?", sc.OrgID).
		OrderExpr("lower(name), id").Scan(ctx, &groups); err != nil {
		return nil, nil, fmt.Errorf("store: import groups: %w", err)
	}
	if err := s.db.NewSelect().Table("locations").Column("id", "name").Where("org_id = ? AND archived_at IS NULL", sc.OrgID).
		OrderExpr("lower(name), id").Scan(ctx, &locations); err != nil {
		return nil, nil, fmt.Errorf("store: import locations: %w", err)
	}
	return groups, locations, nil
}

// ImportGroup returns the name of an import's group ("" when it has none
// or the group was deleted since).
func (s *Store) ImportGroup(ctx context.Context, sc Scope, im *Import) (string, error) {
	if im.GroupID == nil {
		return "", nil
	}
	var names []string
	if err := s.db.NewSelect().Table("groups").Column("name").Where("org_id = ? AND id = ?", sc.OrgID, *im.GroupID).
		Scan(ctx, &names); err != nil {
		return "", fmt.Errorf("store: import group: %w", err)
	}
	if len(names) == 0 {
		return "", nil
	}
	return names[0], nil
}

// importNewGroup creates the group an import's rows go to, in the
// import's transaction, as the groups page creates one (createGroup). A
// bad or taken name is a FieldError on "new_group".
func importNewGroup(ctx context.Context, tx bun.Tx, sc Scope, name string) (int64, error) {
	name, err := groupName(name)
	var g *Group
	if err == nil {
		g, err = createGroup(ctx, tx, sc, name)
	}
	var fe *FieldError
	switch {
	case err == nil:
		return g.ID, nil
	case errors.As(err, &fe) && fe.Field == "name":
		if fe.Message == groupNameTakenMsg {
			return 0, fieldErr("new_group", "A group named %q exists: choose it in the list.", name)
		}
		return 0, fieldErr("new_group", "%s", fe.Message)
	}
	return 0, fmt.Errorf("store: import new group: %w", err)
}
