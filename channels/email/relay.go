package email

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Relay sends built messages to an SMTP server named by a URL:
// smtp://user:pass@host:587 speaks STARTTLS (required, unless the host is
// loopback: then only used when offered), smtps://user:pass@host:465
// implicit TLS. It hands over the bytes from Build as they are: nothing
// rewrites a header.
type Relay struct {
	host     string
	tls      string // "implicit", "mandatory" or "opportunistic"
	opts     []gomail.Option
	describe string
}

// RelayOptions tunes a Relay; the zero value is the production default.
type RelayOptions struct {
	// HELO is the name given in EHLO (default: go-mail's, the hostname).
	HELO string
	// Timeout bounds the connection and every command (default 30 s).
	Timeout time.Duration
	// TLSConfig replaces the default TLS configuration (tests trust their
	// own certificate with it).
	TLSConfig *tls.Config
}

// DefaultRelayTimeout bounds one send's connection and commands.
const DefaultRelayTimeout = 30 * time.Second

// NewRelay reads an smtp:// or smtps:// URL. The password is never part
// of what String returns.
func NewRelay(rawURL string, o RelayOptions) (*Relay, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("email: relay URL: %w", err)
	}
	host := u.Hostname()
	if host == "" {
		return nil, fmt.Errorf("email: relay URL %q: no host", u.Redacted())
	}
	port, implicitTLS := 587, false
	switch u.Scheme {
	case "smtp":
	case "smtps":
		port, implicitTLS = 465, true
	default:
		return nil, fmt.Errorf("email: relay URL %q: the scheme must be smtp or smtps", u.Redacted())
	}
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil || port < 1 || port > 65535 {
			return nil, fmt.Errorf("email: relay URL %q: bad port", u.Redacted())
		}
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = DefaultRelayTimeout
	}
	loopback := isLoopback(host)
	opts := []gomail.Option{gomail.WithPort(port), gomail.WithTimeout(timeout), gomail.WithoutNoop()}
	var tlsMode string
	switch {
	case implicitTLS:
		tlsMode = "implicit"
		opts = append(opts, gomail.WithSSL())
	case loopback:
		tlsMode = "opportunistic"
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	default:
		tlsMode = "mandatory"
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if o.TLSConfig != nil {
		opts = append(opts, gomail.WithTLSConfig(o.TLSConfig))
	}
	if o.HELO != "" {
		opts = append(opts, gomail.WithHELO(o.HELO))
	}
	if user := u.User.Username(); user != "" {
		pass, _ := u.User.Password()
		auth := gomail.SMTPAuthAutoDiscover
		if loopback && !implicitTLS {
			// A loopback relay may offer no STARTTLS; PLAIN over it stays
			// on this machine.
			auth = gomail.SMTPAuthPlainNoEnc
		}
		opts = append(opts, gomail.WithSMTPAuth(auth), gomail.WithUsername(user), gomail.WithPassword(pass))
	}
	return &Relay{host: host, tls: tlsMode, opts: opts, describe: u.Redacted()}, nil
}

// String names the relay without its password.
func (r *Relay) String() string { return r.describe }

// isLoopback: localhost or a loopback IP.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Envelope is the SMTP envelope of one send: the return path (MAIL FROM,
// the bounce address) and the recipients (RCPT TO).
type Envelope struct {
	From string
	To   []string
}

// RejectedError is a relay's permanent refusal (a 5xx reply to MAIL, RCPT
// or DATA): the message will never go out as it is. Reply is the
// server's words, for the agent.
type RejectedError struct {
	Code  int
	Reply string
}

func (e *RejectedError) Error() string {
	return fmt.Sprintf("rejected by the mail server: %d %s", e.Code, e.Reply)
}

// Reason is what agents are shown.
func (e *RejectedError) Reason() string {
	return fmt.Sprintf("Rejected by the mail server: %d %s", e.Code, e.Reply)
}

// Send delivers raw to the relay in one SMTP session. A *RejectedError is
// permanent; any other error (4xx replies, the network, TLS, a refused
// login: a configuration problem an admin can fix) is temporary.
func (r *Relay) Send(ctx context.Context, env Envelope, raw []byte) (err error) {
	if len(env.To) == 0 {
		return &RejectedError{Code: 554, Reply: "no recipient"}
	}
	c, err := gomail.NewClient(r.host, r.opts...)
	if err != nil {
		return fmt.Errorf("email: relay %s: %w", r.describe, err)
	}
	sc, err := c.DialToSMTPClientWithContext(ctx)
	if err != nil {
		return fmt.Errorf("email: relay %s: connect: %w", r.describe, err)
	}
	defer func() {
		if qerr := sc.Quit(); qerr != nil {
			_ = sc.Close()
		}
	}()
	stop := context.AfterFunc(ctx, func() { _ = sc.Close() })
	defer stop()
	if err := sc.Mail("<" + env.From + ">"); err != nil {
		return classify("MAIL FROM", err)
	}
	for _, to := range env.To {
		if err := sc.Rcpt("<" + to + ">"); err != nil {
			return classify("RCPT TO", err)
		}
	}
	w, err := sc.Data()
	if err != nil {
		return classify("DATA", err)
	}
	if _, err := w.Write(raw); err != nil {
		_ = w.Close()
		return classify("DATA", err)
	}
	if err := w.Close(); err != nil {
		return classify("DATA", err)
	}
	return nil
}

// classify turns a transaction error into a *RejectedError for a 5xx
// reply, or a wrapped temporary error.
func classify(step string, err error) error {
	var te *textproto.Error
	if errors.As(err, &te) && te.Code >= 500 && te.Code < 600 {
		return &RejectedError{Code: te.Code, Reply: collapseSpace(te.Msg)}
	}
	return fmt.Errorf("email: relay: %s: %w", step, err)
}
