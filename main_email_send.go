package main

import (
	"fmt"
	"log/slog"

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
