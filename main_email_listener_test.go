package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/parley-chat/parley/models"
)

// TestServeReceivesEmail: `parley serve` binds the SMTP listener and mounts
// the inbound email webhook, both storing through the one receiver: a mail
// over SMTP is stored, the same mail through the webhook is a duplicate,
// and the listener stops with the server.
func TestServeReceivesEmail(t *testing.T) {
	for _, args := range [][]string{{"migrate", "up"}, {"seed", "--demo"}} {
		if code, _, stderr := parley(t, nil, args...); code != 0 {
			t.Fatal(stderr)
		}
	}
	addr, smtpAddr := freeAddr(t), freeAddr(t)
	const secret = "serve-email-webhook-secret-01234"
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		code, _, stderr := parleyCtx(ctx, t, map[string]string{"PARLEY_HTTP_ADDR": addr, "PARLEY_BASE_URL": "http://" + addr,
			"PARLEY_SMTP_LISTEN_ADDR": smtpAddr, "PARLEY_EMAIL_WEBHOOK_SECRET": secret, "PARLEY_EMAIL_DOMAIN": "inbound.parley.test"}, "serve")
		if code != 0 {
			fmt.Fprintln(os.Stderr, stderr)
		}
		done <- code
	}()
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve never became ready: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}

	sender := fmt.Sprintf("serve-%d@example.com", time.Now().UnixNano())
	raw := []byte("From: Serve Test <" + sender + ">\r\nTo: demo@inbound.parley.test\r\nSubject: Hello\r\nMessage-ID: <" + sender +
		">\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nHello over SMTP\r\n")
	c, err := smtp.Dial(smtpAddr) // the listener was bound before readiness
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SendMail(sender, []string{"demo@inbound.parley.test"}, bytes.NewReader(raw)); err != nil {
		t.Fatalf("smtp: %v", err)
	}
	c.Quit()
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/webhooks/email/inbound?to=demo@inbound.parley.test", bytes.NewReader(raw))
	req.Header.Set("Content-Type", "message/rfc822")
	req.Header.Set("Authorization", "Bearer "+secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	body.ReadFrom(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(body.String(), `"duplicates":1`) {
		t.Errorf("webhook: %d %s", resp.StatusCode, body.String())
	}

	db, err := models.OpenDB(context.Background(), env.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var bodies []string
	if err := db.NewRaw(`SELECT m.body FROM email_messages AS em JOIN messages AS m ON m.id = em.message_id WHERE em.from_addr = ?`,
		sender).Scan(context.Background(), &bodies); err != nil {
		t.Fatal(err)
	}
	if len(bodies) != 1 || bodies[0] != "Hello over SMTP" {
		t.Errorf("stored %q, want one %q", bodies, "Hello over SMTP")
	}

	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("serve exited %d after shutdown", code)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop within 30s of the signal")
	}
	if c, err := smtp.Dial(smtpAddr); err == nil {
		c.Close()
		t.Error("the SMTP listener still accepts after shutdown")
	}
}
