package models

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"
)

// Consent: a recipient's per-channel opt-out, changed by keyword (STOP,
// START; keywords.go), a carrier's receipt, an email's unsubscribe link,
// an import or an admin by hand, each change kept in
// recipient_consent_events; who may undo an opt-out is in consent_rules.go.

// Where a consent change came from (recipient_consent_events.source).
const (
	ConsentByKeyword = "keyword"
	ConsentByAgent   = "agent"
)

// Consent actions.
const (
	ConsentOptOut = "opt_out"
	ConsentOptIn  = "opt_in"
)

// maxConsentReason bounds the reason an admin gives for a change by hand.
const maxConsentReason = 500

// ConsentEvent is one change of a recipient's consent on a channel.
type ConsentEvent struct {
	bun.BaseModel `bun:"table:recipient_consent_events,alias:ce"`

	ID          int64     `bun:"id,pk,autoincrement"`
	OrgID       int64     `bun:"org_id"`
	RecipientID int64     `bun:"recipient_id"`
	Channel     string    `bun:"channel"`
	Action      string    `bun:"action"`
	Source      string    `bun:"source"`
	Detail      string    `bun:"detail"`
	ActorUserID *int64    `bun:"actor_user_id"`
	CreatedAt   time.Time `bun:"created_at,nullzero,default:now()"`

	ActorName *string `bun:"actor_name,scanonly"`
}

// recordConsent adds one change to the recipient's consent history.
func recordConsent(ctx context.Context, tx bun.Tx, rcpt *Recipient, channel, action, source, detail string, actor *int64) error {
	ev := &ConsentEvent{OrgID: rcpt.OrgID, RecipientID: rcpt.ID, Channel: channel, Action: action,
		Source: source, Detail: detail, ActorUserID: actor}
	if _, err := tx.NewInsert().Model(ev).Exec(ctx); err != nil {
		return fmt.Errorf("consent history: %w", err)
	}
	return nil
}

// ConsentHistory lists a recipient's consent changes, newest first.
func (s *Store) ConsentHistory(ctx context.Context, sc Scope, recipientID int64) ([]ConsentEvent, error) {
	if _, err := s.RecipientByID(ctx, sc, recipientID); err != nil {
		return nil, err
	}
	var evs []ConsentEvent
	if err := s.db.NewSelect().Model(&evs).ColumnExpr("ce.*, u.name AS actor_name").
		Join("LEFT JOIN users AS u ON u.id = ce.actor_user_id").
		Where("ce.org_id = ? AND ce.recipient_id = ?", sc.OrgID, recipientID).
		OrderExpr("ce.id DESC").Limit(200).Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: consent history: %w", err)
	}
	return evs, nil
}

// SetConsent opts a recipient out of a channel (optOut) or back in, by an
// admin's hand (PermRecipientConsent), with an optional reason. The change
// goes into the consent history with the admin as actor, the audit log,
// and the timeline of each of the recipient's active conversations on
// that channel, whose changes it returns for publishing. An SMS opt-out
// fails the recipient's queued texts, as STOP does. Setting the state the
// recipient is already in changes nothing. Opting back in an opt-out the
// recipient made (STOP, a carrier's receipt, an unsubscribe link) is a
// FieldError on "opted_out" saying who did it, when, and that only they
// can undo it.
func (s *Store) SetConsent(ctx context.Context, sc Scope, recipientID int64, channel string, optOut bool, reason string) ([]*Change, error) {
	if err := require(sc, PermRecipientConsent); err != nil {
		return nil, err
	}
	if channel != ChannelSMS && channel != ChannelEmail {
		return nil, fieldErr("channel", "Choose sms or email.")
	}
	reason = strings.TrimSpace(reason)
	if err := checkText("reason", "The reason", reason); err != nil {
		return nil, err
	}
	if utf8.RuneCountInString(reason) > maxConsentReason {
		return nil, fieldErr("reason", "The reason is too long (at most %d characters).", maxConsentReason)
	}
	var changes []*Change
	err := s.inTx(ctx, func(tx bun.Tx) error {
		changes = nil
		// The recipient first, then its conversations: the order a STOP
		// arriving now takes them in (models/inbound.go), so the two
		// cannot deadlock.
		rcpt, err := recipientInScope(ctx, tx, sc, recipientID, true)
		if err != nil {
			return err
		}
		var convs []Conversation
		if err := tx.NewSelect().Model(&convs).
			Where("org_id = ? AND recipient_id = ? AND channel = ? AND status <> ?", sc.OrgID, recipientID, channel, StatusClosed).
			OrderExpr("id").For("UPDATE").Scan(ctx); err != nil {
			return fmt.Errorf("lock conversations: %w", err)
		}
		at, src := optOutState(rcpt, channel)
		was := at != nil
		if was == optOut {
			return nil
		}
		action, kind := ConsentOptIn, EvOptedIn
		if optOut {
			action, kind = ConsentOptOut, EvOptedOut
			if err := setOptOut(ctx, tx, rcpt.ID, channel, ConsentByAgent); err != nil {
				return err
			}
		} else {
			if RecipientHoldsOptOut(src) {
				return staffOptInRefusal(ctx, tx, rcpt, channel)
			}
			if err := clearOptOut(ctx, tx, rcpt.ID, channel); err != nil {
				return err
			}
		}
		if err := recordConsent(ctx, tx, rcpt, channel, action, ConsentByAgent, reason, &sc.UserID); err != nil {
			return err
		}
		type state struct {
			Channel  string `json:"channel"`
			OptedOut bool   `json:"opted_out"`
			Reason   string `json:"reason,omitempty"`
		}
		if err := audit(ctx, tx, sc, AuditChange{Action: "recipient." + action, TargetType: "recipient",
			TargetID: rcpt.ID, TargetName: recipientLabel(rcpt),
			Before: state{Channel: channel, OptedOut: was}, After: state{Channel: channel, OptedOut: optOut, Reason: reason}}); err != nil {
			return err
		}
		byConv := map[int64][]Event{}
		if optOut && channel == ChannelSMS {
			first := &Conversation{}
			if len(convs) > 0 {
				first = &convs[0]
			}
			cancelled, err := cancelQueuedSMS(ctx, tx, first, rcpt)
			if err != nil {
				return err
			}
			byConv[first.ID] = cancelled
		}
		for i := range convs {
			conv := &convs[i]
			ev, err := insertEvent(ctx, tx, conv, kind, nil, &sc.UserID,
				map[string]any{"source": ConsentByAgent, "reason": reason})
			if err != nil {
				return err
			}
			row, err := s.conversationRow(ctx, tx, Scope{OrgID: sc.OrgID}, conv.ID)
			if err != nil {
				return err
			}
			changes = append(changes, &Change{Conversation: *row, Events: append(byConv[conv.ID], *ev)})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: set consent: %w", err)
	}
	return changes, nil
}

// recipientLabel names a recipient for the audit log: name, else address.
func recipientLabel(r *Recipient) string {
	switch {
	case r.Name != "":
		return r.Name
	case r.Phone != nil:
		return *r.Phone
	case r.Email != nil:
		return *r.Email
	}
	return ""
}
