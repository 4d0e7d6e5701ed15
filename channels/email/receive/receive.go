// Package receive turns one delivered email into stored conversation
// messages: the step the SMTP listener (channels/email/smtpd) and the
// inbound webhook (http/webhook) share. It parses the raw message once
// (channels/email), then for each envelope recipient either records a
// bounce (a recipient that is a per-message return path) or stores the
// mail through the store's threading, and hands every committed change
// to the notifier. It answers only after the commit, so its callers
// acknowledge (250, 2xx) only what is stored.
package receive

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/parley-chat/parley/channels/email"
	"github.com/parley-chat/parley/models"
)

// Store is what receiving needs from the database (*models.Store).
type Store interface {
	ReceiveEmail(ctx context.Context, in models.InboundEmail) (*models.InboundResult, error)
	RecordBounce(ctx context.Context, token, reason string) (*models.Change, error)
}

// Notifier shows committed changes on agents' screens; Notify must not
// block.
type Notifier interface{ Notify(ch *models.Change) }

// Config is what a Receiver is built from.
type Config struct {
	// Domain is the domain of reply and bounce addresses (cfg.EmailDomain).
	Domain string
	// Limits bound what is parsed; MaxBytes is cfg.EmailMaxBytes.
	Limits email.Limits
	// ParseBounce reads a delivery status notification (nil:
	// email.ParseBounce).
	ParseBounce func(raw []byte) (*email.Bounce, error)
	// Kick wakes the outbox relay after a change that may have queued
	// work, such as an away reply (nil: nothing to wake).
	Kick   func()
	Logger *slog.Logger
}

// Receiver stores delivered mail.
type Receiver struct {
	cfg    Config
	store  Store
	notify Notifier
	log    *slog.Logger
}

// New builds a Receiver.
func New(cfg Config, store Store, notify Notifier) *Receiver {
	if cfg.ParseBounce == nil {
		cfg.ParseBounce = email.ParseBounce
	}
	if cfg.Kick == nil {
		cfg.Kick = func() {}
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Receiver{cfg: cfg, store: store, notify: notify, log: log.With("component", "email-receive")}
}

// MaxBytes is the largest raw message Receive accepts.
func (r *Receiver) MaxBytes() int {
	if r.cfg.Limits.MaxBytes > 0 {
		return r.cfg.Limits.MaxBytes
	}
	return email.DefaultLimits().MaxBytes
}

// Envelope is what the transport says about a delivery, apart from the
// message itself.
type Envelope struct {
	// Rcpts are the addresses it is delivered to (RCPT TO).
	Rcpts []string
	// MailFrom is the reverse path (MAIL FROM); "" is the null one, <>,
	// which only automatic mail (bounces, auto-replies) uses.
	MailFrom string
	// MailFromUnknown: the transport did not say who the envelope sender
	// was (a webhook without one), so an empty MailFrom is no sign of
	// automatic mail.
	MailFromUnknown bool
}

// ErrRefused marks a message refused for good (it will never be
// accepted, so the sender must not retry): unparsable, too large, too
// complex, or lacking what the store needs. Every other error Receive
// returns is temporary (the database), and nothing was acknowledged.
var ErrRefused = errors.New("email refused")

// ErrNoRecipients: the envelope names no recipient.
var ErrNoRecipients = errors.New("email: no recipients")

// Result counts what became of each recipient's copy.
type Result struct {
	Stored, Duplicates, Dropped, Unrouted int
	// Bounces counts recipients that were return paths: bounces recorded
	// or, when not a report or for an unknown message, ignored.
	Bounces int
	// Conversations are the conversations the stored copies went to.
	Conversations []int64
}

// Receive parses raw once and stores it for every recipient, each in its
// own transaction, notifying each committed change. A parse refusal
// wraps ErrRefused (and the email package's error); nothing is stored
// then. On a temporary error some recipients' copies may already be
// stored: a retry of the same bytes finds them as duplicates (keyed by
// Message-ID and recipient).
func (r *Receiver) Receive(ctx context.Context, env Envelope, raw []byte) (*Result, error) {
	if len(env.Rcpts) == 0 {
		return nil, fmt.Errorf("%w: %w", ErrRefused, ErrNoRecipients)
	}
	msg, err := email.Parse(raw, r.cfg.Limits)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRefused, err)
	}
	in := r.inbound(msg, env, raw)
	res := &Result{}
	seen := make(map[string]bool, len(env.Rcpts))
	for _, rcpt := range env.Rcpts {
		rcpt = strings.ToLower(strings.TrimSpace(rcpt))
		if rcpt == "" || seen[rcpt] {
			continue
		}
		seen[rcpt] = true
		if token, ok := email.ParseBounceAddress(rcpt, r.cfg.Domain); ok {
			if err := r.bounce(ctx, token, raw); err != nil {
				return res, err
			}
			res.Bounces++
			continue
		}
		if err := r.store1(ctx, in, rcpt, res); err != nil {
			return res, err
		}
	}
	return res, nil
}

// store1 stores in as delivered to rcpt.
func (r *Receiver) store1(ctx context.Context, in models.InboundEmail, rcpt string, res *Result) error {
	in.To, in.Token = rcpt, ""
	if _, token, ok := email.ParseReplyAddress(rcpt, r.cfg.Domain); ok {
		in.Token = token
	}
	got, err := r.store.ReceiveEmail(ctx, in)
	var fe *models.FieldError
	if errors.As(err, &fe) {
		return fmt.Errorf("%w: %w", ErrRefused, err)
	}
	if err != nil {
		return fmt.Errorf("receive email for %s: %w", rcpt, err)
	}
	switch {
	case got.Duplicate:
		res.Duplicates++
	case got.Dropped:
		res.Dropped++
		r.log.Warn("mail from one of our own addresses dropped", "from", in.From, "to", rcpt)
	default:
		res.Stored++
		if got.Unrouted {
			res.Unrouted++
			r.log.Warn("mail to an address no inbox owns; kept as unrouted", "to", rcpt)
		}
	}
	if got.Change != nil {
		if id := got.Change.Conversation.ID; id != 0 {
			res.Conversations = append(res.Conversations, id)
		}
		r.notify.Notify(got.Change)
		r.cfg.Kick()
	}
	return nil
}

// bounce records a delivery status notification sent to the return path
// carrying token. Mail there that is no report (an auto-reply to the
// return path), or a report on a message we do not know, is accepted and
// ignored: refusing it would only make another bounce.
func (r *Receiver) bounce(ctx context.Context, token string, raw []byte) error {
	b, err := r.cfg.ParseBounce(raw)
	if err != nil {
		r.log.Info("mail to a return path that is not a delivery report; ignored", "token", token, "err", err)
		return nil
	}
	reason := strings.TrimSpace(b.Status + " " + b.Reason)
	ch, err := r.store.RecordBounce(ctx, token, reason)
	if errors.Is(err, models.ErrNotFound) {
		r.log.Info("delivery report on an unknown message; ignored", "token", token)
		return nil
	}
	if err != nil {
		return fmt.Errorf("record bounce: %w", err)
	}
	if ch != nil {
		r.notify.Notify(ch)
	}
	return nil
}

// inbound is the store's form of msg, before the recipient is filled in.
func (r *Receiver) inbound(msg *email.Inbound, env Envelope, raw []byte) models.InboundEmail {
	in := models.InboundEmail{
		From: msg.From.Email, FromName: msg.From.Name, Subject: msg.Subject,
		HeaderID: msg.MessageID, InReplyTo: msg.InReplyTo, References: msg.References,
		Text: email.StripQuoted(msg.Text), FullText: msg.Text,
		Automated: automated(msg, env), Raw: raw, ReceivedAt: time.Now(),
	}
	if in.HeaderID == "" {
		in.HeaderID = HashID(raw)
	}
	for _, a := range msg.Attachments {
		in.Attachments = append(in.Attachments, models.AttachmentIn{Filename: a.Name, ContentType: a.ContentType,
			Size: int64(a.Size), Omitted: a.Omitted, Data: a.Content})
	}
	return in
}

// HashID stands in for a missing Message-ID: a hash of the raw bytes, so
// the same delivery repeated is still recognised as a duplicate.
func HashID(raw []byte) string {
	sum := sha256.Sum256(raw)
	return "sha256-" + hex.EncodeToString(sum[:16]) + "@no-message-id.invalid"
}

// automated is why msg looks machine-written, or "": RFC 3834's headers
// (email.Automated), a null reverse path, or a mailer-daemon sender.
func automated(msg *email.Inbound, env Envelope) string {
	if msg.Automated {
		return msg.AutomatedReason
	}
	if env.MailFrom == "" && !env.MailFromUnknown {
		return "null return path (MAIL FROM:<>)"
	}
	local, _, _ := strings.Cut(strings.ToLower(msg.From.Email), "@")
	switch local {
	case "mailer-daemon", "postmaster", "mail-daemon":
		return "From: " + local
	}
	if local, _, _ := strings.Cut(strings.ToLower(env.MailFrom), "@"); local == "mailer-daemon" {
		return "MAIL FROM: mailer-daemon"
	}
	return ""
}
