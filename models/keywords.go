package models

import (
	"context"
	"fmt"
	"strings"

	"github.com/parley-chat/parley/jobs/task"
	"github.com/uptrace/bun"
)

// Keyword kinds an inbound SMS can be (CTIA / carrier rules; product.md).
const (
	KeywordStop  = "stop"
	KeywordStart = "start"
	KeywordHelp  = "help"
)

var keywords = map[string]string{
	"STOP": KeywordStop, "STOPALL": KeywordStop, "UNSUBSCRIBE": KeywordStop, "CANCEL": KeywordStop,
	"END": KeywordStop, "QUIT": KeywordStop, "REVOKE": KeywordStop, "OPTOUT": KeywordStop, "OPT-OUT": KeywordStop,
	"START": KeywordStart, "UNSTOP": KeywordStart,
	"HELP": KeywordHelp,
}

// MatchKeyword reports which keyword a whole message is, ignoring case
// and spaces ("  Stop ", "s t o p", "OPT-OUT"), or "".
func MatchKeyword(body string) string {
	if len(body) > 40 {
		return ""
	}
	return keywords[strings.ToUpper(strings.Join(strings.Fields(body), ""))]
}

// Replies to keywords. Carriers expect the organization to be named and
// the way back in (or out) to be stated.
const (
	stopReply  = "You are unsubscribed from %s texts and will receive no more messages. Reply START to resubscribe."
	startReply = "You are resubscribed to %s texts. Reply STOP to unsubscribe, HELP for help."
	helpStop   = "Reply STOP to unsubscribe."
)

// helpReply builds the answer to HELP from the inbox's help text: one
// sentence-ended message that states how to opt out exactly once. Admins
// write help texts freely, often already ending with a period and a STOP
// instruction (the demo inbox does), which used to give "opt out.. Reply
// STOP to unsubscribe.".
func helpReply(text string) string {
	text = strings.TrimSpace(text)
	if !strings.HasSuffix(text, ".") && !strings.HasSuffix(text, "!") && !strings.HasSuffix(text, "?") {
		text += "."
	}
	if tellsHowToStop(text) {
		return text
	}
	return text + " " + helpStop
}

// tellsHowToStop reports whether text already names an opt-out keyword
// in capitals as a word of its own ("Reply STOP to opt out", "text
// QUIT"). Lower case is left alone: "the bus stop" instructs nobody.
func tellsHowToStop(text string) bool {
	words := strings.FieldsFunc(text, func(r rune) bool {
		return !(r >= 'A' && r <= 'Z' || r == '-')
	})
	for _, w := range words {
		if keywords[w] == KeywordStop {
			return true
		}
	}
	return false
}

// applyKeyword carries out STOP, START or HELP for an inbound message:
// consent changes with their history and timeline events, pending sends
// cancelled on STOP, and exactly one reply.
func (s *Store) applyKeyword(ctx context.Context, tx bun.Tx, inbox *Inbox, conv *Conversation, rcpt *Recipient, kw, body string) ([]Event, error) {
	var org Organization
	if kw != "" {
		if err := tx.NewSelect().Model(&org).Where("id = ?", inbox.OrgID).Scan(ctx); err != nil {
			return nil, fmt.Errorf("load organization: %w", err)
		}
	}
	switch kw {
	case KeywordStop:
		// Already out by the recipient's own hand: no second confirmation.
		// Out by staff's: the recipient now holds the opt-out (so staff
		// can no longer undo it), confirmed as any STOP is.
		if rcpt.SMSOptedOutAt != nil && RecipientHoldsOptOut(rcpt.SMSOptOutSource) {
			return nil, nil
		}
		if err := setOptOut(ctx, tx, rcpt.ID, ChannelSMS, ConsentByKeyword); err != nil {
			return nil, err
		}
		// Sends queued before the STOP never go out (the worker checks again
		// too); each shows as failed on live screens.
		cancelled, err := cancelQueuedSMS(ctx, tx, conv, rcpt)
		if err != nil {
			return nil, err
		}
		evs, err := s.consentChange(ctx, tx, conv, rcpt, "opt_out", EvOptedOut, body, fmt.Sprintf(stopReply, org.Name))
		return append(cancelled, evs...), err
	case KeywordStart:
		if rcpt.SMSOptedOutAt == nil {
			return nil, nil
		}
		if !RecipientHoldsOptOut(rcpt.SMSOptOutSource) {
			return s.startRefused(ctx, tx, conv, rcpt, body, fmt.Sprintf(startRefusedReply, org.Name))
		}
		if err := clearOptOut(ctx, tx, rcpt.ID, ChannelSMS); err != nil {
			return nil, err
		}
		return s.consentChange(ctx, tx, conv, rcpt, "opt_in", EvOptedIn, body, fmt.Sprintf(startReply, org.Name))
	case KeywordHelp:
		text := inbox.HelpText
		if text == "" {
			text = org.Name + " " + inbox.Name
		}
		ev, err := queueAutomation(ctx, tx, conv, helpReply(text), true)
		if err != nil {
			return nil, err
		}
		return []Event{*ev}, nil
	}
	return nil, nil
}

// consentChange records a consent change in the recipient's history and
// the conversation's timeline, and queues its confirmation.
func (s *Store) consentChange(ctx context.Context, tx bun.Tx, conv *Conversation, rcpt *Recipient, action, kind, body, reply string) ([]Event, error) {
	if err := recordConsent(ctx, tx, rcpt, ChannelSMS, action, ConsentByKeyword, body, nil); err != nil {
		return nil, err
	}
	ev, err := insertEvent(ctx, tx, conv, kind, nil, nil, map[string]any{"keyword": body})
	if err != nil {
		return nil, err
	}
	confirm, err := queueAutomation(ctx, tx, conv, reply, true)
	if err != nil {
		return nil, err
	}
	return []Event{*ev, *confirm}, nil
}

// startRefused keeps a START that staff's opt-out outranks in the consent
// history (with what it did not do) and answers it; consent is unchanged.
func (s *Store) startRefused(ctx context.Context, tx bun.Tx, conv *Conversation, rcpt *Recipient, body, reply string) ([]Event, error) {
	holder := ConsentByAgent
	if rcpt.SMSOptOutSource != nil {
		holder = *rcpt.SMSOptOutSource
	}
	detail := fmt.Sprintf("%s: did not lift the opt-out made by staff (%s); only staff can opt them back in", body, holder)
	if err := recordConsent(ctx, tx, rcpt, ChannelSMS, ConsentOptInRefused, ConsentByKeyword, detail, nil); err != nil {
		return nil, err
	}
	ev, err := queueAutomation(ctx, tx, conv, reply, true)
	if err != nil {
		return nil, err
	}
	return []Event{*ev}, nil
}

// automationPricing is composeInfo for an automated message on conv,
// without the send gate (compliance messages pass it; others check it
// where they decide to answer).
func automationPricing(ctx context.Context, tx bun.Tx, conv *Conversation) (composeInfo, error) {
	ci := composeInfo{}
	err := tx.NewRaw(`SELECT i.location_id, `+availableSQL+` AS available
		FROM inboxes i JOIN credit_accounts a ON a.location_id = i.location_id WHERE i.id = ?`, conv.InboxID).
		Scan(ctx, &ci.LocationID, &ci.Available)
	if err != nil {
		return ci, fmt.Errorf("automation pricing: %w", err)
	}
	if ci.Card, err = loadRateCard(ctx, tx, conv.OrgID); err != nil {
		return ci, err
	}
	return ci, nil
}

// queueAutomation queues an automated SMS on a conversation (outbox row
// included) and returns its timeline event.
func queueAutomation(ctx context.Context, tx bun.Tx, conv *Conversation, body string, compliance bool) (*Event, error) {
	msg := &Message{OrgID: conv.OrgID, ConversationID: conv.ID, Direction: "outbound", Channel: ChannelSMS,
		Body: body, AuthorType: "automation", Status: MsgQueued, Compliance: compliance}
	msg.Encoding, msg.Segments = smsShape(body)
	ci, err := automationPricing(ctx, tx, conv)
	if err != nil {
		return nil, err
	}
	msg.CreditsCharged = ci.price(ChannelSMS, msg.Segments)
	if !compliance && ci.Available < int64(msg.CreditsCharged) {
		return nil, &InsufficientCreditsError{Needed: int64(msg.CreditsCharged), Available: ci.Available}
	}
	if _, err := tx.NewInsert().Model(msg).Returning(msgColumns).Exec(ctx); err != nil {
		return nil, fmt.Errorf("insert automated message: %w", err)
	}
	// Compliance replies (STOP, START, HELP) are charged even into
	// overage: they must go out.
	if err := queueWithCharge(ctx, tx, msg, ChargeOutbound, ci.LocationID, task.NewSMSSend(msg.ID)); err != nil {
		return nil, err
	}
	ev, err := insertEvent(ctx, tx, conv, EvMessage, &msg.ID, nil, nil)
	if err != nil {
		return nil, err
	}
	ev.Message = msg
	return ev, nil
}

// cancelQueuedSMS fails the recipient's queued SMS and records a status
// event for each; it returns the events of conv's own messages (others
// reach screens through catch-up).
func cancelQueuedSMS(ctx context.Context, tx bun.Tx, conv *Conversation, rcpt *Recipient) ([]Event, error) {
	var msgs []Message
	if err := tx.NewRaw(`UPDATE messages SET status = ?, status_reason = ?
		WHERE conversation_id IN (SELECT id FROM conversations WHERE recipient_id = ? AND channel = ?)
		  AND direction = 'outbound' AND status IN `+pendingStatusesSQL+` AND NOT compliance
		RETURNING `+msgColumns, MsgFailed, ReasonOptedOut, rcpt.ID, ChannelSMS).Scan(ctx, &msgs); err != nil {
		return nil, fmt.Errorf("cancel queued sends: %w", err)
	}
	ids := make([]int64, len(msgs))
	for k := range msgs {
		ids[k] = msgs[k].ID
	}
	if err := dropOrRefund(ctx, tx, ids); err != nil {
		return nil, err
	}
	var evs []Event
	for i := range msgs {
		m := &msgs[i]
		c := conv
		if m.ConversationID != conv.ID {
			c = &Conversation{ID: m.ConversationID, OrgID: m.OrgID}
			if err := tx.NewSelect().Model(c).Column("inbox_id").WherePK().Scan(ctx); err != nil {
				return nil, fmt.Errorf("load conversation: %w", err)
			}
		}
		ev, err := insertEvent(ctx, tx, c, EvMessageStatus, &m.ID, nil, map[string]any{"status": MsgFailed})
		if err != nil {
			return nil, err
		}
		if c == conv {
			ev.Message = m
			evs = append(evs, *ev)
		}
	}
	return evs, nil
}
