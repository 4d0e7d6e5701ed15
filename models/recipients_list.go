package models

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"
)

// The recipients list's filter (a search and a group), shared by the
// Recipients page, GET /api/v1/recipients, the CSV export and "add
// everyone matching to a group", so the four always mean the same people.

// RecipientFilter narrows the recipients list: a search of name, email
// or phone ("" = everyone) and a group (0 = any).
type RecipientFilter struct {
	Query   string
	GroupID int64
}

// maxRecipientQuery is the longest search text (runes are bytes here:
// the pages and the API refuse more).
const maxRecipientQuery = 200

// check validates f: a search text the database can take, and a group
// of the scope's organization (else ErrNotFound).
func (f RecipientFilter) check(ctx context.Context, db bun.IDB, sc Scope) error {
	if err := checkText("q", "The search", f.Query); err != nil {
		return err
	}
	if len(f.Query) > maxRecipientQuery {
		return fieldErr("q", "The search is too long (at most %d characters).", maxRecipientQuery)
	}
	if f.GroupID == 0 {
		return nil
	}
	ok, err := db.NewSelect().Model((*Group)(nil)).Where("id = ? AND org_id = ?", f.GroupID, sc.OrgID).Exists(ctx)
	if err != nil {
		return fmt.Errorf("store: recipient filter: %w", err)
	}
	if !ok {
		return fmt.Errorf("store: recipient filter: group: %w", ErrNotFound)
	}
	return nil
}

// apply narrows a query over recipients AS a to those the scope may see
// and f matches (f checked first). It returns the column the list is
// keyed and ordered by, newest first: the recipient's id, read from the
// group's membership when filtered by one, so a group's page walks the
// membership's primary key (group_id, recipient_id) backwards and stops
// at the page's end whether the group holds ten people or 100,000.
func (f RecipientFilter) apply(q *bun.SelectQuery, sc Scope, a string) (*bun.SelectQuery, string) {
	q = visibleRecipients(q, sc, a)
	key := a + ".id"
	if f.GroupID != 0 {
		q = q.Join("JOIN group_members AS fgm ON fgm.recipient_id = "+a+".id").Where("fgm.group_id = ?", f.GroupID)
		key = "fgm.recipient_id"
	}
	if t := parseSearch(f.Query); t.Text != "" {
		q = q.Where(recipientSearchOn(a)+" LIKE lower(?)", t.likePattern())
	}
	return q, key
}

// RecipientsFiltered lists the recipients f matches that the scope may
// see, newest first, a page of limit (1 to 200, else 50) after the id
// after (0: the first page; pass the previous page's NextAfter). A group
// of another organization is ErrNotFound.
func (s *Store) RecipientsFiltered(ctx context.Context, sc Scope, f RecipientFilter, after int64, limit int) (*RecipientPage, error) {
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	if err := f.check(ctx, s.db, sc); err != nil {
		return nil, err
	}
	return s.recipientsPage(ctx, sc, f, after, limit)
}

// recipientsPage is RecipientsFiltered after the checks, any page size.
func (s *Store) recipientsPage(ctx context.Context, sc Scope, f RecipientFilter, after int64, limit int) (*RecipientPage, error) {
	page := &RecipientPage{}
	q, key := f.apply(s.db.NewSelect().Model(&page.Recipients), sc, "recipient")
	if after > 0 {
		q = q.Where(key+" < ?", after)
	}
	if err := q.OrderExpr(key + " DESC").Limit(int64(limit + 1)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: recipients: %w", err)
	}
	if len(page.Recipients) > limit {
		page.Recipients = page.Recipients[:limit]
		page.NextAfter = page.Recipients[limit-1].ID
	}
	return page, nil
}
