// Package config holds Parley's settings: one struct filled from flags and
// PARLEY_* environment variables, validated at start-up with messages that
// name the variable. It is passed explicitly; there are no package globals.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// Config is everything a Parley process needs to start.
type Config struct {
	DatabaseURL   string        // PARLEY_DATABASE_URL: PostgreSQL connection URL
	RedisURL      string        // PARLEY_REDIS_URL: Redis URL for queues, pub/sub and throttling
	HTTPAddr      string        // PARLEY_HTTP_ADDR: listen address of the web server
	BaseURL       string        // PARLEY_BASE_URL: public URL of the web server (cookies, Origin checks, links)
	SessionSecret string        // PARLEY_SESSION_SECRET: key for CSRF tokens; at least 32 characters
	SessionTTL    time.Duration // PARLEY_SESSION_TTL: how long an idle login session lasts
	LogFormat     string        // PARLEY_LOG_FORMAT: text or json
	LogLevel      string        // PARLEY_LOG_LEVEL: debug, info, warn or error
	Concurrency   int           // PARLEY_WORKER_CONCURRENCY: asynq worker goroutines
	MetricsToken  string        // PARLEY_METRICS_TOKEN: when set, /metrics requires "Authorization: Bearer <token>"
	ShutdownGrace time.Duration // PARLEY_SHUTDOWN_GRACE: time allowed for in-flight work on SIGTERM
	PprofAddr     string        // PARLEY_PPROF_ADDR: when set, a loopback address serving Go's /debug/pprof
	// PARLEY_TRUSTED_PROXIES: comma-separated addresses or CIDR ranges of
	// the reverse proxies in front of the web server. Only a request whose
	// peer is one of them has its client address taken from
	// X-Forwarded-For; empty trusts none.
	TrustedProxies string

	VonageAPIKey          string // PARLEY_VONAGE_API_KEY: empty runs SMS through the built-in simulator
	VonageAPISecret       string // PARLEY_VONAGE_API_SECRET
	VonageBaseURL         string // PARLEY_VONAGE_BASE_URL: Vonage's REST base URL (empty: Vonage's, or the simulator's)
	VonageSignatureSecret string // PARLEY_VONAGE_SIGNATURE_SECRET: when set, webhooks must be signed
	VonageSignatureMethod string // PARLEY_VONAGE_SIGNATURE_METHOD: md5hash, md5, sha1, sha256 or sha512
	SMSRate               int    // PARLEY_SMS_RATE: messages per second across all workers
	APIRate               int    // PARLEY_API_RATE: API requests per minute per token

	// Email (see the README's "Email" section).
	SMTPURL            string // PARLEY_SMTP_URL: the relay outbound mail goes to (smtp:// STARTTLS, smtps:// implicit TLS); empty: the built-in mailbox simulator
	MailboxAddr        string // PARLEY_MAILBOX_ADDR: where the mailbox simulator's SMTP sink listens (only without PARLEY_SMTP_URL)
	SMTPListenAddr     string // PARLEY_SMTP_LISTEN_ADDR: the inbound SMTP listener (serve only; empty: off)
	EmailDomain        string // PARLEY_EMAIL_DOMAIN: domain of reply, bounce and Message-ID addresses (empty: PARLEY_BASE_URL's host)
	EmailWebhookSecret string // PARLEY_EMAIL_WEBHOOK_SECRET: authenticates POST /webhooks/email/inbound (empty: that webhook is off)
	EmailMaxBytes      int    // PARLEY_EMAIL_MAX_BYTES: largest inbound message accepted, in bytes
	DKIMKeyFile        string // PARLEY_DKIM_KEY_FILE: PEM private key (RSA or Ed25519) that signs outbound mail; empty: unsigned
	DKIMSelector       string // PARLEY_DKIM_SELECTOR: the DKIM selector published in DNS for that key

	// LogLevelValue is LogLevel parsed by Validate.
	LogLevelValue slog.Level
	// TrustedProxyPrefixes is TrustedProxies parsed by Validate (a single
	// address becomes a one-address prefix).
	TrustedProxyPrefixes []netip.Prefix
}

// setting describes one configurable value: its flag, its variable, its default.
type setting struct {
	flag, env, def, usage string
	secret                bool // never shown in --help, even when set in the environment
	dur                   *time.Duration
	str                   *string
	num                   *int
}

func (c *Config) settings() []setting {
	return []setting{
		{flag: "database-url", env: "PARLEY_DATABASE_URL", def: "postgres://postgres@127.0.0.1:5432/parley?sslmode=disable", usage: "PostgreSQL connection URL", str: &c.DatabaseURL},
		{flag: "redis-url", env: "PARLEY_REDIS_URL", def: "redis://127.0.0.1:6379/0", usage: "Redis URL (queues, pub/sub, throttling)", str: &c.RedisURL},
		{flag: "http-addr", env: "PARLEY_HTTP_ADDR", def: "127.0.0.1:8080", usage: "address the web server listens on", str: &c.HTTPAddr},
		{flag: "base-url", env: "PARLEY_BASE_URL", def: "http://localhost:8080", usage: "public URL of the web server (https enables Secure cookies)", str: &c.BaseURL},
		{flag: "session-secret", env: "PARLEY_SESSION_SECRET", def: "", usage: "secret for CSRF tokens, at least 32 characters (required)", str: &c.SessionSecret, secret: true},
		{flag: "session-ttl", env: "PARLEY_SESSION_TTL", def: "168h", usage: "idle lifetime of a login session", dur: &c.SessionTTL},
		{flag: "log-format", env: "PARLEY_LOG_FORMAT", def: "text", usage: "log format: text or json", str: &c.LogFormat},
		{flag: "log-level", env: "PARLEY_LOG_LEVEL", def: "info", usage: "log level: debug, info, warn or error", str: &c.LogLevel},
		{flag: "worker-concurrency", env: "PARLEY_WORKER_CONCURRENCY", def: "20", usage: "number of concurrent job handlers", num: &c.Concurrency},
		{flag: "metrics-token", env: "PARLEY_METRICS_TOKEN", def: "", usage: "bearer token required by /metrics (empty: open)", str: &c.MetricsToken, secret: true},
		{flag: "shutdown-grace", env: "PARLEY_SHUTDOWN_GRACE", def: "15s", usage: "time allowed for in-flight work on shutdown", dur: &c.ShutdownGrace},
		{flag: "trusted-proxies", env: "PARLEY_TRUSTED_PROXIES", def: "", usage: "comma-separated addresses or CIDRs of reverse proxies whose X-Forwarded-For names the client (empty: none; the peer's address is the client's)", str: &c.TrustedProxies},
		{flag: "pprof-addr", env: "PARLEY_PPROF_ADDR", def: "", usage: "loopback address serving Go's /debug/pprof profiles (empty: off)", str: &c.PprofAddr},
		{flag: "vonage-api-key", env: "PARLEY_VONAGE_API_KEY", def: "", usage: "Vonage API key (empty: SMS goes to the built-in simulator)", str: &c.VonageAPIKey},
		{flag: "vonage-api-secret", env: "PARLEY_VONAGE_API_SECRET", def: "", usage: "Vonage API secret", str: &c.VonageAPISecret, secret: true},
		{flag: "vonage-base-url", env: "PARLEY_VONAGE_BASE_URL", def: "", usage: "Vonage REST base URL (empty: https://rest.nexmo.com, or the simulator without an API key)", str: &c.VonageBaseURL},
		{flag: "vonage-signature-secret", env: "PARLEY_VONAGE_SIGNATURE_SECRET", def: "", usage: "secret that signs Vonage webhooks; when set, unsigned callbacks are refused", str: &c.VonageSignatureSecret, secret: true},
		{flag: "vonage-signature-method", env: "PARLEY_VONAGE_SIGNATURE_METHOD", def: "md5hash", usage: "webhook signature method: md5hash, md5, sha1, sha256 or sha512", str: &c.VonageSignatureMethod},
		{flag: "api-rate", env: "PARLEY_API_RATE", def: "600", usage: "JSON API requests per minute per token (then 429 with Retry-After)", num: &c.APIRate},
		{flag: "sms-rate", env: "PARLEY_SMS_RATE", def: "30", usage: "SMS per second across all workers (the Vonage account's rate)", num: &c.SMSRate},
		{flag: "smtp-url", env: "PARLEY_SMTP_URL", def: "", usage: "relay for outbound mail: smtp://user:pass@host:587 (STARTTLS) or smtps://user:pass@host:465 (empty: the built-in mailbox simulator)", str: &c.SMTPURL, secret: true},
		{flag: "mailbox-addr", env: "PARLEY_MAILBOX_ADDR", def: "127.0.0.1:2526", usage: "loopback address of the mailbox simulator's SMTP sink (used only without --smtp-url)", str: &c.MailboxAddr},
		{flag: "smtp-listen-addr", env: "PARLEY_SMTP_LISTEN_ADDR", def: "127.0.0.1:2525", usage: "address the inbound SMTP listener accepts mail on (empty: off)", str: &c.SMTPListenAddr},
		{flag: "email-domain", env: "PARLEY_EMAIL_DOMAIN", def: "", usage: "domain of reply, bounce and Message-ID addresses (empty: the host of --base-url)", str: &c.EmailDomain},
		{flag: "email-webhook-secret", env: "PARLEY_EMAIL_WEBHOOK_SECRET", def: "", usage: "secret that authenticates POST /webhooks/email/inbound (empty: that webhook is off)", str: &c.EmailWebhookSecret, secret: true},
		{flag: "email-max-bytes", env: "PARLEY_EMAIL_MAX_BYTES", def: "26214400", usage: "largest inbound message accepted, in bytes", num: &c.EmailMaxBytes},
		{flag: "dkim-key-file", env: "PARLEY_DKIM_KEY_FILE", def: "", usage: "PEM private key (RSA or Ed25519) that DKIM-signs outbound mail (empty: unsigned)", str: &c.DKIMKeyFile},
		{flag: "dkim-selector", env: "PARLEY_DKIM_SELECTOR", def: "", usage: "DKIM selector published in DNS for --dkim-key-file", str: &c.DKIMSelector},
	}
}

// Options adjusts Parse to a subcommand.
type Options struct {
	// Web is set for commands that serve pages and so need a session secret.
	Web bool
	// Flags registers the subcommand's own flags beside the shared ones.
	Flags func(fs *flag.FlagSet)
}

// Parse fills a Config from defaults, then the environment, then flags
// (flags win), and validates it. getenv is usually os.Getenv. It returns
// flag.ErrHelp after printing usage when -h or --help is given.
func Parse(name string, args []string, getenv func(string) string, out io.Writer, o Options) (*Config, []string, error) {
	c := &Config{}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	if o.Flags != nil {
		o.Flags(fs)
	}
	fs.SetOutput(out)
	var errs []error
	var fromEnv []func()
	for _, s := range c.settings() {
		val := s.def
		if v := getenv(s.env); v != "" {
			val = v
		}
		usage := fmt.Sprintf("%s (env %s)", s.usage, s.env)
		switch {
		case s.secret:
			// Registered with an empty default so --help cannot print it;
			// the environment's value applies after parsing unless a flag set one.
			fs.StringVar(s.str, s.flag, "", usage)
			p, v := s.str, val
			fromEnv = append(fromEnv, func() {
				if *p == "" {
					*p = v
				}
			})
		case s.str != nil:
			fs.StringVar(s.str, s.flag, val, usage)
		case s.dur != nil:
			d, err := time.ParseDuration(val)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %q is not a duration (e.g. 30s, 15m, 168h)", s.env, val))
			}
			fs.DurationVar(s.dur, s.flag, d, usage)
		case s.num != nil:
			var n int
			if _, err := fmt.Sscan(val, &n); err != nil {
				errs = append(errs, fmt.Errorf("%s: %q is not a whole number", s.env, val))
			}
			fs.IntVar(s.num, s.flag, n, usage)
		}
	}
	fs.Usage = func() {
		fmt.Fprintf(out, "Usage: parley %s [flags]\n\nEvery flag can also be set by the environment variable named beside it.\n\n", name)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	for _, f := range fromEnv {
		f()
	}
	if len(errs) > 0 {
		return nil, nil, errors.Join(errs...)
	}
	if err := c.Validate(o.Web); err != nil {
		return nil, nil, err
	}
	return c, fs.Args(), nil
}

// Validate checks every value and names the variable of each bad one.
// web adds the checks that only a web server needs.
func (c *Config) Validate(web bool) error {
	var errs []error
	bad := func(env, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", env, fmt.Sprintf(format, a...)))
	}
	if u, err := url.Parse(c.DatabaseURL); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
		bad("PARLEY_DATABASE_URL", "%q is not a postgres:// URL with a host", redact(c.DatabaseURL))
	}
	if u, err := url.Parse(c.RedisURL); err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "" {
		bad("PARLEY_REDIS_URL", "%q is not a redis:// URL with a host", redact(c.RedisURL))
	}
	if _, port, err := net.SplitHostPort(c.HTTPAddr); err != nil || port == "" {
		bad("PARLEY_HTTP_ADDR", "%q is not host:port", c.HTTPAddr)
	}
	if c.PprofAddr != "" {
		// Profiles expose internals: loopback only, never the public listener.
		if !loopbackHostPort(c.PprofAddr) {
			bad("PARLEY_PPROF_ADDR", "%q is not a loopback host:port", c.PprofAddr)
		}
	}
	c.TrustedProxyPrefixes = nil
	for _, item := range strings.Split(c.TrustedProxies, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		p, err := parsePrefix(item)
		if err != nil {
			bad("PARLEY_TRUSTED_PROXIES", "%q is not an IP address or CIDR range (e.g. 10.0.0.0/8, 192.0.2.7)", item)
			continue
		}
		c.TrustedProxyPrefixes = append(c.TrustedProxyPrefixes, p)
	}
	if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("PARLEY_BASE_URL", "%q is not an http(s):// URL", c.BaseURL)
	}
	if web && len(c.SessionSecret) < 32 {
		bad("PARLEY_SESSION_SECRET", "must be at least 32 characters (got %d); generate one with: openssl rand -base64 48", len(c.SessionSecret))
	}
	if c.SessionTTL < time.Minute {
		bad("PARLEY_SESSION_TTL", "must be at least 1m")
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		bad("PARLEY_LOG_FORMAT", "%q is not text or json", c.LogFormat)
	}
	if err := c.LogLevelValue.UnmarshalText([]byte(c.LogLevel)); err != nil {
		bad("PARLEY_LOG_LEVEL", "%q is not debug, info, warn or error", c.LogLevel)
	}
	if c.Concurrency < 1 || c.Concurrency > 1000 {
		bad("PARLEY_WORKER_CONCURRENCY", "%d is not between 1 and 1000", c.Concurrency)
	}
	if c.ShutdownGrace <= 0 {
		bad("PARLEY_SHUTDOWN_GRACE", "must be positive")
	}
	if c.VonageAPIKey != "" && c.VonageAPISecret == "" {
		bad("PARLEY_VONAGE_API_SECRET", "is required with PARLEY_VONAGE_API_KEY")
	}
	if c.VonageBaseURL != "" {
		if u, err := url.Parse(c.VonageBaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("PARLEY_VONAGE_BASE_URL", "%q is not an http(s):// URL", c.VonageBaseURL)
		}
	}
	switch c.VonageSignatureMethod {
	case "md5hash", "md5", "sha1", "sha256", "sha512":
	default:
		bad("PARLEY_VONAGE_SIGNATURE_METHOD", "%q is not md5hash, md5, sha1, sha256 or sha512", c.VonageSignatureMethod)
	}
	if c.APIRate < 1 || c.APIRate > 1000000 {
		bad("PARLEY_API_RATE", "%d is not between 1 and 1000000", c.APIRate)
	}
	if c.SMSRate < 1 || c.SMSRate > 10000 {
		bad("PARLEY_SMS_RATE", "%d is not between 1 and 10000", c.SMSRate)
	}
	c.validateEmail(bad)
	return errors.Join(errs...)
}

// SecureCookies reports whether cookies must carry the Secure attribute,
// which is the case whenever the public URL is https.
func (c *Config) SecureCookies() bool {
	return strings.HasPrefix(c.BaseURL, "https://")
}

// Logger builds the process logger the configuration asks for.
func (c *Config) Logger(w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.LogLevelValue}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// parsePrefix reads a CIDR range, or one address as a range of one.
func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("config: %w", err)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("config: %w", err)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// redact hides a password in a URL so it can appear in an error message.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// Simulated reports whether SMS runs through the built-in Vonage
// simulator: no API key is configured.
func (c *Config) Simulated() bool { return c.VonageAPIKey == "" }
