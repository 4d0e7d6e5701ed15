// Package web is Parley's HTTP server: the Fiber app and its one route
// table, pages and fragments, sessions, CSRF, the operations endpoints,
// and the Publisher that carries every live change to agents' sockets. It
// reads and writes only through models.Store and renders only through
// views; the provider callbacks (http/webhook) and the Vonage simulator
// (http/simulator) are handed in through interfaces it defines.
package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/hibiken/asynq"
	"github.com/parley-chat/parley/config"
	"github.com/parley-chat/parley/hub"
	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/static"
	"github.com/parley-chat/parley/views"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

// Deps is everything the web server needs, passed in explicitly.
type Deps struct {
	Config  *config.Config
	Store   *models.Store
	Redis   redis.UniversalClient // login throttling and readiness
	Queue   asynq.RedisConnOpt    // the Asynq dashboard's connection
	Metrics *prometheus.Registry  // HTTP metrics are registered here; /metrics serves it
	Hub     *hub.Hub              // agents' sockets subscribe here
	// Publisher carries every live change to agents' screens, the web
	// server's actions' included (required; the webhooks and the worker
	// share it, so a conversation's frames keep their order).
	Publisher *Publisher
	// Outbox is kicked after a commit that queued work (optional).
	Outbox interface{ Kick() }
	// Callbacks answer the SMS provider's webhooks (nil: not mounted).
	Callbacks ProviderCallbacks
	// Simulator is the built-in stand-in for Vonage (nil when a Vonage
	// account is configured: its API and phone pages are not mounted).
	Simulator Simulator
	// Mailbox is the built-in mailbox simulator (nil when a mail relay is
	// configured: its pages are not mounted).
	Mailbox Mailbox
	Logger  *slog.Logger
	// Socket tunes the live sockets' checks and timeouts (zero: defaults).
	Socket SocketOptions
	// Version is the build's, shown to operators on /admin/instance.
	Version string
}

// Server is the web application.
type Server struct {
	cfg      *config.Config
	store    *models.Store
	rdb      redis.UniversalClient
	queue    asynq.RedisConnOpt
	metrics  *prometheus.Registry
	hub      *hub.Hub
	pub      *Publisher
	outbox   interface{ Kick() }
	deps     Deps
	httpm    *httpMetrics
	log      *slog.Logger
	views    *views.Renderer
	csrf     csrfKey
	throttle *loginThrottle
	origin   string // scheme://host of the base URL, for Origin checks
	// originHost is the base URL's host, allowed as a websocket Origin.
	originHost string
	// wsCtx ends every live socket; cancelled first on shutdown so the
	// web server is not left waiting on them.
	wsCtx    context.Context
	wsCancel context.CancelFunc
	live     liveSockets // this node's open sockets and their login re-check
	// catchUps holds a token per catch-up of a socket that fell behind.
	catchUps chan struct{}
	app      *fiber.App
	closers  []func() error
	// versions maps each static asset to its content hash (?v= in URLs).
	versions map[string]string
	// queuesCSP is the Asynq dashboard's Content-Security-Policy (queues.go).
	queuesCSP string
	// apiOps describes every /api/v1 route; apiDoc is the OpenAPI
	// document built from them once the routes are registered.
	apiOps []apiOp
	apiDoc []byte
	// setUp is set once an organization exists: first run is over (firstrun.go).
	setUp atomic.Bool
}

// BodyLimit caps request bodies; larger ones get 413 before any handler runs (R14).
const BodyLimit = 2 << 20

// New builds the server and registers every route.
func New(d Deps) (*Server, error) {
	if err := static.Check(); err != nil {
		return nil, err
	}
	versions, err := static.Versions()
	if err != nil {
		return nil, err
	}
	asset := func(p string) string {
		if v, ok := versions[p]; ok {
			return "/static/" + p + "?v=" + v
		}
		return "/static/" + p
	}
	r, err := views.New(asset)
	if err != nil {
		return nil, err
	}
	base, err := url.Parse(d.Config.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("web: base url: %w", err)
	}
	s := &Server{
		cfg: d.Config, store: d.Store, hub: d.Hub, rdb: d.Redis, queue: d.Queue, metrics: d.Metrics,
		log: d.Logger, views: r, csrf: newCSRFKey(d.Config.SessionSecret),
		throttle: &loginThrottle{rdb: d.Redis, window: 15 * time.Minute, perEmail: 10, perIP: 50},
		origin:   base.Scheme + "://" + base.Host, originHost: base.Host,
		httpm: newHTTPMetrics(d.Metrics), versions: versions,
	}
	if d.Hub == nil || d.Publisher == nil {
		return nil, errors.New("web: a hub and a publisher are required")
	}
	d.Metrics.MustRegister(newHubCollector(d.Hub), prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "parley_live_changes_dropped_total",
		Help: "Committed changes left off the live path because the publisher's queue was full.",
	}, func() float64 { return float64(d.Publisher.Dropped()) }))
	s.pub = d.Publisher
	s.outbox = d.Outbox
	s.deps = d
	s.wsCtx, s.wsCancel = context.WithCancel(context.Background())
	s.catchUps = make(chan struct{}, catchUpSlots)
	s.app = fiber.New(fiber.Config{
		AppName:               "parley",
		DisableStartupMessage: true,
		ErrorHandler:          s.handleError,
		// Values from a request stay valid after its handler returns: a
		// safety net against keeping a string Fiber would reuse.
		Immutable: true,
		// Paths match as written: "/API/v1/me" must not reach the API's
		// handlers past the checks that look for "/api/v1" (api.go).
		CaseSensitive: true,
		BodyLimit:     bodyLimit(d.Callbacks), // BodyLimit but on the email webhook (email_webhook.go)
		ReadTimeout:   30 * time.Second,
		WriteTimeout:  30 * time.Second,
		IdleTimeout:   2 * time.Minute,
		// Forwarded headers count only from PARLEY_TRUSTED_PROXIES (see
		// clientIP); no ProxyHeader, so c.IP() stays the peer.
		EnableTrustedProxyCheck: true,
		TrustedProxies:          trustedProxies(d.Config),
	})
	if err := s.routes(); err != nil {
		return nil, err
	}
	return s, nil
}

// App exposes the Fiber app (tests drive it with app.Test).
func (s *Server) App() *fiber.App { return s.app }

// Serve listens on addr until Shutdown.
func (s *Server) Serve(addr string) error {
	if err := s.app.Listen(addr); err != nil {
		return fmt.Errorf("web: listen %s: %w", addr, err)
	}
	return nil
}

// Shutdown stops accepting connections and waits for in-flight requests
// until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	var errs []error
	s.wsCancel()
	if err := s.app.ShutdownWithContext(ctx); err != nil {
		errs = append(errs, fmt.Errorf("web: shutdown: %w", err))
	}
	for _, c := range s.closers {
		if err := c(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// publish hands a committed change to the publisher for every other
// screen (it never blocks the request) and wakes the outbox relay for any
// work the change queued. The acting browser gets its result in the
// response.
func (s *Server) publish(ch *models.Change) {
	s.pub.Notify(ch)
	if s.outbox != nil {
		s.outbox.Kick()
	}
}

// publishAll publishes several committed changes, in order.
func (s *Server) publishAll(changes []*models.Change) {
	for _, ch := range changes {
		s.publish(ch)
	}
}

// frames renders a change's frames (for an action's own response).
func (s *Server) frames(ch *models.Change) changeFrames { return s.pub.frames(ch) }

// PageKit lets extra pages (the simulator's phone) share the app's layout
// and session; routes.go puts the login check in front of them.
type PageKit struct {
	// Render writes a full page of the named template inside the layout.
	Render func(c *fiber.Ctx, page, title, active string, data any) error
	// Fragment writes one named template of a page (an HTMX swap).
	Fragment func(c *fiber.Ctx, page, name string, data any) error
	// User returns the signed-in user's id, name and organization.
	User func(c *fiber.Ctx) *models.SessionUser
	// Inboxes lists the inboxes the signed-in user may see.
	Inboxes func(c *fiber.Ctx) ([]models.Inbox, error)
}

func (s *Server) pageKit() PageKit {
	return PageKit{
		Render: func(c *fiber.Ctx, page, title, active string, data any) error {
			return s.render(c, page, views.Layout{Title: title, Active: active}, data)
		},
		Fragment: func(c *fiber.Ctx, page, name string, data any) error {
			c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
			return s.views.Fragment(c, page, name, data)
		},
		User:    sessionUser,
		Inboxes: func(c *fiber.Ctx) ([]models.Inbox, error) { return s.visibleInboxes(c, sessionUser(c)) },
	}
}

// trustedProxies lists PARLEY_TRUSTED_PROXIES as Fiber takes them.
func trustedProxies(cfg *config.Config) []string {
	out := make([]string, len(cfg.TrustedProxyPrefixes))
	for i, p := range cfg.TrustedProxyPrefixes {
		out[i] = p.String()
	}
	return out
}
