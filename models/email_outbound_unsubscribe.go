package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/uptrace/bun"
)

// ConsentByUnsubscribe: the recipient used the unsubscribe link (or the
// one-click POST, RFC 8058) of an email.
const ConsentByUnsubscribe = "unsubscribe"

// UnsubscribeEmail opts the recipient whose unsubscribe token this is out
// of email: the opt-out goes into the consent history (source
// "unsubscribe") and onto the timeline of each of the recipient's active
// email conversations, whose changes it returns for publishing. Queued
// emails then fail at their claim (the send gate). Unsubscribing again
// changes nothing; an unknown token is ErrNotFound.
func (s *Store) UnsubscribeEmail(ctx context.Context, token string) ([]*Change, error) {
	token = strings.ToLower(strings.TrimSpace(token))
	if !validBounceToken(token) {
		return nil, fmt.Errorf("store: unsubscribe: token: %w", ErrNotFound)
	}
	var changes []*Change
	err := s.inTx(ctx, func(tx bun.Tx) error {
		changes = nil
		// The recipient first, then its conversations, as SetConsent and
		// the inbound core take them.
		rcpt := new(Recipient)
		err := tx.NewSelect().Model(rcpt).Where("unsubscribe_token = ?", token).For("UPDATE").Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("token: %w", ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("load recipient: %w", err)
		}
		// Unsubscribed already by their own hand: nothing. Out by staff's:
		// the recipient now holds the opt-out (consent_rules.go).
		if rcpt.EmailOptedOutAt != nil && RecipientHoldsOptOut(rcpt.EmailOptOutSource) {
			return nil
		}
		var convs []Conversation
		if err := tx.NewSelect().Model(&convs).
			Where("org_id = ? AND recipient_id = ? AND channel = ? AND status <> ?", rcpt.OrgID, rcpt.ID, ChannelEmail, StatusClosed).
			OrderExpr("id").For("UPDATE").Scan(ctx); err != nil {
			return fmt.Errorf("lock conversations: %w", err)
		}
		if err := setOptOut(ctx, tx, rcpt.ID, ChannelEmail, ConsentByUnsubscribe); err != nil {
			return err
		}
		if err := recordConsent(ctx, tx, rcpt, ChannelEmail, ConsentOptOut, ConsentByUnsubscribe, "", nil); err != nil {
			return err
		}
		for i := range convs {
			conv := &convs[i]
			ev, err := insertEvent(ctx, tx, conv, EvOptedOut, nil, nil, map[string]any{"source": ConsentByUnsubscribe})
			if err != nil {
				return err
			}
			row, err := s.conversationRow(ctx, tx, Scope{OrgID: rcpt.OrgID}, conv.ID)
			if err != nil {
				return err
			}
			changes = append(changes, &Change{Conversation: *row, Events: []Event{*ev}})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: unsubscribe: %w", err)
	}
	return changes, nil
}

// Unsubscriber is what the unsubscribe page shows before the click.
type Unsubscriber struct {
	Email    string // the recipient's address
	OrgName  string // who sends them email
	OptedOut bool   // already unsubscribed
}

// UnsubscribeInfo reads who an unsubscribe token names; ErrNotFound for
// an unknown token.
func (s *Store) UnsubscribeInfo(ctx context.Context, token string) (*Unsubscriber, error) {
	token = strings.ToLower(strings.TrimSpace(token))
	if !validBounceToken(token) {
		return nil, fmt.Errorf("store: unsubscribe info: token: %w", ErrNotFound)
	}
	u := new(Unsubscriber)
	err := s.db.NewRaw(`SELECT coalesce(r.email, ''), o.name, r.email_opted_out_at IS NOT NULL
		FROM recipients r JOIN organizations o ON o.id = r.org_id WHERE r.unsubscribe_token = ?`, token).
		Scan(ctx, &u.Email, &u.OrgName, &u.OptedOut)
	if err != nil {
		return nil, notFound("unsubscribe info", err)
	}
	return u, nil
}
