// Package mailbox is the mailbox simulator: with no mail relay
// configured, Parley's outbound mail goes to its SMTP sink, which keeps it
// in memory, and a page where a signed-in person plays an email recipient
// reads it, writes to an inbox and replies. What the person writes is
// built as real RFC 5322 mail and delivered over SMTP to Parley's own SMTP
// listener. Recipients ending in @bounce.test are accepted and then
// bounced with an RFC 3464 delivery status notification, so failures can
// be demonstrated.
package mailbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// BounceDomain: mail to an address at this domain is accepted and then
// bounced back to its return path.
const BounceDomain = "bounce.test"

// Bounds of what the sink keeps: the oldest mail is forgotten first.
const (
	maxMails     = 2000
	maxKeptBytes = 64 << 20
)

// Config configures the mailbox.
type Config struct {
	// Addr is where the SMTP sink listens: a loopback host:port
	// (":0" picks a free port; Addr reports it).
	Addr string
	// Parley returns the address of Parley's SMTP listener, where the
	// person's mail and bounces are delivered; "" when there is none.
	Parley func() string
	// Hostname names the simulated mail system: the sink's greeting, the
	// MAILER-DAEMON of its bounces and the Message-IDs it makes
	// (default "mailbox.test").
	Hostname string
	// MaxBytes is the largest message the sink accepts (default 25 MiB).
	MaxBytes int
	Logger   *slog.Logger
}

// Mail is one message in a simulated person's mailbox: received from
// Parley (by the sink) or written on the page and delivered to Parley.
type Mail struct {
	ID       string
	At       time.Time
	Person   string // whose mailbox: the person's address, lowercase
	Inbox    string // Parley's side: the From of received mail, the To of sent mail, lowercase
	Outgoing bool   // written by the person (delivered to Parley)
	// MailFrom and RcptTo are the SMTP envelope ("" is the null return path).
	MailFrom string
	RcptTo   []string
	Raw      []byte
	// Headers as they appear in the message (Subject decoded).
	From, To, Subject, Date                 string
	MessageID, InReplyTo, References        string
	ReplyTo, AutoSubmitted, ListUnsubscribe string
	FromName, FromAddr                      string // From parsed
	ReplyAddr                               string // where a reply goes: Reply-To, else From
	Text                                    string // the text part
	ParseError                              string // set when the message could not be parsed
	// Bounce is set on mail to a @bounce.test address: what happened to
	// its delivery status notification.
	Bounce string
}

// Mailbox is the SMTP sink and the simulated people's mailboxes.
type Mailbox struct {
	cfg Config
	log *slog.Logger
	ln  net.Listener
	srv *smtp.Server
	wg  sync.WaitGroup // bounces being delivered

	mu    sync.Mutex
	mails []*Mail
	bytes int
	seq   int
	wake  chan struct{} // closed and replaced on every change
	done  bool
}

// New binds the sink's address; Serve accepts mail on it.
func New(cfg Config) (*Mailbox, error) {
	if cfg.Hostname == "" {
		cfg.Hostname = "mailbox.test"
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = 25 << 20
	}
	if cfg.Parley == nil {
		cfg.Parley = func() string { return "" }
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	host, _, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("mailbox: address %q: %w", cfg.Addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("mailbox: address %q is not loopback: the simulator accepts any mail", cfg.Addr)
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("mailbox: listen: %w", err)
	}
	m := &Mailbox{cfg: cfg, log: cfg.Logger.With("component", "mailbox"), ln: ln, wake: make(chan struct{})}
	m.srv = smtp.NewServer(smtp.BackendFunc(m.newSession))
	m.srv.Domain = cfg.Hostname
	m.srv.MaxMessageBytes = int64(cfg.MaxBytes)
	m.srv.MaxRecipients = 100
	m.srv.ReadTimeout = time.Minute
	m.srv.WriteTimeout = time.Minute
	m.srv.ErrorLog = slogPrinter{m.log}
	return m, nil
}

// Addr is the sink's bound address, host:port.
func (m *Mailbox) Addr() string { return m.ln.Addr().String() }

// Serve accepts mail until ctx ends, then closes the sink and waits for
// the bounces under way.
func (m *Mailbox) Serve(ctx context.Context) error {
	m.log.Info("mailbox simulator listening", "addr", m.Addr())
	errc := make(chan error, 1)
	go func() { errc <- m.srv.Serve(m.ln) }()
	select {
	case <-ctx.Done():
		return m.Close()
	case err := <-errc:
		if err == nil || errors.Is(err, smtp.ErrServerClosed) || errors.Is(err, net.ErrClosed) {
			return nil // closed by Close
		}
		return fmt.Errorf("mailbox: serve: %w", err)
	}
}

// Close stops the sink and waits for the bounces under way. It may be
// called more than once.
func (m *Mailbox) Close() error {
	m.mu.Lock()
	first := !m.done
	m.done = true
	m.mu.Unlock()
	var err error
	if first {
		if err = m.srv.Close(); errors.Is(err, smtp.ErrServerClosed) {
			err = nil
		}
		// Serve was perhaps never called: the listener is ours to close.
		if cerr := m.ln.Close(); cerr != nil && !errors.Is(cerr, net.ErrClosed) && err == nil {
			err = cerr
		}
	}
	m.wg.Wait()
	return err
}

// add stores a mail, forgetting the oldest beyond the bounds.
func (m *Mailbox) add(ml *Mail) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.seq++
	ml.ID = strconv.Itoa(m.seq)
	m.mails = append(m.mails, ml)
	m.bytes += len(ml.Raw)
	drop := 0
	for len(m.mails)-drop > maxMails || (m.bytes > maxKeptBytes && len(m.mails)-drop > 1) {
		m.bytes -= len(m.mails[drop].Raw)
		drop++
	}
	if drop > 0 {
		m.mails = append([]*Mail(nil), m.mails[drop:]...)
	}
	m.changed()
}

// update changes a stored mail under the lock.
func (m *Mailbox) update(ml *Mail, f func(*Mail)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f(ml)
	m.changed()
}

// changed wakes waiters; m.mu is held.
func (m *Mailbox) changed() {
	close(m.wake)
	m.wake = make(chan struct{})
}

// Changed returns a channel closed at the next change (tests wait on it).
func (m *Mailbox) Changed() <-chan struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.wake
}

// Mails returns a person's mail with the given inbox addresses, oldest
// first. Callers pass the inbox addresses the signed-in user may see: the
// simulator serves every organization (R9). Mail is returned by value.
func (m *Mailbox) Mails(person string, inboxes []string) []Mail {
	person = strings.ToLower(person)
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Mail
	for _, ml := range m.mails {
		if ml.Person == person && slices.Contains(inboxes, ml.Inbox) {
			out = append(out, *ml)
		}
	}
	return out
}

// Mail returns one mail of a person's with one of the given inboxes.
func (m *Mailbox) Mail(person, id string, inboxes []string) (Mail, bool) {
	for _, ml := range m.Mails(person, inboxes) {
		if ml.ID == id {
			return ml, true
		}
	}
	return Mail{}, false
}

// People lists the addresses that wrote to or were written to by one of
// the given inboxes, most recent first.
func (m *Mailbox) People(inboxes []string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	last := map[string]int{}
	for i, ml := range m.mails {
		if slices.Contains(inboxes, ml.Inbox) {
			last[ml.Person] = i
		}
	}
	out := make([]string, 0, len(last))
	for p := range last {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return last[out[i]] > last[out[j]] })
	return out
}

// slogPrinter is go-smtp's error log, written to slog.
type slogPrinter struct{ log *slog.Logger }

func (p slogPrinter) Printf(format string, v ...any) { p.log.Warn(fmt.Sprintf(format, v...)) }
func (p slogPrinter) Println(v ...any)               { p.log.Warn(strings.TrimSpace(fmt.Sprintln(v...))) }
