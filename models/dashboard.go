package models

import (
	"context"
	"fmt"
)

// Dashboard is the landing page's figures, within one scope.
type Dashboard struct {
	New, Open, Unassigned, Mine int
	Recipients                  int
	Locations                   []LocationSummary
}

// LocationSummary is one location with its inboxes, as the dashboard shows it.
type LocationSummary struct {
	Location
	Inboxes []Inbox
}

// Dashboard computes the landing page's figures for a scope.
func (s *Store) Dashboard(ctx context.Context, sc Scope) (*Dashboard, error) {
	d := &Dashboard{}
	q := s.db.NewSelect().Table("conversations").
		ColumnExpr("count(*) FILTER (WHERE status = 'new') AS new").
		ColumnExpr("count(*) FILTER (WHERE status = 'open') AS open").
		ColumnExpr("count(*) FILTER (WHERE status <> 'closed' AND assignee_id IS NULL) AS unassigned").
		ColumnExpr("count(*) FILTER (WHERE status <> 'closed' AND assignee_id = ?) AS mine", sc.UserID).
		Where("org_id = ?", sc.OrgID)
	q = visibleInboxes(q, sc, "inbox_id")
	if err := q.Scan(ctx, &d.New, &d.Open, &d.Unassigned, &d.Mine); err != nil {
		return nil, fmt.Errorf("store: dashboard counts: %w", err)
	}
	n, err := s.db.NewSelect().Model((*Recipient)(nil)).Where("org_id = ?", sc.OrgID).Count(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: dashboard recipients: %w", err)
	}
	d.Recipients = int(n)
	locs, err := s.Locations(ctx, sc)
	if err != nil {
		return nil, err
	}
	d.Locations = Unarchived(locs)
	return d, nil
}

// Unarchived keeps the locations and inboxes in use: an archived one stays
// in Settings and in its conversations' history, but not on the dashboard
// or the Credits page.
func Unarchived(locs []LocationSummary) []LocationSummary {
	out := make([]LocationSummary, 0, len(locs))
	for _, l := range locs {
		if l.ArchivedAt != nil {
			continue
		}
		inboxes := make([]Inbox, 0, len(l.Inboxes))
		for _, ib := range l.Inboxes {
			if ib.ArchivedAt == nil {
				inboxes = append(inboxes, ib)
			}
		}
		l.Inboxes = inboxes
		out = append(out, l)
	}
	return out
}

// Locations lists the organization's locations with the inboxes the scope may see.
func (s *Store) Locations(ctx context.Context, sc Scope) ([]LocationSummary, error) {
	// Cached prepared statements: the Chats page and the dashboard ask on
	// every request (BENCHMARKS.md, B6).
	var locs []Location
	rows, err := queryCached(ctx, s.db.DB, `SELECT * FROM locations WHERE org_id = $1 ORDER BY name, id`, sc.OrgID)
	if err == nil {
		err = s.db.ScanRows(ctx, rows, &locs)
	}
	if err != nil {
		return nil, fmt.Errorf("store: locations: %w", err)
	}
	var inboxes []Inbox
	q, args := `SELECT * FROM inboxes WHERE org_id = $1`, []any{sc.OrgID}
	if !sc.AllInboxes() {
		q, args = q+` AND id = ANY($2::bigint[])`, append(args, sc.InboxIDs)
	}
	rows, err = queryCached(ctx, s.db.DB, q+` ORDER BY name, id`, args...)
	if err == nil {
		err = s.db.ScanRows(ctx, rows, &inboxes)
	}
	if err != nil {
		return nil, fmt.Errorf("store: inboxes: %w", err)
	}
	out := make([]LocationSummary, len(locs))
	for i, l := range locs {
		out[i].Location = l
		for _, in := range inboxes {
			if in.LocationID == l.ID {
				out[i].Inboxes = append(out[i].Inboxes, in)
			}
		}
	}
	return out, nil
}

// Users lists the organization's users, by name.
func (s *Store) Users(ctx context.Context, sc Scope) ([]User, error) {
	var users []User
	if err := s.db.NewSelect().Model(&users).Where("org_id = ?", sc.OrgID).Order("name", "id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: users: %w", err)
	}
	return users, nil
}

// Organization loads the scope's organization.
func (s *Store) Organization(ctx context.Context, sc Scope) (*Organization, error) {
	o := new(Organization)
	if err := s.db.NewSelect().Model(o).Where("id = ?", sc.OrgID).Scan(ctx); err != nil {
		return nil, notFound("organization", err)
	}
	return o, nil
}
