// Command parley is a two-way SMS and email chat hub: agents hold live
// conversations with the people they serve from a browser that updates in
// real time.
//
//	parley serve     web server, live hub and job worker in one process (the default)
//	parley worker    job worker only, to scale out background work
//	parley migrate   up | down | reset | status
//	parley seed      --demo: create the demo organization
//	parley setup     first run: the first organization and its operator admin
//	parley org       create: another organization (operators)
//	parley operator  add | remove EMAIL: instance operators
//	parley token     create --email E --name N: an API token, printed alone
//	parley version
//
// Every setting comes from a flag or a PARLEY_* environment variable;
// `parley serve --help` lists them with their defaults.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/go-redis/redis_rate/v10"
	"github.com/hibiken/asynq"
	"github.com/parley-chat/parley/channels/email/smtpd"
	"github.com/parley-chat/parley/channels/sms"
	"github.com/parley-chat/parley/config"
	"github.com/parley-chat/parley/http/simulator"
	"github.com/parley-chat/parley/http/simulator/mailbox"
	"github.com/parley-chat/parley/http/web"
	"github.com/parley-chat/parley/http/webhook"
	"github.com/parley-chat/parley/hub"
	"github.com/parley-chat/parley/internal/loadtest"
	"github.com/parley-chat/parley/jobs"
	"github.com/parley-chat/parley/models"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"
	"github.com/uptrace/bun"
	"golang.org/x/sync/errgroup"
)

// version is set at build time with -ldflags "-X main.version=..."; it
// falls back to the module's build information.
var version = ""

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the whole program behind main, testable with its own arguments,
// environment and output. It returns the process exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "serve":
		err = serve(ctx, args, getenv, stderr, true)
	case "worker":
		err = serve(ctx, args, getenv, stderr, false)
	case "migrate":
		err = migrateCmd(ctx, args, getenv, stdout, stderr)
	case "seed":
		err = seedCmd(ctx, args, getenv, stdout, stderr)
	case "bench":
		err = loadtest.Main(ctx, args, stdout, stderr)
	case "setup":
		err = setupCmd(ctx, args, getenv, stdout, stderr)
	case "org":
		err = orgCmd(ctx, args, getenv, stdout, stderr)
	case "operator":
		err = operatorCmd(ctx, args, getenv, stdout, stderr)
	case "token":
		err = tokenCmd(ctx, args, getenv, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "parley", buildVersion())
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
	default:
		err = fmt.Errorf("unknown command %q\n\n%s", cmd, usage)
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "parley:", err)
		return 1
	}
	return 0
}

const usage = `Usage: parley <command> [flags]

Commands:
  serve     run the web server, live hub and job worker (default)
  worker    run the job worker only
  migrate   up | down | reset | status
  seed      --demo: create the demo organization
  setup     first run: --org N --admin-email E --admin-password P [--admin-name --location --timezone]
  org       create --name N --admin-email E --admin-password P [--admin-name --location --timezone]
  operator  add EMAIL | remove EMAIL: who operates the instance
  token     create --email E --name N: print a new API token alone
  bench     the load tool: fanout | idle | inbound | chats | email (loopback only, bounded)
  version   print the version

Run "parley <command> --help" for a command's flags.`

// serve runs the web server (when withWeb) and the job worker until ctx
// ends, then shuts down gracefully: in-flight requests finish, running
// tasks get the grace period and the rest go back to their queue.
func serve(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer, withWeb bool) error {
	name := "serve"
	if !withWeb {
		name = "worker"
	}
	cfg, _, err := config.Parse(name, args, getenv, stderr, config.Options{Web: withWeb})
	if err != nil {
		return err
	}
	log := cfg.Logger(stderr)
	p, err := build(ctx, cfg, log, withWeb)
	if err != nil {
		return err
	}
	defer p.close()
	if err := p.run(ctx); err != nil {
		return err
	}
	log.Info("stopped")
	return nil
}

// parts are what one process runs, wired by build, started and stopped
// by run, released by close.
type parts struct {
	cfg    *config.Config
	log    *slog.Logger
	store  *models.Store
	hub    *hub.Hub
	pub    *web.Publisher // every live change, whatever made it
	relay  *jobs.Relay
	worker *jobs.Worker
	web    *web.Server   // nil for `parley worker`
	smtp   *smtpd.Server // the inbound SMTP listener; nil when off or for `parley worker`
	// mailbox is the mailbox simulator (serve, without a mail relay).
	mailbox *mailbox.Mailbox

	closers []func() error // in the order built
}

// onClose registers what close releases.
func (p *parts) onClose(f func() error) { p.closers = append(p.closers, f) }

// close releases the parts, the last built first.
func (p *parts) close() error {
	var errs []error
	for i := len(p.closers) - 1; i >= 0; i-- {
		errs = append(errs, p.closers[i]())
	}
	return errors.Join(errs...)
}

// build wires the parts from the config, each handed what it uses: the
// database and the store, Redis, the hub and the one publisher, the outbox
// relay and the worker, and for serve the webhooks, the simulator and the
// web server. Nothing runs yet. On error, what was built is released.
func build(ctx context.Context, cfg *config.Config, log *slog.Logger, withWeb bool) (_ *parts, err error) {
	p := &parts{cfg: cfg, log: log}
	defer func() {
		if err != nil {
			p.close()
		}
	}()

	db, err := models.OpenDB(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	p.onClose(db.Close)
	if err := requireMigrated(ctx, db); err != nil {
		return nil, err
	}
	p.store = models.NewStore(db)

	queueOpt, err := asynq.ParseRedisURI(cfg.RedisURL)
	if err != nil {
		return nil, fmt.Errorf("PARLEY_REDIS_URL: %w", err)
	}
	redisOpt, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		return nil, fmt.Errorf("PARLEY_REDIS_URL: %w", err)
	}
	rdb := redis.NewClient(redisOpt)
	p.onClose(rdb.Close)

	// The hub fans events out to this node's agent sockets; the Redis
	// broker carries them to every other node sharing this Redis. Pub/sub
	// ignores Redis database numbers: the channel carries the number so
	// deployments (or test runs) sharing a Redis server stay apart.
	p.hub = hub.New(hub.Config{Broker: hub.NewRedisBroker(rdb, fmt.Sprintf("parley:hub:%d", redisOpt.DB)),
		Logger: log.With("component", "hub")})
	p.onClose(p.hub.Close)
	// A logout, a password change or a disabled user closes that login's
	// sockets at once, on every node.
	p.store.OnSessionsEnded(p.hub.EndSessions)
	// One publisher for every live change (the web server's actions, the
	// webhooks, the worker's jobs), so a conversation's frames keep their
	// order whatever produced them. It renders presence too; no socket
	// (hence no presence) exists before the web server runs.
	p.pub, err = web.NewPublisher(web.PublisherConfig{Store: p.store, Hub: p.hub, Logger: log})
	if err != nil {
		return nil, err
	}
	p.hub.HandlePresence(p.pub.PresenceChanged)

	queue := asynq.NewClient(queueOpt)
	p.onClose(queue.Close)
	inspector := asynq.NewInspector(queueOpt)
	p.onClose(inspector.Close)
	p.relay = jobs.NewRelay(p.store, queue, log)
	p.relay.Inspector = inspector
	p.relay.Redis = rdb // asynq's database too: a flush there is noticed in seconds
	smsSender, sim, err := smsProvider(cfg, withWeb, log)
	if err != nil {
		return nil, err
	}
	if err := p.buildMailbox(withWeb); err != nil {
		return nil, err
	}
	// Outbound mail goes to the relay, or to the mailbox simulator just
	// bound (its real address, even when configured as port 0).
	mailboxAddr := cfg.MailboxAddr
	if p.mailbox != nil {
		mailboxAddr = p.mailbox.Addr()
	}
	emailSender, emailCfg, err := emailSending(cfg, mailboxAddr, log)
	if err != nil {
		return nil, err
	}
	p.worker, err = jobs.NewWorker(queueOpt, jobs.WorkerConfig{
		Concurrency: cfg.Concurrency, ShutdownTimeout: cfg.ShutdownGrace, Logger: log,
	}, jobs.Deps{Store: p.store, SMS: smsSender, Notify: p.pub,
		SMSCfg: jobs.SMSConfig{Provider: "vonage", Rate: cfg.SMSRate, Limiter: redis_rate.NewLimiter(rdb)},
		Email:  emailSender, EmailCfg: emailCfg})
	if err != nil {
		return nil, err
	}
	if !withWeb {
		return p, nil
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		jobs.NewQueueCollector(inspector))
	// Inbound SMS are committed in groups under load (B2); each webhook is
	// still answered only after its own commit.
	inbound := webhook.NewBatcher(p.store, webhook.BatcherOptions{}, log)
	p.onClose(func() error { inbound.Close(); return nil })
	// Inbound email, from the SMTP listener or the webhook, is stored
	// through one receiver (main_email_listener.go).
	recv := emailReceiver(cfg, p.store, p.pub, p.relay.Kick, log)
	deps := web.Deps{Config: cfg, Store: p.store, Redis: rdb, Queue: queueOpt, Metrics: reg, Hub: p.hub, Logger: log,
		Publisher: p.pub, Outbox: p.relay,
		Callbacks: webhook.New(webhookConfig(cfg), inbound, p.pub, p.relay.Kick, log).
			WithEmail(webhook.EmailConfig{Secret: cfg.EmailWebhookSecret, Domain: cfg.EmailDomain}, recv, p.store)}
	deps.Version = buildVersion()
	if sim != nil { // a nil *Simulator in the interface would look present
		deps.Simulator = sim
	}
	if p.mailbox != nil { // likewise
		deps.Mailbox = p.mailbox
	}
	if p.smtp, err = emailListener(cfg, p.store, recv, log); err != nil {
		return nil, err
	}
	if p.smtp != nil {
		p.onClose(p.smtp.Close)
	}
	if p.web, err = web.New(deps); err != nil {
		return nil, err
	}
	return p, nil
}

// run starts the parts and, when ctx ends, stops them in the order that
// keeps what was committed: first what commits (the web server: its
// sockets, then its in-flight requests; the worker: its running tasks get
// the grace period), then the publisher, which publishes what they handed
// it last, then the hub, which flushes that to the other nodes.
func (p *parts) run(ctx context.Context) error {
	pubCtx, stopPub := context.WithCancel(context.WithoutCancel(ctx))
	defer stopPub()
	pubDone := make(chan error, 1)
	go func() { pubDone <- p.pub.Run(pubCtx) }()

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return p.worker.Run(gctx) })
	g.Go(func() error { return p.relay.Run(gctx) })
	if p.mailbox != nil {
		g.Go(func() error { return p.mailbox.Serve(gctx) })
	}
	if p.cfg.PprofAddr != "" {
		g.Go(func() error { return web.ServePprof(gctx, p.cfg.PprofAddr) })
	}
	if p.smtp != nil {
		g.Go(func() error { return p.serveEmail(gctx) })
	}
	if p.web != nil {
		g.Go(func() error {
			p.log.Info("web server listening", "addr", p.cfg.HTTPAddr, "url", p.cfg.BaseURL, "sms", smsMode(p.cfg))
			return p.web.Serve(p.cfg.HTTPAddr)
		})
	}
	g.Go(func() error {
		<-gctx.Done()
		p.log.Info("shutting down", "grace", p.cfg.ShutdownGrace)
		if p.web == nil {
			return nil
		}
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.cfg.ShutdownGrace)
		defer cancel()
		return p.web.Shutdown(sctx)
	})
	err := g.Wait()
	if errors.Is(err, context.Canceled) {
		err = nil
	}

	stopPub()
	perr := <-pubDone
	hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.cfg.ShutdownGrace)
	defer cancel()
	return errors.Join(err, perr, p.hub.Shutdown(hctx))
}

// simulatorAPIKey / simulatorAPISecret are the credentials the built-in
// simulator accepts; they guard nothing real (it only records texts).
const simulatorAPIKey, simulatorAPISecret = "parleysm", "parley-simulator"

// smsProvider builds the SMS sender: Vonage when an API key is set, else
// the built-in simulator (returned too, for the web process to mount).
func smsProvider(cfg *config.Config, withWeb bool, log *slog.Logger) (jobs.SMSSender, *simulator.Simulator, error) {
	vc := sms.VonageConfig{APIKey: cfg.VonageAPIKey, APISecret: cfg.VonageAPISecret, BaseURL: cfg.VonageBaseURL, Timeout: sms.DefaultVonageTimeout}
	var sim *simulator.Simulator
	if cfg.Simulated() {
		vc.APIKey, vc.APISecret = simulatorAPIKey, simulatorAPISecret
		if vc.BaseURL == "" {
			vc.BaseURL = strings.TrimRight(cfg.BaseURL, "/") + simulator.Path
		}
		if withWeb {
			wc := webhookConfig(cfg)
			sim = simulator.New(simulator.Config{BaseURL: cfg.BaseURL, APIKey: simulatorAPIKey, APISecret: simulatorAPISecret,
				SignatureSecret: wc.SignatureSecret, SignatureMethod: wc.SignatureMethod, Logger: log})
		}
	}
	s, err := sms.NewVonageSender(vc)
	if err != nil {
		return nil, nil, fmt.Errorf("PARLEY_VONAGE_*: %w", err)
	}
	return jobs.VonageSMS(s), sim, nil
}

// webhookConfig is how Vonage callbacks are verified. With the simulator
// and no secret configured, one is derived from the session secret, so
// the demo exercises the same signed path as production.
func webhookConfig(cfg *config.Config) webhook.Config {
	method, _ := sms.ParseSignatureMethod(cfg.VonageSignatureMethod)
	secret := cfg.VonageSignatureSecret
	if secret == "" && cfg.Simulated() && cfg.SessionSecret != "" {
		sum := sha256.Sum256([]byte("parley simulator webhooks\x00" + cfg.SessionSecret))
		secret = hex.EncodeToString(sum[:16])
	}
	return webhook.Config{SignatureSecret: secret, SignatureMethod: method}
}

func smsMode(cfg *config.Config) string {
	if cfg.Simulated() {
		return "simulator"
	}
	return "vonage"
}

// requireMigrated refuses to start on a schema that is behind the binary.
func requireMigrated(ctx context.Context, db *bun.DB) error {
	mg, err := models.NewMigrator(db)
	if err != nil {
		return err
	}
	status, err := mg.Status(ctx)
	if err != nil {
		return err
	}
	var pending []string
	for _, s := range status {
		if !s.Applied {
			pending = append(pending, s.Name)
		}
	}
	if len(pending) > 0 {
		return fmt.Errorf("the database schema is behind this binary (pending: %s): run `parley migrate up`", strings.Join(pending, ", "))
	}
	return nil
}

// migrateCmd applies or reverts schema migrations.
func migrateCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, rest, err := config.Parse("migrate", args, getenv, stderr, config.Options{})
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return errors.New("migrate needs one of: up, down, reset, status")
	}
	db, err := models.OpenDB(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	mg, err := models.NewMigrator(db)
	if err != nil {
		return err
	}
	switch rest[0] {
	case "up":
		applied, err := mg.Up(ctx)
		for _, n := range applied {
			fmt.Fprintln(stdout, "applied", n)
		}
		if err == nil && len(applied) == 0 {
			fmt.Fprintln(stdout, "the database is up to date")
		}
		return err
	case "down":
		name, err := mg.Down(ctx)
		if err == nil && name == "" {
			fmt.Fprintln(stdout, "nothing to revert")
		} else if name != "" {
			fmt.Fprintln(stdout, "reverted", name)
		}
		return err
	case "reset":
		reverted, err := mg.Reset(ctx)
		for _, n := range reverted {
			fmt.Fprintln(stdout, "reverted", n)
		}
		return err
	case "status":
		status, err := mg.Status(ctx)
		for _, s := range status {
			state := "pending"
			if s.Applied {
				state = "applied"
			}
			fmt.Fprintf(stdout, "%-8s %s\n", state, s.Name)
		}
		return err
	default:
		return fmt.Errorf("unknown migrate action %q: use up, down, reset or status", rest[0])
	}
}

// seedCmd creates the demo organization and prints how to use it.
func seedCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var demo bool
	var o models.DemoOptions
	cfg, _, err := config.Parse("seed", args, getenv, stderr, config.Options{Flags: func(fs *flag.FlagSet) {
		fs.BoolVar(&demo, "demo", false, "create the demo organization (required)")
		fs.StringVar(&o.AdminEmail, "admin-email", "admin@demo.parley.test", "demo admin's email")
		fs.StringVar(&o.AdminPassword, "admin-password", "parley-demo-admin", "demo admin's password (kept if the user exists)")
		fs.StringVar(&o.AgentEmail, "agent-email", "agent@demo.parley.test", "demo agent's email")
		fs.StringVar(&o.AgentPassword, "agent-password", "parley-demo-agent", "demo agent's password (kept if the user exists)")
		fs.StringVar(&o.SMSNumber, "sms-number", "+15550100100", "demo inbox's SMS number (E.164)")
		fs.StringVar(&o.EmailAddress, "email-address", "demo@inbound.parley.test", "demo inbox's inbound email address")
		fs.IntVar(&o.PlanCredits, "plan-credits", 5000, "demo location's plan credits per month (only when the location is created)")
	}})
	if err != nil {
		return err
	}
	if !demo {
		return errors.New("seed needs --demo (the only data set so far)")
	}
	if o.PlanCredits < 1 || o.PlanCredits > models.MaxPlanCredits {
		return fmt.Errorf("seed: --plan-credits must be from 1 to %d", models.MaxPlanCredits)
	}
	o.AdminEmail, o.AgentEmail = strings.ToLower(o.AdminEmail), strings.ToLower(o.AgentEmail)
	o.EmailAddress = strings.ToLower(o.EmailAddress)
	db, err := models.OpenDB(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := requireMigrated(ctx, db); err != nil {
		return err
	}
	r, err := models.NewStore(db).SeedDemo(ctx, o)
	if err != nil {
		return err
	}
	pw := func(created bool, p string) string {
		if created {
			return p
		}
		return p + " (if not changed since: the user already existed, its password was kept)"
	}
	fmt.Fprintf(stdout, `Demo organization %q is ready.

  URL:    %s
  Admin:  %s  password: %s
  Agent:  %s  password: %s
  Inbox:  %s at %s, SMS %s, email %s
`, r.Org.Name, cfg.BaseURL,
		r.Admin.Email, pw(r.AdminCreated, o.AdminPassword),
		r.Agent.Email, pw(r.AgentCreated, o.AgentPassword),
		r.Inbox.Name, r.Location.Name, *r.Inbox.SMSNumber, *r.Inbox.EmailAddress)
	return nil
}

// buildVersion reports the -ldflags version, else the module's.
func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				return "dev-" + s.Value[:12]
			}
		}
		return bi.Main.Version
	}
	return "dev"
}
