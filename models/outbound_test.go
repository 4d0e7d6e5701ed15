package models_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/parley-chat/parley/jobs/task"
	"github.com/parley-chat/parley/models"
)

func TestClaimSendReceipts(t *testing.T) {
	ctx := context.Background()
	st, demo, admin, _ := chatFixture(t)
	long := ""
	for i := 0; i < 200; i++ {
		long += "x"
	}
	ch, err := st.StartConversation(ctx, admin, models.StartInput{InboxID: demo.Inbox.ID, To: "+15550100901", Body: long})
	if err != nil {
		t.Fatal(err)
	}
	msg := ch.Events[len(ch.Events)-1].Message
	if msg.Segments != 2 || msg.Encoding != "text" {
		t.Fatalf("segments %d encoding %q", msg.Segments, msg.Encoding)
	}
	out, _, err := st.ClaimSMS(ctx, msg.ID)
	if err != nil || out.To != "+15550100901" || out.From != "+15550100100" {
		t.Fatalf("claim: %+v %v", out, err)
	}
	sent, err := st.RecordSent(ctx, msg.ID, "vonage", []string{"v-1", "v-2"})
	if err != nil || sent.Events[0].Message.Status != models.MsgSent {
		t.Fatalf("sent: %+v %v", sent, err)
	}
	if _, _, err := st.ClaimSMS(ctx, msg.ID); !errors.Is(err, models.ErrNotSendable) {
		t.Fatalf("claiming a sent message again: %v", err)
	}
	status := func() string {
		var s string
		st.DB().NewRaw("SELECT status FROM messages WHERE id = ?", msg.ID).Scan(ctx, &s)
		return s
	}
	steps := []struct {
		id, status string
		want       string
		changed    bool
	}{
		{"v-2", "delivered", models.MsgSent, false}, // one of two parts: still sent
		{"v-1", "buffered", models.MsgSent, false},
		{"v-1", "delivered", models.MsgDelivered, true},
		{"v-1", "buffered", models.MsgDelivered, false}, // late and out of order: ignored
		{"unknown-id", "failed", models.MsgDelivered, false},
	}
	for _, s := range steps {
		c, err := st.ApplyReceipt(ctx, models.SMSReceipt{Provider: "vonage", ProviderMessageID: s.id, Status: s.status})
		if err != nil {
			t.Fatal(err)
		}
		if got := status(); got != s.want || (c != nil) != s.changed {
			t.Fatalf("after %s %s: %s (change %v), want %s (change %v)", s.id, s.status, got, c != nil, s.want, s.changed)
		}
	}
}

func TestReceiptByClientRefAndOptOut(t *testing.T) {
	ctx := context.Background()
	st, demo, admin, _ := chatFixture(t)
	ch, err := st.StartConversation(ctx, admin, models.StartInput{InboxID: demo.Inbox.ID, To: "+15550100902", Body: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	msg := ch.Events[len(ch.Events)-1].Message
	if _, _, err := st.ClaimSMS(ctx, msg.ID); err != nil {
		t.Fatal(err)
	}
	// The worker died before recording the provider's id: the receipt's
	// client-ref still finds the message.
	c, err := st.ApplyReceipt(ctx, models.SMSReceipt{Provider: "vonage", ProviderMessageID: "lost-id", ClientRef: strconv.FormatInt(msg.ID, 10), Status: "failed", ErrCode: 9})
	if err != nil || c == nil || c.Events[0].Message.Status != models.MsgFailed {
		t.Fatalf("receipt by client-ref: %+v %v", c, err)
	}
	var opted bool
	st.DB().NewRaw("SELECT sms_opted_out_at IS NOT NULL FROM recipients WHERE phone = '+15550100902'").Scan(ctx, &opted)
	if !opted {
		t.Fatal("err-code 9 did not opt the recipient out")
	}
	// The gate at send time: a queued reply to an opted-out recipient is failed, not sent.
	st.DB().NewRaw("UPDATE recipients SET sms_opted_out_at = NULL WHERE phone = '+15550100902'").Exec(ctx)
	r, err := st.Reply(ctx, admin, ch.Conversation.ID, "second", false)
	if err != nil {
		t.Fatal(err)
	}
	st.DB().NewRaw("UPDATE recipients SET sms_opted_out_at = now() WHERE phone = '+15550100902'").Exec(ctx)
	if _, fc, err := st.ClaimSMS(ctx, r.Events[len(r.Events)-1].Message.ID); !errors.Is(err, models.ErrNotSendable) || fc == nil {
		t.Fatalf("claim for an opted-out recipient: %v %v", fc, err)
	}
}

// outboxOf is the one outbox row whose payload names message msgID.
func outboxOf(t *testing.T, st *models.Store, msgID int64) models.OutboxEntry {
	t.Helper()
	var rows []models.OutboxEntry
	if err := st.DB().NewSelect().Model(&rows).Where("(payload->>'message_id')::bigint = ?", msgID).Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 {
		t.Fatalf("message %d has %d outbox rows, want 1", msgID, len(rows))
	}
	return rows[0]
}

// Both writers of outbox rows (an agent's message, an automated reply)
// write what the catalogue specifies, and the relay can decode it.
func TestOutboxRowsFollowTheCatalogue(t *testing.T) {
	ctx := context.Background()
	st, demo, admin, _ := chatFixture(t)
	ch, err := st.StartConversation(ctx, admin, models.StartInput{InboxID: demo.Inbox.ID, To: "+15550100903", Body: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	agentMsg := ch.Events[len(ch.Events)-1].Message.ID
	stop, err := st.ReceiveSMS(ctx, models.InboundSMS{Provider: "vonage", ProviderMessageID: "catalogue-stop",
		From: "+15550100903", To: "+15550100100", Body: "STOP", ReceivedAt: time.Now()})
	if err != nil || stop.Change == nil {
		t.Fatalf("STOP: %+v %v", stop, err)
	}
	ev := stop.Change.Events[len(stop.Change.Events)-1]
	if ev.Message == nil || ev.Message.AuthorType != "automation" {
		t.Fatalf("the STOP's last event is not its confirmation: %+v", ev)
	}
	for name, msgID := range map[string]int64{"agent message": agentMsg, "STOP confirmation": ev.Message.ID} {
		t.Run(name, func(t *testing.T) {
			row := outboxOf(t, st, msgID)
			want := task.NewSMSSend(msgID)
			if row.TaskType != want.Type || row.Queue != want.Queue || row.OrgID != demo.Org.ID {
				t.Fatalf("row %+v, want type %s queue %s org %d", row, want.Type, want.Queue, demo.Org.ID)
			}
			p, err := task.Decode(row.TaskType, row.Payload)
			if err != nil {
				t.Fatalf("stored payload %s: %v", row.Payload, err)
			}
			if got := p.(*task.SMSSend).MessageID; got != msgID {
				t.Fatalf("payload names message %d, want %d", got, msgID)
			}
		})
	}
}

// The relay's batch stamps only the entries its fn reports as handed
// over and closes only those it refused, with their reason, even when fn
// reports that others failed; those stay pending for the next pass.
func TestOutboxBatchRecordsTheOutcome(t *testing.T) {
	errEnqueue := errors.New("redis refused one task")
	ctx := context.Background()
	st, demo, admin, _ := chatFixture(t)
	var ids []int64
	for _, to := range []string{"+15550100904", "+15550100905", "+15550100906"} {
		ch, err := st.StartConversation(ctx, admin, models.StartInput{InboxID: demo.Inbox.ID, To: to, Body: "hi"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, outboxOf(t, st, ch.Events[len(ch.Events)-1].Message.ID).ID)
	}
	enqueued, untouched, refused := ids[0], ids[1], ids[2]
	err := st.PendingOutbox(ctx, 1000, func(rows []models.OutboxEntry) (models.OutboxOutcome, error) {
		var out models.OutboxOutcome
		for _, r := range rows {
			switch r.ID {
			case enqueued:
				out.Enqueued = append(out.Enqueued, r.ID)
			case refused:
				out.Refused = append(out.Refused, models.OutboxRefusal{ID: r.ID, Reason: "it's a trap"})
			}
		}
		// The untouched entry failed to enqueue: its error must not undo
		// what the batch did with the others.
		return out, errEnqueue
	})
	if !errors.Is(err, errEnqueue) {
		t.Fatalf("batch error %v, want the enqueue error", err)
	}
	var pending []int64
	if err := st.PendingOutbox(ctx, 1000, func(rows []models.OutboxEntry) (models.OutboxOutcome, error) {
		for _, r := range rows {
			if r.ID == enqueued || r.ID == untouched || r.ID == refused {
				pending = append(pending, r.ID)
			}
		}
		return models.OutboxOutcome{}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(pending) != 1 || pending[0] != untouched {
		t.Fatalf("pending after the batch: %v, want only %d", pending, untouched)
	}
	type state struct {
		ID        int64  `bun:"id"`
		Enqueued  bool   `bun:"enqueued"`
		Done      bool   `bun:"done"`
		Attempts  int    `bun:"attempts"`
		LastError string `bun:"last_error"`
	}
	var got []state
	if err := st.DB().NewRaw(`SELECT id, enqueued_at IS NOT NULL AS enqueued, done_at IS NOT NULL AS done, attempts, last_error
		FROM outbox WHERE id IN (?, ?, ?) ORDER BY id`, enqueued, untouched, refused).Scan(ctx, &got); err != nil {
		t.Fatal(err)
	}
	want := []state{
		{ID: enqueued, Enqueued: true, Attempts: 1},
		{ID: untouched},
		{ID: refused, Done: true, LastError: "it's a trap"},
	}
	if len(got) != len(want) {
		t.Fatalf("rows %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("entry %d: %+v, want %+v", want[i].ID, got[i], want[i])
		}
	}
}

// A message a worker has claimed is not claimed by another until the
// claim runs out (SendClaimLease) or its worker releases it after a failed
// call: two workers never send it at once (a task copy the relay enqueued
// again after Redis lost its data, beside the original still running).
func TestClaimIsExclusiveUntilReleasedOrRunOut(t *testing.T) {
	ctx := context.Background()
	st, demo, admin, _ := chatFixture(t)
	ch, err := st.StartConversation(ctx, admin, models.StartInput{InboxID: demo.Inbox.ID, To: "+15550100907", Body: "One at a time"})
	if err != nil {
		t.Fatal(err)
	}
	id := ch.Events[len(ch.Events)-1].Message.ID
	if _, _, err := st.ClaimSMS(ctx, id); err != nil {
		t.Fatalf("first claim: %v", err)
	}
	if _, _, err := st.ClaimSMS(ctx, id); !errors.Is(err, models.ErrClaimed) {
		t.Fatalf("second claim while the first holds: %v, want ErrClaimed", err)
	}
	if err := st.ReleaseSMSClaim(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.ClaimSMS(ctx, id); err != nil {
		t.Fatalf("claim after release: %v", err)
	}
	if _, _, err := st.ClaimSMS(ctx, id); !errors.Is(err, models.ErrClaimed) {
		t.Fatalf("claim while held again: %v, want ErrClaimed", err)
	}
	if _, err := st.DB().NewRaw("UPDATE messages SET claimed_at = now() - ? * interval '1 second' - interval '1 second' WHERE id = ?",
		int(models.SendClaimLease/time.Second), id).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.ClaimSMS(ctx, id); err != nil {
		t.Fatalf("claim after the lease ran out: %v", err)
	}
}

// Pending receipts are bounded: at most PendingReceiptCap (the newest) are
// kept, so receipts for ids nobody sent cannot grow the table; a receipt
// whose client-ref is not ours is not kept at all.
func TestPendingReceiptsAreBounded(t *testing.T) {
	ctx := context.Background()
	st, _, _, _ := chatFixture(t)
	// The package's tests share a database: leave no flood behind.
	t.Cleanup(func() {
		if _, err := st.DB().NewRaw("DELETE FROM message_parts WHERE provider = 'flood' OR provider_message_id = 'cap-newest'").Exec(ctx); err != nil {
			t.Error(err)
		}
	})
	if _, err := st.DB().NewRaw(`INSERT INTO message_parts (provider, provider_message_id, status, updated_at)
		SELECT 'flood', 'flood-' || g, 'delivered', now() - interval '1 hour' FROM generate_series(1, ?) g`, models.PendingReceiptCap).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	pending := func() (n int) {
		t.Helper()
		if err := st.DB().NewRaw("SELECT count(*) FROM message_parts WHERE message_id IS NULL").Scan(ctx, &n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := pending()
	if _, err := st.ApplyReceipt(ctx, models.SMSReceipt{Provider: "vonage", ProviderMessageID: "cap-newest", Status: "delivered"}); err != nil {
		t.Fatal(err)
	}
	if n := pending(); n != models.PendingReceiptCap {
		t.Fatalf("%d pending receipts after one more (%d before), want the cap %d", n, before, models.PendingReceiptCap)
	}
	var kept int
	if err := st.DB().NewRaw("SELECT count(*) FROM message_parts WHERE provider_message_id = 'cap-newest'").Scan(ctx, &kept); err != nil || kept != 1 {
		t.Fatalf("the newest pending receipt kept: %d %v", kept, err)
	}
	if _, err := st.ApplyReceipt(ctx, models.SMSReceipt{Provider: "vonage", ProviderMessageID: "other-app", ClientRef: "not-ours", Status: "delivered"}); err != nil {
		t.Fatal(err)
	}
	if err := st.DB().NewRaw("SELECT count(*) FROM message_parts WHERE provider_message_id = 'other-app'").Scan(ctx, &kept); err != nil || kept != 0 {
		t.Fatalf("another application's receipt kept: %d %v", kept, err)
	}
}
