package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/http/web"
	"github.com/parley-chat/parley/models"
)

// teamMember creates a user of the demo organization through the store,
// as the demo admin, with a fresh email, and returns it with its password.
func teamMember(t *testing.T, f *fixture, role string) (*models.TeamUser, string) {
	t.Helper()
	email := fmt.Sprintf("%s-%d@demo.parley.test", role, time.Now().UnixNano())
	pw := "member password 1"
	u, _, err := f.Store.CreateUser(context.Background(), f.adminScope(), models.NewUser{Name: "Member " + role,
		Email: email, Role: role, AllInboxes: true, Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	return u, pw
}

func (f *fixture) adminScope() models.Scope {
	a := f.Demo.Admin
	return models.Scope{OrgID: a.OrgID, UserID: a.ID, Role: a.Role, Name: a.Name, Via: models.ViaWeb}
}

// send posts a form as a browser does (no htmx), with the CSRF token of page.
func (c *client) send(page, path string, form url.Values) (*http.Response, string) {
	c.t.Helper()
	form.Set("_csrf", c.csrf(page))
	return c.do("POST", path, form, nil)
}

var linkRe = regexp.MustCompile(`/password/([A-Za-z0-9_-]{20,})`)

func TestTeamPagesByRole(t *testing.T) {
	f := newFixture(t)
	mgr, mpw := teamMember(t, f, models.RoleManager)
	manager := f.client(t)
	manager.login(mgr.Email, mpw)
	agent := f.client(t)
	agent.login(agentEmail, agentPassword)
	admin := f.client(t)
	admin.login(adminEmail, adminPassword)
	rival := otherOrgUser(t, f)

	if resp, body := admin.get("/settings/team"); resp.StatusCode != 200 || !strings.Contains(body, f.Demo.Agent.Email) || !strings.Contains(body, `href="/settings/team/new"`) {
		t.Fatalf("admin team page: %d", resp.StatusCode)
	}
	resp, body := manager.get("/settings/team")
	if resp.StatusCode != 200 || !strings.Contains(body, mgr.Email) || strings.Contains(body, `href="/settings/team/new"`) {
		t.Fatalf("manager team page: %d", resp.StatusCode)
	}
	if resp, body := manager.get("/settings/team/" + itoa(f.Demo.Agent.ID)); resp.StatusCode != 200 || strings.Contains(body, "/disable") || strings.Contains(body, `name="email"`) {
		t.Fatalf("manager sees a user read-only: %d", resp.StatusCode)
	}
	for _, path := range []string{"/settings/team/new"} {
		if resp, _ := manager.get(path); resp.StatusCode != 404 {
			t.Fatalf("manager GET %s: %d", path, resp.StatusCode)
		}
	}
	if resp, _ := manager.send("/settings/team", "/settings/team/"+itoa(f.Demo.Agent.ID)+"/disable", url.Values{}); resp.StatusCode != 404 {
		t.Fatalf("manager disables: %d", resp.StatusCode)
	}
	for _, path := range []string{"/settings/team", "/settings/team/" + itoa(f.Demo.Admin.ID)} {
		if resp, _ := agent.get(path); resp.StatusCode != 404 {
			t.Fatalf("agent GET %s: %d", path, resp.StatusCode)
		}
	}
	// Another organization's user does not exist for this admin.
	if resp, _ := admin.get("/settings/team/" + itoa(rival.userID)); resp.StatusCode != 404 {
		t.Fatalf("rival's user: %d", resp.StatusCode)
	}
	if resp, _ := admin.send("/settings/team", "/settings/team/"+itoa(rival.userID)+"/disable", url.Values{}); resp.StatusCode != 404 {
		t.Fatalf("disable rival's user: %d", resp.StatusCode)
	}
}

// Adding someone: bad input is shown next to its field and adds nobody;
// an invitation shows a link that sets a password once.
func TestTeamInviteAndPasswordLink(t *testing.T) {
	f := newFixture(t)
	admin := f.client(t)
	admin.login(adminEmail, adminPassword)
	email := fmt.Sprintf("new-%d@demo.parley.test", time.Now().UnixNano())
	form := url.Values{"name": {"Nia New"}, "email": {"not-an-email"}, "role": {"agent"}, "access": {"chosen"},
		"inbox_ids": {itoa(f.Demo.Inbox.ID)}, "invite": {"1"}}
	resp, body := admin.send("/settings/team/new", "/settings/team", form)
	if resp.StatusCode != 422 || !strings.Contains(body, `id="email-error"`) || !strings.Contains(body, `value="Nia New"`) {
		t.Fatalf("bad email: %d\n%s", resp.StatusCode, body)
	}
	form.Set("email", email)
	form.Del("inbox_ids")
	if resp, body := admin.send("/settings/team/new", "/settings/team", form); resp.StatusCode != 422 || !strings.Contains(body, `id="inbox_ids-error"`) {
		t.Fatalf("no inbox: %d", resp.StatusCode)
	}
	if _, err := f.Store.Authenticate(context.Background(), email, "x"); err == nil {
		t.Fatal("a refused form added someone")
	}
	form.Set("inbox_ids", itoa(f.Demo.Inbox.ID))
	resp, body = admin.send("/settings/team/new", "/settings/team", form)
	m := linkRe.FindStringSubmatch(body)
	if resp.StatusCode != 201 || m == nil || !strings.Contains(body, "does not send email yet") {
		t.Fatalf("invite: %d\n%s", resp.StatusCode, body)
	}
	link := "/password/" + m[1]

	anon := f.client(t)
	if resp, body := anon.get(link); resp.StatusCode != 200 || !strings.Contains(body, "Welcome, Nia New") {
		t.Fatalf("link page: %d", resp.StatusCode)
	}
	if resp, body := anon.send(link, link, url.Values{"password": {"short"}}); resp.StatusCode != 422 || !strings.Contains(body, `id="password-error"`) {
		t.Fatalf("short password: %d", resp.StatusCode)
	}
	resp, _ = anon.send(link, link, url.Values{"password": {"nia password 1"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login?notice=password" {
		t.Fatalf("set password: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, body := anon.get("/login?notice=password"); resp.StatusCode != 200 || !strings.Contains(body, "Your password is set") {
		t.Fatalf("login notice: %d", resp.StatusCode)
	}
	if resp, body := anon.get(link); resp.StatusCode != http.StatusGone || !strings.Contains(body, "used or has expired") {
		t.Fatalf("used link: %d", resp.StatusCode)
	}
	if resp, _ := anon.get("/password/nonexistent-token-value-000000"); resp.StatusCode != 404 {
		t.Fatalf("unknown link: %d", resp.StatusCode)
	}
	nia := f.client(t)
	nia.login(email, "nia password 1")
	// A limited agent sees only the chosen inbox, and no settings.
	if resp, _ := nia.get("/settings/team"); resp.StatusCode != 404 {
		t.Fatalf("new agent sees the team: %d", resp.StatusCode)
	}
}

// Disabling a user closes their open socket at once (4001) and their next
// page is the login; re-enabling lets them sign in again.
func TestTeamDisableClosesSocket(t *testing.T) {
	f := newFixtureWith(t, serverOpts{socket: web.SocketOptions{CheckEvery: time.Hour}})
	u, pw := teamMember(t, f, models.RoleAgent)
	agent := f.client(t)
	agent.login(u.Email, pw)
	ls := agent.liveNow(t, agent.base)
	f.awaitSubscribers(t, 1)
	admin := f.client(t)
	admin.login(adminEmail, adminPassword)

	page := "/settings/team/" + itoa(u.ID)
	resp, _ := admin.send(page, page+"/disable", url.Values{})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != page+"?done=disabled" {
		t.Fatalf("disable: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	endedWith(t, ls, signOutBound, 4001, "signed out")
	if resp, _ := agent.get("/chats"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Fatalf("disabled user's next page: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, body := admin.get(page + "?done=disabled"); !strings.Contains(body, "Disabled") || !strings.Contains(body, "/enable") {
		t.Fatalf("user page after disable: %d", resp.StatusCode)
	}
	// The admin cannot disable themselves: no button, and the post is refused.
	self := "/settings/team/" + itoa(f.Demo.Admin.ID)
	if resp, body := admin.send(self, self+"/disable", url.Values{}); resp.StatusCode != 422 || !strings.Contains(body, `id="disabled-error"`) {
		t.Fatalf("self-disable: %d", resp.StatusCode)
	}
	if resp, _ := admin.send(page, page+"/enable", url.Values{}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("enable: %d", resp.StatusCode)
	}
	agent.login(u.Email, pw)

	// Reset: a link shown to the admin, which replaces the password once.
	resp, body := admin.send(page, page+"/reset", url.Values{})
	m := linkRe.FindStringSubmatch(body)
	if resp.StatusCode != 200 || m == nil {
		t.Fatalf("reset: %d", resp.StatusCode)
	}
	anon := f.client(t)
	link := "/password/" + m[1]
	if resp, _ := anon.send(link, link, url.Values{"password": {"brand new password"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("use reset link: %d", resp.StatusCode)
	}
	if resp, _ := agent.get("/chats"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("session survived the reset: %d", resp.StatusCode)
	}
	agent.login(u.Email, "brand new password")
}

// Editing: errors next to fields; demoting an agent's inboxes signs them out.
func TestTeamEditForm(t *testing.T) {
	f := newFixtureWith(t, serverOpts{socket: web.SocketOptions{CheckEvery: time.Hour}})
	u, pw := teamMember(t, f, models.RoleManager)
	member := f.client(t)
	member.login(u.Email, pw)
	ls := member.liveNow(t, member.base)
	f.awaitSubscribers(t, 1)
	admin := f.client(t)
	admin.login(adminEmail, adminPassword)
	page := "/settings/team/" + itoa(u.ID)
	form := url.Values{"name": {""}, "email": {u.Email}, "role": {"agent"}, "access": {"all"}}
	if resp, body := admin.send(page, page, form); resp.StatusCode != 422 || !strings.Contains(body, `id="name-error"`) {
		t.Fatalf("empty name: %d", resp.StatusCode)
	}
	form.Set("name", "Renamed Member")
	resp, _ := admin.send(page, page, form)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != page+"?done=signout" {
		t.Fatalf("demote: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	endedWith(t, ls, signOutBound, 4001, "signed out")
	got, err := f.Store.TeamUser(context.Background(), f.adminScope(), u.ID)
	if err != nil || got.Name != "Renamed Member" || got.Role != models.RoleAgent {
		t.Fatalf("after edit: %+v %v", got, err)
	}
}

// A password change on the profile closes the other browser's socket and
// keeps this one.
func TestProfilePasswordChange(t *testing.T) {
	f := newFixtureWith(t, serverOpts{socket: web.SocketOptions{CheckEvery: time.Hour}})
	u, pw := teamMember(t, f, models.RoleAgent)
	here, there := f.client(t), f.client(t)
	here.login(u.Email, pw)
	there.login(u.Email, pw)
	hereSocket, thereSocket := here.liveNow(t, here.base), there.liveNow(t, there.base)
	f.awaitSubscribers(t, 2)

	resp, body := here.send("/profile", "/profile/password", url.Values{"current_password": {"wrong one!!"}, "new_password": {"new password 12"}})
	if resp.StatusCode != 422 || !strings.Contains(body, `id="current_password-error"`) {
		t.Fatalf("wrong current: %d", resp.StatusCode)
	}
	resp, _ = here.send("/profile", "/profile/password", url.Values{"current_password": {pw}, "new_password": {"new password 12"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("change: %d", resp.StatusCode)
	}
	endedWith(t, thereSocket, signOutBound, 4001, "signed out")
	stillLive(t, f, hereSocket, "here-still-live")
	if resp, body := here.get("/profile?done=password"); resp.StatusCode != 200 || !strings.Contains(body, "Password changed") {
		t.Fatalf("this browser after the change: %d", resp.StatusCode)
	}
	if resp, _ := there.get("/profile"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("other browser after the change: %d", resp.StatusCode)
	}

	// Preferences: a bad time zone is named next to its field.
	resp, body = here.send("/profile", "/profile", url.Values{"name": {"Pat"}, "timezone": {"Nowhere/Atlantis"}, "clock": {"24"}})
	if resp.StatusCode != 422 || !strings.Contains(body, `id="timezone-error"`) || !strings.Contains(body, `value="Pat"`) {
		t.Fatalf("bad zone: %d", resp.StatusCode)
	}
	if resp, _ := here.send("/profile", "/profile", url.Values{"name": {"Pat"}, "timezone": {"Europe/Paris"}, "clock": {"24"}, "notify_desktop": {"on"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save profile: %d", resp.StatusCode)
	}
	if _, body := here.get("/profile"); !strings.Contains(body, `data-tz="Europe/Paris"`) || !strings.Contains(body, `data-clock24="1"`) || !strings.Contains(body, `data-notify="on"`) {
		t.Fatal("the page does not carry the preferences")
	}

	// Tokens: created (shown once), listed, revoked.
	resp, body = here.send("/profile", "/profile/tokens", url.Values{"name": {""}})
	if resp.StatusCode != 422 || !strings.Contains(body, `id="token_name-error"`) {
		t.Fatalf("nameless token: %d", resp.StatusCode)
	}
	resp, body = here.send("/profile", "/profile/tokens", url.Values{"name": {"My script"}})
	tok := regexp.MustCompile(`value="(pat_[^"]+)"`).FindStringSubmatch(body)
	if resp.StatusCode != 201 || tok == nil {
		t.Fatalf("create token: %d", resp.StatusCode)
	}
	api := f.client(t)
	if resp, _ := api.do("GET", "/api/v1/me", nil, map[string]string{"Authorization": "Bearer " + tok[1]}); resp.StatusCode != 200 {
		t.Fatalf("new token: %d", resp.StatusCode)
	}
	ts, _ := f.Store.APITokens(context.Background(), models.Scope{OrgID: u.OrgID, UserID: u.ID})
	if _, body := here.get("/profile"); strings.Contains(body, tok[1]) || !strings.Contains(body, "My script") {
		t.Fatal("token shown again, or not listed")
	}
	if resp, _ := here.send("/profile", "/profile/tokens/"+itoa(ts[0].ID)+"/revoke", url.Values{}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	if resp, _ := api.do("GET", "/api/v1/me", nil, map[string]string{"Authorization": "Bearer " + tok[1]}); resp.StatusCode != 401 {
		t.Fatalf("revoked token: %d", resp.StatusCode)
	}
}

// apiCall sends a JSON request with a bearer token.
func (c *client) apiCall(token, method, path string, body any) (*http.Response, map[string]any) {
	c.t.Helper()
	var b []byte
	if body != nil {
		b, _ = json.Marshal(body)
	}
	req, _ := http.NewRequest(method, c.base+path, strings.NewReader(string(b)))
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp, out
}

func firstField(p map[string]any) string {
	errs, _ := p["errors"].([]any)
	if len(errs) == 0 {
		return ""
	}
	e, _ := errs[0].(map[string]any)
	s, _ := e["field"].(string)
	return s
}

func TestAPIUsers(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	adminToken, _, err := f.Store.CreateAPIToken(ctx, f.adminScope(), "team test")
	if err != nil {
		t.Fatal(err)
	}
	c := f.client(t)
	rival := otherOrgUser(t, f)
	email := fmt.Sprintf("api-%d@demo.parley.test", time.Now().UnixNano())

	resp, p := c.apiCall(adminToken, "POST", "/api/v1/users", map[string]any{"name": "Api Person", "email": "nope", "role": "agent", "password": "api password 1"})
	if resp.StatusCode != 422 || firstField(p) != "email" {
		t.Fatalf("bad email: %d %v", resp.StatusCode, p)
	}
	resp, p = c.apiCall(adminToken, "POST", "/api/v1/users", map[string]any{"name": "Api Person", "email": email, "role": "boss", "password": "api password 1"})
	if resp.StatusCode != 422 || firstField(p) != "role" {
		t.Fatalf("bad role: %d %v", resp.StatusCode, p)
	}
	resp, p = c.apiCall(adminToken, "POST", "/api/v1/users", map[string]any{"name": "Api Person", "email": email, "role": "agent", "colour": "red"})
	if resp.StatusCode != 422 || firstField(p) != "colour" {
		t.Fatalf("unknown field: %d %v", resp.StatusCode, p)
	}
	resp, p = c.apiCall(adminToken, "POST", "/api/v1/users", map[string]any{"name": "Api Person", "email": email, "role": "agent",
		"inbox_ids": []int64{rival.inboxID}, "password": "api password 1"})
	if resp.StatusCode != 422 || firstField(p) != "inbox_ids" {
		t.Fatalf("rival's inbox: %d %v", resp.StatusCode, p)
	}
	resp, p = c.apiCall(adminToken, "POST", "/api/v1/users", map[string]any{"name": "Api Person", "email": email, "role": "agent",
		"inbox_ids": []int64{f.Demo.Inbox.ID}, "invite": true})
	if resp.StatusCode != 201 || !strings.Contains(fmt.Sprint(p["invite_url"]), "/password/") || p["all_inboxes"] != false {
		t.Fatalf("invite: %d %v", resp.StatusCode, p)
	}
	id := int64(p["id"].(float64))

	resp, p = c.apiCall(adminToken, "GET", "/api/v1/users?limit=1", nil)
	if resp.StatusCode != 200 || len(p["data"].([]any)) != 1 || p["next_cursor"] == "" {
		t.Fatalf("list: %d %v", resp.StatusCode, p)
	}
	found := false
	for cur := ""; ; {
		resp, p = c.apiCall(adminToken, "GET", "/api/v1/users?limit=2&cursor="+cur, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("page: %d %v", resp.StatusCode, p)
		}
		for _, d := range p["data"].([]any) {
			if int64(d.(map[string]any)["id"].(float64)) == id {
				found = true
			}
			if int64(d.(map[string]any)["id"].(float64)) == rival.userID {
				t.Fatal("the list shows another organization's user")
			}
		}
		if cur = p["next_cursor"].(string); cur == "" {
			break
		}
	}
	if !found {
		t.Fatal("the new user is not listed")
	}
	for _, m := range []string{"GET", "PATCH"} {
		if resp, _ := c.apiCall(adminToken, m, "/api/v1/users/"+itoa(rival.userID), map[string]any{"name": "x"}); resp.StatusCode != 404 {
			t.Fatalf("%s rival's user: %d", m, resp.StatusCode)
		}
	}
	resp, p = c.apiCall(adminToken, "PATCH", "/api/v1/users/"+itoa(f.Demo.Admin.ID), map[string]any{"disabled": true})
	if resp.StatusCode != 422 || firstField(p) != "disabled" {
		t.Fatalf("self-disable: %d %v", resp.StatusCode, p)
	}

	// A user's token stops at once when they are disabled.
	u, _ := teamMember(t, f, models.RoleAgent)
	userToken, _, err := f.Store.CreateAPIToken(ctx, models.Scope{OrgID: u.OrgID, UserID: u.ID, Role: u.Role, Name: u.Name}, "agent script")
	if err != nil {
		t.Fatal(err)
	}
	if resp, _ := c.apiCall(userToken, "GET", "/api/v1/me", nil); resp.StatusCode != 200 {
		t.Fatalf("agent token: %d", resp.StatusCode)
	}
	if resp, _ := c.apiCall(userToken, "GET", "/api/v1/users", nil); resp.StatusCode != 404 {
		t.Fatalf("agent lists users: %d", resp.StatusCode)
	}
	resp, p = c.apiCall(adminToken, "PATCH", "/api/v1/users/"+itoa(u.ID), map[string]any{"disabled": true})
	if resp.StatusCode != 200 || p["disabled"] != true {
		t.Fatalf("disable: %d %v", resp.StatusCode, p)
	}
	if resp, _ := c.apiCall(userToken, "GET", "/api/v1/me", nil); resp.StatusCode != 401 {
		t.Fatalf("disabled user's token: %d", resp.StatusCode)
	}
	resp, p = c.apiCall(adminToken, "PATCH", "/api/v1/users/"+itoa(u.ID), map[string]any{"disabled": false, "inbox_ids": []int64{f.Demo.Inbox.ID}, "name": "Limited"})
	if resp.StatusCode != 200 || p["all_inboxes"] != false || p["name"] != "Limited" {
		t.Fatalf("limit: %d %v", resp.StatusCode, p)
	}
	var n int
	if err := f.Store.DB().NewRaw(`SELECT count(*) FROM audit_log WHERE target_id = ? AND via = 'api' AND action IN ('user.disable', 'user.enable')`, u.ID).Scan(ctx, &n); err != nil || n != 2 {
		t.Fatalf("api audit rows: %d %v", n, err)
	}
}
