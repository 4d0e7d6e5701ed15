package models

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/uptrace/bun/dialect/pgdialect"
)

// Exporting recipients: everyone a search or group matches (the recipients
// list's filter), as CSV, newest first, read in keyset batches so neither
// the database nor memory holds the whole list at once.

// RecipientsCSVHeader is the export's first line.
var RecipientsCSVHeader = []string{"id", "name", "phone", "email", "sms_opted_out", "email_opted_out", "groups", "created_at"}

// recipientsCSVBatch is how many recipients the export reads per query.
const recipientsCSVBatch = 2000

// CheckRecipientFilter validates a filter before anything is written (the
// error WriteRecipientsCSV would return first): a bad search is a
// FieldError on "q", another organization's group ErrNotFound.
func (s *Store) CheckRecipientFilter(ctx context.Context, sc Scope, f RecipientFilter) error {
	return f.check(ctx, s.db, sc)
}

// WriteRecipientsCSV writes everyone f matches that the scope may see to
// w as CSV and returns how many it wrote. Text cells are CSV-injection
// safe (CSVSafe); groups are the recipient's group names, "; " between.
func (s *Store) WriteRecipientsCSV(ctx context.Context, sc Scope, f RecipientFilter, w io.Writer) (int, error) {
	if err := f.check(ctx, s.db, sc); err != nil {
		return 0, err
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(RecipientsCSVHeader); err != nil {
		return 0, fmt.Errorf("store: recipients csv: %w", err)
	}
	n := 0
	var after int64
	for {
		page, err := s.recipientsPage(ctx, sc, f, after, recipientsCSVBatch)
		if err != nil {
			return n, err
		}
		groups, err := s.groupNamesOf(ctx, sc.OrgID, page.Recipients)
		if err != nil {
			return n, err
		}
		for i := range page.Recipients {
			r := &page.Recipients[i]
			if err := cw.Write(recipientCSVRecord(r, groups[r.ID])); err != nil {
				return n, fmt.Errorf("store: recipients csv: %w", err)
			}
			n++
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return n, fmt.Errorf("store: recipients csv: %w", err)
		}
		if page.NextAfter == 0 {
			return n, nil
		}
		after = page.NextAfter
	}
}

// groupNamesOf returns each recipient's group names (by name, "; "
// between), for those in any group.
func (s *Store) groupNamesOf(ctx context.Context, orgID int64, rs []Recipient) (map[int64]string, error) {
	out := make(map[int64]string)
	if len(rs) == 0 {
		return out, nil
	}
	ids := make([]int64, len(rs))
	for i := range rs {
		ids[i] = rs[i].ID
	}
	var rows []struct {
		RecipientID int64  `bun:"recipient_id"`
		Names       string `bun:"names"`
	}
	err := s.db.NewSelect().TableExpr("group_members AS gm").Join("JOIN groups AS g ON g.id = gm.group_id").
		ColumnExpr("gm.recipient_id").ColumnExpr("string_agg(g.name, '; ' ORDER BY lower(g.name), g.id) AS names").
		Where("gm.org_id = ? AND gm.recipient_id = ANY(?)", orgID, pgdialect.Array(ids)).
		GroupExpr("gm.recipient_id").Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("store: recipients' groups: %w", err)
	}
	for _, r := range rows {
		out[r.RecipientID] = r.Names
	}
	return out, nil
}

// recipientCSVRecord is one recipient as a CSV line.
func recipientCSVRecord(r *Recipient, groups string) []string {
	opt := func(p *string) string {
		if p == nil {
			return ""
		}
		return CSVSafe(*p)
	}
	return []string{strconv.FormatInt(r.ID, 10), CSVSafe(r.Name), opt(r.Phone), opt(r.Email),
		strconv.FormatBool(r.SMSOptedOutAt != nil), strconv.FormatBool(r.EmailOptedOutAt != nil),
		CSVSafe(groups), r.CreatedAt.UTC().Format(time.RFC3339)}
}
