package webhook_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"mime/multipart"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/gofiber/fiber/v2"
	"github.com/parley-chat/parley/channels/email"
	"github.com/parley-chat/parley/channels/email/receive"
	"github.com/parley-chat/parley/channels/email/smtpd"
	"github.com/parley-chat/parley/http/webhook"
	"github.com/parley-chat/parley/models"
)

const (
	emailPath   = "/webhooks/email/inbound"
	emailSecret = "inbound-email-webhook-secret-0123"
	emailDomain = "inbound.parley.test"
	demoAddr    = "demo@inbound.parley.test" // the demo inbox's address (main_test.go)
)

// emailFixture is the email webhook on a real Fiber app, and the SMTP
// listener, both storing through one receiver into the shared database.
type emailFixture struct {
	t     *testing.T
	url   string
	smtp  string // the listener's address
	store *models.Store
	rec   *recorder
}

func newEmailFixture(t *testing.T, secret string) *emailFixture {
	t.Helper()
	st, _ := sharedStore(t)
	f := &emailFixture{t: t, store: st, rec: &recorder{}}
	recv := receive.New(receive.Config{Domain: emailDomain, Limits: email.Limits{MaxBytes: 64 << 10}, Logger: testLogger()},
		st, f.rec)
	h := webhook.New(webhook.Config{}, st, f.rec, nil, testLogger()).
		WithEmail(webhook.EmailConfig{Secret: secret, Domain: emailDomain}, recv, st)
	app := fiber.New(fiber.Config{Immutable: true, DisableStartupMessage: true, BodyLimit: max(2<<20, h.EmailBodyLimit())})
	app.Post(emailPath, h.EmailInbound)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go app.Listener(ln)
	t.Cleanup(func() { app.ShutdownWithTimeout(5 * time.Second) })
	f.url = "http://" + ln.Addr().String() + emailPath

	srv, err := smtpd.New(smtpd.Config{Addr: "127.0.0.1:0", Domain: emailDomain, MaxBytes: 64 << 10, Logger: testLogger()}, st, recv)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, time.Second) }()
	t.Cleanup(func() { cancel(); <-done })
	f.smtp = srv.Addr()
	return f
}

// post sends body with contentType and auth ("" for none) and returns
// the status and body.
func (f *emailFixture) post(query, contentType, auth string, body []byte) (int, string) {
	f.t.Helper()
	u := f.url
	if query != "" {
		u += "?" + query
	}
	req, err := http.NewRequest(http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		f.t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String()
}

func bearer(s string) string { return "Bearer " + s }

func basic(user, pw string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pw))
}

// form builds a multipart/form-data body of fields.
func form(t *testing.T, fields ...string) (string, []byte) {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for i := 0; i+1 < len(fields); i += 2 {
		if err := w.WriteField(fields[i], fields[i+1]); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	return w.FormDataContentType(), b.Bytes()
}

// rawMail is a simple message from sender to to.
func rawMail(sender, to, msgID, text string) []byte {
	return []byte(fmt.Sprintf("From: Webby Hook <%s>\r\nTo: %s\r\nSubject: Via webhook\r\nMessage-ID: <%s>\r\n"+
		"Date: Mon, 07 Dec 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n",
		sender, to, msgID, text))
}

// fromCount counts inbound email messages from sender, and returns the
// newest one's body.
func (f *emailFixture) fromCount(sender string) (int, string) {
	f.t.Helper()
	var bodies []string
	if err := f.store.DB().NewRaw(`SELECT m.body FROM email_messages AS em JOIN messages AS m ON m.id = em.message_id
		WHERE em.from_addr = ? ORDER BY m.id`, sender).Scan(context.Background(), &bodies); err != nil {
		f.t.Fatal(err)
	}
	if len(bodies) == 0 {
		return 0, ""
	}
	return len(bodies), bodies[len(bodies)-1]
}

func newMailSender() string { return strings.ToLower(newID("hook")) + "@example.com" }

func newMailID() string { return newID("mid") + "@mail.example.com" }

// TestEmailWebhookOff: without a secret the route answers 404 and stores
// nothing, whatever it is sent.
func TestEmailWebhookOff(t *testing.T) {
	f := newEmailFixture(t, "")
	sender := newMailSender()
	code, _ := f.post("to="+demoAddr, "message/rfc822", bearer(""), rawMail(sender, demoAddr, newMailID(), "hello"))
	if code != http.StatusNotFound {
		t.Errorf("webhook off: %d, want 404", code)
	}
	if n, _ := f.fromCount(sender); n != 0 {
		t.Errorf("stored %d", n)
	}
}

// TestEmailWebhookAuth: the secret as Basic password or Bearer token is
// accepted; anything else is 401 and nothing is stored.
func TestEmailWebhookAuth(t *testing.T) {
	f := newEmailFixture(t, emailSecret)
	for _, tc := range []struct {
		name, auth string
		want       int
	}{
		{"none", "", 401},
		{"wrong bearer", bearer("not-the-secret-at-all-0000"), 401},
		{"secret as basic user", basic(emailSecret, "x"), 401},
		{"secret prefix", bearer(emailSecret[:len(emailSecret)-1]), 401},
		{"garbled basic", "Basic !!!", 401},
		{"bearer", bearer(emailSecret), 200},
		{"basic", basic("sendgrid", emailSecret), 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sender := newMailSender()
			code, body := f.post("to="+demoAddr, "message/rfc822", tc.auth, rawMail(sender, demoAddr, newMailID(), "auth "+tc.name))
			if code != tc.want {
				t.Fatalf("%d %s, want %d", code, body, tc.want)
			}
			n, _ := f.fromCount(sender)
			if (n == 1) != (tc.want == 200) {
				t.Errorf("stored %d", n)
			}
		})
	}
}

// TestEmailWebhookShapes: raw MIME, SendGrid's raw form with its JSON
// envelope, and Mailgun's body-mime form each store the mail once, for
// the envelope's recipient (not the To header's).
func TestEmailWebhookShapes(t *testing.T) {
	f := newEmailFixture(t, emailSecret)
	t.Run("message/rfc822", func(t *testing.T) {
		sender := newMailSender()
		code, body := f.post("to="+demoAddr+"&from="+sender, "message/rfc822", bearer(emailSecret),
			rawMail(sender, "someone-else@example.org", newMailID(), "Raw MIME here"))
		if code != 200 || !strings.Contains(body, `"stored":1`) {
			t.Fatalf("%d %s", code, body)
		}
		if n, text := f.fromCount(sender); n != 1 || text != "Raw MIME here" {
			t.Errorf("stored %d %q", n, text)
		}
	})
	t.Run("message/rfc822 recipients from headers", func(t *testing.T) {
		sender := newMailSender()
		code, body := f.post("", "message/rfc822", bearer(emailSecret),
			rawMail(sender, "Front Desk <"+demoAddr+">, other@example.org", newMailID(), "No envelope"))
		if code != 200 {
			t.Fatalf("%d %s", code, body)
		}
		if n, _ := f.fromCount(sender); n != 1 {
			t.Errorf("stored %d", n)
		}
	})
	t.Run("SendGrid raw", func(t *testing.T) {
		sender := newMailSender()
		ct, b := form(t, "headers", "Received: by mx.sendgrid.net", "dkim", "{@example.com : pass}",
			"email", string(rawMail(sender, "Front Desk <"+demoAddr+">", newMailID(), "From SendGrid")),
			"to", "Front Desk <"+demoAddr+">", "from", "Webby Hook <"+sender+">", "subject", "Via webhook",
			"envelope", `{"to":["`+demoAddr+`"],"from":"`+sender+`"}`, "charsets", `{"to":"UTF-8"}`, "SPF", "pass")
		code, body := f.post("", ct, basic("sendgrid", emailSecret), b)
		if code != 200 {
			t.Fatalf("%d %s", code, body)
		}
		if n, text := f.fromCount(sender); n != 1 || text != "From SendGrid" {
			t.Errorf("stored %d %q", n, text)
		}
	})
	t.Run("Mailgun body-mime", func(t *testing.T) {
		sender := newMailSender()
		ct, b := form(t, "recipient", demoAddr, "sender", sender, "from", "Webby Hook <"+sender+">",
			"subject", "Via webhook", "body-mime", string(rawMail(sender, demoAddr, newMailID(), "From Mailgun")),
			"timestamp", "1795511700", "token", "abc", "signature", "def")
		code, body := f.post("", ct, bearer(emailSecret), b)
		if code != 200 {
			t.Fatalf("%d %s", code, body)
		}
		if n, text := f.fromCount(sender); n != 1 || text != "From Mailgun" {
			t.Errorf("stored %d %q", n, text)
		}
	})
}

// TestEmailWebhookMalformed: bad requests and bad messages get a clear
// 4xx and store nothing.
func TestEmailWebhookMalformed(t *testing.T) {
	f := newEmailFixture(t, emailSecret)
	sender := newMailSender()
	good := string(rawMail(sender, demoAddr, newMailID(), "never stored"))
	bomb := "From: <" + sender + ">\r\nTo: " + demoAddr + "\r\nMessage-ID: <" + newMailID() + ">\r\nMIME-Version: 1.0\r\n" +
		strings.Repeat("Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n", 150) + "\r\nboom\r\n"
	raw := func(ct, body string) func() (string, []byte) {
		return func() (string, []byte) { return ct, []byte(body) }
	}
	fields := func(kv ...string) func() (string, []byte) { return func() (string, []byte) { return form(t, kv...) } }
	for _, tc := range []struct {
		name, query string
		req         func() (contentType string, body []byte)
		want        int
	}{
		{"no content type", "to=" + demoAddr, raw("", good), 400},
		{"JSON body", "to=" + demoAddr, raw("application/json", `{"email":"x"}`), 415},
		{"form without the raw message", "", fields("to", demoAddr, "text", "parsed text only"), 400},
		{"form with a broken boundary", "", raw("multipart/form-data; boundary=nope", "garbage"), 400},
		{"envelope not JSON", "", fields("email", good, "envelope", `{"to":`), 400},
		{"envelope to not addresses", "", fields("email", good, "envelope", `{"to":{"a":1}}`), 400},
		{"no recipient at all", "", fields("email", string(rawMail(sender, "", newMailID(), "x"))), 400},
		{"empty body", "to=" + demoAddr, raw("message/rfc822", ""), 400},
		{"no sender", "to=" + demoAddr, raw("message/rfc822", "Subject: x\r\n\r\nno From\r\n"), 400},
		{"MIME bomb", "to=" + demoAddr, raw("message/rfc822", bomb), 400},
		{"too large", "to=" + demoAddr, raw("message/rfc822", good+strings.Repeat("x\r\n", 40<<10)), 413},
		{"recipient not ours", "to=stranger@example.org", raw("message/rfc822", good), 422},
		{"too many recipients", "to=" + strings.Repeat(demoAddr+",", 51), raw("message/rfc822", good), 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ct, body := tc.req()
			code, text := f.post(tc.query, ct, bearer(emailSecret), body)
			if code != tc.want {
				t.Errorf("%d %s, want %d", code, text, tc.want)
			}
		})
	}
	if n, _ := f.fromCount(sender); n != 0 {
		t.Errorf("%d stored from malformed requests", n)
	}
	if f.rec.calls() != 0 {
		t.Errorf("%d notifications", f.rec.calls())
	}
}

// TestEmailSMTPThenWebhook: the same message delivered by the SMTP
// listener and then posted to the webhook (a provider forwarding what
// the MX also delivered) is stored once; the webhook answers 200 with a
// duplicate.
func TestEmailSMTPThenWebhook(t *testing.T) {
	f := newEmailFixture(t, emailSecret)
	sender := newMailSender()
	raw := rawMail(sender, demoAddr, newMailID(), "Both ways")
	c, err := smtp.Dial(f.smtp)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.SendMail(sender, []string{demoAddr}, bytes.NewReader(raw)); err != nil {
		t.Fatalf("smtp: %v", err)
	}
	code, body := f.post("to="+demoAddr, "message/rfc822", bearer(emailSecret), raw)
	if code != 200 || !strings.Contains(body, `"duplicates":1`) {
		t.Fatalf("webhook: %d %s", code, body)
	}
	if n, text := f.fromCount(sender); n != 1 || text != "Both ways" {
		t.Errorf("stored %d %q", n, text)
	}
	if f.rec.calls() != 1 {
		t.Errorf("%d notifications, want 1", f.rec.calls())
	}
}

// TestEmailWebhookDatabaseDown: when the message cannot be stored the
// provider gets 503 (retry), not 2xx.
func TestEmailWebhookDatabaseDown(t *testing.T) {
	st, _ := sharedStore(t)
	rec := &recorder{}
	recv := receive.New(receive.Config{Domain: emailDomain, Logger: testLogger()}, deadStore(t), rec)
	h := webhook.New(webhook.Config{}, st, rec, nil, testLogger()).
		WithEmail(webhook.EmailConfig{Secret: emailSecret, Domain: emailDomain}, recv, st)
	app := fiber.New(fiber.Config{DisableStartupMessage: true, BodyLimit: h.EmailBodyLimit()})
	app.Post(emailPath, h.EmailInbound)
	sender := newMailSender()
	req, _ := http.NewRequest(http.MethodPost, emailPath+"?to="+demoAddr, bytes.NewReader(rawMail(sender, demoAddr, newMailID(), "lost?")))
	req.Header.Set("Content-Type", "message/rfc822")
	req.Header.Set("Authorization", bearer(emailSecret))
	resp, err := app.Test(req, 30000)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("database down: %d, want 503", resp.StatusCode)
	}
	if rec.calls() != 0 {
		t.Errorf("%d notifications", rec.calls())
	}
}
