package models_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/models"
	"pgregory.net/rapid"
)

// TestLedgerProperties: random sequences of inbound texts, replies, sends
// (claims), provider refusals, STOP and START, charge runs, purchases,
// plan changes and period renewals (time advanced) keep, after every
// step: the account equal to its ledger (each part), purchased credits
// not negative, no (message, kind) charged twice, no message refunded
// twice, no refund without its charge, no outbound charge (other than a
// compliance reply) taking the balance below 0, and this period's usage
// counters not negative.
//
// Each case is its own organization; the run is bounded by rapid's
// -rapid.checks (100 by default) and at most 25 steps a case.
func TestLedgerProperties(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	var cases, steps int
	var tally ledgerSums // summed over the cases' final ledgers
	counts := map[string]int{}
	start := time.Now()
	rapid.Check(t, func(rt *rapid.T) {
		cases++
		f := newLedgerLoc(rt, st, rapid.IntRange(0, 60).Draw(rt, "plan"), time.Now().Add(-time.Hour))
		now := time.Now()
		phones := []string{f.phone(1), f.phone(2), f.phone(3)}
		convs := map[int]int64{}
		n := rapid.IntRange(1, 25).Draw(rt, "steps")
		for range n {
			steps++
			action := rapid.SampledFrom([]string{"inbound", "inbound", "reply", "reply", "reply", "claim", "claim",
				"refuse", "refuse", "stop", "start", "charge", "charge", "charge", "purchase", "plan", "time"}).Draw(rt, "action")
			counts[action]++
			switch action {
			case "inbound":
				p := rapid.IntRange(0, len(phones)-1).Draw(rt, "phone")
				body := "msg " + strings.Repeat("x", rapid.IntRange(1, 400).Draw(rt, "length"))
				res := f.receive(rt, phones[p], body)
				if res.Change != nil {
					convs[p] = res.Change.Conversation.ID
				}
			case "reply":
				if len(convs) == 0 {
					continue
				}
				p := rapid.SampledFrom(keys(convs)).Draw(rt, "conv")
				body := "reply " + strings.Repeat("y", rapid.IntRange(1, 300).Draw(rt, "length"))
				_, err := st.Reply(ctx, f.admin, convs[p], body, false)
				if err != nil && !errors.Is(err, models.ErrInsufficientCredits) && !errors.Is(err, models.ErrOptedOut) {
					rt.Fatalf("reply: %v", err)
				}
			case "claim":
				ids := f.outboundIn(rt, models.MsgQueued)
				if len(ids) == 0 {
					continue
				}
				id := rapid.SampledFrom(ids).Draw(rt, "message")
				out, _, err := st.ClaimSMS(ctx, id)
				if errors.Is(err, models.ErrNotSendable) {
					continue // refused: opted out, or no credits
				}
				if err != nil {
					rt.Fatalf("claim %d: %v", id, err)
				}
				// The provider accepts it, or refuses it outright.
				if rapid.Bool().Draw(rt, "accepted") {
					if _, err := st.RecordSent(ctx, out.MessageID, "vonage", []string{fmt.Sprintf("%s-p-%d", f.tag, out.MessageID)}); err != nil {
						rt.Fatalf("record sent: %v", err)
					}
				}
			case "refuse":
				// A refusal (or every attempt failing) recorded for a queued
				// or claimed message, sometimes twice.
				ids := append(f.outboundIn(rt, models.MsgQueued), f.outboundIn(rt, models.MsgSending)...)
				if len(ids) == 0 {
					continue
				}
				id := rapid.SampledFrom(ids).Draw(rt, "message")
				for range rapid.IntRange(1, 2).Draw(rt, "times") {
					if _, err := st.RecordSendFailed(ctx, id, "Vonage: Invalid number"); err != nil {
						rt.Fatalf("record failed: %v", err)
					}
				}
			case "stop", "start":
				p := rapid.IntRange(0, len(phones)-1).Draw(rt, "phone")
				f.receive(rt, phones[p], strings.ToUpper(action))
			case "charge":
				if _, err := st.ChargeLocation(ctx, f.loc.ID); err != nil {
					rt.Fatalf("charge: %v", err)
				}
			case "purchase":
				if _, err := st.PurchaseCredits(ctx, f.admin, f.loc.ID, int64(rapid.IntRange(1, 100).Draw(rt, "credits")), "pack"); err != nil {
					rt.Fatalf("purchase: %v", err)
				}
			case "plan":
				if err := st.SetPlanCreditsAt(ctx, f.admin, f.loc.ID, rapid.IntRange(0, 100).Draw(rt, "credits"), now); err != nil {
					rt.Fatalf("plan change: %v", err)
				}
			case "time":
				now = now.Add(time.Duration(rapid.IntRange(1, 45).Draw(rt, "days")) * 24 * time.Hour)
				if _, err := st.RenewPlanAt(ctx, f.loc.ID, now); err != nil {
					rt.Fatalf("renew: %v", err)
				}
			}
			a, _ := f.checkBooks(rt)
			if a.UsedInbound < 0 || a.UsedOutbound < 0 || a.UsedForwarded < 0 {
				rt.Fatalf("after %s: usage this period below zero: inbound %d outbound %d forwarded %d",
					action, a.UsedInbound, a.UsedOutbound, a.UsedForwarded)
			}
			if below := f.outboundBelowFloor(rt); below != 0 {
				rt.Fatalf("after %s: %d outbound charges took the balance below 0", action, below)
			}
		}
		s := f.sums(rt)
		tally.Entries += s.Entries
		tally.Inbound += s.Inbound
		tally.Outbound += s.Outbound
		tally.Refunds += s.Refunds
		tally.Pending += s.Pending
	})
	t.Logf("ledger properties: %d cases, %d steps in %s; actions %v", cases, steps, time.Since(start).Round(time.Millisecond), counts)
	t.Logf("ledger properties: final ledgers held %d entries: %d inbound charges, %d outbound charges, %d refunds; %d charges left pending",
		tally.Entries, tally.Inbound, tally.Outbound, tally.Refunds, tally.Pending)
}

// keys returns m's keys, sorted, so rapid draws reproducibly.
func keys(m map[int]int64) []int {
	var out []int
	for k := range len(m) + 3 {
		if _, ok := m[k]; ok {
			out = append(out, k)
		}
	}
	return out
}

// outboundIn lists the organization's outbound messages in status, by id.
func (f *ledgerLoc) outboundIn(t tb, status string) []int64 {
	t.Helper()
	var ids []int64
	if err := f.st.DB().NewRaw(`SELECT m.id FROM messages m WHERE m.org_id = ? AND m.direction = 'outbound' AND NOT m.is_note
		AND m.status = ? ORDER BY m.id`, f.admin.OrgID, status).Scan(context.Background(), &ids); err != nil {
		t.Fatalf("outbound messages: %v", err)
	}
	return ids
}

// outboundBelowFloor counts the outbound charges (compliance replies
// aside: they are charged into overage) after which the ledger's running
// balance was below 0.
func (f *ledgerLoc) outboundBelowFloor(t tb) int {
	t.Helper()
	var n int
	if err := f.st.DB().NewRaw(`SELECT count(*) FROM (
			SELECT kind, message_id, sum(plan_delta + purchased_delta) OVER (ORDER BY id) AS run FROM credit_ledger WHERE location_id = ?) x
		JOIN messages m ON m.id = x.message_id WHERE x.kind = 'outbound' AND NOT m.compliance AND x.run < 0`, f.loc.ID).
		Scan(context.Background(), &n); err != nil {
		t.Fatalf("outbound floor: %v", err)
	}
	return n
}
