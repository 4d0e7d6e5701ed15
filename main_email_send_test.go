package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parley-chat/parley/channels/email"
	"github.com/parley-chat/parley/config"
	"github.com/parley-chat/parley/internal/smtpsink"
)

// Without PARLEY_SMTP_URL, outbound email reaches the mailbox simulator's
// address; with it, the named relay; a DKIM key that cannot be read stops
// start-up with the variable's name.
func TestEmailSending(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	sink := smtpsink.Start(t, smtpsink.Options{})
	cfg := &config.Config{EmailDomain: "parley.test", BaseURL: "https://parley.example"}
	sender, ecfg, err := emailSending(cfg, sink.Addr, log)
	if err != nil {
		t.Fatal(err)
	}
	if ecfg.Domain != "parley.test" || ecfg.BaseURL != "https://parley.example" || ecfg.DKIM != nil {
		t.Errorf("config %+v", ecfg)
	}
	if err := sender.Send(context.Background(), email.Envelope{From: "b@parley.test", To: []string{"x@mail.example"}}, []byte("Subject: hi\r\n\r\nhi\r\n")); err != nil {
		t.Fatal(err)
	}
	if sink.Count() != 1 {
		t.Errorf("the simulator's address got %d messages", sink.Count())
	}

	cfg.SMTPURL = "smtps://user:secret@relay.example.com"
	sender, _, err = emailSending(cfg, sink.Addr, log)
	if err != nil || !strings.Contains(sender.(*email.Relay).String(), "relay.example.com") {
		t.Errorf("relay %v %v", sender, err)
	}

	cfg.DKIMKeyFile, cfg.DKIMSelector = filepath.Join(t.TempDir(), "missing.pem"), "s1"
	if _, _, err := emailSending(cfg, sink.Addr, log); err == nil || !strings.Contains(err.Error(), "PARLEY_DKIM_KEY_FILE") {
		t.Errorf("missing key: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "bad.pem")
	if err := os.WriteFile(bad, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.DKIMKeyFile = bad
	if _, _, err := emailSending(cfg, sink.Addr, log); err == nil {
		t.Error("a bad key was accepted")
	}
}

// An ephemeral mailbox address (port 0) nobody bound yet does not stop
// start-up; sends through it fail, to be retried.
func TestEmailSendingUnboundMailbox(t *testing.T) {
	cfg := &config.Config{EmailDomain: "parley.test", BaseURL: "https://parley.example"}
	sender, _, err := emailSending(cfg, "127.0.0.1:0", slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := sender.Send(context.Background(), email.Envelope{}, nil); err == nil {
		t.Error("a send to an unbound mailbox succeeded")
	}
}
