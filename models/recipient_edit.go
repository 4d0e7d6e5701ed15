package models

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// Recipient basics: naming and editing a recipient, creating and deleting
// one, and who may see which. Every agent may edit (PermEditRecipients); an
// agent limited to chosen inboxes sees only the recipients who have a
// conversation in one of them (R9: anyone else is "not found").

// RecipientInput is a recipient's editable fields. A nil field is left as
// it is (an API PATCH); the page's form sends all four.
type RecipientInput struct {
	Name  *string
	Phone *string // typed as the person likes; stored in E.164
	Email *string
	Notes *string
}

// Limits of a recipient's free text (the table's checks).
const (
	maxRecipientName  = 200
	maxRecipientNotes = 5000
)

// visibleRecipients restricts a query over recipients (alias a) to those
// the scope may see: the organization's, and for a limited agent only
// those with a conversation in one of its inboxes.
func visibleRecipients(q *bun.SelectQuery, sc Scope, a string) *bun.SelectQuery {
	q = q.Where(a+".org_id = ?", sc.OrgID)
	if sc.AllInboxes() {
		return q
	}
	return q.Where("EXISTS (SELECT 1 FROM conversations AS vc WHERE vc.recipient_id = "+a+".id AND vc.inbox_id = ANY(?))",
		pgdialect.Array(sc.InboxIDs))
}

// RecipientByID loads a recipient the scope may see, else ErrNotFound.
func (s *Store) RecipientByID(ctx context.Context, sc Scope, id int64) (*Recipient, error) {
	return recipientInScope(ctx, s.db, sc, id, false)
}

func recipientInScope(ctx context.Context, db bun.IDB, sc Scope, id int64, lock bool) (*Recipient, error) {
	r := new(Recipient)
	q := visibleRecipients(db.NewSelect().Model(r).Where("recipient.id = ?", id), sc, "recipient")
	if lock {
		q = q.For("NO KEY UPDATE OF recipient")
	}
	if err := q.Scan(ctx); err != nil {
		return nil, notFound("recipient", err)
	}
	return r, nil
}

// apply checks in and writes it over r; a bad field is a FieldError.
func (in RecipientInput) apply(r *Recipient) error {
	if in.Name != nil {
		name := strings.TrimSpace(*in.Name)
		if err := checkText("name", "The name", name); err != nil {
			return err
		}
		if utf8.RuneCountInString(name) > maxRecipientName {
			return fieldErr("name", "The name is too long (at most %d characters).", maxRecipientName)
		}
		r.Name = name
	}
	// An opted-out address stays on its recipient: moved away, it would
	// come back as a new recipient with no opt-out (and a STOP could be
	// undone by anyone who may edit a name).
	if in.Phone != nil && r.SMSOptedOutAt != nil && r.Phone != nil && strings.TrimSpace(*in.Phone) != *r.Phone {
		if e164, ok := ParsePhone(strings.TrimSpace(*in.Phone)); !ok || e164 != *r.Phone {
			return fieldErr("phone", "This number opted out of texts, so it stays on this recipient. Add a new recipient for another number.")
		}
	}
	if in.Email != nil && r.EmailOptedOutAt != nil && r.Email != nil {
		if addr, ok := ParseEmail(strings.TrimSpace(*in.Email)); !ok || addr != *r.Email {
			return fieldErr("email", "This address opted out of email, so it stays on this recipient. Add a new recipient for another address.")
		}
	}
	if in.Phone != nil {
		r.Phone = nil
		if p := strings.TrimSpace(*in.Phone); p != "" {
			e164, ok := ParsePhone(p)
			if !ok || strings.Contains(p, "@") {
				return fieldErr("phone", "Enter a phone number, e.g. +15551234567.")
			}
			r.Phone = &e164
		}
	}
	if in.Email != nil {
		r.Email = nil
		if e := strings.TrimSpace(*in.Email); e != "" {
			addr, ok := ParseEmail(e)
			if !ok {
				return fieldErr("email", "Enter an email address, e.g. name@example.com.")
			}
			r.Email = &addr
		}
	}
	if in.Notes != nil {
		if err := checkText("notes", "The notes", *in.Notes); err != nil {
			return err
		}
		if utf8.RuneCountInString(*in.Notes) > maxRecipientNotes {
			return fieldErr("notes", "The notes are too long (at most %d characters).", maxRecipientNotes)
		}
		r.Notes = *in.Notes
	}
	if r.Phone == nil && r.Email == nil {
		field := "phone"
		if in.Phone == nil && in.Email != nil {
			field = "email"
		}
		return fieldErr(field, "Give a phone number or an email address.")
	}
	return nil
}

// duplicateField names the field whose value another of the
// organization's recipients already has, or "".
func duplicateField(ctx context.Context, db bun.IDB, r *Recipient) (string, error) {
	for _, f := range []struct {
		col string
		v   *string
	}{{"phone", r.Phone}, {"email", r.Email}} {
		if f.v == nil {
			continue
		}
		taken, err := db.NewSelect().Model((*Recipient)(nil)).
			Where("org_id = ? AND ? = ? AND id <> ?", r.OrgID, bun.Ident(f.col), *f.v, r.ID).Exists(ctx)
		if err != nil {
			return "", fmt.Errorf("duplicate %s: %w", f.col, err)
		}
		if taken {
			return f.col, nil
		}
	}
	return "", nil
}

func duplicateErr(field string) error {
	if field == "email" {
		return fieldErr("email", "Another recipient already has this email address.")
	}
	return fieldErr("phone", "Another recipient already has this phone number.")
}

// CreateRecipient adds a recipient to the organization.
func (s *Store) CreateRecipient(ctx context.Context, sc Scope, in RecipientInput) (*Recipient, error) {
	if err := require(sc, PermEditRecipients); err != nil {
		return nil, err
	}
	r := &Recipient{OrgID: sc.OrgID}
	if err := in.apply(r); err != nil {
		return nil, err
	}
	err := s.inTx(ctx, func(tx bun.Tx) error {
		if f, err := duplicateField(ctx, tx, r); err != nil || f != "" {
			if err != nil {
				return err
			}
			return duplicateErr(f)
		}
		_, err := tx.NewInsert().Model(r).Returning("*").Exec(ctx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: create recipient: %w", uniqueAsField(err))
	}
	return r, nil
}

// UpdateRecipient changes a recipient's name, phone, email or notes.
// Another recipient of the organization with the same phone or email is a
// FieldError naming the field; nothing changes.
func (s *Store) UpdateRecipient(ctx context.Context, sc Scope, id int64, in RecipientInput) (*Recipient, []*Change, error) {
	if err := require(sc, PermEditRecipients); err != nil {
		return nil, nil, err
	}
	var (
		r       *Recipient
		changes []*Change
	)
	err := s.inTx(ctx, func(tx bun.Tx) error {
		var err error
		changes = nil
		if r, err = recipientInScope(ctx, tx, sc, id, true); err != nil {
			return err
		}
		was := *r
		if err := in.apply(r); err != nil {
			return err
		}
		if f, err := duplicateField(ctx, tx, r); err != nil || f != "" {
			if err != nil {
				return err
			}
			return duplicateErr(f)
		}
		if _, err = tx.NewUpdate().Model(r).Column("name", "phone", "email", "notes").Set("updated_at = now()").
			WherePK().Returning("*").Exec(ctx); err != nil {
			return err
		}
		if r.Name == was.Name && ptrEq(r.Phone, was.Phone) && ptrEq(r.Email, was.Email) {
			return nil // notes only: nothing any screen shows changed
		}
		changes, err = s.recipientUpdated(ctx, tx, sc, r)
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("store: update recipient: %w", uniqueAsField(err))
	}
	return r, changes, nil
}

// recipientUpdated writes a hidden "recipient_updated" event on each of the
// recipient's open conversations (locked after the recipient, the order a
// STOP takes), so the new name reaches every screen that shows them.
func (s *Store) recipientUpdated(ctx context.Context, tx bun.Tx, sc Scope, r *Recipient) ([]*Change, error) {
	var convs []Conversation
	if err := tx.NewSelect().Model(&convs).Where("org_id = ? AND recipient_id = ? AND status <> ?", r.OrgID, r.ID, StatusClosed).
		OrderExpr("id").For("UPDATE").Scan(ctx); err != nil {
		return nil, fmt.Errorf("lock conversations: %w", err)
	}
	changes := make([]*Change, 0, len(convs))
	for i := range convs {
		ev, err := insertEvent(ctx, tx, &convs[i], EvRecipientUpdated, nil, &sc.UserID, nil)
		if err != nil {
			return nil, err
		}
		row, err := s.conversationRow(ctx, tx, Scope{OrgID: sc.OrgID}, convs[i].ID)
		if err != nil {
			return nil, err
		}
		changes = append(changes, &Change{Conversation: *row, Events: []Event{*ev}})
	}
	return changes, nil
}

func ptrEq(a, b *string) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

// uniqueAsField turns a unique violation (two edits racing for one
// number) into the FieldError the check before it would have given.
func uniqueAsField(err error) error {
	if !isUniqueViolation(err) {
		return err
	}
	if strings.Contains(err.Error(), "email") {
		return duplicateErr("email")
	}
	return duplicateErr("phone")
}

// Why a recipient cannot be deleted (both are ErrConflict).
var (
	// ErrRecipientHasConversations: their conversations keep their history.
	ErrRecipientHasConversations = fmt.Errorf("%w: the recipient has conversations, which keep their history", ErrConflict)
	// ErrRecipientOptedOut: deleting them would forget that they opted out.
	ErrRecipientOptedOut = fmt.Errorf("%w: the recipient opted out, and deleting them would forget it", ErrConflict)
)

// DeleteRecipient removes a recipient who has no conversations, audited;
// one with conversations is ErrConflict (their history stays; see
// DeleteRecipientWithConversations).
func (s *Store) DeleteRecipient(ctx context.Context, sc Scope, id int64) error {
	if err := require(sc, PermEditRecipients); err != nil {
		return err
	}
	err := s.inTx(ctx, func(tx bun.Tx) error {
		r, err := lockRecipientForDelete(ctx, tx, sc, id)
		if err != nil {
			return err
		}
		has, err := tx.NewSelect().Model((*Conversation)(nil)).Where("recipient_id = ?", r.ID).Exists(ctx)
		if err != nil {
			return fmt.Errorf("conversations: %w", err)
		}
		if has {
			return ErrRecipientHasConversations
		}
		return deleteLockedRecipient(ctx, tx, sc, r, &RecipientFootprint{})
	})
	if err != nil {
		return fmt.Errorf("store: delete recipient: %w", err)
	}
	return nil
}

// RecipientConversations lists a recipient's conversations the scope may
// see, newest activity first, closed ones too (at most 100).
func (s *Store) RecipientConversations(ctx context.Context, sc Scope, recipientID int64) ([]ConversationRow, error) {
	q := conversationRows(s.db, sc).Where("c.recipient_id = ?", recipientID).
		OrderExpr("c.last_message_at DESC, c.id DESC").Limit(100)
	rows, err := selectConversationRows(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("store: recipient conversations: %w", err)
	}
	return rows, nil
}
