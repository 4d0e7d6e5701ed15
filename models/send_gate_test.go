package models_test

import (
	"context"
	"errors"
	"testing"

	"github.com/parley-chat/parley/models"
)

// TestSendGate: the one gate expression, over each fact it reads.
func TestSendGate(t *testing.T) {
	ctx := context.Background()
	st, demo, _, _ := chatFixture(t)
	res, err := st.ReceiveSMS(ctx, sms("g-1", "+15550107801", "hello"))
	if err != nil {
		t.Fatal(err)
	}
	conv := res.Change.Conversation
	db := st.DB()
	set := func(q string, args ...any) {
		t.Helper()
		if _, err := db.NewRaw(q, args...).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	check := func(name string, channel string, compliance bool, want error) {
		t.Helper()
		err := st.ComposeGate(ctx, conv.ID, channel, compliance)
		if (want == nil) != (err == nil) || (want != nil && !errors.Is(err, want)) {
			t.Errorf("%s: gate = %v, want %v", name, err, want)
		}
	}
	check("open", models.ChannelSMS, false, nil)
	set("UPDATE recipients SET sms_opted_out_at = now() WHERE id = ?", conv.RecipientID)
	check("opted out", models.ChannelSMS, false, models.ErrOptedOut)
	check("opted out, compliance reply", models.ChannelSMS, true, nil)
	set("UPDATE locations SET plan_status = 'suspended' WHERE id = ?", demo.Location.ID)
	check("opted out beats plan", models.ChannelSMS, false, models.ErrOptedOut)
	check("plan suspended", models.ChannelSMS, true, models.ErrPlanInactive)
	set("UPDATE locations SET plan_status = 'active' WHERE id = ?", demo.Location.ID)
	set("UPDATE recipients SET sms_opted_out_at = NULL WHERE id = ?", conv.RecipientID)
	// Email: the recipient has no address yet.
	var fe *models.FieldError
	if err := st.ComposeGate(ctx, conv.ID, models.ChannelEmail, false); !errors.As(err, &fe) {
		t.Errorf("email without an address: %v", err)
	}
	set("UPDATE recipients SET email = 'g1@example.com', email_opted_out_at = now() WHERE id = ?", conv.RecipientID)
	check("email opted out, sms not", models.ChannelEmail, false, models.ErrOptedOut)
	check("sms unaffected by email opt-out", models.ChannelSMS, false, nil)
}

// TestStatusOrderInSQL: the SQL lists follow the one status order.
func TestStatusOrderInSQL(t *testing.T) {
	pending, past := models.StatusSQL()
	if pending != "('queued', 'sending')" || past != "('sent', 'delivered', 'failed')" {
		t.Errorf("pending %s, past sent %s", pending, past)
	}
}
