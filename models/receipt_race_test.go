package models_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/models"
)

// claimedMessage starts a chat with phone and claims its message, as the
// worker does right before it calls the provider: the message is sending
// and its provider ids are not recorded yet.
func claimedMessage(t *testing.T, st *models.Store, demo *models.DemoResult, admin models.Scope, phone string) int64 {
	t.Helper()
	ctx := context.Background()
	ch, err := st.StartConversation(ctx, admin, models.StartInput{InboxID: demo.Inbox.ID, To: phone, Body: "Your table is ready."})
	if err != nil {
		t.Fatal(err)
	}
	id := ch.Events[len(ch.Events)-1].Message.ID
	if _, _, err := st.ClaimSMS(ctx, id); err != nil {
		t.Fatal(err)
	}
	return id
}

// messageState is a message's status and its number of message_status
// events per status.
func messageState(t *testing.T, st *models.Store, id int64) (string, map[string]int) {
	t.Helper()
	ctx := context.Background()
	var status string
	if err := st.DB().NewRaw("SELECT status FROM messages WHERE id = ?", id).Scan(ctx, &status); err != nil {
		t.Fatal(err)
	}
	var rows []struct{ Status string }
	if err := st.DB().NewRaw(`SELECT detail->>'status' AS status FROM conversation_events
		WHERE message_id = ? AND kind = 'message_status'`, id).Scan(ctx, &rows); err != nil {
		t.Fatal(err)
	}
	events := map[string]int{}
	for _, r := range rows {
		events[r.Status]++
	}
	return status, events
}

// TestReceiptBeforeSendRecorded: Vonage's receipt comes back before the
// worker recorded the send (the worker is slow, or its process paused
// between the provider's answer and its commit). The receipt is kept and
// applied when the send is recorded, with or without a client-ref.
func TestReceiptBeforeSendRecorded(t *testing.T) {
	ctx := context.Background()
	st, demo, admin, _ := chatFixture(t)
	run := time.Now().UnixNano()
	for i, tc := range []struct {
		name      string
		clientRef bool
		status    string
		errCode   int
		want      string
		optOut    bool
	}{
		{name: "delivered, no client-ref", status: "delivered", want: models.MsgDelivered},
		{name: "delivered, client-ref", clientRef: true, status: "delivered", want: models.MsgDelivered},
		{name: "buffered, no client-ref", status: "buffered", want: models.MsgSent},
		{name: "carrier opt-out, no client-ref", status: "failed", errCode: 9, want: models.MsgFailed, optOut: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			phone := fmt.Sprintf("+155501083%02d", i)
			id := claimedMessage(t, st, demo, admin, phone)
			pid := fmt.Sprintf("early-%d-%d", run, i)
			r := models.SMSReceipt{Provider: "vonage", ProviderMessageID: pid, Status: tc.status, ErrCode: tc.errCode}
			if tc.clientRef {
				r.ClientRef = strconv.FormatInt(id, 10)
			}
			if _, err := st.ApplyReceipt(ctx, r); err != nil {
				t.Fatalf("receipt before the send is recorded: %v", err)
			}
			if _, err := st.RecordSent(ctx, id, "vonage", []string{pid}); err != nil {
				t.Fatalf("record sent: %v", err)
			}
			status, events := messageState(t, st, id)
			if status != tc.want {
				t.Fatalf("message %s, want %s (events %v)", status, tc.want, events)
			}
			if events[tc.want] != 1 {
				t.Errorf("status events %v, want one %s", events, tc.want)
			}
			var opted bool
			if err := st.DB().NewRaw("SELECT sms_opted_out_at IS NOT NULL FROM recipients WHERE phone = ?", phone).Scan(ctx, &opted); err != nil {
				t.Fatal(err)
			}
			if opted != tc.optOut {
				t.Errorf("recipient opted out: %v, want %v", opted, tc.optOut)
			}
			var pending int
			if err := st.DB().NewRaw("SELECT count(*) FROM message_parts WHERE provider_message_id = ? AND message_id IS NULL", pid).Scan(ctx, &pending); err != nil {
				t.Fatal(err)
			}
			if pending != 0 {
				t.Errorf("%d pending receipts left for %s", pending, pid)
			}
		})
	}
}

// TestReceiptWhileSendIsRecorded: the receipt arrives while the send's
// recording transaction is open, its part written but not committed. The
// receipt waits for it and is applied, never acknowledged as "not ours".
func TestReceiptWhileSendIsRecorded(t *testing.T) {
	ctx := context.Background()
	st, demo, admin, _ := chatFixture(t)
	run := time.Now().UnixNano()
	for i, withRef := range []bool{true, false} {
		t.Run(fmt.Sprintf("client-ref %v", withRef), func(t *testing.T) {
			id := claimedMessage(t, st, demo, admin, fmt.Sprintf("+155501084%02d", i))
			pid := fmt.Sprintf("mid-%d-%d", run, i)
			// What RecordSent does, held open: lock the message, mark it
			// sent, write its part.
			tx, err := st.DB().BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			for _, q := range []string{
				"SELECT id FROM messages WHERE id = ? FOR UPDATE",
				"UPDATE messages SET status = 'sent', provider = 'vonage', provider_message_id = '" + pid + "' WHERE id = ?",
				"INSERT INTO message_parts (message_id, provider, provider_message_id) VALUES (?, 'vonage', '" + pid + "')",
			} {
				if _, err := tx.ExecContext(ctx, q, id); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			r := models.SMSReceipt{Provider: "vonage", ProviderMessageID: pid, Status: "delivered"}
			if withRef {
				r.ClientRef = strconv.FormatInt(id, 10)
			}
			done := make(chan error, 1)
			go func() {
				_, err := st.ApplyReceipt(ctx, r)
				done <- err
			}()
			waitForLockWait(t, st, done)
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			if err := <-done; err != nil {
				t.Fatalf("receipt: %v", err)
			}
			if status, events := messageState(t, st, id); status != models.MsgDelivered || events[models.MsgDelivered] != 1 {
				t.Fatalf("message %s with status events %v, want delivered once", status, events)
			}
		})
	}
}

// waitForLockWait returns once a session of the test's database waits on
// a lock, or once done has a value (which it puts back).
func waitForLockWait(t *testing.T, st *models.Store, done chan error) {
	t.Helper()
	for {
		select {
		case err := <-done:
			done <- err
			return
		default:
		}
		var waiting int
		if err := st.DB().NewRaw("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'").Scan(context.Background(), &waiting); err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			return
		}
	}
}

// TestReceiptsRaceRecordSent: the worker records a two-part send while
// both parts' receipts (with and without client-ref) arrive at once, over
// and over. Neither side ever fails (no deadlock), and every message ends
// delivered with one delivered event and no receipt left pending.
func TestReceiptsRaceRecordSent(t *testing.T) {
	ctx := context.Background()
	st, demo, admin, _ := chatFixture(t)
	run := time.Now().UnixNano()
	const rounds = 40
	for i := range rounds {
		id := claimedMessage(t, st, demo, admin, fmt.Sprintf("+155501085%02d", i))
		pids := []string{fmt.Sprintf("race-%d-%d-a", run, i), fmt.Sprintf("race-%d-%d-b", run, i)}
		gate := make(chan struct{})
		var wg sync.WaitGroup
		errs := make(chan error, 3)
		wg.Go(func() {
			<-gate
			if _, err := st.RecordSent(ctx, id, "vonage", pids); err != nil {
				errs <- fmt.Errorf("record sent: %w", err)
			}
		})
		for k, pid := range pids {
			r := models.SMSReceipt{Provider: "vonage", ProviderMessageID: pid, Status: "delivered"}
			if (i+k)%2 == 0 {
				r.ClientRef = strconv.FormatInt(id, 10)
			}
			wg.Go(func() {
				<-gate
				if _, err := st.ApplyReceipt(ctx, r); err != nil {
					errs <- fmt.Errorf("receipt %s: %w", pid, err)
				}
			})
		}
		close(gate)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("round %d: %v", i, err)
		}
		status, events := messageState(t, st, id)
		if status != models.MsgDelivered || events[models.MsgDelivered] != 1 {
			t.Errorf("round %d: message %s with status events %v, want delivered once", i, status, events)
		}
	}
	var pending int
	if err := st.DB().NewRaw("SELECT count(*) FROM message_parts WHERE provider_message_id LIKE ? AND message_id IS NULL",
		fmt.Sprintf("race-%d-%%", run)).Scan(ctx, &pending); err != nil {
		t.Fatal(err)
	}
	if pending != 0 {
		t.Errorf("%d receipts left pending", pending)
	}
}

// TestPendingOptOutAdoptedByClientRef: a carrier opt-out receipt kept
// pending (no client-ref) is adopted by a later receipt for the same part
// that carries one; the opt-out still applies.
func TestPendingOptOutAdoptedByClientRef(t *testing.T) {
	ctx := context.Background()
	st, demo, admin, _ := chatFixture(t)
	const phone = "+15550108601"
	id := claimedMessage(t, st, demo, admin, phone)
	pid := fmt.Sprintf("optout-%d", time.Now().UnixNano())
	for _, r := range []models.SMSReceipt{
		{Provider: "vonage", ProviderMessageID: pid, Status: "failed", ErrCode: 9},
		{Provider: "vonage", ProviderMessageID: pid, Status: "failed", ClientRef: strconv.FormatInt(id, 10)},
	} {
		if _, err := st.ApplyReceipt(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if status, _ := messageState(t, st, id); status != models.MsgFailed {
		t.Errorf("message %s, want failed", status)
	}
	var opted bool
	if err := st.DB().NewRaw("SELECT sms_opted_out_at IS NOT NULL FROM recipients WHERE phone = ?", phone).Scan(ctx, &opted); err != nil {
		t.Fatal(err)
	}
	if !opted {
		t.Error("the pending err-code 9 receipt did not opt the recipient out")
	}
}
