package main

import (
	"context"
	"testing"
	"time"

	"github.com/parley-chat/parley/models"
)

// messageCharge is one message of a recipient's conversations with what
// the ledger holds for it.
type messageCharge struct {
	ID        int64  `bun:"id"`
	Direction string `bun:"direction"`
	Channel   string `bun:"channel"`
	Status    string `bun:"status"`
	Price     int64  `bun:"credits_charged"`
	Charged   int64  `bun:"charged"` // the charge entries' sum (negative)
	Charges   int    `bun:"charges"`
	Refunded  int64  `bun:"refunded"`
	Pending   int    `bun:"pending"`
}

// checkCharges waits until no message of the recipient at addr (a phone
// or an email address) has a pending charge, then checks that each was
// charged exactly once at its price (inbound as inbound, outbound as
// outbound), that an outbound message that failed before it went out was
// refunded, that at least want messages were seen, and that the location's
// balance equals its ledger. It returns the messages.
func checkCharges(t *testing.T, addr string, want int) []messageCharge {
	t.Helper()
	ctx := context.Background()
	db, err := models.OpenDB(ctx, env.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var msgs []messageCharge
	deadline := time.Now().Add(15 * time.Second)
	for {
		msgs = msgs[:0]
		if err := db.NewRaw(`SELECT m.id, m.direction, m.channel, m.status, m.credits_charged,
				coalesce((SELECT sum(l.plan_delta + l.purchased_delta) FROM credit_ledger l WHERE l.message_id = m.id AND l.kind = m.direction), 0) AS charged,
				(SELECT count(*) FROM credit_ledger l WHERE l.message_id = m.id AND l.kind = m.direction) AS charges,
				coalesce((SELECT sum(l.plan_delta + l.purchased_delta) FROM credit_ledger l WHERE l.message_id = m.id AND l.kind = 'refund'), 0) AS refunded,
				(SELECT count(*) FROM credit_pending p WHERE p.message_id = m.id) AS pending
			FROM messages m JOIN conversations c ON c.id = m.conversation_id JOIN recipients r ON r.id = c.recipient_id
			WHERE (r.phone = ? OR r.email = ?) AND NOT m.is_note ORDER BY m.id`, addr, addr).Scan(ctx, &msgs); err != nil {
			t.Fatal(err)
		}
		pending := 0
		for _, m := range msgs {
			pending += m.Pending
		}
		if pending == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(msgs) < want {
		t.Errorf("%s has %d messages, want at least %d", addr, len(msgs), want)
	}
	for _, m := range msgs {
		switch {
		case m.Pending != 0:
			t.Errorf("message %d (%s %s) still has a pending charge", m.ID, m.Direction, m.Channel)
		case m.Price <= 0:
			t.Errorf("message %d (%s %s) has no price", m.ID, m.Direction, m.Channel)
		case m.Direction == "outbound" && m.Status == models.MsgFailed && m.Charges == 0:
			// refused before it was charged: nothing to refund
		case m.Charges != 1 || m.Charged != -m.Price:
			t.Errorf("message %d (%s %s, %s) charged %d times for %d credits, want once for %d", m.ID, m.Direction, m.Channel, m.Status, m.Charges, -m.Charged, m.Price)
		}
		if m.Refunded != 0 && m.Refunded != m.Price {
			t.Errorf("message %d refunded %d of its %d credits", m.ID, m.Refunded, m.Price)
		}
		t.Logf("message %d: %s %s %s, %d credits, charged %d, refunded %d", m.ID, m.Direction, m.Channel, m.Status, m.Price, -m.Charged, m.Refunded)
	}
	var bad int
	if err := db.NewRaw(`SELECT count(*) FROM credit_accounts a WHERE a.plan_balance <> (SELECT coalesce(sum(plan_delta), 0) FROM credit_ledger l WHERE l.location_id = a.location_id)
		OR a.purchased_balance <> (SELECT coalesce(sum(purchased_delta), 0) FROM credit_ledger l WHERE l.location_id = a.location_id)`).Scan(ctx, &bad); err != nil || bad != 0 {
		t.Errorf("%d accounts differ from their ledger (%v)", bad, err)
	}
	return msgs
}
