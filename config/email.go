package config

import (
	"net"
	"net/url"
	"strings"
)

// validateEmail checks the email settings and fills in the email domain.
func (c *Config) validateEmail(bad func(env, format string, a ...any)) {
	if c.SMTPURL != "" {
		u, err := url.Parse(c.SMTPURL)
		if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" {
			bad("PARLEY_SMTP_URL", "%q is not an smtp:// or smtps:// URL with a host", redact(c.SMTPURL))
		}
	} else if !loopbackHostPort(c.MailboxAddr) {
		bad("PARLEY_MAILBOX_ADDR", "%q is not a loopback host:port", c.MailboxAddr)
	}
	if c.SMTPListenAddr != "" {
		if _, _, err := net.SplitHostPort(c.SMTPListenAddr); err != nil {
			bad("PARLEY_SMTP_LISTEN_ADDR", "%q is not host:port", c.SMTPListenAddr)
		}
	}
	if c.EmailDomain == "" {
		if u, err := url.Parse(c.BaseURL); err == nil {
			c.EmailDomain = u.Hostname()
		}
	}
	c.EmailDomain = strings.ToLower(strings.TrimSpace(c.EmailDomain))
	if c.EmailDomain == "" || strings.ContainsAny(c.EmailDomain, "@ /") {
		bad("PARLEY_EMAIL_DOMAIN", "%q is not a domain name", c.EmailDomain)
	}
	if c.EmailWebhookSecret != "" && len(c.EmailWebhookSecret) < 16 {
		bad("PARLEY_EMAIL_WEBHOOK_SECRET", "must be at least 16 characters (got %d)", len(c.EmailWebhookSecret))
	}
	if c.EmailMaxBytes < 1024 || c.EmailMaxBytes > 1<<30 {
		bad("PARLEY_EMAIL_MAX_BYTES", "%d is not between 1024 and 1073741824", c.EmailMaxBytes)
	}
	if (c.DKIMKeyFile == "") != (c.DKIMSelector == "") {
		bad("PARLEY_DKIM_SELECTOR", "PARLEY_DKIM_KEY_FILE and PARLEY_DKIM_SELECTOR are set together")
	}
}

// loopbackHostPort reports whether addr is host:port with a port and a
// loopback host (localhost or a loopback IP).
func loopbackHostPort(addr string) bool {
	host, port, err := net.SplitHostPort(addr)
	ip := net.ParseIP(host)
	return err == nil && port != "" && (host == "localhost" || ip != nil && ip.IsLoopback())
}

// EmailSimulated reports whether outbound mail goes to the built-in
// mailbox simulator: no relay is configured.
func (c *Config) EmailSimulated() bool { return c.SMTPURL == "" }
