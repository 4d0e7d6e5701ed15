package models_test

import (
	"context"
	"errors"
	"strconv"
	"testing"

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
