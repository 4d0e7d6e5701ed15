package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/parley-chat/parley/http/simulator"
	"github.com/parley-chat/parley/models"
)

// hookRecorder stands in for Parley's inbound webhook behind the
// simulator: it answers 200 and remembers the inbox ("to") of every text
// posted to it, so a test sees exactly what the simulator injected.
type hookRecorder struct {
	mu      sync.Mutex
	inbound []string
}

func (h *hookRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/webhooks/vonage/inbound" {
		_ = r.ParseForm()
		h.mu.Lock()
		h.inbound = append(h.inbound, r.PostForm.Get("to"))
		h.mu.Unlock()
	}
	w.WriteHeader(http.StatusOK)
}

func (h *hookRecorder) posted() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.inbound)
}

// phoneView is what a phone page shows: the phones listed, the texts of
// the open thread and the inbox numbers offered.
type phoneView struct{ phones, texts, inboxes []string }

func viewPhone(t *testing.T, c *client, path string) phoneView {
	t.Helper()
	resp, body := c.get(path)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d\n%s", path, resp.StatusCode, body)
	}
	d := doc(t, body)
	var v phoneView
	d.Find(".phone-list a.chip").Each(func(_ int, s *goquery.Selection) { v.phones = append(v.phones, s.Text()) })
	d.Find(".bubble-text").Each(func(_ int, s *goquery.Selection) { v.texts = append(v.texts, s.Text()) })
	d.Find(`select[name="inbox"] option`).Each(func(_ int, s *goquery.Selection) { v.inboxes = append(v.inboxes, s.AttrOr("value", "")) })
	return v
}

// sendFromPhone posts the phone page's send form with a valid CSRF token.
func sendFromPhone(t *testing.T, c *client, phone, inbox, text string) int {
	t.Helper()
	tok := c.csrf("/simulator/phone")
	resp, _ := c.do("POST", "/simulator/phone/send", url.Values{"_csrf": {tok}, "phone": {phone}, "inbox": {inbox}, "text": {text}}, nil)
	return resp.StatusCode
}

// limitedAgent adds a second inbox, Back Office, to the demo organization
// and an agent (all_inboxes false) assigned to it alone, signed in; both
// are removed when the test ends so other tests see the demo unchanged.
func limitedAgent(t *testing.T, f *fixture) (*client, string) {
	t.Helper()
	ctx := context.Background()
	db := f.Store.DB()
	const number = "+15550100177"
	var inboxID, userID int64
	if err := db.NewRaw(`INSERT INTO inboxes (org_id, location_id, name, sms_number) VALUES (?, ?, 'Back Office', ?) RETURNING id`,
		f.Demo.Org.ID, f.Demo.Location.ID, number).Scan(ctx, &inboxID); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.NewRaw("DELETE FROM inboxes WHERE id = ?", inboxID).Exec(ctx) })
	hash, err := models.HashPassword("limited password 1")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.NewRaw(`INSERT INTO users (org_id, email, name, role, password_hash, all_inboxes)
		VALUES (?, 'limited@demo.parley.test', 'Lee Limited', 'agent', ?, false) RETURNING id`, f.Demo.Org.ID, hash).Scan(ctx, &userID); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.NewRaw("DELETE FROM users WHERE id = ?", userID).Exec(ctx) })
	if _, err := db.NewRaw("INSERT INTO user_inboxes (org_id, user_id, inbox_id) VALUES (?, ?, ?)", f.Demo.Org.ID, userID, inboxID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	c := f.client(t)
	c.login("limited@demo.parley.test", "limited password 1")
	return c, number
}

// TestSimulatorPhoneScopedToVisibleInboxes (R9): the phone pages show a
// user only texts to or from the inboxes they may see (their
// organization's; a limited agent's own), texts the simulated Vonage API
// records belong to the sending inbox's organization, and a send to an
// inbox outside them is a 404 with nothing posted to the webhook.
func TestSimulatorPhoneScopedToVisibleInboxes(t *testing.T) {
	hook := &hookRecorder{}
	hookSrv := httptest.NewServer(hook)
	t.Cleanup(hookSrv.Close)
	sim := simulator.New(simulator.Config{BaseURL: hookSrv.URL, APIKey: "simkey01", APISecret: "simsecret", Logger: testLogger()})
	f := newFixtureWith(t, serverOpts{simulator: sim})
	const frontDesk, rivalDesk = "+15550100100", "+15550109999"

	rival := otherOrgUser(t, f)
	if code := sendFromPhone(t, rival.client, "+15550100777", rivalDesk, "rival inbound secret"); code != http.StatusOK {
		t.Fatalf("rival's send to its own inbox: %d", code)
	}
	// A reply the rival's inbox sent through the simulated Vonage API.
	if resp, body := f.client(t).do("POST", simulator.Path+"/sms/json", url.Values{"api_key": {"simkey01"}, "api_secret": {"simsecret"},
		"from": {"15550109999"}, "to": {"15550100778"}, "text": {"rival outbound secret"}}, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("simulated Vonage send: %d %s", resp.StatusCode, body)
	}
	// The rival does see both: the filter is by inbox, not a blanket refusal.
	if v := viewPhone(t, rival.client, "/simulator/phone?phone=%2B15550100777"); !slices.Contains(v.phones, "+15550100777") ||
		!slices.Contains(v.phones, "+15550100778") || !slices.Contains(v.texts, "rival inbound secret") || !slices.Equal(v.inboxes, []string{rivalDesk}) {
		t.Fatalf("rival's own phone page: %+v", v)
	}

	admin := f.client(t)
	admin.login(adminEmail, adminPassword)
	if code := sendFromPhone(t, admin, "+15550100779", frontDesk, "demo front desk text"); code != http.StatusOK {
		t.Fatalf("admin's send to Front Desk: %d", code)
	}
	limited, backOffice := limitedAgent(t, f)
	if code := sendFromPhone(t, admin, "+15550100781", backOffice, "demo back office text"); code != http.StatusOK {
		t.Fatalf("admin's send to Back Office: %d", code)
	}

	t.Run("another organization's phones and threads are hidden", func(t *testing.T) {
		v := viewPhone(t, admin, "/simulator/phone")
		if slices.Contains(v.phones, "+15550100777") || slices.Contains(v.phones, "+15550100778") || !slices.Contains(v.phones, "+15550100779") {
			t.Errorf("admin's phone list %v: want the demo's phone and neither of the rival's", v.phones)
		}
		if slices.Contains(v.inboxes, rivalDesk) {
			t.Errorf("admin is offered the rival's inbox: %v", v.inboxes)
		}
		for _, path := range []string{"/simulator/phone?phone=%2B15550100777", "/simulator/phone/thread?phone=%2B15550100777", "/simulator/phone/thread?phone=%2B15550100778"} {
			if v := viewPhone(t, admin, path); len(v.texts) != 0 {
				t.Errorf("%s shows the rival's texts to the admin: %v", path, v.texts)
			}
		}
	})

	t.Run("a send to another organization's number is a 404 and posts nothing", func(t *testing.T) {
		before := hook.posted()
		if code := sendFromPhone(t, admin, "+15550100779", rivalDesk, "injected into the rival"); code != http.StatusNotFound {
			t.Errorf("send to the rival's number: %d, want 404", code)
		}
		if after := hook.posted(); len(after) != len(before) {
			t.Errorf("the webhook got %v after the refused send (before: %v)", after, before)
		}
		if v := viewPhone(t, rival.client, "/simulator/phone/thread?phone=%2B15550100779"); slices.Contains(v.texts, "injected into the rival") {
			t.Errorf("the refused text was recorded in the simulator: %v", v.texts)
		}
	})

	t.Run("a limited agent sees only their inboxes", func(t *testing.T) {
		v := viewPhone(t, limited, "/simulator/phone?phone=%2B15550100781")
		if !slices.Equal(v.phones, []string{"+15550100781"}) {
			t.Errorf("limited agent's phone list %v, want only the Back Office phone", v.phones)
		}
		if !slices.Equal(v.inboxes, []string{backOffice}) || !slices.Contains(v.texts, "demo back office text") {
			t.Errorf("limited agent's Back Office phone: inboxes %v, texts %v", v.inboxes, v.texts)
		}
		if v := viewPhone(t, limited, "/simulator/phone/thread?phone=%2B15550100779"); len(v.texts) != 0 {
			t.Errorf("limited agent sees Front Desk texts: %v", v.texts)
		}
		before := hook.posted()
		if code := sendFromPhone(t, limited, "+15550100781", frontDesk, "not my inbox"); code != http.StatusNotFound {
			t.Errorf("limited agent's send to Front Desk: %d, want 404", code)
		}
		if code := sendFromPhone(t, limited, "+15550100781", backOffice, "my inbox"); code != http.StatusOK {
			t.Errorf("limited agent's send to Back Office: %d, want 200", code)
		}
		if after := hook.posted(); !slices.Equal(after[len(before):], []string{"15550100177"}) {
			t.Errorf("webhook got %v after the limited agent's sends, want only Back Office's", after[len(before):])
		}
	})
}
