package web_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/parley-chat/parley/config"
	"github.com/parley-chat/parley/http/web"
	"github.com/parley-chat/parley/hub"
	"github.com/parley-chat/parley/internal/testenv"
	"github.com/parley-chat/parley/models"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

var env testenv.Env

func TestMain(m *testing.M) { os.Exit(testenv.Main(m, "web", &env)) }

const (
	adminEmail, adminPassword = "admin@demo.parley.test", "admin password 123"
	agentEmail, agentPassword = "agent@demo.parley.test", "agent password 123"
)

// fixture is a running web server on a loopback port with the demo seeded.
type fixture struct {
	URL   string
	Store *models.Store
	Demo  *models.DemoResult
	Redis *redis.Client
	Hub   *hub.Hub
	Pub   *web.Publisher
}

type serverOpts struct {
	redisURL string        // override (e.g. a dead Redis)
	db       *models.Store // override (e.g. a dead PostgreSQL)
	// callbacks builds the provider callbacks from what serve hands them.
	callbacks func(*models.Store, *web.Publisher) web.ProviderCallbacks
	simulator web.Simulator
	mailbox   web.Mailbox
	pubQueue  int  // the publisher's queue (0: the default)
	pubIdle   bool // the publisher does not run (its queue only fills)
	socket    web.SocketOptions
	env       map[string]string // more PARLEY_* settings
	hub       hub.Config        // the hub's (zero: the defaults; never a broker)
	// onServer is handed the server once built (the policy matrix reads its routes).
	onServer func(*web.Server)
}

func newFixture(t *testing.T) *fixture { return newFixtureWith(t, serverOpts{}) }

func newFixtureWith(t *testing.T, o serverOpts) *fixture {
	t.Helper()
	ctx := context.Background()
	db, err := models.OpenDB(ctx, env.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	store := models.NewStore(db)
	demo, err := store.SeedDemo(ctx, models.DemoOptions{
		AdminEmail: adminEmail, AdminPassword: adminPassword,
		AgentEmail: agentEmail, AgentPassword: agentPassword,
		SMSNumber: "+15550100100", EmailAddress: "demo@inbound.parley.test",
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	redisURL := env.RedisURL
	if o.redisURL != "" {
		redisURL = o.redisURL
	}
	cfg, _, err := config.Parse("serve", nil, func(k string) string {
		if v, ok := o.env[k]; ok {
			return v
		}
		return map[string]string{
			"PARLEY_DATABASE_URL": env.DatabaseURL, "PARLEY_REDIS_URL": redisURL,
			"PARLEY_BASE_URL": base, "PARLEY_HTTP_ADDR": ln.Addr().String(),
			"PARLEY_SESSION_SECRET": "test-secret-test-secret-test-secret-42",
		}[k]
	}, io.Discard, config.Options{Web: true})
	if err != nil {
		t.Fatal(err)
	}
	ropt, _ := redis.ParseURL(redisURL)
	rdb := redis.NewClient(ropt)
	t.Cleanup(func() { rdb.Close() })
	qopt, _ := asynq.ParseRedisURI(redisURL)
	serverStore := store
	if o.db != nil {
		serverStore = o.db
	}
	// Wired as serve wires them: the hub, then the one publisher, which
	// renders presence too.
	h := hub.New(o.hub)
	t.Cleanup(func() { h.Close() })
	serverStore.OnSessionsEnded(h.EndSessions)
	pub, err := web.NewPublisher(web.PublisherConfig{Store: serverStore, Hub: h, Logger: testLogger(), Queue: o.pubQueue})
	if err != nil {
		t.Fatal(err)
	}
	h.HandlePresence(pub.PresenceChanged)
	if !o.pubIdle {
		pubCtx, stopPub := context.WithCancel(context.Background())
		pubDone := make(chan struct{})
		go func() { defer close(pubDone); pub.Run(pubCtx) }()
		t.Cleanup(func() { stopPub(); <-pubDone })
	}
	deps := web.Deps{Config: cfg, Store: serverStore, Redis: rdb, Queue: qopt, Hub: h, Publisher: pub,
		Simulator: o.simulator, Metrics: prometheus.NewRegistry(), Logger: testLogger(), Socket: o.socket}
	if o.mailbox != nil {
		deps.Mailbox = o.mailbox
	}
	if o.callbacks != nil {
		deps.Callbacks = o.callbacks(serverStore, pub)
	}
	srv, err := web.New(deps)
	if err != nil {
		t.Fatal(err)
	}
	if o.onServer != nil {
		o.onServer(srv)
	}
	go srv.App().Listener(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	// Login throttling counts live in Redis; start every test with none.
	rdb.FlushDB(ctx)
	return &fixture{URL: base, Store: store, Demo: demo, Redis: rdb, Hub: h, Pub: pub}
}

// client is a browser-like HTTP client: a cookie jar, no automatic redirects.
type client struct {
	t    *testing.T
	base string
	http *http.Client
}

func (f *fixture) client(t *testing.T) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, base: f.URL, http: &http.Client{
		Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// do sends a request and returns the response with its body read.
func (c *client) do(method, path string, form url.Values, header map[string]string) (*http.Response, string) {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func (c *client) get(path string) (*http.Response, string) { return c.do("GET", path, nil, nil) }

var csrfMeta = regexp.MustCompile(`<meta name="csrf-token" content="([^"]+)">`)

// csrf fetches a page and returns the token it carries.
func (c *client) csrf(path string) string {
	c.t.Helper()
	_, body := c.get(path)
	m := csrfMeta.FindStringSubmatch(body)
	if m == nil {
		c.t.Fatalf("no csrf meta tag on %s", path)
	}
	return m[1]
}

// login signs in through the real form and fails the test if it does not work.
func (c *client) login(email, password string) {
	c.t.Helper()
	tok := c.csrf("/login")
	resp, body := c.do("POST", "/login", url.Values{"_csrf": {tok}, "email": {email}, "password": {password}}, nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		c.t.Fatalf("login as %s: %d %s\n%s", email, resp.StatusCode, resp.Header.Get("Location"), body)
	}
}

// testLogger discards server logs unless PARLEY_TEST_LOG=1.
func testLogger() *slog.Logger {
	if os.Getenv("PARLEY_TEST_LOG") == "1" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}
