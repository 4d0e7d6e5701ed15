package models_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/models"
)

// groupTestRecipients creates n recipients named "<prefix> i" with unique
// emails, and returns their ids in creation order.
func groupTestRecipients(t *testing.T, st *models.Store, sc models.Scope, prefix string, n int) []int64 {
	t.Helper()
	ids := make([]int64, n)
	for i := range n {
		r, err := st.CreateRecipient(context.Background(), sc, models.RecipientInput{
			Name: strp(fmt.Sprintf("%s %d", prefix, i)), Email: strp(fmt.Sprintf("%s-%d-%d@groups.test", strings.ReplaceAll(prefix, " ", "-"), i, time.Now().UnixNano()))})
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = r.ID
	}
	return ids
}

// groupAuditCount counts the audit log's entries of an action on a group.
func groupAuditCount(t *testing.T, st *models.Store, action string, groupID int64) int {
	t.Helper()
	var n int
	if err := st.DB().NewRaw("SELECT count(*) FROM audit_log WHERE action = ? AND target_type = 'group' AND target_id = ?", action, groupID).
		Scan(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestGroupLifecycle: a group is created, renamed and deleted; a name
// another group has (in any case) is a FieldError on "name"; the list is
// by name with member counts; deleting a group keeps its recipients; each
// change is audited; another organization's group is not found.
func TestGroupLifecycle(t *testing.T) {
	ctx := context.Background()
	st, _, admin, agent := chatFixture(t)
	forgetNewRecipients(t, st)
	sfx := fmt.Sprint(time.Now().UnixNano())
	b, err := st.CreateGroup(ctx, agent, "  Zeta "+sfx+" ")
	if err != nil {
		t.Fatal(err)
	}
	if b.Name != "Zeta "+sfx {
		t.Fatalf("name not trimmed: %q", b.Name)
	}
	a, err := st.CreateGroup(ctx, admin, "alpha "+sfx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateGroup(ctx, admin, "ZETA "+sfx); fieldOf(t, err) != "name" {
		t.Fatalf("duplicate name: %v", err)
	}
	if _, err := st.CreateGroup(ctx, admin, "   "); fieldOf(t, err) != "name" {
		t.Fatalf("empty name: %v", err)
	}
	if _, err := st.RenameGroup(ctx, admin, a.ID, "zeta "+sfx); fieldOf(t, err) != "name" {
		t.Fatalf("rename to a taken name: %v", err)
	}
	ids := groupTestRecipients(t, st, admin, "Lifecycle "+sfx, 3)
	if n, err := st.AddGroupMembers(ctx, agent, a.ID, ids[:2]); err != nil || n != 2 {
		t.Fatalf("add: %d, %v", n, err)
	}
	gs, err := st.Groups(ctx, agent)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	counts := map[int64]int{}
	for _, g := range gs {
		if g.ID == a.ID || g.ID == b.ID {
			order = append(order, g.Name)
		}
		counts[g.ID] = g.Members
	}
	if !slices.Equal(order, []string{"alpha " + sfx, "Zeta " + sfx}) || counts[a.ID] != 2 || counts[b.ID] != 0 {
		t.Fatalf("groups: %v, counts %v", order, counts)
	}
	choices, err := st.GroupChoices(ctx, agent)
	if err != nil {
		t.Fatal(err)
	}
	order = nil
	for _, g := range choices {
		if g.ID == a.ID || g.ID == b.ID {
			order = append(order, g.Name)
		}
	}
	if !slices.Equal(order, []string{"alpha " + sfx, "Zeta " + sfx}) {
		t.Fatalf("group choices: %v", order)
	}
	r, err := st.RenameGroup(ctx, agent, a.ID, "Alpha renamed "+sfx)
	if err != nil || r.Name != "Alpha renamed "+sfx || r.Members != 2 {
		t.Fatalf("rename: %+v, %v", r, err)
	}
	rival := otherOrgScope(t, st, "groups-rival")
	if _, err := st.GroupByID(ctx, rival, a.ID); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("rival reads the group: %v", err)
	}
	if _, err := st.RenameGroup(ctx, rival, a.ID, "Taken over"); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("rival renames the group: %v", err)
	}
	if err := st.DeleteGroup(ctx, rival, a.ID); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("rival deletes the group: %v", err)
	}
	if err := st.DeleteGroup(ctx, agent, a.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := st.GroupByID(ctx, agent, a.ID); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("deleted group still there: %v", err)
	}
	for _, id := range ids {
		if _, err := st.RecipientByID(ctx, admin, id); err != nil {
			t.Fatalf("a deleted group's member %d: %v", id, err)
		}
	}
	for _, action := range []string{"group.create", "group.rename", "group.add_members", "group.delete"} {
		if n := groupAuditCount(t, st, action, a.ID); n != 1 {
			t.Errorf("audit %s: %d entries, want 1", action, n)
		}
	}
	if err := st.DeleteGroup(ctx, admin, b.ID); err != nil {
		t.Fatal(err)
	}
}

// TestGroupMembers: adding members by id (again: a no-op), by search and
// from another group; removing; the recipients list filtered by a group,
// in keyset pages; another organization's recipients or group refused as
// not found with nothing changed; GroupMemberIDs.
func TestGroupMembers(t *testing.T) {
	ctx := context.Background()
	st, _, admin, agent := chatFixture(t)
	forgetNewRecipients(t, st)
	sfx := fmt.Sprint(time.Now().UnixNano())
	g, err := st.CreateGroup(ctx, agent, "Members "+sfx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.DeleteGroup(ctx, admin, g.ID) })
	fruit := groupTestRecipients(t, st, admin, "Quince"+sfx, 3)
	other := groupTestRecipients(t, st, admin, "Medlar"+sfx, 2)

	if n, err := st.AddGroupMembers(ctx, agent, g.ID, []int64{fruit[0], fruit[1], fruit[0]}); err != nil || n != 2 {
		t.Fatalf("add: %d, %v", n, err)
	}
	if n, err := st.AddGroupMembers(ctx, agent, g.ID, []int64{fruit[1]}); err != nil || n != 0 {
		t.Fatalf("add again: %d, %v", n, err)
	}
	rival := otherOrgScope(t, st, "groups-rival")
	rivalIDs := groupTestRecipients(t, st, rival, "Rival"+sfx, 1)
	if _, err := st.AddGroupMembers(ctx, agent, g.ID, []int64{fruit[2], rivalIDs[0]}); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("another organization's recipient: %v", err)
	}
	if _, err := st.AddGroupMembers(ctx, rival, g.ID, rivalIDs); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("another organization's group: %v", err)
	}
	if _, err := st.AddGroupMembers(ctx, agent, g.ID, nil); fieldOf(t, err) != "recipient_ids" {
		t.Fatalf("no ids: %v", err)
	}
	// A limited agent sees no recipient without a conversation in its inboxes.
	limited := agent
	limited.InboxIDs = []int64{-1}
	if _, err := st.AddGroupMembers(ctx, limited, g.ID, fruit[2:]); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("a recipient outside a limited agent's inboxes: %v", err)
	}
	members := func(f models.RecipientFilter) []int64 {
		t.Helper()
		var got []int64
		var after int64
		for {
			p, err := st.RecipientsFiltered(ctx, agent, f, after, 1)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range p.Recipients {
				got = append(got, r.ID)
			}
			if p.NextAfter == 0 {
				return got
			}
			after = p.NextAfter
		}
	}
	if got := members(models.RecipientFilter{GroupID: g.ID}); !slices.Equal(got, []int64{fruit[1], fruit[0]}) {
		t.Fatalf("group's members, newest first: %v, want %v", got, []int64{fruit[1], fruit[0]})
	}
	if _, err := st.RecipientsFiltered(ctx, rival, models.RecipientFilter{GroupID: g.ID}, 0, 10); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("rival filters by the group: %v", err)
	}

	// Everyone a search matches: the third Quince and both Medlars.
	if n, err := st.AddGroupMembersMatching(ctx, agent, g.ID, models.RecipientFilter{Query: "quince" + sfx}); err != nil || n != 1 {
		t.Fatalf("add matching: %d, %v", n, err)
	}
	if n, err := st.AddGroupMembersMatching(ctx, agent, g.ID, models.RecipientFilter{Query: "medlar" + sfx}); err != nil || n != 2 {
		t.Fatalf("add matching: %d, %v", n, err)
	}
	if got := members(models.RecipientFilter{GroupID: g.ID, Query: "medlar" + sfx}); !slices.Equal(got, []int64{other[1], other[0]}) {
		t.Fatalf("group and search: %v", got)
	}
	// From another group: a second group gets the first's Medlars.
	g2, err := st.CreateGroup(ctx, agent, "Members two "+sfx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.DeleteGroup(ctx, admin, g2.ID) })
	if n, err := st.AddGroupMembersMatching(ctx, agent, g2.ID, models.RecipientFilter{GroupID: g.ID, Query: "medlar" + sfx}); err != nil || n != 2 {
		t.Fatalf("add from a group: %d, %v", n, err)
	}

	if n, err := st.RemoveGroupMembers(ctx, agent, g.ID, []int64{fruit[0], fruit[0]}); err != nil || n != 1 {
		t.Fatalf("remove: %d, %v", n, err)
	}
	if n, err := st.RemoveGroupMembers(ctx, agent, g.ID, []int64{fruit[0]}); err != nil || n != 0 {
		t.Fatalf("remove again: %d, %v", n, err)
	}
	if _, err := st.RemoveGroupMembers(ctx, agent, g.ID, rivalIDs); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("remove another organization's recipient: %v", err)
	}
	want := []int64{fruit[1], fruit[2], other[0], other[1]}
	got, err := st.GroupMemberIDs(ctx, agent, []int64{g.ID, g2.ID})
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("member ids: %v, %v; want %v", got, err, want)
	}
	if _, err := st.GroupMemberIDs(ctx, rival, []int64{g.ID}); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("rival's member ids: %v", err)
	}
	if n := groupAuditCount(t, st, "group.remove_members", g.ID); n != 2 {
		t.Errorf("remove audited %d times, want 2", n)
	}
}

// TestRecipientsCSV: the export holds everyone the filter matches, with
// their groups, and a cell that a spreadsheet would run as a formula is
// quoted with an apostrophe.
func TestRecipientsCSV(t *testing.T) {
	ctx := context.Background()
	st, _, admin, agent := chatFixture(t)
	forgetNewRecipients(t, st)
	sfx := fmt.Sprint(time.Now().UnixNano())
	g, err := st.CreateGroup(ctx, agent, "Export "+sfx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.DeleteGroup(ctx, admin, g.ID) })
	evil, err := st.CreateRecipient(ctx, agent, models.RecipientInput{Name: strp("=HYPERLINK(\"x\") " + sfx), Phone: strp("+15550199" + sfx[len(sfx)-3:])})
	if err != nil {
		t.Fatal(err)
	}
	plain := groupTestRecipients(t, st, admin, "Export"+sfx, 1)
	if _, err := st.AddGroupMembers(ctx, agent, g.ID, []int64{evil.ID, plain[0]}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	n, err := st.WriteRecipientsCSV(ctx, agent, models.RecipientFilter{GroupID: g.ID}, &buf)
	if err != nil || n != 2 {
		t.Fatalf("export: %d, %v", n, err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || !slices.Equal(rows[0], models.RecipientsCSVHeader) {
		t.Fatalf("rows: %q", rows)
	}
	if rows[1][0] != fmt.Sprint(plain[0]) || rows[2][0] != fmt.Sprint(evil.ID) {
		t.Fatalf("ids: %q", rows)
	}
	if rows[2][1] != "'=HYPERLINK(\"x\") "+sfx || rows[2][2] != *evil.Phone || rows[2][4] != "false" || rows[2][6] != "Export "+sfx {
		t.Fatalf("evil row: %q", rows[2])
	}
	buf.Reset()
	if _, err := st.WriteRecipientsCSV(ctx, otherOrgScope(t, st, "groups-rival"), models.RecipientFilter{GroupID: g.ID}, &buf); !errors.Is(err, models.ErrNotFound) || buf.Len() != 0 {
		t.Fatalf("rival's export: %v, %q", err, buf.String())
	}
}
