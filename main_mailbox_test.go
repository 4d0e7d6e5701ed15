package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/emersion/go-smtp"
	"github.com/parley-chat/parley/config"
)

// TestBuildMailbox: serve without a mail relay builds the mailbox
// simulator, its sink bound and accepting mail before anything runs; with
// a relay, or for the worker alone, there is none.
func TestBuildMailbox(t *testing.T) {
	if code, _, stderr := parley(t, nil, "migrate", "up"); code != 0 {
		t.Fatal(stderr)
	}
	parts := func(t *testing.T, withWeb bool, vars map[string]string) *parts {
		t.Helper()
		base := map[string]string{
			"PARLEY_DATABASE_URL": env.DatabaseURL, "PARLEY_REDIS_URL": env.RedisURL,
			"PARLEY_SESSION_SECRET": "main-test-secret-main-test-secret-0001",
			"PARLEY_HTTP_ADDR":      freeAddr(t), "PARLEY_SMTP_LISTEN_ADDR": "127.0.0.1:0", "PARLEY_MAILBOX_ADDR": "127.0.0.1:0",
		}
		for k, v := range vars {
			base[k] = v
		}
		cfg, _, err := config.Parse("serve", nil, func(k string) string { return base[k] }, io.Discard, config.Options{Web: withWeb})
		if err != nil {
			t.Fatal(err)
		}
		p, err := build(context.Background(), cfg, slog.New(slog.DiscardHandler), withWeb)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.close() })
		return p
	}

	t.Run("serve without a relay", func(t *testing.T) {
		p := parts(t, true, nil)
		if p.mailbox == nil {
			t.Fatal("no mailbox simulator")
		}
		go func() { _ = p.mailbox.Serve(t.Context()) }()
		c, err := smtp.Dial(p.mailbox.Addr())
		if err != nil {
			t.Fatalf("the sink is not listening at %s: %v", p.mailbox.Addr(), err)
		}
		defer c.Close()
		raw := "From: Desk <desk@demo.test>\r\nTo: pat@example.com\r\nSubject: hi\r\n\r\nhello\r\n"
		if err := c.SendMail("bounce-x@demo.test", []string{"pat@example.com"}, bytes.NewReader([]byte(raw))); err != nil {
			t.Fatal(err)
		}
		if got := p.mailbox.Mails("pat@example.com", []string{"desk@demo.test"}); len(got) != 1 || got[0].Text != "hello" {
			t.Errorf("the sink kept %+v", got)
		}
	})
	t.Run("serve with a relay", func(t *testing.T) {
		if p := parts(t, true, map[string]string{"PARLEY_SMTP_URL": "smtp://relay.example.com:587"}); p.mailbox != nil {
			t.Error("a mailbox simulator beside a real relay")
		}
	})
	t.Run("worker", func(t *testing.T) {
		if p := parts(t, false, nil); p.mailbox != nil {
			t.Error("the worker built a mailbox simulator")
		}
	})
}
