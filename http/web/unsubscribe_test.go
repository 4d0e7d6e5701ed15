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
// recipient out of email once, recorded as their own unsubscribe, which
// the same link undoes (unless staff hold the opt-out); an unknown token
// is a 404 whichever way it comes.
func TestUnsubscribeLink(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	addr, tok := emailRecipient(t, f, "leaver")
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
	if code, body := do("GET", "/unsubscribe/"+tok, ""); code != http.StatusOK || !strings.Contains(body, "already unsubscribed") ||
		!strings.Contains(body, `action="/unsubscribe/`+tok+`/resubscribe"`) {
		t.Errorf("GET after: %d\n%s", code, body)
	}

	// Clicked by mistake: the same link subscribes again, once, as the
	// recipient's own act.
	consent := func(action string) (out bool, n int) {
		t.Helper()
		if err := f.Store.DB().NewRaw(`SELECT r.email_opted_out_at IS NOT NULL, (SELECT count(*) FROM recipient_consent_events ce
			WHERE ce.recipient_id = r.id AND ce.channel = 'email' AND ce.action = ? AND ce.source = 'unsubscribe')
			FROM recipients r WHERE r.email = ?`, action, addr).Scan(ctx, &out, &n); err != nil {
			t.Fatal(err)
		}
		return out, n
	}
	for range 2 {
		code, body := do("POST", "/unsubscribe/"+tok+"/resubscribe", "")
		if code != http.StatusOK || !strings.Contains(body, "subscribed again") || !strings.Contains(body, `action="/unsubscribe/`+tok+`"`) {
			t.Fatalf("resubscribe: %d\n%s", code, body)
		}
		if out, n := consent("opt_in"); out || n != 1 {
			t.Fatalf("after resubscribing: opted out %v, %d opt-ins recorded, want false, 1", out, n)
		}
	}

	// Opted out by staff: the link cannot undo it, and the page says whom
	// to ask.
	if _, err := f.Store.DB().NewRaw("UPDATE recipients SET email_opted_out_at = now(), email_opt_out_source = 'agent' WHERE email = ?", addr).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if code, body := do("GET", "/unsubscribe/"+tok, ""); code != http.StatusOK || !strings.Contains(body, "To get them again, contact") ||
		strings.Contains(body, "/resubscribe") {
		t.Errorf("GET, staff's opt-out: %d\n%s", code, body)
	}
	if code, body := do("POST", "/unsubscribe/"+tok+"/resubscribe", ""); code != http.StatusOK || !strings.Contains(body, "To get them again, contact") {
		t.Errorf("resubscribe, staff's opt-out: %d\n%s", code, body)
	}
	if out, n := consent("opt_in"); !out || n != 1 {
		t.Errorf("staff's opt-out after a resubscribe: opted out %v, %d opt-ins, want true, 1", out, n)
	}
	if code, _ := do("POST", "/unsubscribe/"+email.NewToken()+"/resubscribe", ""); code != http.StatusNotFound {
		t.Errorf("resubscribe, unknown token: %d", code)
	}
}

// emailRecipient adds a demo recipient with an email address (name-runID
// at example.org) and an unsubscribe token, and returns both.
func emailRecipient(t *testing.T, f *fixture, name string) (addr, token string) {
	t.Helper()
	addr, token = name+"-"+runID+"@example.org", email.NewToken()
	if _, err := f.Store.DB().NewRaw("INSERT INTO recipients (org_id, email, unsubscribe_token) VALUES (?, ?, ?)",
		f.Demo.Org.ID, addr, token).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	return addr, token
}
