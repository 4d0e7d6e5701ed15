package models_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/models"
)

// consentOf reads a recipient's SMS opt-out and its holder.
func consentOf(t *testing.T, st *models.Store, sc models.Scope, id int64, channel string) (bool, string) {
	t.Helper()
	r, err := st.RecipientByID(context.Background(), sc, id)
	if err != nil {
		t.Fatal(err)
	}
	at, src := r.SMSOptedOutAt, r.SMSOptOutSource
	if channel == models.ChannelEmail {
		at, src = r.EmailOptedOutAt, r.EmailOptOutSource
	}
	if (at == nil) != (src == nil) {
		t.Fatalf("recipient %d: opted out at %v but source %v", id, at, src)
	}
	if src == nil {
		return false, ""
	}
	return true, *src
}

// lastAutomated is the body of the newest automated text to a phone.
func lastAutomated(t *testing.T, st *models.Store, phone string) string {
	t.Helper()
	var body string
	if err := st.DB().NewRaw(`SELECT m.body FROM messages m JOIN conversations c ON c.id = m.conversation_id
		JOIN recipients r ON r.id = c.recipient_id WHERE r.phone = ? AND m.author_type = 'automation'
		ORDER BY m.id DESC LIMIT 1`, phone).Scan(context.Background(), &body); err != nil {
		t.Fatal(err)
	}
	return body
}

// texter sends texts from one phone with ids unique across runs.
func texter(t *testing.T, st *models.Store, phone string) (func(body string), int64) {
	t.Helper()
	ctx := context.Background()
	run, n := time.Now().UnixNano(), 0
	send := func(body string) {
		t.Helper()
		n++
		if _, err := st.ReceiveSMS(ctx, sms(fmt.Sprintf("cr-%d-%d", run, n), phone, body)); err != nil {
			t.Fatalf("text %q: %v", body, err)
		}
	}
	send("hello")
	var id int64
	if err := st.DB().NewRaw("SELECT id FROM recipients WHERE phone = ?", phone).Scan(ctx, &id); err != nil {
		t.Fatal(err)
	}
	return send, id
}

// TestKeywordOptOutOnlyRecipientUndoes: a STOP is held by the recipient:
// an admin's opt-in is refused with who, how and when and the way back,
// and changes nothing; the recipient's START opts them in.
func TestKeywordOptOutOnlyRecipientUndoes(t *testing.T) {
	ctx := context.Background()
	st, _, admin, _ := chatFixture(t)
	forgetNewRecipients(t, st)
	const phone = "+15550108101"
	text, rid := texter(t, st, phone)
	text("Quit")
	if out, src := consentOf(t, st, admin, rid, models.ChannelSMS); !out || src != models.ConsentByKeyword {
		t.Fatalf("after QUIT: opted out %v, source %q", out, src)
	}
	_, err := st.SetConsent(ctx, admin, rid, models.ChannelSMS, false, "They called")
	if fieldOf(t, err) != "opted_out" {
		t.Fatalf("admin opt-in of a STOP: %v", err)
	}
	msg := err.Error()
	today := time.Now().UTC().Format("2 Jan 2006")
	if !strings.Contains(msg, "opted out by texting Quit on "+today) || !strings.Contains(msg, "only they can opt back in, by texting START") {
		t.Fatalf("refusal: %q", msg)
	}
	if out, _ := consentOf(t, st, admin, rid, models.ChannelSMS); !out {
		t.Fatal("the refused opt-in opted them in")
	}
	text("START")
	if out, _ := consentOf(t, st, admin, rid, models.ChannelSMS); out {
		t.Fatal("START did not opt in")
	}
	if got := lastAutomated(t, st, phone); !strings.Contains(got, "resubscribed") {
		t.Fatalf("START reply: %q", got)
	}
	hist, err := st.ConsentHistory(ctx, admin, rid)
	if err != nil || len(hist) != 2 {
		t.Fatalf("history: %+v %v", hist, err)
	}
	if h := hist[0]; h.Action != models.ConsentOptIn || h.Source != models.ConsentByKeyword || h.Detail != "START" || h.ActorUserID != nil {
		t.Fatalf("newest: %+v", h)
	}
	if h := hist[1]; h.Action != models.ConsentOptOut || h.Source != models.ConsentByKeyword || h.Detail != "Quit" || h.CreatedAt.IsZero() {
		t.Fatalf("oldest: %+v", h)
	}
}

// TestStaffOptOutOnlyStaffUndoes: an admin's opt-out is held by staff: the
// recipient's START is kept in the history as refused, answered, and
// changes nothing; an admin opts them in. A STOP while staff hold an
// opt-out moves it to the recipient, whom staff then cannot opt in.
func TestStaffOptOutOnlyStaffUndoes(t *testing.T) {
	ctx := context.Background()
	st, _, admin, _ := chatFixture(t)
	forgetNewRecipients(t, st)
	const phone = "+15550108102"
	text, rid := texter(t, st, phone)
	if _, err := st.SetConsent(ctx, admin, rid, models.ChannelSMS, true, "Moved away"); err != nil {
		t.Fatal(err)
	}
	if out, src := consentOf(t, st, admin, rid, models.ChannelSMS); !out || src != models.ConsentByAgent {
		t.Fatalf("after the admin: %v %q", out, src)
	}
	text("start")
	if out, src := consentOf(t, st, admin, rid, models.ChannelSMS); !out || src != models.ConsentByAgent {
		t.Fatalf("START lifted a staff opt-out: %v %q", out, src)
	}
	if got := lastAutomated(t, st, phone); !strings.Contains(got, "START cannot resume them") {
		t.Fatalf("refused START's reply: %q", got)
	}
	hist, err := st.ConsentHistory(ctx, admin, rid)
	if err != nil || len(hist) != 2 {
		t.Fatalf("history: %+v %v", hist, err)
	}
	if h := hist[0]; h.Action != models.ConsentOptInRefused || h.Source != models.ConsentByKeyword ||
		!strings.Contains(h.Detail, "did not lift the opt-out made by staff (agent)") || h.ActorUserID != nil {
		t.Fatalf("refused START in history: %+v", h)
	}
	if h := hist[1]; h.Source != models.ConsentByAgent || h.ActorName == nil || h.Detail != "Moved away" {
		t.Fatalf("admin's opt-out in history: %+v", h)
	}
	if _, err := st.SetConsent(ctx, admin, rid, models.ChannelSMS, false, "Came back"); err != nil {
		t.Fatalf("admin opt-in of their own opt-out: %v", err)
	}
	if out, _ := consentOf(t, st, admin, rid, models.ChannelSMS); out {
		t.Fatal("still opted out")
	}
	// Staff out again, then the recipient's own STOP takes it over.
	if _, err := st.SetConsent(ctx, admin, rid, models.ChannelSMS, true, ""); err != nil {
		t.Fatal(err)
	}
	text("STOP")
	if out, src := consentOf(t, st, admin, rid, models.ChannelSMS); !out || src != models.ConsentByKeyword {
		t.Fatalf("STOP over a staff opt-out: %v %q", out, src)
	}
	if got := lastAutomated(t, st, phone); !strings.Contains(got, "unsubscribed") {
		t.Fatalf("STOP's confirmation: %q", got)
	}
	if _, err := st.SetConsent(ctx, admin, rid, models.ChannelSMS, false, ""); fieldOf(t, err) != "opted_out" {
		t.Fatalf("admin opt-in after STOP: %v", err)
	}
}

// TestImportOptOut: an import opts people out (source import) and never
// opts anyone in or takes over another's opt-out; its opt-out is undone
// by staff, not by START.
func TestImportOptOut(t *testing.T) {
	ctx := context.Background()
	st, demo, admin, _ := chatFixture(t)
	forgetNewRecipients(t, st)
	textA, a := texter(t, st, "+15550108103")
	textB, b := texter(t, st, "+15550108104")
	textB("STOP")
	n, err := st.OptOutByImport(ctx, demo.Org.ID, []int64{b, a}, models.ChannelSMS, "contacts.csv")
	if err != nil || n != 1 {
		t.Fatalf("import opt-out: %d %v", n, err)
	}
	if out, src := consentOf(t, st, admin, a, models.ChannelSMS); !out || src != models.ConsentByImport {
		t.Fatalf("a: %v %q", out, src)
	}
	if out, src := consentOf(t, st, admin, b, models.ChannelSMS); !out || src != models.ConsentByKeyword {
		t.Fatalf("b kept its STOP: %v %q", out, src)
	}
	if n, err := st.OptOutByImport(ctx, demo.Org.ID, []int64{a, b}, models.ChannelSMS, "again.csv"); err != nil || n != 0 {
		t.Fatalf("re-import: %d %v", n, err)
	}
	other := otherOrgScope(t, st, "consent-import")
	if n, err := st.OptOutByImport(ctx, other.OrgID, []int64{a}, models.ChannelEmail, "x.csv"); err != nil || n != 0 {
		t.Fatalf("another org's import touched a: %d %v", n, err)
	}
	hist, err := st.ConsentHistory(ctx, admin, a)
	if err != nil || len(hist) != 1 || hist[0].Source != models.ConsentByImport || hist[0].Detail != "contacts.csv" {
		t.Fatalf("a's history: %+v %v", hist, err)
	}
	textA("START")
	if out, _ := consentOf(t, st, admin, a, models.ChannelSMS); !out {
		t.Fatal("START lifted an import opt-out")
	}
	if _, err := st.SetConsent(ctx, admin, a, models.ChannelSMS, false, "Confirmed by phone"); err != nil {
		t.Fatal(err)
	}
	if out, _ := consentOf(t, st, admin, a, models.ChannelSMS); out {
		t.Fatal("staff could not undo an import opt-out")
	}
}

// TestUnsubscribeOnlyRecipientUndoes: the unsubscribe link holds an email
// opt-out for the recipient, taking over one staff made.
func TestUnsubscribeOnlyRecipientUndoes(t *testing.T) {
	ctx := context.Background()
	st, _, admin, _ := chatFixture(t)
	forgetNewRecipients(t, st)
	r, err := st.CreateRecipient(ctx, admin, models.RecipientInput{Name: strp("Una Sub"), Email: strp("una@example.com")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.SetConsent(ctx, admin, r.ID, models.ChannelEmail, true, ""); err != nil {
		t.Fatal(err)
	}
	tok, err := st.UnsubscribeTokenFor(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.UnsubscribeEmail(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if out, src := consentOf(t, st, admin, r.ID, models.ChannelEmail); !out || src != models.ConsentByUnsubscribe {
		t.Fatalf("after the link: %v %q", out, src)
	}
	_, err = st.SetConsent(ctx, admin, r.ID, models.ChannelEmail, false, "")
	if fieldOf(t, err) != "opted_out" || !strings.Contains(err.Error(), "Una Sub unsubscribed with the link in an email") {
		t.Fatalf("admin opt-in after the link: %v", err)
	}
}
