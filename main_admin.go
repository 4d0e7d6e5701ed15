package main

// The administration commands: first run, organizations, operators and
// API tokens, for whoever runs the binary on the server. Each acts with
// the shell's authority (models.ViaCLI) and is audit-logged as "via cli".

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	_ "time/tzdata" // time zones validate the same on a host without tz data

	"github.com/parley-chat/parley/config"
	"github.com/parley-chat/parley/models"
)

// cliStore opens the database named by cfg and refuses a schema that is
// behind the binary. close releases it.
func cliStore(ctx context.Context, cfg *config.Config) (store *models.Store, close func() error, err error) {
	db, err := models.OpenDB(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, nil, err
	}
	if err := requireMigrated(ctx, db); err != nil {
		db.Close()
		return nil, nil, err
	}
	return models.NewStore(db), db.Close, nil
}

// cliScope is the audit log's actor for a command: the CLI, named after
// the system user running it when the environment says.
func cliScope(getenv func(string) string) models.Scope {
	name := "cli"
	if u := getenv("USER"); u != "" {
		name = "cli (" + u + ")"
	}
	return models.Scope{Via: models.ViaCLI, Name: name}
}

// orgFlags are the flags setup and org create share, with the flag that
// holds each form field (so a field error names the flag to fix).
type orgFlags struct {
	in    models.NewOrganization
	flags map[string]string // models field → flag
}

func (o *orgFlags) register(fs *flag.FlagSet, nameFlag string) {
	o.flags = map[string]string{"name": nameFlag, "location_name": "location", "timezone": "timezone",
		"admin_name": "admin-name", "admin_email": "admin-email", "admin_password": "admin-password"}
	fs.StringVar(&o.in.Name, nameFlag, "", "the organization's name (required)")
	fs.StringVar(&o.in.AdminEmail, "admin-email", "", "the first admin's email, to sign in with (required)")
	fs.StringVar(&o.in.AdminPassword, "admin-password", "", fmt.Sprintf("the first admin's password, at least %d characters (required)", models.MinPasswordLength))
	fs.StringVar(&o.in.AdminName, "admin-name", "Administrator", "the first admin's name")
	fs.StringVar(&o.in.LocationName, "location", "Main office", "the first location's name")
	fs.StringVar(&o.in.Timezone, "timezone", "UTC", "the first location's IANA time zone, e.g. America/New_York")
}

// explain turns the store's field errors into one line per flag.
func (o *orgFlags) explain(err error) error {
	var lines []string
	for _, e := range flatten(err) {
		var fe *models.FieldError
		if errors.As(e, &fe) {
			f := o.flags[fe.Field]
			if f == "" {
				f = fe.Field
			}
			lines = append(lines, "--"+f+": "+fe.Message)
		}
	}
	if len(lines) == 0 {
		return err
	}
	sort.Strings(lines)
	return errors.New(strings.Join(lines, "\n  "))
}

// flatten lists the errors an errors.Join holds (or err alone).
func flatten(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	if err == nil {
		return nil
	}
	return []error{err}
}

// printCreated says what setup or org create made.
func printCreated(w io.Writer, cfg *config.Config, r *models.CreatedOrganization) {
	op := ""
	if r.Admin.IsOperator {
		op = ", instance operator"
	}
	fmt.Fprintf(w, `Organization %q is ready (id %d, slug %s).

  Location:  %s (%s), Chat plan inactive
  Admin:     %s <%s>, admin%s
  Sign in:   %s/login
`, r.Org.Name, r.Org.ID, r.Org.Slug, r.Location.Name, r.Location.Timezone,
		r.Admin.Name, r.Admin.Email, op, strings.TrimRight(cfg.BaseURL, "/"))
}

// setupCmd is first run without a browser: the instance's first
// organization, whose admin is an instance operator. It refuses once any
// organization exists.
func setupCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var o orgFlags
	cfg, rest, err := config.Parse("setup", args, getenv, stderr, config.Options{Flags: func(fs *flag.FlagSet) { o.register(fs, "org") }})
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("setup takes flags only, not %q", rest[0])
	}
	store, closeDB, err := cliStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeDB()
	o.in.FirstRun = true
	r, err := store.CreateOrganization(ctx, cliScope(getenv), o.in)
	if errors.Is(err, models.ErrAlreadySetUp) {
		return errors.New("setup: this instance already has an organization; an operator adds more with `parley org create`")
	}
	if err != nil {
		return fmt.Errorf("setup: %w", o.explain(err))
	}
	printCreated(stdout, cfg, r)
	return nil
}

// orgCmd manages organizations: `org create`.
func orgCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return errors.New("org needs an action: create --name N --admin-email E --admin-password P [--admin-name N --location L --timezone TZ]")
	}
	var o orgFlags
	cfg, rest, err := config.Parse("org create", args[1:], getenv, stderr, config.Options{Flags: func(fs *flag.FlagSet) { o.register(fs, "name") }})
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("org create takes flags only, not %q", rest[0])
	}
	store, closeDB, err := cliStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeDB()
	r, err := store.CreateOrganization(ctx, cliScope(getenv), o.in)
	if err != nil {
		return fmt.Errorf("org create: %w", o.explain(err))
	}
	printCreated(stdout, cfg, r)
	return nil
}

// operatorCmd makes a user an instance operator (`operator add EMAIL`) or
// stops them being one (`operator remove EMAIL`).
func operatorCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	const use = "operator needs an action and an email: operator add EMAIL | operator remove EMAIL"
	if len(args) == 0 || (args[0] != "add" && args[0] != "remove") {
		return errors.New(use)
	}
	action := args[0]
	cfg, rest, err := config.Parse("operator "+action, args[1:], getenv, stderr, config.Options{})
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return errors.New(use)
	}
	store, closeDB, err := cliStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeDB()
	u, err := store.SetOperator(ctx, cliScope(getenv), rest[0], action == "add")
	if errors.Is(err, models.ErrNotFound) {
		return fmt.Errorf("operator %s: no user signs in with %q", action, rest[0])
	}
	if err != nil {
		return fmt.Errorf("operator %s: %w", action, err)
	}
	if u.IsOperator {
		fmt.Fprintf(stdout, "%s <%s> is an instance operator.\n", u.Name, u.Email)
	} else {
		fmt.Fprintf(stdout, "%s <%s> is not an instance operator.\n", u.Name, u.Email)
	}
	return nil
}

// tokenCmd creates an API token (`token create --email E --name N`) and
// prints it alone on stdout, so a script can capture it; it is never shown
// again.
func tokenCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return errors.New("token needs an action: create --email E --name N")
	}
	var email, name string
	cfg, rest, err := config.Parse("token create", args[1:], getenv, stderr, config.Options{Flags: func(fs *flag.FlagSet) {
		fs.StringVar(&email, "email", "", "the user the token acts as (required)")
		fs.StringVar(&name, "name", "", "what the token is for, 1 to 100 characters (required)")
	}})
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("token create takes flags only, not %q", rest[0])
	}
	if strings.TrimSpace(email) == "" {
		return errors.New("token create: --email is required")
	}
	store, closeDB, err := cliStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeDB()
	token, err := store.CreateAPITokenForEmail(ctx, email, name)
	var fe *models.FieldError
	switch {
	case errors.Is(err, models.ErrNotFound):
		return fmt.Errorf("token create: no enabled user signs in with %q", email)
	case errors.As(err, &fe):
		return fmt.Errorf("token create: --%s: %s", fe.Field, fe.Message)
	case err != nil:
		return fmt.Errorf("token create: %w", err)
	}
	fmt.Fprintln(stdout, token)
	return nil
}
