package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/parley-chat/parley/internal/testenv"
	"github.com/parley-chat/parley/models"
)

// emptyStore is a fresh, migrated database with no organization, next to
// the package's own (which the fixture seeds with the demo), dropped when
// the test ends.
func emptyStore(t *testing.T) *models.Store {
	t.Helper()
	db, err := models.OpenDB(context.Background(), testenv.EmptyDatabase(t, "firstrun"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return models.NewStore(db)
}

// TestFirstRun: on an empty instance every page leads to /setup; bad
// fields are shown next to each field (422) and create nothing; a good
// form creates the organization, signs its admin in as an operator, and
// /setup is gone.
func TestFirstRun(t *testing.T) {
	ctx := context.Background()
	store := emptyStore(t)
	f := newFixtureWith(t, serverOpts{db: store})
	c := f.client(t)

	for _, path := range []string{"/", "/login", "/chats", "/admin/queues", "/admin/instance"} {
		resp, _ := c.get(path)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/setup" {
			t.Fatalf("GET %s on an empty instance: %d %q, want 303 to /setup", path, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	if resp, _ := c.do("GET", "/chats", nil, map[string]string{"HX-Request": "true"}); resp.Header.Get("HX-Redirect") != "/setup" {
		t.Errorf("an HTMX request is not told to go to /setup: %d", resp.StatusCode)
	}
	resp, body := c.get("/setup")
	if resp.StatusCode != 200 || !strings.Contains(body, `<option value="America/New_York">`) || !strings.Contains(body, `list="timezones"`) {
		t.Fatalf("GET /setup: %d\n%s", resp.StatusCode, body)
	}
	tok := csrfMeta.FindStringSubmatch(body)[1]

	good := url.Values{"_csrf": {tok}, "name": {"Acme Dental"}, "location_name": {"Downtown"}, "timezone": {"Europe/Paris"},
		"admin_name": {"Ada Admin"}, "admin_email": {"ada@acme.test"}, "admin_password": {"ada password 1"}}
	if resp, _ := c.do("POST", "/setup", url.Values{"name": {"No token"}}, nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("POST /setup without the CSRF token: %d", resp.StatusCode)
	}

	bad := url.Values{"_csrf": {tok}, "name": {"Acme Dental"}, "location_name": {""}, "timezone": {"Mars/Base"},
		"admin_name": {"Ada Admin"}, "admin_email": {"ada-at-acme"}, "admin_password": {"short"}}
	resp, body = c.do("POST", "/setup", bad, nil)
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("bad POST /setup: %d", resp.StatusCode)
	}
	for _, field := range []string{"location_name", "timezone", "admin_email", "admin_password"} {
		// The error sits in the field's own label, and the input points at it.
		re := regexp.MustCompile(`name="` + field + `"[^>]*aria-invalid="true"[^>]*aria-describedby="[^"]*` + field + `-error"[^>]*>\s*(<small[^>]*>[^<]*</small>\s*)?<span class="field-error" id="` + field + `-error">[^<]+</span>`)
		if !re.MatchString(body) {
			t.Errorf("no error next to %s:\n%s", field, body)
		}
	}
	if strings.Contains(body, `id="name-error"`) || strings.Contains(body, `id="admin_name-error"`) {
		t.Errorf("an error next to a good field")
	}
	if !strings.Contains(body, `value="Acme Dental"`) || !strings.Contains(body, `value="Mars/Base"`) || strings.Contains(body, "short") {
		t.Errorf("the form did not keep what was typed (or echoed the password)")
	}
	if ok, err := store.HasOrganization(ctx); ok || err != nil {
		t.Fatalf("a refused first run created an organization (%v)", err)
	}

	resp, body = c.do("POST", "/setup", good, nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("good POST /setup: %d %q\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	resp, body = c.get("/")
	if resp.StatusCode != 200 || !strings.Contains(body, "Ada Admin") || !strings.Contains(body, "Acme Dental") {
		t.Fatalf("home after first run: %d\n%s", resp.StatusCode, body)
	}
	if !strings.Contains(body, `href="/admin/instance"`) || !strings.Contains(body, `href="/admin/queues"`) {
		t.Errorf("the first admin, an operator, sees no Instance or Queues link")
	}
	good.Set("_csrf", c.csrf("/")) // the session's token now
	for _, m := range []string{"GET", "POST"} {
		form := good
		if m == "GET" {
			form = nil
		}
		if resp, _ := c.do(m, "/setup", form, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s /setup after first run: %d, want 404", m, resp.StatusCode)
		}
	}
	// Another browser gets the login page, no longer /setup.
	if resp, _ := f.client(t).get("/login"); resp.StatusCode != 200 {
		t.Errorf("GET /login after first run: %d", resp.StatusCode)
	}

	resp, body = c.get("/admin/instance")
	for _, want := range []string{"Acme Dental", "PostgreSQL", "Redis", "Answers", "critical", "default", "bulk"} {
		if resp.StatusCode != 200 || !strings.Contains(body, want) {
			t.Errorf("/admin/instance: %d, lacks %q\n%s", resp.StatusCode, want, body)
		}
	}

	var es []models.AuditEntry
	if err := store.DB().NewSelect().Model(&es).Order("id").Scan(ctx); err != nil {
		t.Fatal(err)
	}
	if len(es) != 3 || es[0].Action != "organization.create" || es[0].Via != models.ViaWeb || es[0].IP != "127.0.0.1" || es[0].ActorName != "Ada Admin" {
		t.Errorf("audit after first run: %+v", es)
	}
}

// TestOperatorPages: the Queues dashboard and the Instance page are for
// instance operators only; an organization's admin who is not one gets a
// 404 and no links, like an agent.
func TestOperatorPages(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	hash, err := models.HashPassword("plain admin password")
	if err != nil {
		t.Fatal(err)
	}
	plain := &models.User{OrgID: f.Demo.Org.ID, Email: "plain-admin@demo.parley.test", Name: "Pat Plain",
		Role: models.RoleAdmin, PasswordHash: hash, AllInboxes: true}
	if _, err := f.Store.DB().NewInsert().Model(plain).On("CONFLICT (email) DO UPDATE").
		Set("is_operator = false, role = 'admin', password_hash = EXCLUDED.password_hash").Exec(ctx); err != nil {
		t.Fatal(err)
	}

	for _, who := range []struct{ email, password string }{{"plain-admin@demo.parley.test", "plain admin password"}, {agentEmail, agentPassword}} {
		c := f.client(t)
		c.login(who.email, who.password)
		for _, path := range []string{"/admin/queues", "/admin/queues/api/queues", "/admin/instance"} {
			if resp, _ := c.get(path); resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s: GET %s = %d, want 404", who.email, path, resp.StatusCode)
			}
		}
		if _, body := c.get("/"); strings.Contains(body, "/admin/queues") || strings.Contains(body, "/admin/instance") {
			t.Errorf("%s sees operator links", who.email)
		}
	}

	// A task scheduled for later waits in the bulk queue, where the
	// Instance page counts it.
	qopt, err := asynq.ParseRedisURI(env.RedisURL)
	if err != nil {
		t.Fatal(err)
	}
	qc := asynq.NewClient(qopt)
	defer qc.Close()
	if _, err := qc.Enqueue(asynq.NewTask("test:instance", nil), asynq.Queue("bulk"), asynq.ProcessIn(time.Hour)); err != nil {
		t.Fatal(err)
	}

	op := f.client(t)
	op.login(adminEmail, adminPassword) // the demo admin is an operator
	for _, path := range []string{"/admin/queues", "/admin/instance"} {
		if resp, _ := op.get(path); resp.StatusCode != 200 {
			t.Errorf("operator: GET %s = %d", path, resp.StatusCode)
		}
	}
	resp, body := op.get("/admin/instance")
	if resp.StatusCode != 200 || !strings.Contains(body, "Demo") || !regexp.MustCompile(`data-label="Users">\d+<`).MatchString(body) {
		t.Errorf("instance page: %d\n%s", resp.StatusCode, body)
	}
	bulkRow := regexp.MustCompile(`(?s)<strong>bulk</strong>.*?data-label="Size">(\d+)<.*?data-label="Scheduled">(\d+)<`).FindStringSubmatch(body)
	if bulkRow == nil || bulkRow[1] != "1" || bulkRow[2] != "1" {
		t.Errorf("the bulk queue's row does not count the scheduled task: %v", bulkRow)
	}
	if !strings.Contains(body, `href="/admin/queues"`) || !strings.Contains(body, `aria-current="page"`) {
		t.Errorf("instance page lacks its links")
	}
}
