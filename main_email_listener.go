package main

import (
	"context"
	"log/slog"

	"github.com/parley-chat/parley/channels/email"
	"github.com/parley-chat/parley/channels/email/receive"
	"github.com/parley-chat/parley/channels/email/smtpd"
	"github.com/parley-chat/parley/config"
	"github.com/parley-chat/parley/models"
)

// emailReceiver stores inbound mail, whichever way it came (the SMTP
// listener, the inbound webhook), through the one publisher.
func emailReceiver(cfg *config.Config, store *models.Store, notify receive.Notifier, kick func(),
	log *slog.Logger) *receive.Receiver {
	return receive.New(receive.Config{Domain: cfg.EmailDomain, Limits: email.Limits{MaxBytes: cfg.EmailMaxBytes},
		Kick: kick, Logger: log}, store, notify)
}

// emailListener binds the inbound SMTP listener (nil when
// PARLEY_SMTP_LISTEN_ADDR is empty: off), so its address is known before
// anything runs; run serves it.
func emailListener(cfg *config.Config, store *models.Store, recv *receive.Receiver, log *slog.Logger) (*smtpd.Server, error) {
	if cfg.SMTPListenAddr == "" {
		return nil, nil
	}
	return smtpd.New(smtpd.Config{Addr: cfg.SMTPListenAddr, Domain: cfg.EmailDomain, MaxBytes: cfg.EmailMaxBytes,
		Logger: log}, store, recv)
}

// serveEmail runs the listener until ctx ends; in-flight messages get the
// shutdown grace to be stored and answered.
func (p *parts) serveEmail(ctx context.Context) error {
	p.log.Info("smtp listener accepting mail", "addr", p.smtp.Addr(), "domain", p.cfg.EmailDomain)
	return p.smtp.Serve(ctx, p.cfg.ShutdownGrace)
}
