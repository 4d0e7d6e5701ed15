package models

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// A location's credit account and the ledger entries that move it. Every
// write to a location's ledger holds its account row's lock (lockAccount)
// from before it reads the balance until it commits, so entries apply one
// at a time in order, and the balance always equals the ledger's sum.
//
// Lock order: a message row (when the caller holds one) before the
// account; the account before pending charges. Nothing that holds an
// account lock waits for a message or conversation row.

// CreditAccount is a location's balance and current plan period.
type CreditAccount struct {
	bun.BaseModel `bun:"table:credit_accounts"`

	LocationID       int64      `bun:"location_id,pk"`
	OrgID            int64      `bun:"org_id"`
	PlanBalance      int64      `bun:"plan_balance"`
	PurchasedBalance int64      `bun:"purchased_balance"`
	PeriodStart      *time.Time `bun:"period_start"`
	PeriodEnd        *time.Time `bun:"period_end"`
	UsedOutbound     int64      `bun:"used_outbound"`
	UsedInbound      int64      `bun:"used_inbound"`
	UsedForwarded    int64      `bun:"used_forwarded"`
	AlertLevel       int        `bun:"alert_level"`
	UpdatedAt        time.Time  `bun:"updated_at"`
}

// Balance is what the location has to spend: plan and purchased credits
// (negative in overage).
func (a *CreditAccount) Balance() int64 { return a.PlanBalance + a.PurchasedBalance }

// Used is this period's charges, all kinds.
func (a *CreditAccount) Used() int64 { return a.UsedOutbound + a.UsedInbound + a.UsedForwarded }

// LedgerEntry is one line of a location's ledger. Credits is PlanDelta +
// PurchasedDelta: negative for a charge, positive for a grant, a purchase
// or a refund.
type LedgerEntry struct {
	bun.BaseModel `bun:"table:credit_ledger"`

	ID             int64     `bun:"id,pk,autoincrement"`
	OrgID          int64     `bun:"org_id"`
	LocationID     int64     `bun:"location_id"`
	Kind           string    `bun:"kind"`
	IdemKey        string    `bun:"idem_key"`
	PlanDelta      int64     `bun:"plan_delta"`
	PurchasedDelta int64     `bun:"purchased_delta"`
	MessageID      *int64    `bun:"message_id"`
	ConversationID *int64    `bun:"conversation_id"`
	InboxID        *int64    `bun:"inbox_id"`
	Channel        *string   `bun:"channel"`
	UserID         *int64    `bun:"user_id"`
	Note           string    `bun:"note"`
	CreatedAt      time.Time `bun:"created_at,nullzero,default:now()"`
}

// Credits is the entry's effect on the balance.
func (e *LedgerEntry) Credits() int64 { return e.PlanDelta + e.PurchasedDelta }

// chargeKey is the idempotency key of a message's charge of a kind.
func chargeKey(msgID int64, kind string) string { return fmt.Sprintf("charge:%d:%s", msgID, kind) }

// refundKey is the idempotency key of a message's refund.
func refundKey(msgID int64) string { return fmt.Sprintf("refund:%d", msgID) }

// lockAccount locks a location's account for a ledger write.
func lockAccount(ctx context.Context, tx bun.Tx, locationID int64) (*CreditAccount, error) {
	a := new(CreditAccount)
	if err := tx.NewSelect().Model(a).Where("location_id = ?", locationID).For("UPDATE").Scan(ctx); err != nil {
		return nil, notFound("credit account", err)
	}
	return a, nil
}

// split takes a charge of credits from a: the plan's credits first, then
// purchased ones, and what neither covers as overage on the plan side. It
// returns the two (negative) deltas and applies them to a.
func (a *CreditAccount) split(credits int64) (plan, purchased int64) {
	fromPlan := min(credits, max(a.PlanBalance, 0))
	fromPurchased := min(credits-fromPlan, a.PurchasedBalance)
	plan, purchased = -(credits - fromPurchased), -fromPurchased
	a.PlanBalance += plan
	a.PurchasedBalance += purchased
	return plan, purchased
}

// addUsed counts a charge (or, negative, a refund) of kind in this
// period's usage.
func (a *CreditAccount) addUsed(kind string, credits int64) {
	switch kind {
	case ChargeInbound:
		a.UsedInbound += credits
	case ChargeForwarded:
		a.UsedForwarded += credits
	default:
		a.UsedOutbound += credits
	}
}

// appendLedger inserts entries (their accounts locked and already moved by
// the caller) in one statement. An idempotency key already in the ledger
// fails the statement: callers check for earlier entries under the lock,
// so a conflict here is a bug, and rolling back keeps the sum true.
func appendLedger(ctx context.Context, tx bun.Tx, entries []LedgerEntry) error {
	if len(entries) == 0 {
		return nil
	}
	if _, err := tx.NewInsert().Model(&entries).Exec(ctx); err != nil {
		return fmt.Errorf("append ledger: %w", err)
	}
	return nil
}

// saveAccount writes an account's balances, usage and alert level.
func saveAccount(ctx context.Context, tx bun.Tx, a *CreditAccount) error {
	_, err := tx.NewUpdate().Model(a).
		Column("plan_balance", "purchased_balance", "period_start", "period_end",
			"used_outbound", "used_inbound", "used_forwarded", "alert_level").
		Set("updated_at = now()").WherePK().Exec(ctx)
	if err != nil {
		return fmt.Errorf("save credit account: %w", err)
	}
	return nil
}

// existingKeys returns which of keys the ledger already holds.
func existingKeys(ctx context.Context, tx bun.Tx, keys []string) (map[string]bool, error) {
	have := map[string]bool{}
	if len(keys) == 0 {
		return have, nil
	}
	var found []string
	if err := tx.NewRaw("SELECT idem_key FROM credit_ledger WHERE idem_key = ANY(?)", pgdialect.Array(keys)).Scan(ctx, &found); err != nil {
		return nil, fmt.Errorf("ledger keys: %w", err)
	}
	for _, k := range found {
		have[k] = true
	}
	return have, nil
}
