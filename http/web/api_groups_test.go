package web_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/models"
)

// groupsAPI sends API requests with one bearer token.
type groupsAPI struct {
	t     *testing.T
	base  string
	token string
}

// send makes a request with a JSON body ("" for none) and returns the
// status and body.
func (a groupsAPI) send(method, path, body string, header ...string) (*http.Response, string) {
	a.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, a.base+path, rd)
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		a.t.Fatal(err)
	}
	return resp, string(b)
}

// want sends a request and fails unless it answers status; it decodes a
// JSON answer into out (nil: ignored).
func (a groupsAPI) want(status int, method, path, body string, out any) string {
	a.t.Helper()
	resp, got := a.send(method, path, body)
	if resp.StatusCode != status {
		a.t.Fatalf("%s %s: %d %s, want %d", method, path, resp.StatusCode, got, status)
	}
	if out != nil {
		if err := json.Unmarshal([]byte(got), out); err != nil {
			a.t.Fatalf("%s %s: %v: %s", method, path, err, got)
		}
	}
	return got
}

// TestAPIGroups: groups and their members through the API, as an agent;
// a taken name is a 422 naming "name"; another organization's group or
// recipient ids are 404 and change nothing; the recipients list filtered
// by the group, as JSON and as CSV.
func TestAPIGroups(t *testing.T) {
	f := newFixture(t)
	forgetNewRecipients(t, f)
	ctx := context.Background()
	agent := models.Scope{OrgID: f.Demo.Org.ID, UserID: f.Demo.Agent.ID, Role: models.RoleAgent}
	tok, _, err := f.Store.CreateAPIToken(ctx, agent, "groups api test")
	if err != nil {
		t.Fatal(err)
	}
	api := groupsAPI{t: t, base: f.URL + "/api/v1", token: tok}
	rival := otherOrgUser(t, f)
	rivalScope := models.Scope{OrgID: rival.orgID, UserID: rival.userID, Role: models.RoleAdmin}
	rivalTok, _, err := f.Store.CreateAPIToken(ctx, rivalScope, "rival groups")
	if err != nil {
		t.Fatal(err)
	}
	rivalAPI := groupsAPI{t: t, base: f.URL + "/api/v1", token: rivalTok}

	sfx := fmt.Sprint(time.Now().UnixNano())
	var g struct {
		ID      int64  `json:"id"`
		Name    string `json:"name"`
		Members int    `json:"members"`
	}
	api.want(http.StatusCreated, "POST", "/groups", `{"name":"API group `+sfx+`"}`, &g)
	t.Cleanup(func() { _ = f.Store.DeleteGroup(ctx, agent, g.ID) })
	resp, body := api.send("POST", "/groups", `{"name":"api GROUP `+sfx+`"}`)
	if p := problemOf(t, resp, body, http.StatusUnprocessableEntity); strings.Join(p.fields(), ",") != "name" {
		t.Fatalf("taken name: %s", body)
	}
	var ids []int64
	for i := range 3 {
		var r struct {
			ID int64 `json:"id"`
		}
		api.want(http.StatusCreated, "POST", "/recipients", fmt.Sprintf(`{"name":"Apigroup%s %d","email":"apigroup-%s-%d@example.test"}`, sfx, i, sfx, i), &r)
		ids = append(ids, r.ID)
	}
	rivalRecipient, err := f.Store.CreateRecipient(ctx, rivalScope, models.RecipientInput{Name: new("Rival " + sfx), Email: new("rival-" + sfx + "@example.test")})
	if err != nil {
		t.Fatal(err)
	}
	path := fmt.Sprintf("/groups/%d", g.ID)
	var added struct {
		Added int `json:"added"`
	}
	api.want(http.StatusOK, "POST", path+"/members", fmt.Sprintf(`{"recipient_ids":[%d,%d]}`, ids[0], ids[1]), &added)
	if added.Added != 2 {
		t.Fatalf("added %d, want 2", added.Added)
	}
	api.want(http.StatusOK, "POST", path+"/members", fmt.Sprintf(`{"recipient_ids":[%d]}`, ids[0]), &added)
	if added.Added != 0 {
		t.Fatalf("added again: %d, want 0", added.Added)
	}
	// Another organization's: its recipient in our group, its token on our group.
	resp, body = api.send("POST", path+"/members", fmt.Sprintf(`{"recipient_ids":[%d,%d]}`, ids[2], rivalRecipient.ID))
	problemOf(t, resp, body, http.StatusNotFound)
	for _, r := range []struct{ method, path, body string }{
		{"GET", path, ""}, {"PATCH", path, `{"name":"Mine now"}`}, {"DELETE", path, ""},
		{"POST", path + "/members", fmt.Sprintf(`{"recipient_ids":[%d]}`, rivalRecipient.ID)},
		{"POST", path + "/members", `{"q":""}`},
		{"DELETE", path + "/members", fmt.Sprintf(`{"recipient_ids":[%d]}`, ids[0])},
		{"GET", fmt.Sprintf("/recipients?group_id=%d", g.ID), ""},
	} {
		resp, body := rivalAPI.send(r.method, r.path, r.body)
		problemOf(t, resp, body, http.StatusNotFound)
	}
	// By search: the third.
	api.want(http.StatusOK, "POST", path+"/members", `{"q":"apigroup`+sfx+`"}`, &added)
	if added.Added != 1 {
		t.Fatalf("added by search %d, want 1", added.Added)
	}
	api.want(http.StatusOK, "GET", path, "", &g)
	if g.Members != 3 {
		t.Fatalf("members %d, want 3", g.Members)
	}
	var list struct {
		Data []struct {
			ID int64 `json:"id"`
		} `json:"data"`
		NextCursor string `json:"next_cursor"`
	}
	api.want(http.StatusOK, "GET", fmt.Sprintf("/recipients?group_id=%d&limit=2", g.ID), "", &list)
	if len(list.Data) != 2 || list.Data[0].ID != ids[2] || list.NextCursor == "" {
		t.Fatalf("first page of members: %+v", list)
	}
	resp, body = api.send("GET", fmt.Sprintf("/recipients?group_id=%d", g.ID), "", "Accept", "text/csv")
	rows, err := csv.NewReader(bytes.NewBufferString(body)).ReadAll()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") || err != nil || len(rows) != 4 {
		t.Fatalf("csv: %d %s %v\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), err, body)
	}
	if rows[0][6] != "groups" || rows[1][0] != fmt.Sprint(ids[2]) || rows[1][6] != "API group "+sfx {
		t.Fatalf("csv rows: %q", rows)
	}
	var removed struct {
		Removed int `json:"removed"`
	}
	api.want(http.StatusOK, "DELETE", path+"/members", fmt.Sprintf(`{"recipient_ids":[%d,%d]}`, ids[0], ids[0]), &removed)
	if removed.Removed != 1 {
		t.Fatalf("removed %d, want 1", removed.Removed)
	}
	api.want(http.StatusOK, "PATCH", path, `{"name":"API renamed `+sfx+`"}`, &g)
	if g.Name != "API renamed "+sfx || g.Members != 2 {
		t.Fatalf("renamed: %+v", g)
	}
	api.want(http.StatusNoContent, "DELETE", path, "", nil)
	resp, body = api.send("GET", path, "")
	problemOf(t, resp, body, http.StatusNotFound)
	for _, id := range ids {
		api.want(http.StatusOK, "GET", fmt.Sprintf("/recipients/%d", id), "", nil)
	}
}
