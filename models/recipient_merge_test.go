package models_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/models"
)

// TestMergeRecipients: the other's conversations, consent history and
// group memberships move to the survivor, which takes the fields it lacks
// and the stricter consent; of two active conversations on one inbox and
// channel the older is closed; the other is gone; it is audited and the
// moved conversations come back as live changes. Merging with itself,
// across organizations, or losing an opted-out address is refused.
func TestMergeRecipients(t *testing.T) {
	ctx := context.Background()
	st, demo, admin, agent := chatFixture(t)
	forgetNewRecipients(t, st)
	textA, a := texter(t, st, "+15550108301")
	_ = textA
	textB, b := texter(t, st, "+15550108302")
	textB("STOP")
	if _, _, err := st.MergeRecipients(ctx, agent, a, a); fieldOf(t, err) != "other_id" {
		t.Fatalf("merge with itself: %v", err)
	}
	other := otherOrgScope(t, st, "merge-rcpt")
	if _, _, err := st.MergeRecipients(ctx, other, a, a); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("another org, with itself: %v", err)
	}
	if _, _, err := st.MergeRecipients(ctx, other, a, b); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("another org: %v", err)
	}
	// b's number opted out and a has another number: refused.
	if _, _, err := st.MergeRecipients(ctx, agent, a, b); fieldOf(t, err) != "other_id" {
		t.Fatalf("losing an opted-out number: %v", err)
	}
	// An email-only recipient with notes and a group merges into a.
	c, err := st.CreateRecipient(ctx, agent, models.RecipientInput{Name: strp("Cleo Merge"), Email: strp("cleo@example.com"), Notes: strp("Prefers mornings")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.SetConsent(ctx, admin, c.ID, models.ChannelEmail, true, "Asked at the desk"); err != nil {
		t.Fatal(err)
	}
	var group int64
	if err := st.DB().NewRaw("INSERT INTO groups (org_id, name) VALUES (?, ?) RETURNING id", demo.Org.ID, fmt.Sprintf("Merge %d", time.Now().UnixNano())).Scan(ctx, &group); err != nil {
		t.Fatal(err)
	}
	if _, err := st.DB().NewRaw("INSERT INTO group_members (org_id, group_id, recipient_id) VALUES (?, ?, ?)", demo.Org.ID, group, c.ID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	pv, err := st.PreviewMerge(ctx, agent, a, c.ID)
	if err != nil || pv.ConsentEvents != 1 || pv.Groups != 1 || pv.Result.Email == nil || *pv.Result.Email != "cleo@example.com" || pv.Result.Name != "Cleo Merge" {
		t.Fatalf("preview: %+v %v", pv, err)
	}
	got, changes, err := st.MergeRecipients(ctx, agent, a, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != a || got.Name != "Cleo Merge" || got.Email == nil || *got.Email != "cleo@example.com" || got.Notes != "Prefers mornings" ||
		got.EmailOptedOutAt == nil || got.EmailOptOutSource == nil || *got.EmailOptOutSource != models.ConsentByAgent || got.SMSOptedOutAt != nil {
		t.Fatalf("survivor: %+v", got)
	}
	if len(changes) != 1 || changes[0].Conversation.RecipientID != a {
		t.Fatalf("changes: %+v", changes)
	}
	if _, err := st.RecipientByID(ctx, admin, c.ID); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("the other after the merge: %v", err)
	}
	var members int
	if err := st.DB().NewRaw("SELECT count(*) FROM group_members WHERE group_id = ? AND recipient_id = ?", group, a).Scan(ctx, &members); err != nil || members != 1 {
		t.Fatalf("group membership: %d %v", members, err)
	}
	if hist, err := st.ConsentHistory(ctx, admin, a); err != nil || len(hist) != 1 || hist[0].Detail != "Asked at the desk" {
		t.Fatalf("history moved: %+v %v", hist, err)
	}

	// Two active SMS chats on the demo inbox: b into d (d has no phone),
	// b's chat survives as the only active one... d has none, so make d
	// a phone recipient with a chat, and merge the other way round.
	textD, d := texter(t, st, "+15550108303")
	textD("newer message")
	var convB, convD int64
	if err := st.DB().NewRaw("SELECT id FROM conversations WHERE recipient_id = ? AND status <> 'closed'", b).Scan(ctx, &convB); err != nil {
		t.Fatal(err)
	}
	if err := st.DB().NewRaw("SELECT id FROM conversations WHERE recipient_id = ? AND status <> 'closed'", d).Scan(ctx, &convD); err != nil {
		t.Fatal(err)
	}
	// d's number is not opted out, b keeps its own: b survives.
	if _, err := st.DB().NewRaw("UPDATE recipients SET phone = NULL, email = 'dee@example.com' WHERE id = ?", d).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	surv, changes, err := st.MergeRecipients(ctx, admin, b, d)
	if err != nil {
		t.Fatal(err)
	}
	if surv.SMSOptedOutAt == nil || *surv.SMSOptOutSource != models.ConsentByKeyword {
		t.Fatalf("the STOP did not stay: %+v", surv)
	}
	var statusB, statusD string
	if err := st.DB().NewRaw("SELECT (SELECT status FROM conversations WHERE id = ?), (SELECT status FROM conversations WHERE id = ?)", convB, convD).Scan(ctx, &statusB, &statusD); err != nil {
		t.Fatal(err)
	}
	if statusB != models.StatusClosed || statusD == models.StatusClosed {
		t.Fatalf("older (b's) should be closed, newer kept: %s %s", statusB, statusD)
	}
	if len(changes) != 2 {
		t.Fatalf("changes: closed one and moved one, got %d", len(changes))
	}
	var audits int
	if err := st.DB().NewRaw(`SELECT count(*) FROM audit_log WHERE action = 'recipient.merge' AND target_id = ? AND (after->>'closed')::int = 1`, b).Scan(ctx, &audits); err != nil || audits != 1 {
		t.Fatalf("audit: %d %v", audits, err)
	}
}

// TestMergeRacesStop: merging a recipient into one without a phone while
// it texts STOP, over and over: no deadlock or any other error, and the
// survivor ends opted out whichever came first (the STOP on the other
// moves with the merge, or lands on the survivor after it).
func TestMergeRacesStop(t *testing.T) {
	ctx := context.Background()
	st, _, admin, _ := chatFixture(t)
	forgetNewRecipients(t, st)
	run := time.Now().UnixNano()
	for i := range 8 {
		pa, pb := fmt.Sprintf("+155501085%02d", 2*i), fmt.Sprintf("+155501085%02d", 2*i+1)
		_, a := texter(t, st, pa)
		_, b := texter(t, st, pb)
		if _, err := st.DB().NewRaw("UPDATE recipients SET phone = NULL, email = ? WHERE id = ?", fmt.Sprintf("race%d-%d@example.com", run, i), a).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var mergeErr, stopErr error
		wg.Go(func() { _, _, mergeErr = st.MergeRecipients(ctx, admin, a, b) })
		wg.Go(func() { _, stopErr = st.ReceiveSMS(ctx, sms(fmt.Sprintf("mr-%d-%d", run, i), pb, "STOP")) })
		wg.Wait()
		if mergeErr != nil || stopErr != nil {
			t.Fatalf("round %d: merge %v, STOP %v", i, mergeErr, stopErr)
		}
		r, err := st.RecipientByID(ctx, admin, a)
		if err != nil || r.SMSOptedOutAt == nil || r.Phone == nil || *r.Phone != pb {
			t.Fatalf("round %d: survivor after the merge and the STOP: %+v %v", i, r, err)
		}
	}
}
