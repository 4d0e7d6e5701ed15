package models_test

import (
	"context"
	"errors"
	"testing"

	"github.com/parley-chat/parley/models"
)

// TestImportStartTargets: the preview's confirmation sends the rows to a
// new group (created with the import, audited) and a home location; a
// taken or blank group name is a FieldError on new_group, and another
// organization's group or location is ErrNotFound.
func TestImportStartTargets(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	sc := otherOrgScope(t, st, "import-targets")
	other := otherOrgScope(t, st, "import-targets-other")
	var locID, otherLoc, otherGroup int64
	if err := st.DB().NewRaw("INSERT INTO locations (org_id, name, timezone) VALUES (?, 'Harbour', 'UTC') RETURNING id", sc.OrgID).Scan(ctx, &locID); err != nil {
		t.Fatal(err)
	}
	if _, err := st.DB().NewRaw("INSERT INTO locations (org_id, name, timezone, archived_at) VALUES (?, 'Old pier', 'UTC', now())", sc.OrgID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if err := st.DB().NewRaw("INSERT INTO locations (org_id, name, timezone) VALUES (?, 'Elsewhere', 'UTC') RETURNING id", other.OrgID).Scan(ctx, &otherLoc); err != nil {
		t.Fatal(err)
	}
	if err := st.DB().NewRaw("INSERT INTO groups (org_id, name) VALUES (?, 'Theirs') RETURNING id", other.OrgID).Scan(ctx, &otherGroup); err != nil {
		t.Fatal(err)
	}
	data := "Name,Phone\nAda,(555) 010-3001\nBob,(555) 010-3002\nAda again,555 010 3001\n"
	preview := func() *models.Import {
		t.Helper()
		im, err := st.CreateImport(ctx, sc, models.ImportInput{Filename: "t.csv", Data: []byte(data)})
		if err != nil {
			t.Fatal(err)
		}
		return im
	}
	mapping := []string{models.ImportName, models.ImportPhone}
	name := "Harbour volunteers"

	im := preview()
	if _, err := st.StartImport(ctx, sc, im.ID, models.ImportStart{Mapping: mapping, GroupID: &otherGroup}); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("another organization's group: err = %v, want ErrNotFound", err)
	}
	if _, err := st.StartImport(ctx, sc, im.ID, models.ImportStart{Mapping: mapping, LocationID: &otherLoc}); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("another organization's location: err = %v, want ErrNotFound", err)
	}
	blank := "  "
	var fe *models.FieldError
	if _, err := st.StartImport(ctx, sc, im.ID, models.ImportStart{Mapping: mapping, NewGroup: &blank}); !errors.As(err, &fe) || fe.Field != "new_group" {
		t.Errorf("a blank new group: err = %v, want a FieldError on new_group", err)
	}
	started, err := st.StartImport(ctx, sc, im.ID, models.ImportStart{Mapping: mapping, NewGroup: &name, LocationID: &locID})
	if err != nil {
		t.Fatal(err)
	}
	if started.GroupID == nil || started.LocationID == nil || *started.LocationID != locID {
		t.Fatalf("started import's group %v, location %v", started.GroupID, started.LocationID)
	}
	if err := st.RunImport(ctx, im.ID, nil); err != nil {
		t.Fatal(err)
	}
	done, err := st.ImportByID(ctx, sc, im.ID)
	if err != nil {
		t.Fatal(err)
	}
	if done.Status != models.ImportDone || done.Imported != 2 || done.Merged != 1 {
		t.Fatalf("import: status %s, imported %d, merged %d", done.Status, done.Imported, done.Merged)
	}
	if g, err := st.ImportGroup(ctx, sc, done); err != nil || g != name {
		t.Errorf("ImportGroup = %q, %v; want %q", g, err, name)
	}
	var members, located, audited int
	if err := st.DB().NewRaw("SELECT count(*) FROM group_members WHERE group_id = ?", *done.GroupID).Scan(ctx, &members); err != nil {
		t.Fatal(err)
	}
	if err := st.DB().NewRaw("SELECT count(*) FROM recipients WHERE org_id = ? AND location_id = ?", sc.OrgID, locID).Scan(ctx, &located); err != nil {
		t.Fatal(err)
	}
	if err := st.DB().NewRaw("SELECT count(*) FROM audit_log WHERE org_id = ? AND action = 'group.create' AND target_id = ?", sc.OrgID, *done.GroupID).Scan(ctx, &audited); err != nil {
		t.Fatal(err)
	}
	if members != 2 || located != 2 || audited != 1 {
		t.Errorf("group members %d, recipients at the location %d, audit entries %d; want 2, 2, 1", members, located, audited)
	}

	// The pickers list this organization's group and live location only.
	groups, locs, err := st.ImportTargets(ctx, sc)
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) != 1 || groups[0].Name != name || len(locs) != 1 || locs[0].ID != locID {
		t.Errorf("ImportTargets = %+v, %+v; want the new group and Harbour", groups, locs)
	}

	// The name is taken now, whatever its case.
	upper := "HARBOUR volunteers"
	im2 := preview()
	if _, err := st.StartImport(ctx, sc, im2.ID, models.ImportStart{Mapping: mapping, NewGroup: &upper}); !errors.As(err, &fe) || fe.Field != "new_group" {
		t.Errorf("a taken group name: err = %v, want a FieldError on new_group", err)
	}
	if again, err := st.ImportByID(ctx, sc, im2.ID); err != nil || again.Status != models.ImportPreview {
		t.Errorf("after a refused start the import is %v (%v), want still in preview", again, err)
	}

	// Cancelled before it applied: the new group it made goes too, and
	// the deletion is audited; a group the import did not make stays.
	for _, own := range []bool{true, false} {
		im3 := preview()
		start := models.ImportStart{Mapping: mapping}
		if own {
			fresh := "Cancelled " + name
			start.NewGroup = &fresh
		} else {
			start.GroupID = done.GroupID
		}
		started, err := st.StartImport(ctx, sc, im3.ID, start)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.CancelImport(ctx, sc, im3.ID); err != nil {
			t.Fatal(err)
		}
		var left, deleted int
		if err := st.DB().NewRaw("SELECT count(*) FROM groups WHERE id = ?", *started.GroupID).Scan(ctx, &left); err != nil {
			t.Fatal(err)
		}
		if err := st.DB().NewRaw("SELECT count(*) FROM audit_log WHERE org_id = ? AND action = 'group.delete' AND target_id = ?", sc.OrgID, *started.GroupID).Scan(ctx, &deleted); err != nil {
			t.Fatal(err)
		}
		if want := map[bool]int{true: 0, false: 1}[own]; left != want || deleted != 1-want {
			t.Errorf("cancelled import (its own group %v): %d groups left, %d deletions audited; want %d, %d", own, left, deleted, want, 1-want)
		}
	}
}
