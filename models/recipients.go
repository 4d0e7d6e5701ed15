package models

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// Recipients: the people an organization serves, found by phone or email.

// Recipient is a person an organization serves.
type Recipient struct {
	bun.BaseModel `bun:"table:recipients"`

	ID              int64      `bun:"id,pk,autoincrement"`
	OrgID           int64      `bun:"org_id"`
	Name            string     `bun:"name"`
	Phone           *string    `bun:"phone"`
	Email           *string    `bun:"email"`
	SMSOptedOutAt   *time.Time `bun:"sms_opted_out_at"`
	EmailOptedOutAt *time.Time `bun:"email_opted_out_at"`
	// Notes the team keeps about the person.
	Notes     string    `bun:"notes"`
	CreatedAt time.Time `bun:"created_at,nullzero,default:now()"`
	UpdatedAt time.Time `bun:"updated_at,nullzero,default:now()"`
}

// findOrCreateRecipient returns the organization's recipient with this
// phone (or email), creating it if new. Concurrent callers get one row.
func findOrCreateRecipient(ctx context.Context, tx bun.Tx, orgID int64, phone, email string) (*Recipient, error) {
	col, addr := "phone", phone
	if phone == "" {
		col, addr = "email", email
	}
	// DO NOTHING, then a read in a new statement (which sees a row another
	// transaction created meanwhile): a no-op DO UPDATE would lock the
	// existing row in the strongest mode and order this transaction before
	// the inbound core's, which locks the conversation first (a deadlock
	// with a STOP arriving as the chat starts).
	r := &Recipient{OrgID: orgID}
	if col == "phone" {
		r.Phone = &addr
	} else {
		r.Email = &addr
	}
	res, err := tx.NewInsert().Model(r).On("CONFLICT (org_id, ?) WHERE ? IS NOT NULL DO NOTHING", bun.Ident(col), bun.Ident(col)).
		Returning("*").Exec(ctx)
	if err != nil {
		return nil, fmt.Errorf("find or create recipient: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return r, nil
	}
	r = new(Recipient)
	if err := tx.NewSelect().Model(r).Where("org_id = ? AND ? = ?", orgID, bun.Ident(col), addr).Scan(ctx); err != nil {
		return nil, fmt.Errorf("find recipient: %w", err)
	}
	return r, nil
}

// RecipientPage is one page of a recipient listing. It is not counted:
// counting every match cost 21 ms a view at 100,000 recipients. The page
// reads one row more than it lists, so NextAfter tells "more than these".
type RecipientPage struct {
	Recipients []Recipient
	// NextAfter is the id to pass as after for the next page; 0 at the end.
	NextAfter int64
}

// Recipients lists the organization's recipients, newest first, optionally
// filtered by a substring of name, email or phone (one trigram index serves
// all three; a phone-like query matches the number's digits however it is
// typed). Keyset pagination: pass the previous page's NextAfter.
func (s *Store) Recipients(ctx context.Context, sc Scope, query string, after int64, limit int) (*RecipientPage, error) {
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	page := &RecipientPage{}
	q := visibleRecipients(s.db.NewSelect().Model(&page.Recipients), sc, "recipient")
	if t := parseSearch(query); t.Text != "" {
		q = q.Where(recipientSearchOn("recipient")+" ILIKE ?", t.likePattern())
	}
	if after > 0 {
		q = q.Where("recipient.id < ?", after)
	}
	if err := q.Order("recipient.id DESC").Limit(int64(limit + 1)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: recipients: %w", err)
	}
	if len(page.Recipients) > limit {
		page.Recipients = page.Recipients[:limit]
		page.NextAfter = page.Recipients[limit-1].ID
	}
	return page, nil
}
