package web_test

import (
	"context"
	"net/url"
	"testing"
)

// The role matrix's rows of the recipients list's routes and of groups
// (pages and API): reading is every signed-in user's, changes need
// recipients.edit (every role has it); another organization's group is
// not found, and so is a recipient outside a limited agent's inboxes.

// matrixGroups is the groups' seed: a group the rows read and change, and
// one to delete (made afresh before each principal's request).
type matrixGroups struct{ group, groupDel int64 }

// placeholders are {group} and {groupDel}.
func (g *matrixGroups) placeholders() []string {
	return []string{"{group}", itoa(g.group), "{groupDel}", itoa(g.groupDel)}
}

// seedGroups creates the matrix's group; what the rows create is removed
// at the end (by this run's names).
func (w *matrixWorld) seedGroups(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	g, err := w.f.Store.CreateGroup(ctx, w.scope(pAdmin), "Matrix group "+runID)
	if err != nil {
		t.Fatal(err)
	}
	w.groups.group = g.ID
	freshGroupDel(t, w)
	t.Cleanup(func() {
		if _, err := w.f.Store.DB().NewRaw("DELETE FROM groups WHERE name LIKE ?", "%"+runID+"%").Exec(ctx); err != nil {
			t.Logf("matrix cleanup: groups: %v", err)
		}
	})
}

// rivalHasMatrixGroup gives the rival's organization a group of the
// matrix group's name (a second row sees it taken there too).
func rivalHasMatrixGroup(t *testing.T, w *matrixWorld) {
	w.exec(t, "INSERT INTO groups (org_id, name) VALUES (?, ?) ON CONFLICT DO NOTHING", w.rival.orgID, "Matrix group "+runID)
}

// freshGroupDel makes a new group for a delete row.
func freshGroupDel(t *testing.T, w *matrixWorld) {
	t.Helper()
	g, err := w.f.Store.CreateGroup(context.Background(), w.scope(pAdmin), "Matrix delete "+itoa(phoneSeq.Add(1))+" "+runID)
	if err != nil {
		t.Fatal(err)
	}
	w.groups.groupDel = g.ID
}

// groupRows: the recipients list's routes and groups.
// Columns: anonymous, limited, agent, manager, admin, operator, rival.
var groupRows = []matrixRow{
	{route: "GET /recipients", path: "/recipients?group_id={group}", expect: "LOOOOON"},
	{route: "GET /recipients.csv", path: "/recipients.csv", expect: "LOOOOOO"},
	{route: "GET /recipients.csv", path: "/recipients.csv?group_id={group}", expect: "LOOOOON"},
	{route: "GET /recipients/new", path: "/recipients/new", expect: "LOOOOOO"},
	{route: "POST /recipients", path: "/recipients", form: url.Values{"name": {"Matrix new {n} {run}"}, "email": {"matrix-new-rcpt-{n}-{run}@example.test"}}, expect: "LOOOOOO"},
	{route: "POST /recipients", path: "/recipients", form: url.Values{"name": {"Matrix new {n} {run}"}, "email": {"not an address"}}, expect: "LIIIIII"},
	{route: "POST /recipients/groups", path: "/recipients/groups", form: url.Values{"action": {"add"}, "group_id": {"{group}"}, "id": {"{recA}"}}, expect: "LNOOOON"},
	{route: "POST /recipients/groups", path: "/recipients/groups", form: url.Values{"action": {"add"}, "group_id": {"{group}"}, "id": {"{recB}"}}, expect: "LOOOOON"},
	{route: "POST /recipients/groups", path: "/recipients/groups", form: url.Values{"action": {"remove"}, "group_id": {"{group}"}, "id": {"{recB}"}}, expect: "LOOOOON"},
	{route: "POST /recipients/groups", path: "/recipients/groups", form: url.Values{"action": {"add_all"}, "group_id": {"{group}"}, "q": {"{recBphone}"}}, expect: "LOOOOON"},
	{route: "GET /groups", path: "/groups", expect: "LOOOOOO"},
	{route: "POST /groups", path: "/groups", form: url.Values{"name": {"Matrix new group {n} {run}"}}, expect: "LOOOOOO"},
	{route: "POST /groups", path: "/groups", form: url.Values{"name": {"Matrix group {run}"}}, expect: "LIIIIIO"}, // taken here; new to the rival's organization
	{route: "POST /groups", path: "/groups", form: url.Values{"name": {"Matrix group {run}"}}, expect: "LIIIIII", prep: rivalHasMatrixGroup},
	{route: "GET /groups/:id<int>", path: "/groups/{group}", expect: "LOOOOON"},
	{route: "POST /groups/:id<int>", path: "/groups/{group}", form: url.Values{"name": {"Matrix group {run}"}}, expect: "LOOOOON"},
	{route: "POST /groups/:id<int>/delete", path: "/groups/{groupDel}/delete", form: url.Values{}, expect: "LOOOOON", prep: freshGroupDel},

	{route: "GET /api/v1/recipients", path: "/api/v1/recipients?group_id={group}", expect: "LOOOOON"},
	{route: "GET /api/v1/groups", path: "/api/v1/groups", expect: "LOOOOOO"},
	{route: "POST /api/v1/groups", path: "/api/v1/groups", json: `{"name":"Matrix API group {n} {run}"}`, expect: "LOOOOOO"},
	{route: "GET /api/v1/groups/:id<int>", path: "/api/v1/groups/{group}", expect: "LOOOOON"},
	{route: "PATCH /api/v1/groups/:id<int>", path: "/api/v1/groups/{group}", json: `{"name":"Matrix group {run}"}`, expect: "LOOOOON"},
	{route: "DELETE /api/v1/groups/:id<int>", path: "/api/v1/groups/{groupDel}", expect: "LOOOOON", prep: freshGroupDel},
	{route: "POST /api/v1/groups/:id<int>/members", path: "/api/v1/groups/{group}/members", json: `{"recipient_ids":[{recA}]}`, expect: "LNOOOON"},
	{route: "POST /api/v1/groups/:id<int>/members", path: "/api/v1/groups/{group}/members", json: `{"recipient_ids":[{recB}]}`, expect: "LOOOOON"},
	{route: "POST /api/v1/groups/:id<int>/members", path: "/api/v1/groups/{group}/members", json: `{"q":"{recBphone}"}`, expect: "LOOOOON"},
	{route: "DELETE /api/v1/groups/:id<int>/members", path: "/api/v1/groups/{group}/members", json: `{"recipient_ids":[{recB}]}`, expect: "LOOOOON"},
}
