package jobs_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/parley-chat/parley/channels/email"
	"github.com/parley-chat/parley/jobs"
	"github.com/parley-chat/parley/models"
)

// alertRecorder records changes and the usage alerts shown live.
type alertRecorder struct {
	recorder
	amu    sync.Mutex
	alerts []*models.CreditAlert
}

func (r *alertRecorder) NotifyCreditAlert(a *models.CreditAlert) {
	r.amu.Lock()
	defer r.amu.Unlock()
	r.alerts = append(r.alerts, a)
}

func (r *alertRecorder) count() int {
	r.amu.Lock()
	defer r.amu.Unlock()
	return len(r.alerts)
}

// creditsLocation adds to the demo organization a location with an
// active plan of credits and an inbox texting from a fresh number, so the
// test's usage touches no other test's balance.
func creditsLocation(t *testing.T, h *harness, name string, credits int) (*models.Location, string) {
	t.Helper()
	admin := models.Scope{OrgID: h.demo.Org.ID, UserID: h.demo.Admin.ID, Role: models.RoleAdmin}
	// The demo location's zone: pages that read the organization's one
	// (the audit log) expect it shared.
	active, now, tz := models.PlanActive, time.Now(), "America/New_York"
	loc, err := h.store.CreateLocation(h.ctx, admin, models.LocationInput{Name: &name, Timezone: &tz, PlanStatus: &active,
		PlanCredits: &credits, PlanPeriodStart: &now})
	if err != nil {
		t.Fatal(err)
	}
	number, inboxName := newPhone(), name+" desk"
	if _, err := h.store.CreateInbox(h.ctx, admin, models.InboxInput{Name: &inboxName, LocationID: &loc.ID, SMSNumber: &number}); err != nil {
		t.Fatal(err)
	}
	return loc, number
}

// Usage past 80 % of the plan, from real inbound charges, queues one
// credits:alert; its handler emails every active admin of the
// organization once (from noreply@, with the usage, the balance, the
// period's end and the link to /credits) and shows one live notice; run
// again, as a retried task would be, it sends nothing more.
func TestCreditsAlertEmailsAdminsOnce(t *testing.T) {
	h := newHarness(t, vonageOK)
	loc, number := creditsLocation(t, h, "Alert Office", 10)
	for i := range 4 { // 4 texts × 2 credits = 8 of 10: 80 %
		if _, err := h.store.ReceiveSMS(h.ctx, models.InboundSMS{Provider: "vonage", ProviderMessageID: "alert-in-" + newPhone(),
			From: newPhone(), To: number, Body: "Hello " + strings.Repeat("!", i), ReceivedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	r, err := h.store.ChargeLocation(h.ctx, loc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if r.Charged != 4 || r.Balance != 2 || len(r.Alerts) != 1 || r.Alerts[0] != 80 {
		t.Fatalf("charge report %+v", r)
	}
	var row struct {
		ID      int64  `bun:"id"`
		Payload []byte `bun:"payload"`
	}
	if err := h.store.DB().NewRaw(`SELECT id, payload || jsonb_build_object('outbox_id', id) AS payload FROM outbox
		WHERE task_type = 'credits:alert' AND (payload->>'location_id')::bigint = ?`, loc.ID).Scan(h.ctx, &row); err != nil {
		t.Fatalf("the alert's outbox row: %v", err)
	}
	var admins []string
	if err := h.store.DB().NewRaw(`SELECT email FROM users WHERE org_id = ? AND role = 'admin' AND disabled_at IS NULL ORDER BY id`,
		h.demo.Org.ID).Scan(h.ctx, &admins); err != nil || len(admins) == 0 {
		t.Fatalf("admins %v %v", admins, err)
	}

	notes := &alertRecorder{}
	handler := jobs.NewCreditsAlertHandler(h.store, h.relay(), testEmailCfg, notes)
	task := asynq.NewTask("credits:alert", row.Payload)
	if err := handler.ProcessTask(h.ctx, task); err != nil {
		t.Fatal(err)
	}
	msgs := h.mail.Messages()
	if len(msgs) != len(admins) {
		t.Fatalf("%d emails for %d admins", len(msgs), len(admins))
	}
	for i, m := range msgs {
		if m.From != "noreply@parley.test" || len(m.To) != 1 || m.To[0] != admins[i] {
			t.Errorf("envelope %d: %s → %v, want %s", i, m.From, m.To, admins[i])
		}
		in, err := email.Parse(m.Data, email.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if in.Subject != "Alert Office has used 80% of its Chat credits" || in.From.Email != "noreply@parley.test" ||
			in.Header.Get("Auto-Submitted") != "auto-generated" {
			t.Errorf("email %d: subject %q from %q", i, in.Subject, in.From.Email)
		}
		for _, want := range []string{"used 80% of its plan's Chat credits this period (8 of 10)", "Balance: 2 credits.",
			"The plan's credits renew on ", "https://parley.example/credits"} {
			if !strings.Contains(in.Text, want) {
				t.Errorf("email %d lacks %q:\n%s", i, want, in.Text)
			}
		}
	}
	if notes.count() != 1 || notes.alerts[0].LocationID != loc.ID || notes.alerts[0].Level != 80 {
		t.Errorf("live notices %+v", notes.alerts)
	}
	var sent bool
	if err := h.store.DB().NewRaw(`SELECT sent_at IS NOT NULL FROM credit_alerts WHERE location_id = ? AND level = 80`, loc.ID).Scan(h.ctx, &sent); err != nil || !sent {
		t.Errorf("alert row sent %v %v", sent, err)
	}

	// The same task again (a retry, or a duplicate): nothing more.
	if err := handler.ProcessTask(h.ctx, task); err != nil {
		t.Fatal(err)
	}
	if n := len(h.mail.Messages()); n != len(admins) || notes.count() != 1 {
		t.Errorf("after a second run: %d emails, %d notices", n, notes.count())
	}
	// Charging more below the next threshold alerts nobody.
	if r, err := h.store.ChargeLocation(h.ctx, loc.ID); err != nil || len(r.Alerts) != 0 {
		t.Errorf("charge again: %+v %v", r, err)
	}
}
