package models

import (
	"context"
	"fmt"

	"github.com/parley-chat/parley/jobs/task"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// Charging. A stored message's charge is written as a credit_pending row
// in the message's own transaction, with a credits:charge outbox row for
// its location. The task (ChargeLocation) moves a location's pending
// charges into the ledger in batches, under the account's lock, each once:
// the ledger's key is per (message, kind), and a pending row is deleted in
// the transaction that settles it.
//
// Inbound, forwarded and compliance messages are always charged, into
// overage if need be. An outbound message is charged when the balance
// covers it; one that does not fit stays pending until its send, where
// the claim decides it for good (settleSend): charged, or failed with
// "Insufficient credits". An outbound message that fails before it went
// out is never charged, or is refunded (refundUnsent).

// chargeBatch is how many pending charges one transaction settles.
const chargeBatch = 1000

// pendingCharge is a charge waiting for the task, with what the ledger
// entry records of its message.
type pendingCharge struct {
	MessageID      int64   `bun:"message_id"`
	Kind           string  `bun:"kind"`
	OrgID          int64   `bun:"org_id"`
	LocationID     int64   `bun:"location_id"`
	Credits        int64   `bun:"credits"`
	Status         *string `bun:"status"` // the message's; nil when it is gone
	Compliance     bool    `bun:"compliance"`
	ConversationID *int64  `bun:"conversation_id"`
	InboxID        *int64  `bun:"inbox_id"`
	Channel        *string `bun:"channel"`
}

const pendingChargeColumns = `p.message_id, p.kind, p.org_id, p.location_id, p.credits,
	m.status, coalesce(m.compliance, false) AS compliance, m.conversation_id, c.inbox_id, m.channel
	FROM credit_pending p LEFT JOIN messages m ON m.id = p.message_id LEFT JOIN conversations c ON c.id = m.conversation_id`

// ChargeReport is what one ChargeLocation call did.
type ChargeReport struct {
	Charged    int // new ledger entries
	Credits    int64
	Dropped    int // outbound messages that failed before being charged
	Waiting    int // outbound charges the balance does not cover yet
	Balance    int64
	Alerts     []int // usage thresholds crossed (80, 95, 100)
	Duplicates int   // charges already in the ledger (a retried task)
}

// ChargeLocation settles a location's pending charges, a batch per
// transaction, until none is left that can be settled now. It is the
// credits:charge task; running it again, or concurrently, charges
// nothing twice.
func (s *Store) ChargeLocation(ctx context.Context, locationID int64) (ChargeReport, error) {
	var total ChargeReport
	for {
		var r ChargeReport
		var more bool
		err := s.inTx(ctx, func(tx bun.Tx) error {
			a, err := lockAccount(ctx, tx, locationID)
			if err != nil {
				return err
			}
			var rows []pendingCharge
			if err := tx.NewRaw(`SELECT `+pendingChargeColumns+`
				WHERE p.location_id = ? ORDER BY p.message_id, p.kind LIMIT ?`, locationID, chargeBatch+total.Waiting).Scan(ctx, &rows); err != nil {
				return fmt.Errorf("pending charges: %w", err)
			}
			more = len(rows) == chargeBatch+total.Waiting
			r, err = settle(ctx, tx, a, rows)
			return err
		})
		if err != nil {
			return total, fmt.Errorf("store: charge location %d: %w", locationID, err)
		}
		total.Charged += r.Charged
		total.Credits += r.Credits
		total.Dropped += r.Dropped
		total.Duplicates += r.Duplicates
		total.Waiting = r.Waiting
		total.Balance = r.Balance
		total.Alerts = append(total.Alerts, r.Alerts...)
		if !more || r.Charged+r.Dropped+r.Duplicates == 0 {
			return total, nil
		}
	}
}

// settle applies rows (pending charges of a's location, in order) to the
// locked account a: each is charged, dropped, or left waiting (an
// outbound message the balance does not cover, still queued).
func settle(ctx context.Context, tx bun.Tx, a *CreditAccount, rows []pendingCharge) (ChargeReport, error) {
	var r ChargeReport
	keys := make([]string, len(rows))
	for i, p := range rows {
		keys[i] = chargeKey(p.MessageID, p.Kind)
	}
	have, err := existingKeys(ctx, tx, keys)
	if err != nil {
		return r, err
	}
	var entries []LedgerEntry
	var doneIDs []int64
	var doneKinds []string
	for i, p := range rows {
		switch {
		case have[keys[i]]:
			r.Duplicates++
		case p.Kind == ChargeOutbound && (p.Status == nil || *p.Status == MsgFailed):
			r.Dropped++ // failed before it was charged (refundUnsent drops these too)
		case p.Kind == ChargeOutbound && !p.Compliance && p.Status != nil && *p.Status == MsgQueued && a.Balance() < p.Credits:
			r.Waiting++ // its send decides (settleSend)
			continue
		default:
			plan, purchased := a.split(p.Credits)
			a.addUsed(p.Kind, p.Credits)
			mid := p.MessageID
			entries = append(entries, LedgerEntry{OrgID: p.OrgID, LocationID: p.LocationID, Kind: p.Kind, IdemKey: keys[i],
				PlanDelta: plan, PurchasedDelta: purchased, MessageID: &mid, ConversationID: p.ConversationID,
				InboxID: p.InboxID, Channel: p.Channel})
			r.Charged++
			r.Credits += p.Credits
		}
		doneIDs, doneKinds = append(doneIDs, p.MessageID), append(doneKinds, p.Kind)
	}
	if err := appendLedger(ctx, tx, entries); err != nil {
		return r, err
	}
	if len(doneIDs) > 0 {
		if _, err := tx.NewRaw(`DELETE FROM credit_pending p USING unnest(?::bigint[], ?::text[]) AS d(id, kind)
			WHERE p.message_id = d.id AND p.kind = d.kind`, pgdialect.Array(doneIDs), pgdialect.Array(doneKinds)).Exec(ctx); err != nil {
			return r, fmt.Errorf("settle pending charges: %w", err)
		}
	}
	if len(entries) > 0 {
		alerts, err := checkAlerts(ctx, tx, a)
		if err != nil {
			return r, err
		}
		r.Alerts = alerts
		if err := saveAccount(ctx, tx, a); err != nil {
			return r, err
		}
	}
	r.Balance = a.Balance()
	return r, nil
}

// settleSend decides a claimed outbound message's charge in the claim's
// transaction (the message row locked): if the credits:charge task has
// not charged it yet, it is charged now if the balance covers it (or it
// is a compliance message). When it does not fit it returns the reason to
// fail the message with (the caller drops the pending charge with it).
func settleSend(ctx context.Context, tx bun.Tx, msgID int64) (refused string, err error) {
	var rows []pendingCharge
	if err := tx.NewRaw(`SELECT `+pendingChargeColumns+` WHERE p.message_id = ? AND p.kind = ?`, msgID, ChargeOutbound).Scan(ctx, &rows); err != nil {
		return "", fmt.Errorf("pending charge: %w", err)
	}
	if len(rows) == 0 {
		return "", nil // charged already (or free)
	}
	a, err := lockAccount(ctx, tx, rows[0].LocationID)
	if err != nil {
		return "", err
	}
	// Read again under the account's lock: the task may have settled it
	// meanwhile.
	rows = rows[:0]
	if err := tx.NewRaw(`SELECT `+pendingChargeColumns+` WHERE p.message_id = ? AND p.kind = ?`, msgID, ChargeOutbound).Scan(ctx, &rows); err != nil {
		return "", fmt.Errorf("pending charge: %w", err)
	}
	if len(rows) == 0 {
		return "", nil
	}
	r, err := settle(ctx, tx, a, rows)
	if err != nil || r.Waiting == 0 {
		return "", err
	}
	return fmt.Sprintf("%s: it needs %d, the balance is %d", ReasonInsufficientCredits, rows[0].Credits, a.Balance()), nil
}

// dropOrRefund undoes the charges of outbound messages that failed before
// they went out: a pending charge is dropped, a settled one refunded by a
// compensating entry (once: its key is per message). Each account is
// locked first, as every ledger writer does.
func dropOrRefund(ctx context.Context, tx bun.Tx, msgIDs []int64) error {
	if len(msgIDs) == 0 {
		return nil
	}
	var locs []int64
	if err := tx.NewRaw(`SELECT DISTINCT location_id FROM (
			SELECT location_id FROM credit_pending WHERE message_id = ANY(?0) AND kind = ?1
			UNION ALL SELECT location_id FROM credit_ledger WHERE message_id = ANY(?0) AND kind = ?1) AS x
		ORDER BY location_id`, pgdialect.Array(msgIDs), ChargeOutbound).Scan(ctx, &locs); err != nil {
		return fmt.Errorf("charges to undo: %w", err)
	}
	for _, loc := range locs {
		a, err := lockAccount(ctx, tx, loc)
		if err != nil {
			return err
		}
		if _, err := tx.NewRaw(`DELETE FROM credit_pending WHERE message_id = ANY(?) AND kind = ? AND location_id = ?`,
			pgdialect.Array(msgIDs), ChargeOutbound, loc).Exec(ctx); err != nil {
			return fmt.Errorf("drop pending charges: %w", err)
		}
		// this_period: charged after the account's last period grant,
		// which reset the usage counters; a charge from before it is not
		// in this period's usage, so its refund does not come off it.
		var charges []struct {
			LedgerEntry
			ThisPeriod bool `bun:"this_period"`
		}
		if err := tx.NewRaw(`SELECT c.*, c.id > coalesce((SELECT max(g.id) FROM credit_ledger g
				WHERE g.location_id = c.location_id AND g.kind = ?), 0) AS this_period
			FROM credit_ledger c WHERE c.message_id = ANY(?) AND c.kind = ? AND c.location_id = ?
			AND NOT EXISTS (SELECT 1 FROM credit_ledger r WHERE r.idem_key = 'refund:' || c.message_id) ORDER BY c.id`,
			LedgerPeriod, pgdialect.Array(msgIDs), ChargeOutbound, loc).Scan(ctx, &charges); err != nil {
			return fmt.Errorf("charges to refund: %w", err)
		}
		if len(charges) == 0 {
			continue
		}
		refunds := make([]LedgerEntry, len(charges))
		for i, c := range charges {
			a.PlanBalance -= c.PlanDelta
			a.PurchasedBalance -= c.PurchasedDelta
			if c.ThisPeriod {
				a.addUsed(ChargeOutbound, c.Credits())
			}
			refunds[i] = LedgerEntry{OrgID: c.OrgID, LocationID: c.LocationID, Kind: LedgerRefund, IdemKey: refundKey(*c.MessageID),
				PlanDelta: -c.PlanDelta, PurchasedDelta: -c.PurchasedDelta, MessageID: c.MessageID,
				ConversationID: c.ConversationID, InboxID: c.InboxID, Channel: c.Channel, Note: "not sent"}
		}
		if err := appendLedger(ctx, tx, refunds); err != nil {
			return err
		}
		if err := saveAccount(ctx, tx, a); err != nil {
			return err
		}
	}
	return nil
}

// queueWithCharge writes a stored message's pending charge, the
// credits:charge task for its location and the message's own tasks (its
// send), in one statement in the message's transaction. The charge's
// entry comes first, so the relay hands it to the queue ahead of the send
// and the send's claim usually finds the charge settled.
func queueWithCharge(ctx context.Context, tx bun.Tx, m *Message, kind string, locationID int64, specs ...task.Spec) error {
	specs = append([]task.Spec{task.NewCreditsCharge(locationID)}, specs...)
	orgs, types, queues, payloads, err := outboxArrays(m.OrgID, specs)
	if err != nil {
		return err
	}
	if _, err := execCached(ctx, tx.Tx, queueWithChargeQuery, m.ID, kind, m.OrgID, locationID, m.CreditsCharged,
		orgs, types, queues, payloads); err != nil {
		return fmt.Errorf("queue with charge: %w", err)
	}
	return nil
}

const queueWithChargeQuery = `WITH p AS (INSERT INTO credit_pending (message_id, kind, org_id, location_id, credits)
		VALUES ($1::bigint, $2::text, $3::bigint, $4::bigint, $5::int))
	INSERT INTO outbox (org_id, task_type, queue, payload)
	SELECT o, t, q, p FROM unnest($6::bigint[], $7::text[], $8::text[], $9::jsonb[]) WITH ORDINALITY AS x(o, t, q, p, n) ORDER BY n`

// Usage alert thresholds, in percent of the plan's credits used this period.
var alertLevels = []int{80, 95, 100}

// checkAlerts raises a's alert level when this period's usage crossed a
// threshold it had not, and queues the alert (credits:alert) for the
// highest one crossed: each threshold is announced at most once a period.
func checkAlerts(ctx context.Context, tx bun.Tx, a *CreditAccount) ([]int, error) {
	var planCredits int64
	if err := tx.NewRaw("SELECT plan_credits FROM locations WHERE id = ?", a.LocationID).Scan(ctx, &planCredits); err != nil {
		return nil, fmt.Errorf("plan credits: %w", err)
	}
	level := usageLevel(a.Used(), planCredits)
	if level <= a.AlertLevel {
		return nil, nil
	}
	var crossed []int
	for _, l := range alertLevels {
		if l > a.AlertLevel && l <= level {
			crossed = append(crossed, l)
		}
	}
	a.AlertLevel = level
	var start int64
	if a.PeriodStart != nil {
		start = a.PeriodStart.Unix()
	}
	if err := insertOutbox(ctx, tx, a.OrgID, task.NewCreditsAlert(a.LocationID, level, start)); err != nil {
		return nil, err
	}
	return crossed, nil
}

// usageLevel is the highest alert threshold used reaches of planCredits
// (0 when none, or when the plan has no credits).
func usageLevel(used, planCredits int64) int {
	level := 0
	if planCredits <= 0 {
		return 0
	}
	for _, l := range alertLevels {
		if used*100 >= int64(l)*planCredits {
			level = l
		}
	}
	return level
}
