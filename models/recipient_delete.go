package models

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// Deleting a recipient with their conversations. What goes: the recipient,
// their conversations and those conversations' messages, events, parts and
// email threads (the schema cascades), their consent history, group
// memberships and broadcast_recipients rows. What stays: the credit ledger
// (append-only and without foreign keys: its entries keep the ids of what
// they charged for), charges still pending for deleted messages (an
// outbound one is dropped by the charge job, which finds its message gone;
// an inbound one is charged), and the audit log's entry for the deletion.
// A recipient who opted out is never deleted: that would forget the
// opt-out (ErrRecipientOptedOut).

// RecipientFootprint is what deleting a recipient takes with it.
type RecipientFootprint struct {
	Conversations int `bun:"conversations"`
	Messages      int `bun:"messages"`
}

// ErrRecipientElsewhere: the recipient has conversations in inboxes the
// scope does not see, so a limited agent may not delete or merge them.
var ErrRecipientElsewhere = fmt.Errorf("%w: the recipient has conversations in inboxes you cannot see", ErrForbidden)

// recipientFootprint counts a recipient's conversations and messages.
func recipientFootprint(ctx context.Context, db bun.IDB, recipientID int64) (*RecipientFootprint, error) {
	fp := new(RecipientFootprint)
	if err := db.NewRaw(`SELECT count(*) AS conversations,
		coalesce(sum((SELECT count(*) FROM messages m WHERE m.conversation_id = c.id)), 0) AS messages
		FROM conversations c WHERE c.recipient_id = ?`, recipientID).Scan(ctx, fp); err != nil {
		return nil, fmt.Errorf("recipient footprint: %w", err)
	}
	return fp, nil
}

// checkAllVisible refuses a limited scope when any of the recipient's
// conversations is in an inbox it does not see.
func checkAllVisible(ctx context.Context, db bun.IDB, sc Scope, recipientID int64) error {
	if sc.AllInboxes() {
		return nil
	}
	hidden, err := db.NewSelect().Model((*Conversation)(nil)).
		Where("recipient_id = ? AND NOT inbox_id = ANY(?)", recipientID, pgdialect.Array(sc.InboxIDs)).Exists(ctx)
	if err != nil {
		return fmt.Errorf("hidden conversations: %w", err)
	}
	if hidden {
		return ErrRecipientElsewhere
	}
	return nil
}

// RecipientDeletionPreview says what deleting a recipient the scope may
// see would delete with them.
func (s *Store) RecipientDeletionPreview(ctx context.Context, sc Scope, id int64) (*RecipientFootprint, error) {
	if _, err := s.RecipientByID(ctx, sc, id); err != nil {
		return nil, err
	}
	fp, err := recipientFootprint(ctx, s.db, id)
	if err != nil {
		return nil, fmt.Errorf("store: deletion preview: %w", err)
	}
	return fp, nil
}

// DeleteRecipientWithConversations deletes a recipient and their
// conversations and messages (see the top of this file for what stays),
// audited with the counts, which it returns. An opted-out recipient is
// ErrRecipientOptedOut; a limited agent whose inboxes do not hold every
// one of the conversations gets ErrRecipientElsewhere.
func (s *Store) DeleteRecipientWithConversations(ctx context.Context, sc Scope, id int64) (*RecipientFootprint, error) {
	if err := require(sc, PermEditRecipients); err != nil {
		return nil, err
	}
	var fp *RecipientFootprint
	err := s.inTx(ctx, func(tx bun.Tx) error {
		r, err := lockRecipientForDelete(ctx, tx, sc, id)
		if err != nil {
			return err
		}
		if err := checkAllVisible(ctx, tx, sc, id); err != nil {
			return err
		}
		// The conversations after the recipient, in id order: the order
		// a STOP and the inbound core take them.
		if _, err := tx.NewRaw("SELECT id FROM conversations WHERE recipient_id = ? ORDER BY id FOR UPDATE", id).Exec(ctx); err != nil {
			return fmt.Errorf("lock conversations: %w", err)
		}
		if fp, err = recipientFootprint(ctx, tx, id); err != nil {
			return err
		}
		if _, err := tx.NewRaw("DELETE FROM conversations WHERE recipient_id = ?", id).Exec(ctx); err != nil {
			return fmt.Errorf("delete conversations: %w", err)
		}
		return deleteLockedRecipient(ctx, tx, sc, r, fp)
	})
	if err != nil {
		return nil, fmt.Errorf("store: delete recipient: %w", err)
	}
	return fp, nil
}

// lockRecipientForDelete locks a recipient the scope may see for its
// deletion and refuses one who opted out. FOR UPDATE, not the edit's
// lighter lock: it conflicts with the key-share lock a new conversation's
// foreign key takes, so a text arriving now either commits first (and is
// seen after) or waits.
func lockRecipientForDelete(ctx context.Context, tx bun.Tx, sc Scope, id int64) (*Recipient, error) {
	r := new(Recipient)
	q := visibleRecipients(tx.NewSelect().Model(r).Where("recipient.id = ?", id), sc, "recipient").For("UPDATE OF recipient")
	if err := q.Scan(ctx); err != nil {
		return nil, notFound("recipient", err)
	}
	if r.SMSOptedOutAt != nil || r.EmailOptedOutAt != nil {
		return nil, ErrRecipientOptedOut
	}
	return r, nil
}

// deleteLockedRecipient deletes a locked recipient and audits it.
func deleteLockedRecipient(ctx context.Context, tx bun.Tx, sc Scope, r *Recipient, fp *RecipientFootprint) error {
	if _, err := tx.NewDelete().Model(r).WherePK().Exec(ctx); err != nil {
		return fmt.Errorf("delete recipient: %w", err)
	}
	type gone struct {
		Name          string  `json:"name"`
		Phone         *string `json:"phone"`
		Email         *string `json:"email"`
		Conversations int     `json:"conversations"`
		Messages      int     `json:"messages"`
	}
	return audit(ctx, tx, sc, AuditChange{Action: "recipient.delete", TargetType: "recipient", TargetID: r.ID,
		TargetName: recipientLabel(r), Before: gone{Name: r.Name, Phone: r.Phone, Email: r.Email,
			Conversations: fp.Conversations, Messages: fp.Messages}})
}
