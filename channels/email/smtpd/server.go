// Package smtpd is Parley's SMTP listener: mail for an inbox's address, a
// conversation's reply address or a message's return path is accepted
// (anything else is refused at RCPT TO), parsed and stored through
// channels/email/receive, and answered 250 only once it is committed.
package smtpd

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/parley-chat/parley/channels/email/receive"
)

// Store is what RCPT TO asks the database (*models.Store).
type Store = receive.AddressStore

// Receiver stores an accepted message (*receive.Receiver).
type Receiver interface {
	Receive(ctx context.Context, env receive.Envelope, raw []byte) (*receive.Result, error)
}

// Config is the listener's settings; a zero field takes its default.
type Config struct {
	// Addr is host:port to listen on (":0" picks a free port).
	Addr string
	// Domain is the mail domain: the greeting's name and the domain of
	// reply and return-path addresses.
	Domain string
	// MaxBytes is the largest message accepted (552 above it).
	MaxBytes int
	// MaxRecipients per message (default 50; 452 past it).
	MaxRecipients int
	// MaxConns bounds open connections (default 200; 421 past it).
	MaxConns int
	// ReadTimeout bounds the wait for each command line, and for the
	// whole of DATA after it (default 5 minutes, RFC 5321's command
	// timeout); WriteTimeout each answer (default 1 minute).
	ReadTimeout, WriteTimeout time.Duration
	// StoreTimeout bounds the database work of one RCPT TO or one
	// message (default 30 seconds): past it the client gets 451 and
	// retries.
	StoreTimeout time.Duration
	Logger       *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.MaxBytes <= 0 {
		c.MaxBytes = 25 << 20
	}
	if c.MaxRecipients <= 0 {
		c.MaxRecipients = 50
	}
	if c.MaxConns <= 0 {
		c.MaxConns = 200
	}
	if c.ReadTimeout <= 0 {
		c.ReadTimeout = 5 * time.Minute
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = time.Minute
	}
	if c.StoreTimeout <= 0 {
		c.StoreTimeout = 30 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Server is the bound listener.
type Server struct {
	cfg  Config
	srv  *smtp.Server
	ln   *limitListener
	log  *slog.Logger
	done chan struct{}
}

// New binds cfg.Addr (so Addr is known before Serve) and builds the
// server; Serve runs it.
func New(cfg Config, store Store, recv Receiver) (*Server, error) {
	cfg = cfg.withDefaults()
	if cfg.Domain == "" {
		return nil, errors.New("smtpd: a mail domain is required")
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("smtpd: listen %s: %w", cfg.Addr, err)
	}
	s := &Server{cfg: cfg, ln: newLimitListener(ln, cfg.MaxConns), log: cfg.Logger.With("component", "smtpd"),
		done: make(chan struct{})}
	srv := smtp.NewServer(&backend{cfg: cfg, store: store, recv: recv, log: s.log})
	srv.Domain = cfg.Domain
	srv.MaxMessageBytes = int64(cfg.MaxBytes)
	srv.MaxRecipients = cfg.MaxRecipients
	srv.ReadTimeout, srv.WriteTimeout = cfg.ReadTimeout, cfg.WriteTimeout
	srv.ErrorLog = log.New(slogWriter{s.log}, "", 0)
	s.srv = srv
	return s, nil
}

// Addr is the bound address, host:port.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Serve accepts connections until ctx ends, then stops accepting and
// lets sessions in progress finish (a message being stored is answered)
// for up to grace before closing what is left.
func (s *Server) Serve(ctx context.Context, grace time.Duration) error {
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(s.ln) }()
	select {
	case err := <-errc:
		if err != nil {
			return fmt.Errorf("smtpd: serve: %w", err)
		}
		return nil
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), grace)
	defer cancel()
	if err := s.srv.Shutdown(sctx); err != nil {
		// The grace ran out with clients still connected: close them.
		s.ln.closeConns()
	}
	if err := <-errc; err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("smtpd: serve: %w", err)
	}
	return nil
}

// Close stops the listener at once (for a server never served).
func (s *Server) Close() error {
	err := s.srv.Close()
	if errors.Is(err, smtp.ErrServerClosed) {
		err = nil
	}
	// srv.Close closes only listeners Serve registered, and no
	// connection once Shutdown ran.
	s.ln.closeConns()
	if cerr := s.ln.Close(); cerr != nil && !errors.Is(cerr, net.ErrClosed) && err == nil {
		err = cerr
	}
	return err
}

// slogWriter carries go-smtp's own log lines (connection errors) to slog.
type slogWriter struct{ log *slog.Logger }

func (w slogWriter) Write(p []byte) (int, error) {
	w.log.Debug("smtp", "msg", string(p))
	return len(p), nil
}
