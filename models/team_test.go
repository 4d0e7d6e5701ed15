package models_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley/models"
)

var teamOrgSeq atomic.Int64

// teamOrg is a fresh organization with admins and two inboxes.
type teamOrg struct {
	id       int64
	admins   []models.Scope
	inboxes  []int64
	emailFor func(string) string
}

// newTeamOrg creates an organization with n admins (who cannot sign in:
// their hashes match nothing) and two inboxes.
func newTeamOrg(t *testing.T, s *models.Store, n int) *teamOrg {
	t.Helper()
	ctx := context.Background()
	db := s.DB()
	tag := fmt.Sprintf("t%d-%d", time.Now().UnixNano(), teamOrgSeq.Add(1))
	o := &teamOrg{emailFor: func(who string) string { return who + "@" + tag + ".test" }}
	if err := db.NewRaw(`INSERT INTO organizations (name, slug) VALUES (?, ?) RETURNING id`, "Org "+tag, tag).Scan(ctx, &o.id); err != nil {
		t.Fatal(err)
	}
	var loc int64
	if err := db.NewRaw(`INSERT INTO locations (org_id, name) VALUES (?, 'HQ') RETURNING id`, o.id).Scan(ctx, &loc); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"Front desk", "Billing"} {
		var id int64
		if err := db.NewRaw(`INSERT INTO inboxes (org_id, location_id, name) VALUES (?, ?, ?) RETURNING id`, o.id, loc, name).Scan(ctx, &id); err != nil {
			t.Fatal(err)
		}
		o.inboxes = append(o.inboxes, id)
	}
	for i := range n {
		name := fmt.Sprintf("Admin %d", i+1)
		var id int64
		if err := db.NewRaw(`INSERT INTO users (org_id, email, name, role, password_hash) VALUES (?, ?, ?, 'admin', 'x') RETURNING id`,
			o.id, o.emailFor(fmt.Sprintf("admin%d", i+1)), name).Scan(ctx, &id); err != nil {
			t.Fatal(err)
		}
		o.admins = append(o.admins, models.Scope{OrgID: o.id, UserID: id, Role: models.RoleAdmin, Name: name, Via: models.ViaWeb})
	}
	return o
}

func wantTeamField(t *testing.T, err error, field string) {
	t.Helper()
	var fe *models.FieldError
	if !errors.As(err, &fe) || fe.Field != field {
		t.Fatalf("err = %v, want a field error on %q", err, field)
	}
}

func adminCount(t *testing.T, s *models.Store, orgID int64) int {
	t.Helper()
	var n int
	if err := s.DB().NewRaw(`SELECT count(*) FROM users WHERE org_id = ? AND role = 'admin' AND disabled_at IS NULL`, orgID).
		Scan(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestLastAdminCannotBeDemotedOrDisabled(t *testing.T) {
	s, ctx := openStore(t), context.Background()
	o := newTeamOrg(t, s, 1)
	a := o.admins[0]
	_, err := s.UpdateUser(ctx, a, a.UserID, models.UserChange{Role: ptr(models.RoleManager)})
	wantTeamField(t, err, "role")
	_, err = s.UpdateUser(ctx, a, a.UserID, models.UserChange{Disabled: ptr(true)})
	wantTeamField(t, err, "disabled")

	b, _, err := s.CreateUser(ctx, a, models.NewUser{Name: "Bea", Email: o.emailFor("bea"), Role: models.RoleAdmin, Password: "bea password 1"})
	if err != nil {
		t.Fatal(err)
	}
	bs := models.Scope{OrgID: o.id, UserID: b.ID, Role: models.RoleAdmin, Name: "Bea"}
	// Bea demotes the first admin; Bea is then the last, and cannot be
	// disabled by anyone, nor demote herself.
	if _, err := s.UpdateUser(ctx, bs, a.UserID, models.UserChange{Role: ptr(models.RoleAgent)}); err != nil {
		t.Fatal(err)
	}
	_, err = s.UpdateUser(ctx, bs, b.ID, models.UserChange{Role: ptr(models.RoleManager)})
	wantTeamField(t, err, "role")
	if n := adminCount(t, s, o.id); n != 1 {
		t.Fatalf("admins = %d, want 1", n)
	}
}

// Two admins demoting each other at the same moment: one wins, one is
// refused, and the organization keeps an admin.
func TestConcurrentDemoteKeepsAnAdmin(t *testing.T) {
	s, ctx := openStore(t), context.Background()
	o := newTeamOrg(t, s, 2)
	a, b := o.admins[0], o.admins[1]
	for round := range 8 {
		if _, err := s.DB().NewRaw(`UPDATE users SET role = 'admin' WHERE org_id = ?`, o.id).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make([]error, 2)
		start := make(chan struct{})
		for i, pair := range [][2]models.Scope{{a, b}, {b, a}} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, errs[i] = s.UpdateUser(ctx, pair[0], pair[1].UserID, models.UserChange{Role: ptr(models.RoleManager)})
			}()
		}
		close(start)
		wg.Wait()
		if n := adminCount(t, s, o.id); n != 1 {
			t.Fatalf("round %d: admins = %d, want 1 (errors %v)", round, n, errs)
		}
		failed := 0
		for _, err := range errs {
			if err != nil {
				wantTeamField(t, err, "role")
				failed++
			}
		}
		if failed != 1 {
			t.Fatalf("round %d: %d refusals, want 1", round, failed)
		}
	}
}

// Disabling a user ends their sessions at once (the sockets are told),
// and their API tokens stop working; re-enabling lets them back in.
func TestDisableEndsSessionsAndTokens(t *testing.T) {
	s, ctx := openStore(t), context.Background()
	o := newTeamOrg(t, s, 1)
	a := o.admins[0]
	var told []int64
	var mu sync.Mutex
	s.OnSessionsEnded(func(_ context.Context, userID, sessionID int64) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		told = append(told, userID, sessionID)
		return 0, nil
	})
	u, _, err := s.CreateUser(ctx, a, models.NewUser{Name: "Cal", Email: o.emailFor("cal"), Role: models.RoleAgent,
		AllInboxes: true, Password: "cal password 1"})
	if err != nil {
		t.Fatal(err)
	}
	cookie, err := s.CreateSession(ctx, u.ID, time.Hour, "127.0.0.1", "test")
	if err != nil {
		t.Fatal(err)
	}
	token, _, err := s.CreateAPIToken(ctx, models.Scope{OrgID: o.id, UserID: u.ID, Role: u.Role, Name: u.Name}, "cal's script")
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.UpdateUser(ctx, a, u.ID, models.UserChange{Disabled: ptr(true)})
	if err != nil {
		t.Fatal(err)
	}
	if !res.AccessReduced || res.User.DisabledAt == nil {
		t.Fatalf("disable: %+v", res)
	}
	if _, err := s.SessionByToken(ctx, cookie, time.Hour); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("session after disable: %v", err)
	}
	var left int
	if err := s.DB().NewRaw(`SELECT count(*) FROM sessions WHERE user_id = ?`, u.ID).Scan(ctx, &left); err != nil || left != 0 {
		t.Fatalf("sessions left: %d %v", left, err)
	}
	mu.Lock()
	if len(told) != 2 || told[0] != u.ID || told[1] != 0 {
		t.Fatalf("sockets told %v, want [%d 0]", told, u.ID)
	}
	mu.Unlock()
	if _, err := s.UserByAPIToken(ctx, token); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("token after disable: %v", err)
	}
	if _, err := s.Authenticate(ctx, o.emailFor("cal"), "cal password 1"); !errors.Is(err, models.ErrInvalidCredentials) {
		t.Fatalf("login after disable: %v", err)
	}
	if _, err := s.UpdateUser(ctx, a, u.ID, models.UserChange{Disabled: ptr(false)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UserByAPIToken(ctx, token); err != nil {
		t.Fatalf("token after re-enable: %v", err)
	}
	// Nobody disables themselves.
	_, err = s.UpdateUser(ctx, a, a.UserID, models.UserChange{Disabled: ptr(true)})
	wantTeamField(t, err, "disabled")
}

// Taking an inbox away ends the agent's sessions; giving more does not.
func TestAccessReductionEndsSessions(t *testing.T) {
	s, ctx := openStore(t), context.Background()
	o := newTeamOrg(t, s, 1)
	a := o.admins[0]
	u, _, err := s.CreateUser(ctx, a, models.NewUser{Name: "Dee", Email: o.emailFor("dee"), Role: models.RoleAgent,
		InboxIDs: o.inboxes, Password: "dee password 1"})
	if err != nil {
		t.Fatal(err)
	}
	if u.AllInboxes || len(u.InboxIDs) != 2 {
		t.Fatalf("created %+v", u)
	}
	cookie, _ := s.CreateSession(ctx, u.ID, time.Hour, "", "")
	res, err := s.UpdateUser(ctx, a, u.ID, models.UserChange{AllInboxes: ptr(true)})
	if err != nil || res.AccessReduced {
		t.Fatalf("widen: %+v %v", res, err)
	}
	if _, err := s.SessionByToken(ctx, cookie, time.Hour); err != nil {
		t.Fatalf("session after widening: %v", err)
	}
	res, err = s.UpdateUser(ctx, a, u.ID, models.UserChange{AllInboxes: ptr(false), InboxIDs: o.inboxes[:1]})
	if err != nil || !res.AccessReduced {
		t.Fatalf("narrow: %+v %v", res, err)
	}
	if _, err := s.SessionByToken(ctx, cookie, time.Hour); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("session after narrowing: %v", err)
	}
	// The next sign-in sees only the inbox left.
	cookie, _ = s.CreateSession(ctx, u.ID, time.Hour, "", "")
	su, err := s.SessionByToken(ctx, cookie, time.Hour)
	if err != nil || len(su.Scope.InboxIDs) != 1 || su.Scope.InboxIDs[0] != o.inboxes[0] {
		t.Fatalf("scope after narrowing: %+v %v", su, err)
	}
}

func TestTeamValidation(t *testing.T) {
	s, ctx := openStore(t), context.Background()
	o := newTeamOrg(t, s, 1)
	other := newTeamOrg(t, s, 1)
	a := o.admins[0]
	good := models.NewUser{Name: "Eve", Email: o.emailFor("eve"), Role: models.RoleAgent, AllInboxes: true, Password: "eve password 1"}
	cases := []struct {
		field string
		edit  func(*models.NewUser)
	}{
		{"name", func(n *models.NewUser) { n.Name = "  " }},
		{"email", func(n *models.NewUser) { n.Email = "not an email" }},
		{"email", func(n *models.NewUser) { n.Email = o.emailFor("admin1") }}, // taken
		{"role", func(n *models.NewUser) { n.Role = "owner" }},
		{"inbox_ids", func(n *models.NewUser) { n.AllInboxes = false }},
		{"inbox_ids", func(n *models.NewUser) { n.AllInboxes, n.InboxIDs = false, other.inboxes[:1] }},
		{"password", func(n *models.NewUser) { n.Password = "short" }},
	}
	for _, tc := range cases {
		in := good
		tc.edit(&in)
		_, _, err := s.CreateUser(ctx, a, in)
		wantTeamField(t, err, tc.field)
	}
	users, err := s.TeamUsers(ctx, a, 0, 0)
	if err != nil || len(users) != 1 {
		t.Fatalf("users after refusals: %d %v", len(users), err)
	}
	_, err = s.UpdateUser(ctx, a, a.UserID, models.UserChange{Email: ptr("nope")})
	wantTeamField(t, err, "email")
}

// Another organization's users are not found; managers read the team but
// change nothing; agents see nothing.
func TestTeamScoped(t *testing.T) {
	s, ctx := openStore(t), context.Background()
	o := newTeamOrg(t, s, 1)
	other := newTeamOrg(t, s, 1)
	a, stranger := o.admins[0], other.admins[0]
	if _, err := s.TeamUser(ctx, stranger, a.UserID); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("other org's user: %v", err)
	}
	if _, err := s.UpdateUser(ctx, stranger, a.UserID, models.UserChange{Name: ptr("Hijacked")}); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("update other org's user: %v", err)
	}
	if _, err := s.ResetPasswordLink(ctx, stranger, a.UserID); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("reset other org's user: %v", err)
	}
	mgr, _, err := s.CreateUser(ctx, a, models.NewUser{Name: "Mo", Email: o.emailFor("mo"), Role: models.RoleManager, Password: "mo password 12"})
	if err != nil {
		t.Fatal(err)
	}
	agent, _, err := s.CreateUser(ctx, a, models.NewUser{Name: "Al", Email: o.emailFor("al"), Role: models.RoleAgent, AllInboxes: true, Password: "al password 12"})
	if err != nil {
		t.Fatal(err)
	}
	ms := models.Scope{OrgID: o.id, UserID: mgr.ID, Role: models.RoleManager}
	as := models.Scope{OrgID: o.id, UserID: agent.ID, Role: models.RoleAgent}
	if users, err := s.TeamUsers(ctx, ms, 0, 0); err != nil || len(users) != 3 {
		t.Fatalf("manager reads team: %d %v", len(users), err)
	}
	for name, sc := range map[string]models.Scope{"manager": ms, "agent": as} {
		if _, _, err := s.CreateUser(ctx, sc, models.NewUser{Name: "X", Email: o.emailFor("x"), Role: models.RoleAgent, AllInboxes: true, Password: "x password 123"}); !errors.Is(err, models.ErrForbidden) {
			t.Fatalf("%s creates: %v", name, err)
		}
		if _, err := s.UpdateUser(ctx, sc, agent.ID, models.UserChange{Role: ptr(models.RoleAdmin)}); !errors.Is(err, models.ErrForbidden) {
			t.Fatalf("%s updates: %v", name, err)
		}
		if _, err := s.ResetPasswordLink(ctx, sc, agent.ID); !errors.Is(err, models.ErrForbidden) {
			t.Fatalf("%s resets: %v", name, err)
		}
	}
	if _, err := s.TeamUsers(ctx, as, 0, 0); !errors.Is(err, models.ErrForbidden) {
		t.Fatalf("agent reads team: %v", err)
	}
	// Keyset pages: one user at a time, in id order.
	page, err := s.TeamUsers(ctx, a, 0, 1)
	if err != nil || len(page) != 1 || page[0].ID != a.UserID {
		t.Fatalf("first page: %+v %v", page, err)
	}
	page, err = s.TeamUsers(ctx, a, page[0].ID, 5)
	if err != nil || len(page) != 2 || page[0].ID != mgr.ID {
		t.Fatalf("second page: %d %v", len(page), err)
	}
}

// Every change is in the audit log with before and after, never a hash.
func TestTeamAudit(t *testing.T) {
	s, ctx := openStore(t), context.Background()
	o := newTeamOrg(t, s, 1)
	a := o.admins[0]
	u, _, err := s.CreateUser(ctx, a, models.NewUser{Name: "Fay", Email: o.emailFor("fay"), Role: models.RoleAgent, AllInboxes: true, Password: "fay password 1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateUser(ctx, a, u.ID, models.UserChange{Role: ptr(models.RoleManager)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateUser(ctx, a, u.ID, models.UserChange{Disabled: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ResetPasswordLink(ctx, a, u.ID); err == nil {
		t.Fatal("reset link for a disabled user")
	}
	// Saving without a change records nothing.
	if _, err := s.UpdateUser(ctx, a, u.ID, models.UserChange{Name: ptr("Fay")}); err != nil {
		t.Fatal(err)
	}
	var rows []models.AuditEntry
	if err := s.DB().NewSelect().Model(&rows).Where("org_id = ? AND target_id = ?", o.id, u.ID).Order("id").Scan(ctx); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows {
		got = append(got, r.Action)
		if *r.ActorUserID != a.UserID || r.ActorName != a.Name || r.Via != models.ViaWeb {
			t.Fatalf("actor of %s: %+v", r.Action, r)
		}
		if strings.Contains(string(r.Before)+string(r.After), "argon2") || strings.Contains(string(r.Before)+string(r.After), "password_hash") {
			t.Fatalf("%s logs a hash: %s %s", r.Action, r.Before, r.After)
		}
	}
	if strings.Join(got, ",") != "user.create,user.update,user.disable" {
		t.Fatalf("audit actions %v", got)
	}
	if !strings.Contains(string(rows[1].Before), `"role": "agent"`) || !strings.Contains(string(rows[1].After), `"role": "manager"`) {
		t.Fatalf("role change before/after: %s → %s", rows[1].Before, rows[1].After)
	}
}
