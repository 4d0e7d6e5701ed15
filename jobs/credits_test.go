package jobs_test

import (
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/jobs"
	"github.com/parley-chat/parley/models"
)

// ledgerOf reads the ledger entries of message msgID, by kind.
func (h *harness) ledgerOf(msgID int64) map[string]int64 {
	h.t.Helper()
	var rows []struct {
		Kind    string `bun:"kind"`
		Credits int64  `bun:"credits"`
	}
	if err := h.store.DB().NewRaw(`SELECT kind, plan_delta + purchased_delta AS credits FROM credit_ledger WHERE message_id = ?`, msgID).
		Scan(h.ctx, &rows); err != nil {
		h.t.Fatal(err)
	}
	out := map[string]int64{}
	for _, r := range rows {
		out[r.Kind] += r.Credits
	}
	return out
}

// balanceMatchesLedger checks the demo location's account against the sum
// of its ledger.
func (h *harness) balanceMatchesLedger() {
	h.t.Helper()
	var bal, sum int64
	if err := h.store.DB().NewRaw(`SELECT a.plan_balance + a.purchased_balance,
		(SELECT coalesce(sum(plan_delta + purchased_delta), 0) FROM credit_ledger l WHERE l.location_id = a.location_id)
		FROM credit_accounts a WHERE a.location_id = ?`, h.demo.Location.ID).Scan(h.ctx, &bal, &sum); err != nil {
		h.t.Fatal(err)
	}
	if bal != sum {
		h.t.Errorf("balance %d, ledger sum %d", bal, sum)
	}
}

// Through the real relay and worker: an inbound text and the reply to it
// are each charged once by credits:charge, at the rate card's price (2
// credits a segment), and the account equals its ledger.
func TestWorkerChargesInboundAndReplies(t *testing.T) {
	h := newHarness(t, vonageOK)
	conv := h.inboundHello(newPhone())
	var inID int64
	if err := h.store.DB().NewRaw("SELECT id FROM messages WHERE conversation_id = ? AND direction = 'inbound'", conv).Scan(h.ctx, &inID); err != nil {
		t.Fatal(err)
	}
	replyID := h.reply(conv, strings.Repeat("Your table is ready. ", 9)) // 189 characters: 2 segments
	relay, _ := h.startRelay()
	relay.Kick()
	h.startWorker(4, jobs.SMSConfig{})
	start := time.Now()
	h.waitDone(replyID, 15*time.Second)
	t.Logf("reply sent after %v", time.Since(start))
	waitUntil(t, 10*time.Second, "both charges", func() bool {
		return len(h.ledgerOf(inID)) == 1 && len(h.ledgerOf(replyID)) == 1
	})
	t.Logf("both charged after %v", time.Since(start))
	reply := h.message(replyID)
	if reply.Status != models.MsgSent || reply.Segments != 2 || reply.CreditsCharged != 4 {
		t.Errorf("reply %s, %d segments, %d credits; want sent, 2, 4", reply.Status, reply.Segments, reply.CreditsCharged)
	}
	if got := h.ledgerOf(replyID); got[models.ChargeOutbound] != -4 {
		t.Errorf("reply's ledger %v, want outbound -4", got)
	}
	if got := h.ledgerOf(inID); got[models.ChargeInbound] != -2 {
		t.Errorf("inbound's ledger %v, want inbound -2", got)
	}
	h.balanceMatchesLedger()
}

// A reply the provider refuses outright is charged and then refunded by a
// compensating entry: the ledger keeps both, and the two cancel out.
func TestRefusedSendIsRefunded(t *testing.T) {
	h := newHarness(t, vonageRefused("Message was refused by the test"))
	msgID := h.start(newPhone(), "Hello from the front desk")
	relay, _ := h.startRelay()
	relay.Kick()
	h.startWorker(2, jobs.SMSConfig{})
	h.waitDone(msgID, 15*time.Second)
	waitUntil(t, 10*time.Second, "the refund", func() bool { return len(h.ledgerOf(msgID)) == 2 })
	got := h.ledgerOf(msgID)
	if got[models.ChargeOutbound] != -2 || got[models.LedgerRefund] != 2 {
		t.Errorf("ledger of the refused message %v, want outbound -2 and refund +2", got)
	}
	h.balanceMatchesLedger()
}
