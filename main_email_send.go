package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"

	"github.com/parley-chat/parley/channels/email"
	"github.com/parley-chat/parley/config"
	"github.com/parley-chat/parley/jobs"
)

// emailSending is the worker's outbound email: the relay named by
// PARLEY_SMTP_URL or, when none is set, an SMTP relay to the mailbox
// simulator listening on mailboxAddr (loopback, so no TLS needed), with
// DKIM signing when a key is configured.
func emailSending(cfg *config.Config, mailboxAddr string, log *slog.Logger) (jobs.EmailSender, jobs.EmailConfig, error) {
	ecfg := jobs.EmailConfig{Domain: cfg.EmailDomain, BaseURL: cfg.BaseURL}
	url := cfg.SMTPURL
	if cfg.EmailSimulated() {
		if _, port, err := net.SplitHostPort(mailboxAddr); err != nil || port == "0" {
			// An ephemeral address the simulator has not bound (and so
			// not handed over) yet: sends wait in the retry set.
			return noMailbox{mailboxAddr}, ecfg, nil
		}
		url = "smtp://" + mailboxAddr
	}
	relay, err := email.NewRelay(url, email.RelayOptions{HELO: cfg.EmailDomain})
	if err != nil {
		return nil, ecfg, fmt.Errorf("PARLEY_SMTP_URL: %w", err)
	}
	if cfg.DKIMKeyFile != "" {
		if ecfg.DKIM, err = email.LoadDKIM(cfg.DKIMKeyFile, cfg.DKIMSelector, cfg.EmailDomain); err != nil {
			return nil, ecfg, fmt.Errorf("PARLEY_DKIM_KEY_FILE: %w", err)
		}
	}
	log.Info("outbound email", "relay", relay.String(), "simulated", cfg.EmailSimulated(), "dkim", ecfg.DKIM != nil)
	return relay, ecfg, nil
}

// noMailbox stands in for the mailbox simulator before it listens: every
// send is a temporary failure, retried.
type noMailbox struct{ addr string }

func (n noMailbox) Send(context.Context, email.Envelope, []byte) error {
	return fmt.Errorf("the mailbox simulator is not listening (PARLEY_MAILBOX_ADDR %s)", n.addr)
}
