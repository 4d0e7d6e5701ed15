package web_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/parley-chat/parley/channels/email"
)

// The unsubscribe link works without a session or a CSRF token and sets
// no cookie: GET only asks (link scanners fetch every URL), the mail
// client's one-click POST (RFC 8058) and the page's button opt the
// recipient out of email once, recorded as their own unsubscribe; an
// unknown token is a 404 whichever way it comes.
func TestUnsubscribeLink(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	addr := "leaver-" + runID + "@example.org"
	tok := email.NewToken()
	if _, err := f.Store.DB().NewRaw("INSERT INTO recipients (org_id, email, unsubscribe_token) VALUES (?, ?, ?)",
		f.Demo.Org.ID, addr, tok).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	optedOut := func() (n int) {
		t.Helper()
		if err := f.Store.DB().NewRaw(`SELECT count(*) FROM recipients r JOIN recipient_consent_events ce ON ce.recipient_id = r.id
			WHERE r.email = ? AND r.email_opted_out_at IS NOT NULL AND ce.channel = 'email' AND ce.source = 'unsubscribe'`, addr).Scan(ctx, &n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	do := func(method, path, body string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, f.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if body != "" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if c := resp.Header.Values("Set-Cookie"); len(c) != 0 {
			t.Errorf("%s %s set cookies %q", method, path, c)
		}
		return resp.StatusCode, string(b)
	}

	for _, method := range []string{"GET", "POST"} {
		if code, body := do(method, "/unsubscribe/"+email.NewToken(), "List-Unsubscribe=One-Click"); code != http.StatusNotFound || !strings.Contains(body, "does not work") {
			t.Errorf("%s unknown token: %d", method, code)
		}
	}
	code, body := do("GET", "/unsubscribe/"+tok, "")
	if code != http.StatusOK || !strings.Contains(body, addr) || !strings.Contains(body, `action="/unsubscribe/`+tok+`"`) {
		t.Fatalf("GET: %d\n%s", code, body)
	}
	if n := optedOut(); n != 0 {
		t.Fatal("GET unsubscribed")
	}
	code, body = do("POST", "/unsubscribe/"+tok, "List-Unsubscribe=One-Click")
	if code != http.StatusOK || !strings.Contains(body, "unsubscribed") {
		t.Fatalf("one-click POST: %d\n%s", code, body)
	}
	if n := optedOut(); n != 1 {
		t.Fatalf("%d opt-outs recorded, want 1", n)
	}
	if code, _ := do("POST", "/unsubscribe/"+tok, ""); code != http.StatusOK {
		t.Errorf("second POST: %d", code)
	}
	if n := optedOut(); n != 1 {
		t.Errorf("%d opt-outs after a second POST, want 1", n)
	}
	if code, body := do("GET", "/unsubscribe/"+tok, ""); code != http.StatusOK || !strings.Contains(body, "already unsubscribed") {
		t.Errorf("GET after: %d", code)
	}
}
