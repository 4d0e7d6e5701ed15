package models_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/testenv"
	"github.com/parley-chat/parley/models"
)

// emptyInstance is a fresh, migrated database with no organization, next
// to the package's own (whose rows other tests keep), dropped when the
// test ends.
func emptyInstance(t *testing.T) *models.Store {
	t.Helper()
	db, err := models.OpenDB(context.Background(), testenv.EmptyDatabase(t, "setup"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return models.NewStore(db)
}

func firstRunInput() models.NewOrganization {
	return models.NewOrganization{
		Name: "  Acme Dental ", LocationName: "Downtown", Timezone: "Europe/Paris",
		AdminName: "Ada Admin", AdminEmail: "Ada@Acme.test", AdminPassword: "ada password 1", FirstRun: true,
	}
}

// auditActions lists the organization's audit log's actions, oldest first.
func auditActions(t *testing.T, s *models.Store, orgID int64) []models.AuditEntry {
	t.Helper()
	var es []models.AuditEntry
	q := s.DB().NewSelect().Model(&es).Order("id")
	if orgID == 0 {
		q = q.Where("org_id IS NULL")
	} else {
		q = q.Where("org_id = ?", orgID)
	}
	if err := q.Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	return es
}

func TestFirstRunCreatesOrgLocationOperatorAdminAndAudit(t *testing.T) {
	ctx := context.Background()
	s := emptyInstance(t)
	if ok, err := s.HasOrganization(ctx); err != nil || ok {
		t.Fatalf("HasOrganization on an empty instance: %v %v", ok, err)
	}
	r, err := s.CreateOrganization(ctx, models.Scope{Via: models.ViaWeb, IP: "192.0.2.1"}, firstRunInput())
	if err != nil {
		t.Fatal(err)
	}
	if r.Org.Name != "Acme Dental" || r.Org.Slug != "acme-dental" {
		t.Errorf("org %+v", r.Org)
	}
	if r.Location.Name != "Downtown" || r.Location.Timezone != "Europe/Paris" || r.Location.OrgID != r.Org.ID {
		t.Errorf("location %+v", r.Location)
	}
	if r.Admin.Email != "ada@acme.test" || r.Admin.Role != models.RoleAdmin || !r.Admin.IsOperator || r.Admin.OrgID != r.Org.ID {
		t.Errorf("admin %+v", r.Admin)
	}
	if u, err := s.Authenticate(ctx, "ada@acme.test", "ada password 1"); err != nil || u.ID != r.Admin.ID {
		t.Fatalf("the admin cannot sign in: %v", err)
	}
	if ok, err := s.HasOrganization(ctx); err != nil || !ok {
		t.Fatalf("HasOrganization after first run: %v %v", ok, err)
	}
	es := auditActions(t, s, r.Org.ID)
	var got []string
	for _, e := range es {
		got = append(got, e.Action)
		if e.Via != models.ViaWeb || e.IP != "192.0.2.1" || e.ActorUserID == nil || *e.ActorUserID != r.Admin.ID {
			t.Errorf("audit entry %s: via %q ip %q actor %v", e.Action, e.Via, e.IP, e.ActorUserID)
		}
	}
	if want := "[organization.create location.create user.create]"; len(got) != 3 || fmtList(got) != want {
		t.Errorf("audit actions %v, want %s", got, want)
	}

	// A second first run is refused, whatever its input, and adds nothing.
	in := firstRunInput()
	in.Name, in.AdminEmail = "Other", "other@acme.test"
	if _, err := s.CreateOrganization(ctx, models.Scope{}, in); !errors.Is(err, models.ErrAlreadySetUp) || !errors.Is(err, models.ErrConflict) {
		t.Fatalf("second first run: %v", err)
	}
	if n, _ := s.DB().NewSelect().Model((*models.Organization)(nil)).Count(ctx); n != 1 {
		t.Fatalf("%d organizations after a refused second first run", n)
	}
}

func fmtList(xs []string) string {
	out := "["
	for i, x := range xs {
		if i > 0 {
			out += " "
		}
		out += x
	}
	return out + "]"
}

func TestFirstRunRaceExactlyOne(t *testing.T) {
	ctx := context.Background()
	s := emptyInstance(t)
	const racers = 4
	var wg sync.WaitGroup
	errs := make([]error, racers)
	start := make(chan struct{})
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			in := firstRunInput()
			in.Name = "Racer " + string(rune('A'+i))
			in.AdminEmail = "racer" + string(rune('a'+i)) + "@acme.test"
			<-start
			_, errs[i] = s.CreateOrganization(ctx, models.Scope{Via: models.ViaCLI}, in)
		}()
	}
	close(start)
	wg.Wait()
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, models.ErrAlreadySetUp):
			t.Errorf("racer %d: %v", i, err)
		}
	}
	n, err := s.DB().NewSelect().Model((*models.Organization)(nil)).Count(ctx)
	if won != 1 || n != 1 || err != nil {
		t.Fatalf("%d first runs succeeded, %d organizations (%v): want exactly one", won, n, err)
	}
}

func TestCreateOrganizationValidatesEveryField(t *testing.T) {
	ctx := context.Background()
	s := emptyInstance(t)
	bad := models.NewOrganization{
		Name: "", LocationName: "x\x00y", Timezone: "Mars/Olympus_Mons",
		AdminName: "  ", AdminEmail: "not-an-email", AdminPassword: "short", FirstRun: true,
	}
	_, err := s.CreateOrganization(ctx, models.Scope{}, bad)
	fields := map[string]bool{}
	for _, e := range unwrapAll(err) {
		var fe *models.FieldError
		if errors.As(e, &fe) {
			fields[fe.Field] = true
		}
	}
	for _, f := range []string{"name", "location_name", "timezone", "admin_name", "admin_email", "admin_password"} {
		if !fields[f] {
			t.Errorf("no error on %s (got %v from %v)", f, fields, err)
		}
	}
	var fe *models.FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("errors.As finds no FieldError in %v", err)
	}
	for _, tz := range []string{"Local", "", "../etc/passwd", "/etc/localtime", "America/Nowhere"} {
		if models.ValidTimezone("timezone", tz) == nil {
			t.Errorf("timezone %q accepted", tz)
		}
	}
	if ok, _ := s.HasOrganization(ctx); ok {
		t.Fatal("bad input created an organization")
	}
}

func unwrapAll(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	if err == nil {
		return nil
	}
	return []error{err}
}

func TestTimeZonesAllLoad(t *testing.T) {
	zs := models.TimeZones()
	if len(zs) < 300 {
		t.Fatalf("only %d zones", len(zs))
	}
	for i, z := range zs {
		if _, err := time.LoadLocation(z); err != nil {
			t.Errorf("%s: %v", z, err)
		}
		if i > 0 && zs[i-1] >= z {
			t.Errorf("not sorted or duplicated at %s", z)
		}
	}
}

// TestOperatorCreatesOrganizationAndSetsOperators: only an operator (or the
// CLI) adds organizations and operators; a taken email is a field error;
// slugs stay unique; operator changes are instance-wide audit entries.
func TestOperatorCreatesOrganizationAndSetsOperators(t *testing.T) {
	ctx := context.Background()
	s := emptyInstance(t)
	first, err := s.CreateOrganization(ctx, models.Scope{Via: models.ViaCLI, Name: "cli"}, firstRunInput())
	if err != nil {
		t.Fatal(err)
	}
	opScope := models.Scope{OrgID: first.Org.ID, UserID: first.Admin.ID, Role: models.RoleAdmin, Name: first.Admin.Name, Via: models.ViaWeb}
	in := models.NewOrganization{Name: "Acme Dental", LocationName: "Uptown", Timezone: "UTC",
		AdminName: "Bo Boss", AdminEmail: "bo@acme.test", AdminPassword: "bo password 12"}
	second, err := s.CreateOrganization(ctx, opScope, in)
	if err != nil {
		t.Fatal(err)
	}
	if second.Org.Slug != "acme-dental-2" || second.Admin.IsOperator {
		t.Errorf("second org %+v admin operator %v", second.Org, second.Admin.IsOperator)
	}
	if es := auditActions(t, s, second.Org.ID); len(es) != 3 || es[0].ActorUserID == nil || *es[0].ActorUserID != first.Admin.ID {
		t.Errorf("second org's audit: %+v", es)
	}

	// Bo is an admin but no operator: refused, as not found.
	boScope := models.Scope{OrgID: second.Org.ID, UserID: second.Admin.ID, Role: models.RoleAdmin, Via: models.ViaWeb}
	in.Name, in.AdminEmail = "Third", "third@acme.test"
	if _, err := s.CreateOrganization(ctx, boScope, in); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("non-operator created an organization: %v", err)
	}
	if _, err := s.SetOperator(ctx, boScope, "bo@acme.test", true); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("non-operator made an operator: %v", err)
	}
	if _, err := s.InstanceOrganizations(ctx, boScope); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("non-operator listed organizations: %v", err)
	}
	// A taken email (any case) is a field error and creates nothing.
	in.AdminEmail = "BO@acme.test"
	_, err = s.CreateOrganization(ctx, opScope, in)
	var fe *models.FieldError
	if !errors.As(err, &fe) || fe.Field != "admin_email" {
		t.Fatalf("taken email: %v", err)
	}

	cli := models.Scope{Via: models.ViaCLI, Name: "cli"}
	u, err := s.SetOperator(ctx, cli, " Bo@Acme.test ", true)
	if err != nil || !u.IsOperator {
		t.Fatalf("operator add: %+v %v", u, err)
	}
	if _, err := s.SetOperator(ctx, cli, "bo@acme.test", true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetOperator(ctx, cli, "nobody@acme.test", true); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("unknown email: %v", err)
	}
	if u, err := s.SetOperator(ctx, cli, "bo@acme.test", false); err != nil || u.IsOperator {
		t.Fatalf("operator remove: %+v %v", u, err)
	}
	es := auditActions(t, s, 0)
	if len(es) != 2 || es[0].Action != "operator.grant" || es[1].Action != "operator.revoke" || es[0].Via != models.ViaCLI || es[0].ActorUserID != nil {
		t.Fatalf("instance audit: %+v", es)
	}

	orgs, err := s.InstanceOrganizations(ctx, opScope)
	if err != nil || len(orgs) != 2 || orgs[0].Name != "Acme Dental" || orgs[0].Users != 1 || orgs[1].Slug != "acme-dental-2" {
		t.Fatalf("instance organizations: %+v %v", orgs, err)
	}
}

// TestDemoAdminIsOperator: the demo seed makes its admin an operator, also
// an admin that existed before operators did.
func TestDemoAdminIsOperator(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	r, err := s.SeedDemo(ctx, demoOptions())
	if err != nil || !r.Admin.IsOperator || r.Agent.IsOperator {
		t.Fatalf("seed: admin operator %v, agent operator %v, %v", r.Admin.IsOperator, r.Agent.IsOperator, err)
	}
	if _, err := s.DB().NewUpdate().Model((*models.User)(nil)).Set("is_operator = false").Where("id = ?", r.Admin.ID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if r, err = s.SeedDemo(ctx, demoOptions()); err != nil || !r.Admin.IsOperator || r.AdminCreated {
		t.Fatalf("reseed: admin operator %v created %v, %v", r.Admin.IsOperator, r.AdminCreated, err)
	}
	var op bool
	if err := s.DB().NewSelect().Model((*models.User)(nil)).Column("is_operator").Where("id = ?", r.Admin.ID).Scan(ctx, &op); err != nil || !op {
		t.Fatalf("stored is_operator %v %v", op, err)
	}
}
