package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

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

// InboundResult says what receiving did. Change is nil when nothing
// visible changed (a retry, a part still waiting for its siblings, or a
// message to a number no inbox owns).
type InboundResult struct {
	Change    *Change
	Duplicate bool
	Pending   bool
	Unrouted  bool
	Keyword   string
}

// errDuplicate rolls back a transaction that found the message already stored.
var errDuplicate = errors.New("duplicate provider message")

// ReceiveSMS stores an inbound SMS in one transaction: routes it by the
// number it was sent to, finds or creates the recipient and the
// conversation, stores the message once (a provider retry is a no-op),
// applies STOP/START/HELP and queues their one reply. Committed before the
// caller acknowledges the provider.
func (s *Store) ReceiveSMS(ctx context.Context, in InboundSMS) (*InboundResult, error) {
	res := &InboundResult{}
	err := s.inTx(ctx, func(tx bun.Tx) error {
		if in.Total > 1 {
			body, complete, err := collectParts(ctx, tx, in)
			if err != nil {
				return err
			}
			if !complete {
				res.Pending = true
				return nil
			}
			in.Body = body
		}
		inbox := new(Inbox)
		err := tx.NewSelect().Model(inbox).Where("sms_number = ?", in.To).Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			res.Unrouted = true
			return keepUnrouted(ctx, tx, in)
		}
		if err != nil {
			return fmt.Errorf("route by number: %w", err)
		}
		var exists bool
		if err := tx.NewRaw("SELECT EXISTS (SELECT 1 FROM messages WHERE provider = ? AND provider_message_id = ?)",
			in.Provider, in.ProviderMessageID).Scan(ctx, &exists); err != nil {
			return fmt.Errorf("check duplicate: %w", err)
		}
		if exists {
			return errDuplicate
		}
		ch, kw, err := s.receive(ctx, tx, inbox, in)
		res.Change, res.Keyword = ch, kw
		return err
	})
	if errors.Is(err, errDuplicate) {
		return &InboundResult{Duplicate: true}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: receive sms: %w", err)
	}
	if res.Change == nil && !res.Pending && !res.Unrouted {
		res.Duplicate = true
	}
	return res, nil
}

// receive stores a routed inbound message and its consequences.
func (s *Store) receive(ctx context.Context, tx bun.Tx, inbox *Inbox, in InboundSMS) (*Change, string, error) {
	rcpt, err := findOrCreateRecipient(ctx, tx, inbox.OrgID, in.From, "")
	if err != nil {
		return nil, "", err
	}
	conv, created, err := findOrOpenConversation(ctx, tx, inbox.OrgID, inbox.ID, rcpt.ID, ChannelSMS, OriginRecipient)
	if err != nil {
		return nil, "", err
	}
	ch := &Change{}
	if created {
		ev, err := insertEvent(ctx, tx, conv, EvCreated, nil, nil, map[string]any{"origin": OriginRecipient})
		if err != nil {
			return nil, "", err
		}
		ch.Events = append(ch.Events, *ev)
	}
	id := in.ProviderMessageID
	msg := &Message{OrgID: conv.OrgID, ConversationID: conv.ID, Direction: "inbound", Channel: ChannelSMS,
		Body: in.Body, AuthorType: "recipient", Status: MsgReceived, Provider: in.Provider, ProviderMessageID: &id}
	msg.Encoding, msg.Segments = smsShape(in.Body)
	r, err := tx.NewInsert().Model(msg).
		On("CONFLICT (provider, provider_message_id) WHERE provider_message_id IS NOT NULL DO NOTHING").
		Returning("*").Exec(ctx)
	if err != nil {
		return nil, "", fmt.Errorf("insert inbound message: %w", err)
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return nil, "", errDuplicate
	}
	if _, err := tx.NewUpdate().Model(conv).
		Set("last_message_at = now(), last_message_preview = ?, unread_count = unread_count + 1, updated_at = now()", preview(in.Body)).
		WherePK().Exec(ctx); err != nil {
		return nil, "", fmt.Errorf("update conversation: %w", err)
	}
	ev, err := insertEvent(ctx, tx, conv, EvMessage, &msg.ID, nil, nil)
	if err != nil {
		return nil, "", err
	}
	ev.Message = msg
	ch.Events = append(ch.Events, *ev)
	kw := MatchKeyword(in.Body)
	more, err := s.applyKeyword(ctx, tx, inbox, conv, rcpt, kw, in.Body)
	if err != nil {
		return nil, "", err
	}
	ch.Events = append(ch.Events, more...)
	row, err := s.conversationRow(ctx, tx, Scope{OrgID: conv.OrgID}, conv.ID)
	if err != nil {
		return nil, "", err
	}
	ch.Conversation = *row
	return ch, kw, nil
}

// collectParts stores one part of a concatenated message; once every part
// is in, it returns the whole text. Parts of one message are serialized by
// an advisory lock so the last two arriving together cannot both miss.
func collectParts(ctx context.Context, tx bun.Tx, in InboundSMS) (string, bool, error) {
	if in.Part < 1 || in.Part > in.Total {
		return "", false, fmt.Errorf("part %d of %d: %w", in.Part, in.Total, ErrConflict)
	}
	key := in.Provider + "|" + in.From + "|" + in.To + "|" + in.ConcatRef
	if _, err := tx.NewRaw("SELECT pg_advisory_xact_lock(hashtextextended(?, 0))", key).Exec(ctx); err != nil {
		return "", false, fmt.Errorf("lock parts: %w", err)
	}
	r, err := tx.NewRaw(`INSERT INTO inbound_parts (provider, provider_message_id, msisdn, to_number, concat_ref, part, total, body)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (provider, provider_message_id) DO NOTHING`,
		in.Provider, in.ProviderMessageID, in.From, in.To, in.ConcatRef, in.Part, in.Total, in.Body).Exec(ctx)
	if err != nil {
		return "", false, fmt.Errorf("store part: %w", err)
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return "", false, errDuplicate // a retried part
	}
	var parts []struct {
		Part int    `bun:"part"`
		Body string `bun:"body"`
	}
	if err := tx.NewRaw(`SELECT DISTINCT ON (part) part, body FROM inbound_parts
		WHERE provider = ? AND msisdn = ? AND to_number = ? AND concat_ref = ? AND consumed_at IS NULL
		ORDER BY part, id`, in.Provider, in.From, in.To, in.ConcatRef).Scan(ctx, &parts); err != nil {
		return "", false, fmt.Errorf("load parts: %w", err)
	}
	if len(parts) < in.Total {
		return "", false, nil
	}
	var b strings.Builder
	for _, p := range parts[:in.Total] {
		b.WriteString(p.Body)
	}
	// The parts are consumed: mark them, so a retry of any part finds its
	// own id and is a no-op, and a new message reusing the ref starts afresh.
	if _, err := tx.NewRaw(`UPDATE inbound_parts SET consumed_at = now() WHERE provider = ? AND msisdn = ? AND to_number = ? AND concat_ref = ? AND consumed_at IS NULL`,
		in.Provider, in.From, in.To, in.ConcatRef).Exec(ctx); err != nil {
		return "", false, fmt.Errorf("consume parts: %w", err)
	}
	return b.String(), true, nil
}

// keepUnrouted stores a message to a number no inbox owns, once.
func keepUnrouted(ctx context.Context, tx bun.Tx, in InboundSMS) error {
	if _, err := tx.NewRaw(`INSERT INTO unrouted_messages (provider, provider_message_id, msisdn, to_number, body)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (provider, provider_message_id) DO NOTHING`,
		in.Provider, in.ProviderMessageID, in.From, in.To, in.Body).Exec(ctx); err != nil {
		return fmt.Errorf("keep unrouted: %w", err)
	}
	return nil
}
