package models

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/uptrace/bun"
)

// Reading the ledger: a page at a time (GET /api/v1/credits/ledger) or the
// whole of a range as CSV (the Credits page's download, the API with
// Accept: text/csv), oldest first, keyset by (created_at, id).

// LedgerFilter narrows the ledger: one location (0: every location of the
// organization) and a time range, From inclusive and To exclusive (zero:
// open).
type LedgerFilter struct {
	LocationID int64
	From, To   time.Time
}

// LedgerCursor is a keyset position: the last entry of a page.
type LedgerCursor struct {
	At time.Time `json:"t"`
	ID int64     `json:"i"`
}

// LedgerPageMax is the most entries one page of the ledger holds.
const LedgerPageMax = 200

// ledgerQuery selects the scope's entries matching f, oldest first.
// With a location it reads the (location_id, created_at) index in order;
// without, the organization's locations' entries.
func (s *Store) ledgerQuery(ctx context.Context, sc Scope, f LedgerFilter) (*bun.SelectQuery, error) {
	if err := require(sc, PermViewCredits); err != nil {
		return nil, err
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.To.After(f.From) {
		return nil, fieldErr("to", "The end must come after the start.")
	}
	q := s.db.NewSelect().Model((*LedgerEntry)(nil)).OrderExpr("created_at, id")
	if f.LocationID != 0 {
		if _, err := s.UsageLocation(ctx, sc, f.LocationID); err != nil {
			return nil, err
		}
		q.Where("location_id = ?", f.LocationID)
	} else {
		q.Where("location_id IN (SELECT id FROM locations WHERE org_id = ?)", sc.OrgID)
	}
	q.Where("org_id = ?", sc.OrgID)
	if !f.From.IsZero() {
		q.Where("created_at >= ?", f.From)
	}
	if !f.To.IsZero() {
		q.Where("created_at < ?", f.To)
	}
	return q, nil
}

// Ledger returns up to limit entries matching f after the cursor (nil:
// from the first), oldest first, and the cursor of the next page (nil on
// the last). Managers and admins; another organization's location is
// ErrNotFound.
func (s *Store) Ledger(ctx context.Context, sc Scope, f LedgerFilter, after *LedgerCursor, limit int) ([]LedgerEntry, *LedgerCursor, error) {
	if limit < 1 || limit > LedgerPageMax {
		return nil, nil, fieldErr("limit", "From 1 to %d.", LedgerPageMax)
	}
	return s.ledgerPage(ctx, sc, f, after, limit)
}

// ledgerPage is Ledger without the page size's bound.
func (s *Store) ledgerPage(ctx context.Context, sc Scope, f LedgerFilter, after *LedgerCursor, limit int) ([]LedgerEntry, *LedgerCursor, error) {
	q, err := s.ledgerQuery(ctx, sc, f)
	if err != nil {
		return nil, nil, err
	}
	if after != nil {
		q.Where("(created_at, id) > (?, ?)", after.At, after.ID)
	}
	var rows []LedgerEntry
	if err := q.Limit(int64(limit+1)).Scan(ctx, &rows); err != nil {
		return nil, nil, fmt.Errorf("store: ledger: %w", err)
	}
	if len(rows) <= limit {
		return rows, nil, nil
	}
	rows = rows[:limit]
	last := rows[limit-1]
	return rows, &LedgerCursor{At: last.CreatedAt, ID: last.ID}, nil
}

// LedgerCSVHeader is the CSV's first line.
var LedgerCSVHeader = []string{"id", "created_at", "location_id", "kind", "credits", "plan_delta", "purchased_delta",
	"message_id", "conversation_id", "inbox_id", "channel", "user_id", "note"}

// ledgerCSVBatch is how many entries the CSV writer reads per query.
const ledgerCSVBatch = 2000

// CheckLedger validates a ledger read before anything is written: the
// scope's permission, the location and the range (the errors Ledger and
// WriteLedgerCSV would return).
func (s *Store) CheckLedger(ctx context.Context, sc Scope, f LedgerFilter) error {
	_, err := s.ledgerQuery(ctx, sc, f)
	return err
}

// WriteLedgerCSV writes every entry matching f to w as CSV (a header line,
// then oldest first), reading the ledger in keyset batches so neither the
// database nor memory holds the whole range at once. It returns how many
// entries it wrote.
func (s *Store) WriteLedgerCSV(ctx context.Context, sc Scope, f LedgerFilter, w io.Writer) (int, error) {
	cw := csv.NewWriter(w)
	if err := s.CheckLedger(ctx, sc, f); err != nil {
		return 0, err
	}
	if err := cw.Write(LedgerCSVHeader); err != nil {
		return 0, fmt.Errorf("store: ledger csv: %w", err)
	}
	n := 0
	var after *LedgerCursor
	for {
		rows, next, err := s.ledgerPage(ctx, sc, f, after, ledgerCSVBatch)
		if err != nil {
			return n, err
		}
		for i := range rows {
			if err := cw.Write(ledgerCSVRecord(&rows[i])); err != nil {
				return n, fmt.Errorf("store: ledger csv: %w", err)
			}
			n++
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return n, fmt.Errorf("store: ledger csv: %w", err)
		}
		if next == nil {
			return n, nil
		}
		after = next
	}
}

// ledgerCSVRecord is one entry as a CSV line (empty cells for what it
// does not have).
func ledgerCSVRecord(e *LedgerEntry) []string {
	opt := func(p *int64) string {
		if p == nil {
			return ""
		}
		return strconv.FormatInt(*p, 10)
	}
	ch := ""
	if e.Channel != nil {
		ch = *e.Channel
	}
	return []string{strconv.FormatInt(e.ID, 10), e.CreatedAt.UTC().Format(time.RFC3339), strconv.FormatInt(e.LocationID, 10),
		e.Kind, strconv.FormatInt(e.Credits(), 10), strconv.FormatInt(e.PlanDelta, 10), strconv.FormatInt(e.PurchasedDelta, 10),
		opt(e.MessageID), opt(e.ConversationID), opt(e.InboxID), ch, opt(e.UserID), CSVSafe(e.Note)}
}
