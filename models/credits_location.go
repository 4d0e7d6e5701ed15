package models

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// A location's credits as its settings page and the API show them: the
// account (balance and current period) and the purchases made.

// LocationAccount returns a location's credit account (managers and
// admins); another organization's location is ErrNotFound.
func (s *Store) LocationAccount(ctx context.Context, sc Scope, locationID int64) (*CreditAccount, error) {
	if err := require(sc, PermViewCredits); err != nil {
		return nil, err
	}
	a := new(CreditAccount)
	// In the transaction of Idempotent when there is one: the balance
	// after a purchase made in it.
	err := s.inTx(ctx, func(tx bun.Tx) error {
		if err := tx.NewSelect().Model(a).Where("location_id = ? AND org_id = ?", locationID, sc.OrgID).Scan(ctx); err != nil {
			return notFound("credit account", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// LocationBalances returns the balances of the organization's locations
// in ids (managers and admins).
func (s *Store) LocationBalances(ctx context.Context, sc Scope, ids []int64) (map[int64]int64, error) {
	if err := require(sc, PermViewCredits); err != nil {
		return nil, err
	}
	var rows []struct {
		LocationID int64 `bun:"location_id"`
		Balance    int64 `bun:"balance"`
	}
	err := s.db.NewRaw(`SELECT location_id, plan_balance + purchased_balance AS balance FROM credit_accounts
		WHERE org_id = ? AND location_id = ANY(?)`, sc.OrgID, pgdialect.Array(ids)).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("store: location balances: %w", err)
	}
	out := make(map[int64]int64, len(rows))
	for _, r := range rows {
		out[r.LocationID] = r.Balance
	}
	return out, nil
}

// Purchase is one purchase of credits and who made it.
type Purchase struct {
	ID        int64     `bun:"id"`
	Credits   int64     `bun:"credits"`
	Note      string    `bun:"note"`
	UserName  *string   `bun:"user_name"` // nil: made by the system or a user since removed
	CreatedAt time.Time `bun:"created_at"`
}

// RecentPurchases lists a location's latest purchases of credits, newest
// first, at most limit (managers and admins).
func (s *Store) RecentPurchases(ctx context.Context, sc Scope, locationID int64, limit int) ([]Purchase, error) {
	if err := require(sc, PermViewCredits); err != nil {
		return nil, err
	}
	var out []Purchase
	err := s.db.NewRaw(`SELECT e.id, e.plan_delta + e.purchased_delta AS credits, e.note, u.name AS user_name, e.created_at
		FROM credit_ledger e LEFT JOIN users u ON u.id = e.user_id
		WHERE e.location_id = ? AND e.org_id = ? AND e.kind = ?
		ORDER BY e.created_at DESC, e.id DESC LIMIT ?`, locationID, sc.OrgID, LedgerPurchase, limit).Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("store: recent purchases: %w", err)
	}
	return out, nil
}
