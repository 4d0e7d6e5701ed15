package models

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// Inbound is one received message, channel-neutral: every channel's
// adapter turns its provider's payload into this value at the edge, and
// one core (receive, in inbound_core.go) stores it.
type Inbound struct {
	Channel                     string // ChannelSMS or ChannelEmail
	Provider, ProviderMessageID string // unique together: a provider's retry is a no-op
	From, To                    string // E.164 numbers for SMS, addresses for email
	Body                        string
	// InboxID is the inbox the channel's own threading chose (email: by
	// reply token or References); zero routes by To, as SMS always does.
	InboxID int64
	// FromName names a sender the core creates as a recipient (an email's
	// display name); an existing recipient's name is never changed.
	FromName string
	// Automated marks a machine-written message (RFC 3834): stored in
	// messages.automated, so nothing automatic ever answers it.
	Automated  bool
	ReceivedAt time.Time
}

// InboundSMS is one received SMS (or one part of a concatenated one), as
// the webhook parsed it.
type InboundSMS struct {
	Provider, ProviderMessageID string
	From, To                    string // E.164
	Body                        string
	ReceivedAt                  time.Time
	// Concatenated messages: Total > 1, Part in 1..Total, Ref shared by the parts.
	ConcatRef   string
	Part, Total int
}

// Inbound is the SMS as the channel-neutral value the core stores.
func (in InboundSMS) Inbound() Inbound {
	return Inbound{Channel: ChannelSMS, Provider: in.Provider, ProviderMessageID: in.ProviderMessageID,
		From: in.From, To: in.To, Body: in.Body, ReceivedAt: in.ReceivedAt}
}

// InboundResult says what receiving did. Change is nil when nothing
// visible changed (a retry, a part still waiting for its siblings, or a
// message to an address no inbox owns).
type InboundResult struct {
	Change    *Change
	Duplicate bool
	Pending   bool
	Unrouted  bool
	// Dropped: mail from one of our own addresses (a loop), not stored.
	Dropped bool
	Keyword string
}

// errDuplicate rolls back a transaction that found the message already stored.
var errDuplicate = errors.New("duplicate provider message")

// Batchable reports whether an inbound SMS may be stored by ReceiveBatch:
// a whole (not concatenated) message that is not a STOP/START/HELP
// keyword. The others need ReceiveSMS's pre- and post-steps.
func Batchable(in InboundSMS) bool {
	return in.Total <= 1 && MatchKeyword(in.Body) == ""
}

// ReceiveBatch stores many inbound messages in one transaction with a
// fixed number of statements, whatever their number: a group commit. It
// returns one result per message, in order; on error nothing is stored.
// Keywords are refused (they need ReceiveSMS).
func (s *Store) ReceiveBatch(ctx context.Context, ins []Inbound) ([]*InboundResult, error) {
	for _, in := range ins {
		if in.Channel == ChannelSMS && MatchKeyword(in.Body) != "" {
			return nil, fmt.Errorf("store: receive batch: message %s is a keyword and needs ReceiveSMS: %w", in.ProviderMessageID, ErrConflict)
		}
	}
	var res []*InboundResult
	err := s.inTx(ctx, func(tx bun.Tx) error {
		var err error
		res, err = s.receive(ctx, tx, ins)
		return err
	})
	if errors.Is(err, errDuplicate) && len(ins) == 1 {
		// Stored by another transaction meanwhile: a provider's retry.
		return []*InboundResult{{Duplicate: true}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: receive batch: %w", err)
	}
	return res, nil
}

// ReceiveSMS stores one inbound SMS in one transaction: the core as a
// batch of one, after its pre-step (concatenated parts wait for their
// siblings) and before its post-step (STOP/START/HELP change consent and
// queue their one reply). Committed before the caller acknowledges the
// provider; a provider retry is reported as a duplicate and changes nothing.
//
// A transaction PostgreSQL aborts to break a deadlock (the message raced
// group commits and other keywords over the same sender and conversation)
// is run again, up to receiveAttempts times, rather than answering the
// provider 5xx for a message nothing is wrong with.
func (s *Store) ReceiveSMS(ctx context.Context, in InboundSMS) (*InboundResult, error) {
	for attempt := 1; ; attempt++ {
		res, err := s.receiveSMS(ctx, in)
		if err == nil || attempt == receiveAttempts || !isTransient(err) || ctx.Err() != nil {
			return res, err
		}
	}
}

// receiveAttempts bounds ReceiveSMS's runs of one message.
const receiveAttempts = 3

// receiveSMS is one attempt of ReceiveSMS.
func (s *Store) receiveSMS(ctx context.Context, in InboundSMS) (*InboundResult, error) {
	res := &InboundResult{}
	err := s.inTx(ctx, func(tx bun.Tx) error {
		msg := in.Inbound()
		if in.Total > 1 {
			body, complete, err := collectParts(ctx, tx, in)
			if err != nil {
				return err
			}
			if !complete {
				res.Pending = true
				return nil
			}
			msg.Body = body
		}
		kw := MatchKeyword(msg.Body)
		if kw != "" {
			// A keyword changes the sender's consent: take the sender's row
			// first, so keyword messages from one person are serialized
			// (two STOPs to two inboxes would otherwise each hold one
			// conversation and wait for the other's). NO KEY UPDATE, so
			// inserts that merely reference the row are not held up.
			if _, err := tx.NewRaw(`SELECT r.id FROM recipients AS r JOIN inboxes AS i ON i.org_id = r.org_id
				WHERE i.sms_number = ? AND r.phone = ? FOR NO KEY UPDATE OF r`, msg.To, msg.From).Exec(ctx); err != nil {
				return fmt.Errorf("lock sender: %w", err)
			}
		}
		rs, err := s.receive(ctx, tx, []Inbound{msg})
		if err != nil {
			return err
		}
		res = rs[0]
		if res.Change == nil {
			return nil
		}
		res.Keyword = kw
		return s.applyKeywordTo(ctx, tx, res)
	})
	if errors.Is(err, errDuplicate) {
		return &InboundResult{Duplicate: true}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: receive sms: %w", err)
	}
	return res, nil
}

// applyKeywordTo carries out STOP, START or HELP (res.Keyword) for an
// inbound SMS the core just stored, adding its events to the change and
// reading the conversation's row again (consent may have changed).
func (s *Store) applyKeywordTo(ctx context.Context, tx bun.Tx, res *InboundResult) error {
	if res.Keyword == "" {
		return nil
	}
	ch := res.Change
	conv := &ch.Conversation.Conversation
	inbox := new(Inbox)
	if err := tx.NewSelect().Model(inbox).Where("id = ?", conv.InboxID).Scan(ctx); err != nil {
		return fmt.Errorf("load inbox: %w", err)
	}
	rcpt := new(Recipient)
	if err := tx.NewSelect().Model(rcpt).Where("id = ?", conv.RecipientID).For("NO KEY UPDATE").Scan(ctx); err != nil {
		return fmt.Errorf("load recipient: %w", err)
	}
	body := ""
	for _, ev := range ch.Events {
		if ev.Message != nil {
			body = ev.Message.Body
		}
	}
	more, err := s.applyKeyword(ctx, tx, inbox, conv, rcpt, res.Keyword, body)
	if err != nil {
		return err
	}
	ch.Events = append(ch.Events, more...)
	row, err := loadConversationRow(ctx, tx.Tx, conv.OrgID, conv.ID)
	if err != nil {
		return err
	}
	ch.Conversation = *row
	return nil
}
