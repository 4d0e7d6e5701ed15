package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley/models"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// TestWorkerKilledMidBroadcast (issue 13): a real `parley worker` fanning
// a 6,000-recipient broadcast out is SIGKILLed twice while rows are still
// pending, then restarted; the broadcast finishes (the scheduled
// broadcast:tick resumes it without waiting for the killed task's lease)
// and every recipient has exactly one message, each sent to the provider
// (a fake Vonage) at most twice (the documented duplicate policy: a kill
// between the provider's answer and its record).
func TestWorkerKilledMidBroadcast(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a worker process for up to a minute")
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
	var adminID int64
	if err := db.NewRaw(`SELECT id FROM users WHERE org_id = ?`, orgID).Scan(ctx, &adminID); err != nil {
		t.Fatal(err)
	}
	admin := models.Scope{OrgID: orgID, UserID: adminID, Role: models.RoleAdmin}

	const n = 6000
	var group int64
	if err := db.NewRaw(`INSERT INTO groups (org_id, name) VALUES (?, 'Everyone') RETURNING id`, orgID).Scan(ctx, &group); err != nil {
		t.Fatal(err)
	}
	phones := make([]string, n)
	for i := range phones {
		phones[i] = fmt.Sprintf("+1559%03d%04d", run/1000%1000, i)
	}
	if _, err := db.NewRaw(`WITH r AS (INSERT INTO recipients (org_id, name, phone) SELECT ?, 'Kin ' || ph, ph FROM unnest(?::text[]) AS x(ph) RETURNING id)
		INSERT INTO group_members (org_id, group_id, recipient_id) SELECT ?, ?, id FROM r`,
		orgID, pgdialect.Array(phones), orgID, group).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	// Two locations: the broadcast names its inbox.
	var inbox int64
	if err := db.NewRaw(`SELECT id FROM inboxes WHERE location_id = ?`, locs[0].id).Scan(ctx, &inbox); err != nil {
		t.Fatal(err)
	}
	b, err := st.CreateBroadcast(ctx, admin, models.BroadcastInput{Name: "Kill drill", InboxID: inbox,
		Channels: []string{models.ChannelSMS}, Audience: models.Audience{GroupIDs: []int64{group}},
		Body: "Drill: reply OK, {first_name|friend}.", ChatEnabled: true})
	if err != nil {
		t.Fatal(err)
	}

	var provider atomic.Int64
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		id := provider.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"message-count":"1","messages":[{"to":%q,"message-id":"kill-%d-%d","status":"0","remaining-balance":"10.0","message-price":"0.03","network":"1"}]}`,
			r.Form.Get("to"), run, id)
	}))
	t.Cleanup(fake.Close)

	type progress struct{ Pending, Queued, Messages, Sent int }
	state := func() (p progress) {
		t.Helper()
		if err := db.NewRaw(`SELECT count(*) FILTER (WHERE br.status = 'pending'), count(*) FILTER (WHERE br.status = 'queued'),
				(SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE c.broadcast_id = ?0),
				count(*) FILTER (WHERE m.status IN ('sent', 'delivered'))
			FROM broadcast_recipients br LEFT JOIN messages m ON m.id = br.message_id WHERE br.broadcast_id = ?0`, b.ID).
			Scan(ctx, &p.Pending, &p.Queued, &p.Messages, &p.Sent); err != nil {
			t.Fatal(err)
		}
		return p
	}

	w := newWorkerProc(t, "PARLEY_VONAGE_API_KEY=kill1234", "PARLEY_VONAGE_API_SECRET=KillSecret123456",
		"PARLEY_VONAGE_BASE_URL="+fake.URL, "PARLEY_SMS_RATE=1000")
	waitFor := func(within time.Duration, what string, cond func() bool) {
		t.Helper()
		w.waitFor(within, what, func() any { return state() }, cond)
	}

	midFanout := 0
	for k := range 2 {
		w.start()
		before := state().Queued
		waitFor(60*time.Second, "the worker to fan out", func() bool { return state().Queued > before })
		w.kill()
		at := state()
		if at.Pending > 0 {
			midFanout++
		}
		t.Logf("kill %d: SIGKILL with %+v", k+1, at)
	}
	if midFanout == 0 {
		t.Errorf("no kill landed mid-fan-out")
	}
	restart := time.Now()
	w.start()
	waitFor(90*time.Second, "the broadcast to be messaged and sent", func() bool {
		p := state()
		return p.Pending == 0 && p.Sent == n
	})
	t.Logf("finished %s after the restart; the provider saw %d requests for %d messages", time.Since(restart).Round(time.Millisecond), provider.Load(), n)
	_ = w.stop()

	var per struct{ Recipients, Twice, Missing int }
	if err := db.NewRaw(`SELECT count(DISTINCT c.recipient_id),
			(SELECT count(*) FROM (SELECT c2.recipient_id FROM conversations c2 JOIN messages m2 ON m2.conversation_id = c2.id
				WHERE c2.broadcast_id = ?0 GROUP BY c2.recipient_id HAVING count(*) > 1) d),
			(SELECT count(*) FROM group_members g WHERE g.group_id = ?1 AND NOT EXISTS (
				SELECT 1 FROM broadcast_recipients br WHERE br.broadcast_id = ?0 AND br.recipient_id = g.recipient_id AND br.message_id IS NOT NULL))
		FROM conversations c JOIN messages m ON m.conversation_id = c.id WHERE c.broadcast_id = ?0`, b.ID, group).
		Scan(ctx, &per.Recipients, &per.Twice, &per.Missing); err != nil {
		t.Fatal(err)
	}
	if per.Recipients != n || per.Twice != 0 || per.Missing != 0 {
		t.Errorf("after kills: %d recipients messaged, %d twice, %d never (want %d, 0, 0)", per.Recipients, per.Twice, per.Missing, n)
	}
	if got := provider.Load(); got < n || got > 2*n {
		t.Errorf("the provider saw %d requests for %d messages", got, n)
	}
	if v, err := st.BroadcastByID(ctx, admin, b.ID); err != nil || v.Status != models.BroadcastSent {
		t.Errorf("broadcast after the restart: %+v, %v", v, err)
	}
}
