package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/testenv"
	"github.com/parley-chat/parley/models"
)

// adminStore is a fresh, migrated database with no organization, next to
// the package's own (whose rows other tests keep), dropped when the test
// ends; it returns the store and the database's URL.
func adminStore(t *testing.T) (*models.Store, string) {
	t.Helper()
	dbURL := testenv.EmptyDatabase(t, "cli")
	db, err := models.OpenDB(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return models.NewStore(db), dbURL
}

// cliAudit lists the actions the CLI audit-logged, oldest first.
func cliAudit(t *testing.T, s *models.Store) []string {
	t.Helper()
	var actions []string
	err := s.DB().NewSelect().Model((*models.AuditEntry)(nil)).Column("action").
		Where("via = 'cli' AND actor_name = 'cli (ops)'").Order("id").Scan(context.Background(), &actions)
	if err != nil {
		t.Fatal(err)
	}
	return actions
}

// TestSetupOrgOperatorTokenCommands: setup makes the first organization
// (refused once one exists), org create adds another, operator add/remove
// flip the flag, token create prints exactly a token that the API takes;
// each change is audit-logged as via cli.
func TestSetupOrgOperatorTokenCommands(t *testing.T) {
	store, dbURL := adminStore(t)
	ctx := context.Background()
	user := map[string]string{"USER": "ops", "PARLEY_DATABASE_URL": dbURL}

	// Bad flags: every bad one named, nothing created.
	code, _, stderr := parley(t, user, "setup", "--org", "", "--admin-email", "nope", "--admin-password", "short", "--timezone", "Mars/Base")
	for _, want := range []string{"--org:", "--admin-email:", "--admin-password:", "--timezone:"} {
		if code == 0 || !strings.Contains(stderr, want) {
			t.Errorf("bad setup: exit %d, stderr lacks %q:\n%s", code, want, stderr)
		}
	}
	if ok, _ := store.HasOrganization(ctx); ok {
		t.Fatal("a refused setup created an organization")
	}

	code, out, stderr := parley(t, user, "setup", "--org", "Acme Dental", "--admin-email", "Ada@Acme.test",
		"--admin-password", "ada password 1", "--admin-name", "Ada Admin", "--location", "Downtown", "--timezone", "Europe/Paris")
	if code != 0 {
		t.Fatalf("setup: %d %s", code, stderr)
	}
	for _, want := range []string{`"Acme Dental"`, "Downtown (Europe/Paris)", "ada@acme.test", "instance operator", "http://localhost:8080/login"} {
		if !strings.Contains(out, want) {
			t.Errorf("setup output lacks %q:\n%s", want, out)
		}
	}
	ada, err := store.Authenticate(ctx, "ada@acme.test", "ada password 1")
	if err != nil || !ada.IsOperator || ada.Role != models.RoleAdmin {
		t.Fatalf("the set-up admin: %+v %v", ada, err)
	}
	if code, _, stderr := parley(t, user, "setup", "--org", "Again", "--admin-email", "b@acme.test", "--admin-password", "bee password 1"); code == 0 || !strings.Contains(stderr, "already has an organization") {
		t.Fatalf("second setup: %d %s", code, stderr)
	}

	code, out, stderr = parley(t, user, "org", "create", "--name", "Beta Vets", "--admin-email", "bo@beta.test", "--admin-password", "bo password 12")
	if code != 0 || !strings.Contains(out, `"Beta Vets"`) || !strings.Contains(out, "Main office (UTC)") || strings.Contains(out, "operator") {
		t.Fatalf("org create: %d\n%s\n%s", code, out, stderr)
	}
	if code, _, stderr := parley(t, user, "org", "create", "--name", "Gamma", "--admin-email", "BO@beta.test", "--admin-password", "bo password 12"); code == 0 || !strings.Contains(stderr, "--admin-email:") {
		t.Fatalf("org create with a taken email: %d %s", code, stderr)
	}

	if code, out, _ := parley(t, user, "operator", "add", "bo@beta.test"); code != 0 || !strings.Contains(out, "is an instance operator") {
		t.Fatalf("operator add: %d %s", code, out)
	}
	if code, out, _ := parley(t, user, "operator", "remove", "ada@acme.test"); code != 0 || !strings.Contains(out, "is not an instance operator") {
		t.Fatalf("operator remove: %d %s", code, out)
	}
	if code, _, stderr := parley(t, user, "operator", "add", "ghost@acme.test"); code == 0 || !strings.Contains(stderr, "no user") {
		t.Fatalf("operator add of an unknown email: %d %s", code, stderr)
	}
	if code, _, stderr := parley(t, user, "operator", "promote", "bo@beta.test"); code == 0 || !strings.Contains(stderr, "add EMAIL") {
		t.Fatalf("unknown operator action: %d %s", code, stderr)
	}

	code, out, stderr = parley(t, user, "token", "create", "--email", "bo@beta.test", "--name", "ci")
	if code != 0 || !strings.HasPrefix(out, "pat_") || strings.Count(out, "\n") != 1 || !strings.HasSuffix(out, "\n") || strings.ContainsAny(strings.TrimSuffix(out, "\n"), " \t") {
		t.Fatalf("token create: %d %q %s", code, out, stderr)
	}
	token := strings.TrimSuffix(out, "\n")
	if code, _, stderr := parley(t, user, "token", "create", "--email", "ghost@beta.test", "--name", "ci"); code == 0 || !strings.Contains(stderr, "no enabled user") {
		t.Fatalf("token for an unknown email: %d %s", code, stderr)
	}
	if code, _, stderr := parley(t, user, "token", "create", "--email", "bo@beta.test", "--name", ""); code == 0 || !strings.Contains(stderr, "--name") {
		t.Fatalf("token without a name: %d %s", code, stderr)
	}

	want := "[organization.create location.create user.create organization.create location.create user.create operator.grant operator.revoke]"
	if got := fmt.Sprint(cliAudit(t, store)); got != want {
		t.Errorf("cli audit %s, want %s", got, want)
	}
	if n, err := store.DB().NewSelect().Model((*models.AuditEntry)(nil)).
		Where("action = 'token.create' AND via = 'cli' AND target_name = 'ci'").Count(ctx); n != 1 || err != nil {
		t.Errorf("token.create via cli audited %d times (%v)", n, err)
	}

	// The token works on the API: GET /api/v1/me is Bo, now an operator.
	me := apiMe(t, dbURL, token)
	if me.User.Email != "bo@beta.test" || !me.User.Operator || me.Organization.Name != "Beta Vets" {
		t.Fatalf("/api/v1/me with the token: %+v", me)
	}
}

type meOut struct {
	User struct {
		Email    string `json:"email"`
		Operator bool   `json:"operator"`
	} `json:"user"`
	Organization struct {
		Name string `json:"name"`
	} `json:"organization"`
}

// apiMe runs `parley serve` until it is ready and calls GET /api/v1/me
// with the token.
func apiMe(t *testing.T, dbURL, token string) meOut {
	t.Helper()
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		code, _, stderr := parleyCtx(ctx, t, map[string]string{"PARLEY_DATABASE_URL": dbURL, "PARLEY_HTTP_ADDR": addr, "PARLEY_BASE_URL": "http://" + addr}, "serve")
		if code != 0 {
			fmt.Fprintln(os.Stderr, stderr)
		}
		done <- code
	}()
	defer func() {
		cancel()
		<-done
	}()
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve never became ready: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	req, _ := http.NewRequest("GET", "http://"+addr+"/api/v1/me", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var me meOut
	if resp.StatusCode != 200 {
		t.Fatalf("/api/v1/me: %d", resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(&me); err != nil {
		t.Fatal(err)
	}
	return me
}
