package web_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/parley-chat/parley/channels/email"
	"github.com/parley-chat/parley/channels/email/receive"
	"github.com/parley-chat/parley/http/web"
	"github.com/parley-chat/parley/http/webhook"
	"github.com/parley-chat/parley/models"
)

const testEmailSecret = "web-email-webhook-secret-0123456"

// emailCallbacks are the provider callbacks with the inbound email webhook
// on, taking messages up to maxBytes.
func emailCallbacks(maxBytes int) func(*models.Store, *web.Publisher) web.ProviderCallbacks {
	return func(st *models.Store, pub *web.Publisher) web.ProviderCallbacks {
		recv := receive.New(receive.Config{Domain: "inbound.parley.test", Limits: email.Limits{MaxBytes: maxBytes},
			Logger: testLogger()}, st, pub)
		return webhook.New(webhook.Config{}, st, pub, nil, testLogger()).
			WithEmail(webhook.EmailConfig{Secret: testEmailSecret, Domain: "inbound.parley.test"}, recv, st)
	}
}

// post sends body to path with the webhook secret.
func postRaw(t *testing.T, base, path, contentType string, body []byte) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+testEmailSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestEmailWebhookBodyLimit: with the email webhook on, its route takes a
// message larger than the app's usual body limit and stores it, while
// every other route still refuses such a body with 413.
func TestEmailWebhookBodyLimit(t *testing.T) {
	f := newFixtureWith(t, serverOpts{callbacks: emailCallbacks(8 << 20)})
	sender := "big-" + runID + "@example.com"
	big := []byte("From: <" + sender + ">\r\nTo: demo@inbound.parley.test\r\nSubject: big\r\nMessage-ID: <big-" + runID +
		"@example.com>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nA long letter.\r\n" +
		strings.Repeat("All work and no play makes Jack a dull boy.\r\n", (3<<20)/45))
	if len(big) <= web.BodyLimit {
		t.Fatalf("the message (%d bytes) is not over the body limit (%d)", len(big), web.BodyLimit)
	}
	if code := postRaw(t, f.URL, "/webhooks/email/inbound?to=demo@inbound.parley.test", "message/rfc822", big); code != http.StatusOK {
		t.Fatalf("a %d-byte email: %d, want 200", len(big), code)
	}
	var n int
	if err := f.Store.DB().NewRaw("SELECT count(*) FROM email_messages WHERE from_addr = ?", sender).Scan(t.Context(), &n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("%d stored, want 1", n)
	}
	for _, path := range []string{"/login", "/webhooks/vonage/inbound", "/api/v1/me"} {
		if code := postRaw(t, f.URL, path, "application/x-www-form-urlencoded", big); code != http.StatusRequestEntityTooLarge {
			t.Errorf("POST %s with %d bytes: %d, want 413", path, len(big), code)
		}
	}
}

// TestEmailWebhookOffByDefault: callbacks without the email webhook
// configured answer 404 on its route.
func TestEmailWebhookOffByDefault(t *testing.T) {
	f := newFixtureWith(t, serverOpts{callbacks: func(st *models.Store, pub *web.Publisher) web.ProviderCallbacks {
		return webhook.New(webhook.Config{}, st, pub, nil, testLogger())
	}})
	if code := postRaw(t, f.URL, "/webhooks/email/inbound?to=demo@inbound.parley.test", "message/rfc822",
		[]byte("From: <a@example.com>\r\n\r\nhi\r\n")); code != http.StatusNotFound {
		t.Errorf("email webhook without a secret: %d, want 404", code)
	}
}
