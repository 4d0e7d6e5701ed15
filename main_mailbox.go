package main

import (
	"github.com/parley-chat/parley/http/simulator/mailbox"
)

// buildMailbox builds the mailbox simulator when outbound mail has no
// relay (cfg.EmailSimulated) and this process serves the web pages. Its
// SMTP sink is bound here, before the worker, so its Addr is known to the
// outbound sender; run serves it and close stops it.
func (p *parts) buildMailbox(withWeb bool) error {
	if !withWeb || !p.cfg.EmailSimulated() {
		return nil
	}
	mb, err := mailbox.New(mailbox.Config{Addr: p.cfg.MailboxAddr, Parley: p.smtpListenerAddr,
		MaxBytes: p.cfg.EmailMaxBytes, Logger: p.log})
	if err != nil {
		return err
	}
	p.mailbox = mb
	p.onClose(mb.Close)
	return nil
}

// smtpListenerAddr is where the mailbox delivers what its person writes
// and its bounces: the bound address of Parley's SMTP listener, "" while
// there is none (the page then says the mail was not delivered).
func (p *parts) smtpListenerAddr() string {
	if p.smtp == nil {
		return ""
	}
	return p.smtp.Addr()
}
