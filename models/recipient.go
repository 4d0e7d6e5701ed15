package models

import (
	"context"
	"fmt"
	"strings"
)

// RecipientPage is one page of a recipient listing.
type RecipientPage struct {
	Recipients []Recipient
	Total      int
	// NextAfter is the id to pass as after for the next page; 0 at the end.
	NextAfter int64
}

// escapeLike quotes LIKE's wildcards so a search for "50%" means the text "50%".
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// Recipients lists the organization's recipients, newest first, optionally
// filtered by a substring of name, email or phone (one trigram index serves
// all three). Keyset pagination: pass the previous page's NextAfter.
func (s *Store) Recipients(ctx context.Context, sc Scope, query string, after int64, limit int) (*RecipientPage, error) {
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	page := &RecipientPage{}
	q := s.db.NewSelect().Model(&page.Recipients).Where("org_id = ?", sc.OrgID)
	if query = strings.TrimSpace(query); query != "" {
		q = q.Where("(name || ' ' || coalesce(email, '') || ' ' || coalesce(phone, '')) ILIKE ?", "%"+escapeLike(query)+"%")
	}
	total, err := q.Count(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: count recipients: %w", err)
	}
	page.Total = int(total)
	if after > 0 {
		q = q.Where("id < ?", after)
	}
	if err := q.Order("id DESC").Limit(int64(limit + 1)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: recipients: %w", err)
	}
	if len(page.Recipients) > limit {
		page.Recipients = page.Recipients[:limit]
		page.NextAfter = page.Recipients[limit-1].ID
	}
	return page, nil
}
