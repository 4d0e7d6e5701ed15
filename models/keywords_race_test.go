package models_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/models"
)

// TestStopRacesStartChat: a recipient texting STOP (or START) while an
// agent starts a chat with them, over and over: neither side ever fails
// with a deadlock or any error but the gate's own refusal, and a send
// the agent queued before a STOP committed is cancelled by it.
func TestStopRacesStartChat(t *testing.T) {
	ctx := context.Background()
	st, demo, admin, _ := chatFixture(t)
	const phone = "+15550107901"
	run := time.Now().UnixNano() // ids unique across -count runs on one database
	if _, err := st.ReceiveSMS(ctx, sms(fmt.Sprintf("sr-%d-0", run), phone, "hello")); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		kw := "STOP"
		if i%2 == 1 {
			kw = "START"
		}
		var wg sync.WaitGroup
		var recvErr, startErr error
		wg.Go(func() { _, recvErr = st.ReceiveSMS(ctx, sms(fmt.Sprintf("sr-%d-%d", run, i+1), phone, kw)) })
		wg.Go(func() {
			_, startErr = st.StartConversation(ctx, admin, models.StartInput{InboxID: demo.Inbox.ID, To: phone, Body: fmt.Sprintf("update %d", i)})
		})
		wg.Wait()
		if recvErr != nil {
			t.Fatalf("round %d: %s: %v", i, kw, recvErr)
		}
		if startErr != nil && !errors.Is(startErr, models.ErrOptedOut) {
			t.Fatalf("round %d: start chat: %v", i, startErr)
		}
	}
	// Every agent message is either failed (cancelled or refused by the
	// STOP) or queued after a START; none is queued while opted out.
	var queuedWhileOut int
	if err := st.DB().NewRaw(`SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id
		JOIN recipients r ON r.id = c.recipient_id
		WHERE r.phone = ? AND m.author_type = 'user' AND m.status = 'queued' AND r.sms_opted_out_at IS NOT NULL`, phone).Scan(ctx, &queuedWhileOut); err != nil {
		t.Fatal(err)
	}
	if queuedWhileOut != 0 {
		t.Errorf("%d agent messages still queued to an opted-out recipient", queuedWhileOut)
	}
}

// TestStopsToTwoInboxes: one person texts STOP to two inboxes of the
// organization at once while replies are queued in both conversations:
// both are stored without error, exactly one confirmation per effective
// opt-out, every queued reply cancelled.
func TestStopsToTwoInboxes(t *testing.T) {
	ctx := context.Background()
	st, demo, admin, _ := chatFixture(t)
	const phone, second = "+15550107902", "+15550100102"
	run := time.Now().UnixNano() // ids unique across -count runs on one database
	if _, err := st.DB().NewRaw(`INSERT INTO inboxes (org_id, location_id, name, sms_number) VALUES (?, ?, 'Second Desk', ?)
		ON CONFLICT DO NOTHING`, demo.Org.ID, demo.Location.ID, second).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		var convs []int64
		for j, to := range []string{*demo.Inbox.SMSNumber, second} {
			in := sms(fmt.Sprintf("ti-%d-%d-%d-hi", run, i, j), phone, "hi")
			in.To = to
			res, err := st.ReceiveSMS(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			if res.Change == nil {
				t.Fatalf("round %d: hello not stored: %+v", i, res)
			}
			convs = append(convs, res.Change.Conversation.ID)
		}
		for _, id := range convs {
			if _, err := st.Reply(ctx, admin, id, "queued reply", false); err != nil {
				t.Fatalf("round %d: reply: %v", i, err)
			}
		}
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for j, to := range []string{*demo.Inbox.SMSNumber, second} {
			wg.Go(func() {
				in := sms(fmt.Sprintf("ti-%d-%d-%d-stop", run, i, j), phone, "STOP")
				in.To = to
				_, errs[j] = st.ReceiveSMS(ctx, in)
			})
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatalf("round %d: STOP: %v", i, err)
			}
		}
		var queued, confirmations int
		if err := st.DB().NewRaw(`SELECT count(*) FILTER (WHERE m.author_type = 'user' AND m.status = 'queued'),
			count(*) FILTER (WHERE m.author_type = 'automation' AND m.body LIKE 'You are unsubscribed%' AND m.id > (
				SELECT coalesce(max(id), 0) FROM messages WHERE provider_message_id = ?))
			FROM messages m JOIN conversations c ON c.id = m.conversation_id JOIN recipients r ON r.id = c.recipient_id
			WHERE r.phone = ?`, fmt.Sprintf("ti-%d-%d-1-hi", run, i), phone).Scan(ctx, &queued, &confirmations); err != nil {
			t.Fatal(err)
		}
		if queued != 0 || confirmations != 1 {
			t.Fatalf("round %d: %d replies still queued, %d confirmations (want 0 and 1)", i, queued, confirmations)
		}
		// START again for the next round, through the first inbox.
		in := sms(fmt.Sprintf("ti-%d-%d-start", run, i), phone, "START")
		if _, err := st.ReceiveSMS(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
}

// TestReceiveSMSRetriesADeadlock: a keyword text whose transaction
// PostgreSQL aborts to break a deadlock is run again and stored, instead
// of failing (and being answered 5xx). The deadlock is made on purpose:
// another transaction holds the conversation, the HELP takes its sender
// and waits for the conversation, then the other asks for the sender.
func TestReceiveSMSRetriesADeadlock(t *testing.T) {
	ctx := context.Background()
	st, _, _, _ := chatFixture(t)
	const phone = "+15550107903"
	run := time.Now().UnixNano()
	first, err := st.ReceiveSMS(ctx, sms(fmt.Sprintf("dl-%d-0", run), phone, "hello"))
	if err != nil {
		t.Fatal(err)
	}
	conv := first.Change.Conversation
	tx, err := st.DB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "SELECT id FROM conversations WHERE id = ? FOR UPDATE", conv.ID); err != nil {
		t.Fatal(err)
	}
	type outcome struct {
		res *models.InboundResult
		err error
	}
	out := make(chan outcome, 1)
	go func() {
		r, err := st.ReceiveSMS(ctx, sms(fmt.Sprintf("dl-%d-1", run), phone, "HELP"))
		out <- outcome{r, err}
	}()
	for { // until the HELP waits for the conversation, holding its sender
		var waiting int
		if err := st.DB().NewRaw(`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
			AND wait_event_type = 'Lock' AND query LIKE '%conversations%'`).Scan(ctx, &waiting); err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			break
		}
		runtime.Gosched()
	}
	// Close the cycle. PostgreSQL aborts one side: the HELP (it has waited
	// longer, so its deadlock check runs first), and this lock is granted;
	// or this transaction, and the HELP goes on.
	_, _ = tx.ExecContext(ctx, "SELECT id FROM recipients WHERE id = ? FOR UPDATE", conv.RecipientID)
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	o := <-out
	if o.err != nil || o.res == nil || o.res.Change == nil || o.res.Keyword != models.KeywordHelp {
		t.Fatalf("HELP after a deadlock: %+v, %v; want it stored", o.res, o.err)
	}
}
