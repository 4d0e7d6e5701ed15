package models_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley/models"
)

// R6 (quality.md): 32 concurrent workers × 100 charges on one location.

const r6Workers, r6Each = 32, 100

// TestR6InboundCharges: 3,200 inbound SMS stored by 32 goroutines while 32
// others run the credits:charge task (ChargeLocation) for the location in
// a loop: exactly 3,200 charge entries, one per message, the account equal
// to its ledger part by part, used_inbound the charges' sum, nothing
// pending. The plan (1,000) and a purchase (500) run out on the way, so
// the charges cross from plan credits to purchased ones to overage.
func TestR6InboundCharges(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	f := newLedgerLoc(t, st, 1000, time.Now().Add(-time.Hour))
	if _, err := st.PurchaseCredits(ctx, f.admin, f.loc.ID, 500, "R6 pack"); err != nil {
		t.Fatal(err)
	}
	const total = r6Workers * r6Each
	var (
		received  sync.WaitGroup
		chargers  sync.WaitGroup
		recvDone  atomic.Bool
		calls     atomic.Int64
		charged   atomic.Int64
		dups      atomic.Int64
		errMu     sync.Mutex
		firstErrs []error
	)
	fail := func(err error) {
		errMu.Lock()
		defer errMu.Unlock()
		if len(firstErrs) < 5 {
			firstErrs = append(firstErrs, err)
		}
	}
	start := time.Now()
	for w := range r6Workers {
		received.Go(func() {
			for i := range r6Each {
				id := fmt.Sprintf("%s-in-%d-%d", f.tag, w, i)
				res, err := st.ReceiveSMS(ctx, models.InboundSMS{Provider: "vonage", ProviderMessageID: id,
					From: f.phone(w), To: f.number, Body: fmt.Sprintf("inbound %d", i)})
				switch {
				case err != nil:
					fail(fmt.Errorf("receive %s: %w", id, err))
				case res.Duplicate || res.Change == nil:
					fail(fmt.Errorf("receive %s: not stored: %+v", id, res))
				}
			}
		})
	}
	for range r6Workers {
		chargers.Go(func() {
			for {
				// Read before the call: a charge run that starts after every
				// message committed settles whatever is still pending.
				last := recvDone.Load()
				r, err := st.ChargeLocation(ctx, f.loc.ID)
				calls.Add(1)
				if err != nil {
					fail(fmt.Errorf("charge: %w", err))
					return
				}
				charged.Add(int64(r.Charged))
				dups.Add(int64(r.Duplicates))
				if last {
					return
				}
			}
		})
	}
	received.Wait()
	stored := time.Since(start)
	recvDone.Store(true)
	chargers.Wait()
	elapsed := time.Since(start)
	for _, err := range firstErrs {
		t.Error(err)
	}
	if t.Failed() {
		t.FailNow()
	}

	a, s := f.checkBooks(t)
	t.Logf("R6 inbound: %d SMS stored by %d goroutines in %s; %d ChargeLocation calls by %d goroutines charged %d (%d duplicates seen), all settled after %s",
		total, r6Workers, stored.Round(time.Millisecond), calls.Load(), r6Workers, charged.Load(), dups.Load(), elapsed.Round(time.Millisecond))
	t.Logf("R6 inbound: ledger %d entries (%d inbound charges, %d credits); plan_balance %d = sum(plan_delta) %d, purchased_balance %d = sum(purchased_delta) %d, used_inbound %d, pending %d",
		s.Entries, s.Inbound, s.InboundCredits, a.PlanBalance, s.Plan, a.PurchasedBalance, s.Purchased, a.UsedInbound, s.Pending)
	if s.Inbound != total || charged.Load() != total {
		t.Errorf("%d inbound charge entries, %d charged by the calls: want exactly %d", s.Inbound, charged.Load(), total)
	}
	if s.Pending != 0 {
		t.Errorf("%d charges still pending", s.Pending)
	}
	// Every message is one segment: 2 credits each.
	wantCredits := int64(total * models.CreditsPerSMSSegment)
	if s.InboundCredits != wantCredits || a.UsedInbound != wantCredits {
		t.Errorf("inbound credits: ledger %d, used_inbound %d, want %d", s.InboundCredits, a.UsedInbound, wantCredits)
	}
	// 1,000 plan + 500 purchased - 6,400: the purchase spent, the rest overage on the plan side.
	if a.PurchasedBalance != 0 || a.Balance() != 1500-wantCredits {
		t.Errorf("balance: plan %d purchased %d, want plan %d purchased 0", a.PlanBalance, a.PurchasedBalance, 1500-wantCredits)
	}
	if a.AlertLevel != 100 {
		t.Errorf("alert level %d, want 100", a.AlertLevel)
	}
	// Each threshold announced at most once: at most one credits:alert per level.
	var alerts int
	if err := st.DB().NewRaw(`SELECT count(*) FROM outbox WHERE task_type = 'credits:alert' AND (payload->>'location_id')::bigint = ?`,
		f.loc.ID).Scan(ctx, &alerts); err != nil {
		t.Fatal(err)
	}
	if alerts < 1 || alerts > 3 {
		t.Errorf("%d credits:alert tasks queued for three thresholds", alerts)
	}
}

// TestR6OutboundCharges: a location whose balance covers some hundreds of
// messages; 32 goroutines × 100 replies composed while the charge task
// runs, then every queued one claimed by 32 goroutines (the task still
// running): exactly as many charged as fit, the rest refused with
// "Insufficient credits" at compose or at claim, the balance never below
// 0 (outbound's overage floor), then refunds for charged messages the
// provider refused (each recorded twice, refunded once).
func TestR6OutboundCharges(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	f := newLedgerLoc(t, st, 1000, time.Now().Add(-time.Hour))
	// One conversation per goroutine (an inbound text opens it), charged
	// before the race so the starting balance is known.
	convs := make([]int64, r6Workers)
	for w := range r6Workers {
		convs[w] = f.receive(t, f.phone(w), "hello").Change.Conversation.ID
	}
	if _, err := st.ChargeLocation(ctx, f.loc.ID); err != nil {
		t.Fatal(err)
	}
	a0 := f.account(t)
	price := int64(models.CreditsPerSMSSegment)
	fit := a0.Balance() / price

	var (
		mu         sync.Mutex
		queued     []int64
		composeRef atomic.Int64
		errs       []error
	)
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if len(errs) < 5 {
			errs = append(errs, err)
		}
	}
	// chargeLoop runs the credits:charge task until stop is closed.
	chargeLoop := func(stop <-chan struct{}, wg *sync.WaitGroup) {
		for range 4 {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					if _, err := st.ChargeLocation(ctx, f.loc.ID); err != nil {
						fail(fmt.Errorf("charge: %w", err))
						return
					}
				}
			})
		}
	}

	start := time.Now()
	stop := make(chan struct{})
	var bg, replies sync.WaitGroup
	chargeLoop(stop, &bg)
	for w := range r6Workers {
		replies.Go(func() {
			for i := range r6Each {
				ch, err := st.Reply(ctx, f.admin, convs[w], fmt.Sprintf("reply %d-%d", w, i), false)
				var ice *models.InsufficientCreditsError
				switch {
				case errors.As(err, &ice):
					composeRef.Add(1)
					continue
				case err != nil:
					fail(fmt.Errorf("reply: %w", err))
					continue
				}
				id := int64(0)
				for _, ev := range ch.Events {
					if ev.Kind == models.EvMessage && ev.MessageID != nil {
						id = *ev.MessageID
					}
				}
				mu.Lock()
				queued = append(queued, id)
				mu.Unlock()
			}
		})
	}
	replies.Wait()
	composed := time.Since(start)

	// Claim every queued message, 32 at a time, the task still running.
	var (
		next     atomic.Int64
		claimed  []int64
		claimRef atomic.Int64
		claimers sync.WaitGroup
	)
	start = time.Now()
	for range r6Workers {
		claimers.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(queued) {
					return
				}
				out, _, err := st.ClaimSMS(ctx, queued[i])
				switch {
				case errors.Is(err, models.ErrNotSendable) && strings.Contains(err.Error(), models.ReasonInsufficientCredits):
					claimRef.Add(1)
				case err != nil:
					fail(fmt.Errorf("claim %d: %w", queued[i], err))
				default:
					mu.Lock()
					claimed = append(claimed, out.MessageID)
					mu.Unlock()
				}
			}
		})
	}
	claimers.Wait()
	close(stop)
	bg.Wait()
	claimTime := time.Since(start)
	for _, err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		t.FailNow()
	}
	a1, s1 := f.checkBooks(t)
	t.Logf("R6 outbound: balance %d covers %d messages at %d; %d replies by %d goroutines in %s: %d composed, %d refused at compose",
		a0.Balance(), fit, price, r6Workers*r6Each, r6Workers, composed.Round(time.Millisecond), len(queued), composeRef.Load())
	t.Logf("R6 outbound: %d claims in %s: %d claimed, %d refused at claim (Insufficient credits); %d outbound charge entries, balance %d, lowest running balance %d",
		len(queued), claimTime.Round(time.Millisecond), len(claimed), claimRef.Load(), s1.Outbound, a1.Balance(), s1.MinRunning)
	if int64(len(queued))+composeRef.Load() != r6Workers*r6Each {
		t.Errorf("%d composed + %d refused at compose != %d", len(queued), composeRef.Load(), r6Workers*r6Each)
	}
	want := min(fit, int64(len(queued)))
	if s1.Outbound != want || int64(len(claimed)) != want {
		t.Errorf("%d charged, %d claimed: want exactly the %d that fit", s1.Outbound, len(claimed), want)
	}
	if int64(len(claimed))+claimRef.Load() != int64(len(queued)) {
		t.Errorf("%d claimed + %d refused != %d queued", len(claimed), claimRef.Load(), len(queued))
	}
	if a1.Balance() < 0 || s1.MinRunning < 0 || a1.Balance() != a0.Balance()-want*price {
		t.Errorf("balance %d (lowest %d): want %d, never below 0", a1.Balance(), s1.MinRunning, a0.Balance()-want*price)
	}
	if s1.Pending != 0 {
		t.Errorf("%d charges still pending", s1.Pending)
	}
	var failedNoCredit int64
	if err := st.DB().NewRaw(`SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id
		WHERE c.org_id = ? AND m.status = ? AND starts_with(m.status_reason, ?)`, f.admin.OrgID, models.MsgFailed, models.ReasonInsufficientCredits).
		Scan(ctx, &failedNoCredit); err != nil {
		t.Fatal(err)
	}
	if failedNoCredit != claimRef.Load() {
		t.Errorf("%d messages failed for credits, %d claims refused", failedNoCredit, claimRef.Load())
	}

	// The provider refuses every tenth claimed message; the failure is
	// recorded twice, concurrently (a retried task): one refund each.
	var refused []int64
	var sends sync.WaitGroup
	for i, id := range claimed {
		if i%10 == 0 {
			refused = append(refused, id)
			for range 2 {
				sends.Go(func() {
					if _, err := st.RecordSendFailed(ctx, id, "Vonage: Invalid number"); err != nil {
						fail(fmt.Errorf("record failed %d: %w", id, err))
					}
				})
			}
			continue
		}
		sends.Go(func() {
			if _, err := st.RecordSent(ctx, id, "vonage", []string{fmt.Sprintf("%s-out-%d", f.tag, id)}); err != nil {
				fail(fmt.Errorf("record sent %d: %w", id, err))
			}
		})
	}
	sends.Wait()
	for _, err := range errs {
		t.Error(err)
	}
	a2, s2 := f.checkBooks(t)
	t.Logf("R6 outbound: %d refused by the provider (recorded twice each): %d refunds, %d credits back; balance %d, used_outbound %d",
		len(refused), s2.Refunds, s2.RefundCredits, a2.Balance(), a2.UsedOutbound)
	if s2.Refunds != int64(len(refused)) || s2.RefundCredits != int64(len(refused))*price {
		t.Errorf("%d refunds of %d credits for %d refused messages", s2.Refunds, s2.RefundCredits, len(refused))
	}
	if a2.Balance() != a1.Balance()+int64(len(refused))*price || a2.UsedOutbound != (want-int64(len(refused)))*price {
		t.Errorf("after refunds: balance %d used_outbound %d", a2.Balance(), a2.UsedOutbound)
	}
}
