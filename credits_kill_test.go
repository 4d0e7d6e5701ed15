package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/parley-chat/parley/jobs/task"
	"github.com/parley-chat/parley/models"
)

// killLoc is a location of the kill test's own organization, with its
// inbox number.
type killLoc struct {
	id     int64
	number string
}

// TestWorkerKilledMidCharge (issue 12, R6): a real `parley worker`
// process charging a backlog of inbound messages for two locations is
// SIGKILLed several times while it charges (more messages keep arriving
// between kills), then restarted and left to finish, including the
// retries of the tasks the kills interrupted (asynq hands those back
// after their lease expires, about a minute). Every message is charged
// exactly once and each account equals its ledger.
func TestWorkerKilledMidCharge(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a worker process for a minute or more")
	}
	if code, _, stderr := parley(t, nil, "migrate", "up"); code != 0 {
		t.Fatal(stderr)
	}
	ctx := context.Background()
	db, err := models.OpenDB(ctx, env.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	st := models.NewStore(db)
	run := time.Now().UnixNano()
	orgID, locs := killFixture(t, st, run)

	// feed stores batches of inbound SMS for every location (a group
	// commit each, with one credits:charge entry per location).
	stored := 0
	feed := func(batches int) {
		t.Helper()
		for b := range batches {
			for li, l := range locs {
				ins := make([]models.Inbound, 500)
				for i := range ins {
					ins[i] = models.InboundSMS{Provider: "vonage", ProviderMessageID: fmt.Sprintf("kill-%d-%d-%d-%d", run, stored, li, i),
						From: fmt.Sprintf("+1557%07d", i%50), To: l.number, Body: fmt.Sprintf("backlog %d.%d", b, i)}.Inbound()
				}
				if _, err := st.ReceiveBatch(ctx, ins); err != nil {
					t.Fatalf("receive batch: %v", err)
				}
			}
			stored++
		}
	}
	var locIDs []int64
	for _, l := range locs {
		locIDs = append(locIDs, l.id)
	}
	type progress struct {
		Charged, Pending, OpenEntries int
	}
	state := func() (p progress) {
		t.Helper()
		if err := db.NewRaw(`SELECT
				(SELECT count(*) FROM credit_ledger WHERE org_id = ?0 AND kind = 'inbound'),
				(SELECT count(*) FROM credit_pending WHERE org_id = ?0),
				(SELECT count(*) FROM outbox WHERE org_id = ?0 AND task_type = ?1 AND done_at IS NULL)`,
			orgID, task.TypeCreditsCharge).Scan(ctx, &p.Charged, &p.Pending, &p.OpenEntries); err != nil {
			t.Fatal(err)
		}
		return p
	}

	w := newWorkerProc(t)
	waitFor := func(within time.Duration, what string, cond func() bool) {
		t.Helper()
		w.waitFor(within, what, func() any { return state() }, cond)
	}

	start := time.Now()
	feed(10) // 10,000 messages: ten batches of 500 for each location
	t.Logf("backlog: %d messages stored in %s, %+v", stored*500*len(locs), time.Since(start).Round(time.Millisecond), state())

	const kills = 4
	midCharge := 0
	for k := range kills {
		w.start()
		before := state().Charged
		waitFor(60*time.Second, "the worker to start charging", func() bool { return state().Charged > before })
		time.Sleep(time.Duration(rand.IntN(150)) * time.Millisecond)
		w.kill()
		at := state()
		if at.Pending > 0 {
			midCharge++
		}
		t.Logf("kill %d: SIGKILL with %d charged, %d pending, %d open charge entries", k+1, at.Charged, at.Pending, at.OpenEntries)
		feed(2) // more arrive while it is down
	}
	if midCharge == 0 {
		t.Errorf("no kill landed while charges were pending")
	}

	// Restart and let it finish: every pending charge settled and every
	// credits:charge entry closed (the killed tasks' retries included).
	restart := time.Now()
	w.start()
	waitFor(60*time.Second, "the backlog to be charged", func() bool { return state().Pending == 0 })
	charged := time.Since(restart)
	waitFor(200*time.Second, "the killed tasks' retries to close their entries", func() bool { return state().OpenEntries == 0 })
	closed := time.Since(restart)
	if err := w.stop(); err != nil {
		t.Errorf("worker exited with %v after SIGTERM", err)
	}

	final := state()
	total := stored * 500 * len(locs)
	t.Logf("after %d kills and a restart: %d of %d messages charged, backlog settled %s after the restart, last entry closed after %s",
		kills, final.Charged, total, charged.Round(time.Millisecond), closed.Round(time.Millisecond))
	var double, uncharged int
	if err := db.NewRaw(`SELECT
			(SELECT count(*) FROM (SELECT 1 FROM credit_ledger WHERE org_id = ?0 AND kind = 'inbound' GROUP BY message_id HAVING count(*) > 1) d),
			(SELECT count(*) FROM messages m WHERE m.org_id = ?0 AND m.direction = 'inbound'
				AND NOT EXISTS (SELECT 1 FROM credit_ledger c WHERE c.message_id = m.id AND c.kind = 'inbound'))`,
		orgID).Scan(ctx, &double, &uncharged); err != nil {
		t.Fatal(err)
	}
	if final.Charged != total || double != 0 || uncharged != 0 {
		t.Errorf("%d charge entries for %d messages: %d charged twice, %d never", final.Charged, total, double, uncharged)
	}
	for _, id := range locIDs {
		var plan, purchased, sumPlan, sumPurchased int64
		if err := db.NewRaw(`SELECT a.plan_balance, a.purchased_balance,
				coalesce((SELECT sum(plan_delta) FROM credit_ledger WHERE location_id = a.location_id), 0),
				coalesce((SELECT sum(purchased_delta) FROM credit_ledger WHERE location_id = a.location_id), 0)
			FROM credit_accounts a WHERE a.location_id = ?`, id).Scan(ctx, &plan, &purchased, &sumPlan, &sumPurchased); err != nil {
			t.Fatal(err)
		}
		if plan != sumPlan || purchased != sumPurchased {
			t.Errorf("location %d: account plan %d purchased %d, ledger plan %d purchased %d", id, plan, purchased, sumPlan, sumPurchased)
		}
	}
}

// killFixture creates an organization with an admin and two locations on
// an active plan, each with an SMS inbox.
func killFixture(t *testing.T, st *models.Store, run int64) (int64, []killLoc) {
	t.Helper()
	ctx := context.Background()
	slug := fmt.Sprintf("kill-%d", run)
	var orgID, userID int64
	if err := st.DB().NewRaw("INSERT INTO organizations (name, slug) VALUES (?, ?) RETURNING id", "Kill "+slug, slug).Scan(ctx, &orgID); err != nil {
		t.Fatal(err)
	}
	if err := st.DB().NewRaw(`INSERT INTO users (org_id, email, name, role, password_hash) VALUES (?, ?, 'Kill Admin', 'admin', 'x') RETURNING id`,
		orgID, "admin@"+slug+".test").Scan(ctx, &userID); err != nil {
		t.Fatal(err)
	}
	admin := models.Scope{OrgID: orgID, UserID: userID, Role: models.RoleAdmin}
	var locs []killLoc
	for i := range 2 {
		name, status, credits, anchor := fmt.Sprintf("Kill %d", i), models.PlanActive, 100_000, time.Now().Add(-time.Hour)
		loc, err := st.CreateLocation(ctx, admin, models.LocationInput{Name: &name, PlanStatus: &status, PlanCredits: &credits, PlanPeriodStart: &anchor})
		if err != nil {
			t.Fatal(err)
		}
		number := fmt.Sprintf("+1558%06d%d", run/1000%1_000_000, i)
		ib := "Kill desk"
		if _, err := st.CreateInbox(ctx, admin, models.InboxInput{Name: &ib, LocationID: &loc.ID, SMSNumber: &number}); err != nil {
			t.Fatal(err)
		}
		locs = append(locs, killLoc{id: loc.ID, number: number})
	}
	return orgID, locs
}
