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
	changes, err := s.tokenConsent(ctx, token, true)
	if err != nil {
		return nil, fmt.Errorf("store: unsubscribe: %w", err)
	}
	return changes, nil
}

// ErrOptOutHeldByStaff refuses a recipient's resubscribe to email that
// staff opted out (by hand or by an import): only staff undo their own
// opt-outs (consent_rules.go).
var ErrOptOutHeldByStaff = errors.New("the organization opted this address out")

// ResubscribeEmail undoes the recipient's own unsubscribe, from the same
// link (someone who clicked by mistake): the opt-in goes into the
// consent history (source "unsubscribe") and onto the timeline of the
// recipient's active email conversations, whose changes it returns.
// Subscribed already, it changes nothing; an opt-out staff made is
// ErrOptOutHeldByStaff; an unknown token ErrNotFound.
func (s *Store) ResubscribeEmail(ctx context.Context, token string) ([]*Change, error) {
	changes, err := s.tokenConsent(ctx, token, false)
	if err != nil {
		return nil, fmt.Errorf("store: resubscribe: %w", err)
	}
	return changes, nil
}

// tokenConsent opts the recipient of an unsubscribe token out of email
// (out) or back in, as the recipient's own act.
func (s *Store) tokenConsent(ctx context.Context, token string, out bool) ([]*Change, error) {
	token = strings.ToLower(strings.TrimSpace(token))
	if !validBounceToken(token) {
		return nil, fmt.Errorf("token: %w", ErrNotFound)
	}
	action, kind := ConsentOptOut, EvOptedOut
	if !out {
		action, kind = ConsentOptIn, EvOptedIn
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
		ownOptOut := rcpt.EmailOptedOutAt != nil && RecipientHoldsOptOut(rcpt.EmailOptOutSource)
		switch {
		case out && ownOptOut, !out && rcpt.EmailOptedOutAt == nil:
			// Already as asked: nothing. (Out by staff's hand, an
			// unsubscribe makes the opt-out the recipient's.)
			return nil
		case !out && !ownOptOut:
			return ErrOptOutHeldByStaff
		}
		var convs []Conversation
		if err := tx.NewSelect().Model(&convs).
			Where("org_id = ? AND recipient_id = ? AND channel = ? AND status <> ?", rcpt.OrgID, rcpt.ID, ChannelEmail, StatusClosed).
			OrderExpr("id").For("UPDATE").Scan(ctx); err != nil {
			return fmt.Errorf("lock conversations: %w", err)
		}
		if out {
			err = setOptOut(ctx, tx, rcpt.ID, ChannelEmail, ConsentByUnsubscribe)
		} else {
			err = clearOptOut(ctx, tx, rcpt.ID, ChannelEmail)
		}
		if err != nil {
			return err
		}
		if err := recordConsent(ctx, tx, rcpt, ChannelEmail, action, ConsentByUnsubscribe, "", nil); err != nil {
			return err
		}
		for i := range convs {
			conv := &convs[i]
			ev, err := insertEvent(ctx, tx, conv, kind, nil, nil, map[string]any{"source": ConsentByUnsubscribe})
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
	return changes, err
}

// Unsubscriber is what the unsubscribe page shows before the click.
type Unsubscriber struct {
	Email    string // the recipient's address
	OrgName  string // who sends them email
	OptedOut bool   // already unsubscribed
	// HeldByStaff: the organization opted the address out (by hand or by
	// an import), which the recipient cannot undo from the link.
	HeldByStaff bool
}

// UnsubscribeInfo reads who an unsubscribe token names; ErrNotFound for
// an unknown token.
func (s *Store) UnsubscribeInfo(ctx context.Context, token string) (*Unsubscriber, error) {
	token = strings.ToLower(strings.TrimSpace(token))
	if !validBounceToken(token) {
		return nil, fmt.Errorf("store: unsubscribe info: token: %w", ErrNotFound)
	}
	u := new(Unsubscriber)
	var source *string
	err := s.db.NewRaw(`SELECT coalesce(r.email, ''), o.name, r.email_opted_out_at IS NOT NULL, r.email_opt_out_source
		FROM recipients r JOIN organizations o ON o.id = r.org_id WHERE r.unsubscribe_token = ?`, token).
		Scan(ctx, &u.Email, &u.OrgName, &u.OptedOut, &source)
	u.HeldByStaff = u.OptedOut && !RecipientHoldsOptOut(source)
	if err != nil {
		return nil, notFound("unsubscribe info", err)
	}
	return u, nil
}
