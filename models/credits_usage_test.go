package models_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/parley-chat/parley/models"
)

// usageWorld is an organization of its own (so other tests' messages do
// not count) with one location on an active plan and an SMS inbox.
type usageWorld struct {
	st    *models.Store
	admin models.Scope
	loc   *models.Location
	inbox *models.Inbox
	num   string
}

func newUsageWorld(t *testing.T, slug string, planCredits int) *usageWorld {
	t.Helper()
	ctx := context.Background()
	st := openStore(t)
	admin := otherOrgScope(t, st, slug)
	name, tz, status, plan := "Usage "+slug, "America/New_York", models.PlanActive, "Chat test"
	loc, err := st.CreateLocation(ctx, admin, models.LocationInput{Name: &name, Timezone: &tz, PlanStatus: &status, PlanName: &plan, PlanCredits: &planCredits})
	if err != nil {
		t.Fatal(err)
	}
	num := fmt.Sprintf("+1555019%04d", time.Now().UnixNano()%10000)
	inName := "Desk " + slug
	inbox, err := st.CreateInbox(ctx, admin, models.InboxInput{Name: &inName, LocationID: &loc.ID, SMSNumber: &num})
	if err != nil {
		t.Fatal(err)
	}
	return &usageWorld{st: st, admin: admin, loc: loc, inbox: inbox, num: num}
}

// receive stores an inbound SMS from `from` with body.
func (w *usageWorld) receive(t *testing.T, from, body string) {
	t.Helper()
	_, err := w.st.ReceiveSMS(context.Background(), models.InboundSMS{Provider: "vonage", ProviderMessageID: fmt.Sprintf("usage-%d", time.Now().UnixNano()),
		From: from, To: w.num, Body: body, ReceivedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
}

// TestCreditUsage builds a ledger with the real charging path (inbound
// SMS, the credits:charge task, a purchase) and checks every read agrees
// with it: the summary, daily usage, per inbox, per conversation, one
// conversation's cost, the keyset ledger and its CSV.
func TestCreditUsage(t *testing.T) {
	ctx := context.Background()
	w := newUsageWorld(t, "usage-reads", 100)
	st, admin := w.st, w.admin

	// Three texts from Ada (one of two segments: 4 credits), one from Bob.
	long := ""
	for len(long) < 200 {
		long += "Two segments of text. "
	}
	w.receive(t, "+15550107001", "Hello")
	w.receive(t, "+15550107001", long)
	w.receive(t, "+15550107001", "Thanks")
	w.receive(t, "+15550107002", "Hi")
	r, err := st.ChargeLocation(ctx, w.loc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if r.Charged != 4 || r.Credits != 2+4+2+2 {
		t.Fatalf("charged: %+v", r)
	}
	if _, err := st.PurchaseCredits(ctx, admin, w.loc.ID, 50, "=top up"); err != nil {
		t.Fatal(err)
	}

	sums, err := st.CreditSummaries(ctx, admin)
	if err != nil || len(sums) != 1 {
		t.Fatalf("summaries: %+v %v", sums, err)
	}
	s := sums[0]
	if s.LocationID != w.loc.ID || s.PlanCredits != 100 || s.PlanBalance != 90 || s.PurchasedBalance != 50 || s.Balance() != 140 ||
		s.UsedInbound != 10 || s.UsedOutbound != 0 || s.UsedForwarded != 0 || s.Overage() || s.PeriodStart == nil || s.PeriodEnd == nil {
		t.Fatalf("summary: %+v", s)
	}
	// The period started moments ago: 10 credits over the one-day floor.
	if s.BurnUsed != 10 || s.BurnPerDay != 10 || s.ForecastExhaustedAt == nil {
		t.Fatalf("burn: %+v", s)
	}
	if d := time.Until(*s.ForecastExhaustedAt); d < 13*24*time.Hour || d > 14*24*time.Hour+time.Minute {
		t.Fatalf("forecast in %v, want 14 days", d)
	}
	var ledgerSum int64
	if err := st.DB().NewRaw("SELECT sum(plan_delta + purchased_delta) FROM credit_ledger WHERE location_id = ?", w.loc.ID).Scan(ctx, &ledgerSum); err != nil || ledgerSum != s.Balance() {
		t.Fatalf("balance %d, ledger sum %d %v", s.Balance(), ledgerSum, err)
	}

	today := time.Now()
	days, err := st.DailyUsage(ctx, admin, w.loc.ID, today.AddDate(0, 0, -29), today)
	if err != nil || len(days) != 30 {
		t.Fatalf("daily: %d %v", len(days), err)
	}
	if last := days[29]; last.Day != today.In(w.loc.TimeLocation()).Format(time.DateOnly) || last.Inbound != 10 || last.Total() != 10 {
		t.Fatalf("today: %+v", last)
	}
	for _, d := range days[:29] {
		if d.Total() != 0 {
			t.Fatalf("an empty day used credits: %+v", d)
		}
	}
	if _, err := st.DailyUsage(ctx, admin, w.loc.ID, today, today.AddDate(0, 0, -1)); fieldOf(t, err) != "to" {
		t.Fatal("a backwards range accepted")
	}
	if _, err := st.DailyUsage(ctx, admin, w.loc.ID, today.AddDate(-2, 0, 0), today); fieldOf(t, err) != "from" {
		t.Fatal("two years of days accepted")
	}

	from, to := today.Add(-time.Hour), today.Add(time.Hour)
	inboxes, err := st.UsageByInbox(ctx, admin, w.loc.ID, from, to)
	if err != nil || len(inboxes) != 1 || inboxes[0].InboxID == nil || *inboxes[0].InboxID != w.inbox.ID ||
		inboxes[0].InboxName != w.inbox.Name || inboxes[0].Inbound != 10 || inboxes[0].Messages != 4 {
		t.Fatalf("by inbox: %+v %v", inboxes, err)
	}
	top, err := st.TopConversations(ctx, admin, w.loc.ID, from, to, 10)
	if err != nil || len(top) != 2 || top[0].Credits != 8 || top[0].Messages != 3 || top[0].DisplayName() != "+15550107001" ||
		top[1].Credits != 2 || top[0].InboxName != w.inbox.Name {
		t.Fatalf("top conversations: %+v %v", top, err)
	}
	cost, err := st.ConversationCost(ctx, admin, top[0].ConversationID)
	if err != nil || cost != 8 {
		t.Fatalf("conversation cost: %d %v", cost, err)
	}
	costs, err := st.ConversationCosts(ctx, admin, []int64{top[0].ConversationID, top[1].ConversationID, 0})
	if err != nil || costs[top[0].ConversationID] != 8 || costs[top[1].ConversationID] != 2 || costs[0] != 0 {
		t.Fatalf("costs: %v %v", costs, err)
	}

	// The ledger, two at a time: the period grant, four charges, the purchase.
	var got []models.LedgerEntry
	var after *models.LedgerCursor
	for pages := 0; ; pages++ {
		rows, next, err := st.Ledger(ctx, admin, models.LedgerFilter{LocationID: w.loc.ID}, after, 2)
		if err != nil || pages > 5 {
			t.Fatalf("ledger page: %v", err)
		}
		got = append(got, rows...)
		if next == nil {
			break
		}
		after = next
	}
	if len(got) != 6 || got[0].Kind != models.LedgerPeriod || got[5].Kind != models.LedgerPurchase || got[1].Credits() != -2 {
		t.Fatalf("ledger: %+v", got)
	}
	for i := 1; i < len(got); i++ {
		if got[i].CreatedAt.Before(got[i-1].CreatedAt) || got[i].ID == got[i-1].ID {
			t.Fatalf("ledger out of order at %d", i)
		}
	}
	var buf bytes.Buffer
	n, err := st.WriteLedgerCSV(ctx, admin, models.LedgerFilter{LocationID: w.loc.ID, From: from, To: to}, &buf)
	if err != nil || n != 6 {
		t.Fatalf("csv: %d %v", n, err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil || len(recs) != 7 || recs[0][0] != "id" || recs[0][12] != "note" {
		t.Fatalf("csv records: %v %v", recs, err)
	}
	if recs[2][3] != "inbound" || recs[2][4] != "-2" || recs[2][10] != "sms" || recs[2][8] == "" || recs[6][12] != "'=top up" {
		t.Fatalf("csv lines: %v / %v", recs[2], recs[6])
	}
	if _, err := time.Parse(time.RFC3339, recs[1][1]); err != nil || recs[1][2] != strconv.FormatInt(w.loc.ID, 10) {
		t.Fatalf("csv time and location: %v", recs[1])
	}
	// An empty range: the header alone.
	buf.Reset()
	if n, err := st.WriteLedgerCSV(ctx, admin, models.LedgerFilter{LocationID: w.loc.ID, To: from.Add(-24 * time.Hour)}, &buf); err != nil || n != 0 || buf.Len() == 0 {
		t.Fatalf("empty csv: %d %v %q", n, err, buf.String())
	}
}

// TestCreditUsageOverageAndScope: a balance below zero is overage with no
// forecast; agents and other organizations see nothing.
func TestCreditUsageOverageAndScope(t *testing.T) {
	ctx := context.Background()
	w := newUsageWorld(t, "usage-overage", 2)
	w.receive(t, "+15550107101", "One")
	w.receive(t, "+15550107101", "Two")
	if _, err := w.st.ChargeLocation(ctx, w.loc.ID); err != nil {
		t.Fatal(err)
	}
	s, err := w.st.CreditSummaryOf(ctx, w.admin, w.loc.ID)
	if err != nil || s.Balance() != -2 || !s.Overage() || !s.Exhausted() || s.ForecastExhaustedAt != nil || s.BurnPerDay != 4 {
		t.Fatalf("overage summary: %+v %v", s, err)
	}

	manager := w.admin
	manager.Role = models.RoleManager
	if _, err := w.st.CreditSummaries(ctx, manager); err != nil {
		t.Fatalf("a manager reads credits: %v", err)
	}
	agent := w.admin
	agent.Role = models.RoleAgent
	rival := otherOrgScope(t, w.st, "usage-rival")
	now := time.Now()
	for name, call := range map[string]func(sc models.Scope) error{
		"summaries": func(sc models.Scope) error {
			_, err := w.st.CreditSummaryOf(ctx, sc, w.loc.ID)
			return err
		},
		"daily": func(sc models.Scope) error {
			_, err := w.st.DailyUsage(ctx, sc, w.loc.ID, now, now)
			return err
		},
		"inboxes": func(sc models.Scope) error {
			_, err := w.st.UsageByInbox(ctx, sc, w.loc.ID, now.Add(-time.Hour), now)
			return err
		},
		"top": func(sc models.Scope) error {
			_, err := w.st.TopConversations(ctx, sc, w.loc.ID, now.Add(-time.Hour), now, 5)
			return err
		},
		"ledger": func(sc models.Scope) error {
			_, _, err := w.st.Ledger(ctx, sc, models.LedgerFilter{LocationID: w.loc.ID}, nil, 10)
			return err
		},
		"csv": func(sc models.Scope) error {
			var buf bytes.Buffer
			_, err := w.st.WriteLedgerCSV(ctx, sc, models.LedgerFilter{LocationID: w.loc.ID}, &buf)
			if buf.Len() != 0 {
				return fmt.Errorf("wrote %q", buf.String())
			}
			return err
		},
	} {
		for _, sc := range []models.Scope{agent, rival} {
			if err := call(sc); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("%s as %s of org %d: %v", name, sc.Role, sc.OrgID, err)
			}
		}
	}
	// The rival's whole-organization ledger holds none of these entries.
	rows, _, err := w.st.Ledger(ctx, rival, models.LedgerFilter{}, nil, 200)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range rows {
		if e.LocationID == w.loc.ID {
			t.Fatalf("rival sees entry %+v", e)
		}
	}
	// A conversation's cost: for who may see it.
	top, err := w.st.TopConversations(ctx, w.admin, w.loc.ID, now.Add(-time.Hour), now.Add(time.Hour), 1)
	if err != nil || len(top) != 1 {
		t.Fatalf("top: %+v %v", top, err)
	}
	if c, err := w.st.ConversationCost(ctx, agent, top[0].ConversationID); err != nil || c != 4 {
		t.Fatalf("agent's cost: %d %v", c, err)
	}
	limited := agent
	limited.InboxIDs = []int64{}
	for _, sc := range []models.Scope{rival, limited} {
		if _, err := w.st.ConversationCost(ctx, sc, top[0].ConversationID); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("cost for %+v: %v", sc, err)
		}
	}
}
