package models_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/parley-chat/parley/models"
)

// auditOrg creates an organization of its own (so the log holds only the
// test's entries) and returns its id.
func auditOrg(t *testing.T, s *models.Store, slug string) int64 {
	t.Helper()
	var id int64
	slug = fmt.Sprintf("%s-%d", slug, time.Now().UnixNano())
	if err := s.DB().NewRaw("INSERT INTO organizations (name, slug) VALUES (?, ?) RETURNING id", slug, slug).
		Scan(context.Background(), &id); err != nil {
		t.Fatal(err)
	}
	return id
}

// logEntry appends an entry as the store's audit does, at a chosen time.
func logEntry(t *testing.T, s *models.Store, orgID, actor int64, action, ttype string, tid int64, at time.Time) int64 {
	t.Helper()
	var id int64
	if err := s.DB().NewRaw(`INSERT INTO audit_log (org_id, actor_user_id, actor_name, via, ip, action, target_type, target_id, target_name, before, after, created_at)
		VALUES (?, ?, 'Actor', 'web', '192.0.2.1', ?, ?, ?, 'Target', '{"a":1}', '{"a":2}', ?) RETURNING id`,
		orgID, actor, action, ttype, tid, at).Scan(context.Background(), &id); err != nil {
		t.Fatal(err)
	}
	return id
}

func ids(es []models.AuditEntry) []int64 {
	out := make([]int64, len(es))
	for i, e := range es {
		out[i] = e.ID
	}
	return out
}

func TestAuditLogFiltersAndPages(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	org, rival := auditOrg(t, s, "audit"), auditOrg(t, s, "audit-rival")
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	e1 := logEntry(t, s, org, 11, "inbox.archive", "inbox", 5, t0)
	e2 := logEntry(t, s, org, 12, "inbox.update", "inbox", 6, t0.Add(time.Hour))
	e3 := logEntry(t, s, org, 11, "inbox_closure.create", "inbox_closure", 7, t0.Add(2*time.Hour))
	e4 := logEntry(t, s, org, 12, "user.disable", "user", 5, t0.Add(3*time.Hour))
	e5 := logEntry(t, s, org, 11, "inbox.update", "inbox", 5, t0.Add(4*time.Hour))
	logEntry(t, s, rival, 11, "inbox.update", "inbox", 5, t0.Add(time.Hour)) // never shown to org
	admin := models.Scope{OrgID: org, UserID: 11, Role: models.RoleAdmin}

	// Keyset pages of two, newest first, end with next 0.
	var got []int64
	var before int64
	for page := 0; ; page++ {
		rows, next, err := s.AuditLog(ctx, admin, models.AuditFilter{}, before, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) > 2 || page > 3 {
			t.Fatalf("page %d: %d rows", page, len(rows))
		}
		got = append(got, ids(rows)...)
		if next == 0 {
			break
		}
		before = next
	}
	if want := []int64{e5, e4, e3, e2, e1}; !slices.Equal(got, want) {
		t.Fatalf("pages: %v, want %v", got, want)
	}

	for _, tc := range []struct {
		name string
		f    models.AuditFilter
		want []int64
	}{
		{"actor", models.AuditFilter{ActorID: 12}, []int64{e4, e2}},
		{"action prefix", models.AuditFilter{Action: "inbox."}, []int64{e5, e2, e1}},
		{"whole action", models.AuditFilter{Action: "inbox.archive"}, []int64{e1}},
		{"underscore is literal", models.AuditFilter{Action: "inbox_"}, []int64{e3}},
		{"target type", models.AuditFilter{TargetType: "inbox"}, []int64{e5, e2, e1}},
		{"target", models.AuditFilter{TargetType: "inbox", TargetID: 5}, []int64{e5, e1}},
		{"from", models.AuditFilter{From: t0.Add(3 * time.Hour)}, []int64{e5, e4}},
		{"from and to", models.AuditFilter{From: t0.Add(time.Hour), To: t0.Add(3 * time.Hour)}, []int64{e3, e2}},
		{"nothing matches", models.AuditFilter{ActorID: 99}, nil},
	} {
		rows, next, err := s.AuditLog(ctx, admin, tc.f, 0, 50)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !slices.Equal(ids(rows), tc.want) || next != 0 {
			t.Errorf("%s: %v next %d, want %v", tc.name, ids(rows), next, tc.want)
		}
	}

	rows, _, err := s.AuditLog(ctx, admin, models.AuditFilter{TargetID: 5}, 0, 1)
	if err != nil || len(rows) != 1 {
		t.Fatal(rows, err)
	}
	if e := rows[0]; e.OrgID == nil || *e.OrgID != org || e.Action != "inbox.update" || e.IP != "192.0.2.1" ||
		string(e.Before) != `{"a": 1}` || string(e.After) != `{"a": 2}` || !e.CreatedAt.Equal(t0.Add(4*time.Hour)) {
		t.Errorf("entry: %+v before %s after %s", e, e.Before, e.After)
	}

	actors, err := s.AuditActors(ctx, admin)
	if err != nil || len(actors) != 2 || actors[0].ID != 11 && actors[1].ID != 11 {
		t.Errorf("actors: %+v %v", actors, err)
	}
}

func TestAuditLogRefusals(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	org := auditOrg(t, s, "audit-refusals")
	logEntry(t, s, org, 1, "inbox.archive", "inbox", 5, time.Now())
	for _, role := range []string{models.RoleManager, models.RoleAgent, ""} {
		sc := models.Scope{OrgID: org, UserID: 1, Role: role}
		rows, _, err := s.AuditLog(ctx, sc, models.AuditFilter{}, 0, 50)
		if !errors.Is(err, models.ErrForbidden) || !errors.Is(err, models.ErrNotFound) || rows != nil {
			t.Errorf("%q: %v %v, want ErrForbidden (a not found)", role, rows, err)
		}
		if _, err := s.AuditActors(ctx, sc); !errors.Is(err, models.ErrForbidden) {
			t.Errorf("%q actors: %v", role, err)
		}
	}
	admin := models.Scope{OrgID: org, UserID: 1, Role: models.RoleAdmin}
	t0 := time.Now()
	for _, tc := range []struct {
		field  string
		f      models.AuditFilter
		before int64
		limit  int
	}{
		{"action", models.AuditFilter{Action: "Inbox.Archive"}, 0, 50},
		{"action", models.AuditFilter{Action: "inbox.%"}, 0, 50},
		{"target_type", models.AuditFilter{TargetType: "in box"}, 0, 50},
		{"target_id", models.AuditFilter{TargetID: -1}, 0, 50},
		{"actor_id", models.AuditFilter{ActorID: -3}, 0, 50},
		{"to", models.AuditFilter{From: t0, To: t0.Add(-time.Hour)}, 0, 50},
		{"cursor", models.AuditFilter{}, -1, 50},
		{"limit", models.AuditFilter{}, 0, 0},
		{"limit", models.AuditFilter{}, 0, models.AuditLogMax + 1},
	} {
		_, _, err := s.AuditLog(ctx, admin, tc.f, tc.before, tc.limit)
		var fe *models.FieldError
		if !errors.As(err, &fe) || fe.Field != tc.field {
			t.Errorf("%+v: %v, want a field error on %s", tc.f, err, tc.field)
		}
	}
	// The log is append-only.
	if _, err := s.DB().NewRaw("UPDATE audit_log SET action = 'x.y' WHERE org_id = ?", org).Exec(ctx); err == nil {
		t.Error("UPDATE of audit_log succeeded")
	}
}
