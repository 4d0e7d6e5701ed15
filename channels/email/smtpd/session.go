package smtpd

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"

	"github.com/emersion/go-smtp"
	"github.com/parley-chat/parley/channels/email"
	"github.com/parley-chat/parley/channels/email/receive"
)

// The answers the listener gives besides go-smtp's own.
var (
	errUnknownRcpt = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1},
		Message: "No such mailbox here"}
	errTempFailure = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0},
		Message: "Temporary failure storing the message, try again later"}
	errTooLarge = &smtp.SMTPError{Code: 552, EnhancedCode: smtp.EnhancedCode{5, 3, 4},
		Message: "Message too large"}
	errTooComplex = &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0},
		Message: "Message refused: too many MIME parts or nested too deep"}
	errMalformed = &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0},
		Message: "Message refused: it cannot be read as an email (RFC 5322) with a sender"}
)

// backend makes one session per connection.
type backend struct {
	cfg   Config
	store Store
	recv  Receiver
	log   *slog.Logger
}

func (b *backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{b: b, remote: c.Conn().RemoteAddr().String()}, nil
}

// session is one connection's transaction state.
type session struct {
	b       *backend
	remote  string
	from    string
	hasFrom bool
	rcpts   []string
}

func (s *session) Reset() { s.from, s.hasFrom, s.rcpts = "", false, nil }

func (s *session) Logout() error { return nil }

// Mail starts a transaction; a declared SIZE over the limit is refused
// before any data is sent.
func (s *session) Mail(from string, opts *smtp.MailOptions) error {
	if opts != nil && opts.Size > int64(s.b.cfg.MaxBytes) {
		return errTooLarge
	}
	s.Reset()
	s.from, s.hasFrom = strings.TrimSpace(from), true
	return nil
}

// Rcpt accepts an inbox's address, a conversation's reply address or a
// message's return path, and nothing else.
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	to = strings.ToLower(strings.TrimSpace(to))
	if !strings.Contains(to, "@") {
		return errUnknownRcpt
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.b.cfg.StoreTimeout)
	defer cancel()
	known, err := receive.Accepted(ctx, s.b.store, to, s.b.cfg.Domain)
	if err != nil {
		s.b.log.Error("recipient check failed; answered 451", "rcpt", to, "err", err)
		return errTempFailure
	}
	if !known {
		s.b.log.Info("mail to an unknown address refused", "rcpt", to, "remote", s.remote)
		return errUnknownRcpt
	}
	s.rcpts = append(s.rcpts, to)
	return nil
}

// Data reads the message (go-smtp stops it at MaxBytes with 552) and
// stores it; 250 is answered only after the commit.
func (s *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return se
	}
	if err != nil {
		return err
	}
	// A message being stored finishes even while the server shuts down.
	ctx, cancel := context.WithTimeout(context.Background(), s.b.cfg.StoreTimeout)
	defer cancel()
	res, err := s.b.recv.Receive(ctx, receive.Envelope{Rcpts: s.rcpts, MailFrom: s.from}, raw)
	if err != nil {
		return s.answer(err)
	}
	s.b.log.Debug("message stored", "rcpts", len(s.rcpts), "stored", res.Stored, "duplicates", res.Duplicates,
		"bounces", res.Bounces)
	return nil
}

// answer is the SMTP reply to a failed Receive.
func (s *session) answer(err error) error {
	switch {
	case errors.Is(err, email.ErrTooLarge):
		return errTooLarge
	case errors.Is(err, email.ErrTooComplex):
		s.b.log.Info("message refused", "remote", s.remote, "err", err)
		return errTooComplex
	case errors.Is(err, email.ErrMalformed):
		s.b.log.Info("message refused", "remote", s.remote, "err", err)
		return errMalformed
	case errors.Is(err, receive.ErrRefused):
		s.b.log.Info("message refused", "remote", s.remote, "err", err)
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0},
			Message: "Message refused: " + oneLine(err.Error())}
	}
	s.b.log.Error("message not stored; answered 451", "remote", s.remote, "err", err)
	return errTempFailure
}

// oneLine keeps an error's text fit for one SMTP reply line.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r > '~' {
			return ' '
		}
		return r
	}, s)
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}
