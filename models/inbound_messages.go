package models

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// The inbound core inserts the messages with their timeline events.

// insertMessagesQuery inserts inbound messages in arrival order, each with
// its "message" event and its pending charge (priced by the rate card).
// A message another transaction stored meanwhile
// fails it on the unique index, and the caller with errDuplicate (a plain
// insert: ON CONFLICT's speculative insertion cost more on every message).
var insertMessagesQuery = `WITH m AS (INSERT INTO messages (org_id, conversation_id, direction, channel, body, author_type, status,
			provider, provider_message_id, encoding, segments, automated, credits_charged)
			SELECT v.org_id, v.conversation_id, 'inbound', v.channel, v.body, 'recipient', '` + MsgReceived + `', v.provider, v.pid, v.encoding, v.segments, v.automated,
				` + inboundPriceSQL + `
			FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::int[], $9::bool[])
				WITH ORDINALITY AS v (org_id, conversation_id, channel, body, provider, pid, encoding, segments, automated, ord)
			LEFT JOIN rate_cards AS rc ON rc.org_id = v.org_id
			ORDER BY v.ord
			RETURNING id, org_id, conversation_id, provider, provider_message_id, created_at, credits_charged),
		e AS (INSERT INTO conversation_events (org_id, inbox_id, conversation_id, kind, message_id, detail)
			SELECT m.org_id, c.inbox_id, m.conversation_id, '` + EvMessage + `', m.id, '{}' FROM m JOIN conversations AS c ON c.id = m.conversation_id
			ORDER BY m.id
			RETURNING id, message_id, created_at),
		p AS (INSERT INTO credit_pending (message_id, kind, org_id, location_id, credits)
			SELECT m.id, '` + ChargeInbound + `', m.org_id, i.location_id, m.credits_charged
			FROM m JOIN conversations AS c ON c.id = m.conversation_id JOIN inboxes AS i ON i.id = c.inbox_id)
	SELECT m.id, m.provider, m.provider_message_id, m.created_at, e.id, e.created_at, m.credits_charged FROM m JOIN e ON e.message_id = m.id`

// messages inserts the live messages with their events, completes every
// live message's result, and returns the stored messages in order.
func (b *inboundBatch) messages(ctx context.Context, created map[int64]Event) ([]*Message, error) {
	n := len(b.live)
	orgs, convs := make([]int64, n), make([]int64, n)
	channels, bodies, providers, pids, encodings := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	segments, automated := make([]int32, n), make([]bool, n)
	msgs := make(map[string]*Message, n)
	for j, i := range b.live {
		in, conv := b.ins[i], b.conv[b.convKeyOf(i)]
		id := in.ProviderMessageID
		m := &Message{OrgID: conv.OrgID, ConversationID: conv.ID, Direction: "inbound", Channel: in.Channel,
			Body: in.Body, AuthorType: "recipient", Status: MsgReceived, Provider: in.Provider, ProviderMessageID: &id,
			Automated: in.Automated}
		if in.Channel == ChannelSMS {
			m.Encoding, m.Segments = smsShape(in.Body)
		}
		msgs[in.Provider+"\x00"+id] = m
		orgs[j], convs[j], channels[j], bodies[j], providers[j], pids[j], encodings[j], segments[j], automated[j] =
			m.OrgID, m.ConversationID, m.Channel, m.Body, m.Provider, id, m.Encoding, int32(m.Segments), m.Automated
	}
	rows, err := b.query(ctx, insertMessagesQuery, orgs, convs, channels, bodies, providers, pids, encodings, segments, automated)
	if err != nil {
		return nil, fmt.Errorf("insert inbound messages: %w", storedConcurrently(err))
	}
	events := make(map[*Message]Event, n)
	err = scanAll(rows, func() error {
		var id, evID int64
		var provider, pid string
		var at, evAt time.Time
		var credits int
		if err := rows.Scan(&id, &provider, &pid, &at, &evID, &evAt, &credits); err != nil {
			return err
		}
		m := msgs[provider+"\x00"+pid]
		if m == nil {
			return fmt.Errorf("unknown message %s came back: %w", pid, ErrConflict)
		}
		m.ID, m.CreatedAt, m.CreditsCharged = id, at, credits
		mid := id
		events[m] = Event{ID: evID, OrgID: m.OrgID, ConversationID: m.ConversationID, Kind: EvMessage,
			MessageID: &mid, Detail: map[string]any{}, CreatedAt: evAt, Message: m}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("insert inbound messages: %w", storedConcurrently(err))
	}
	if len(events) < n {
		return nil, fmt.Errorf("%d of %d messages stored concurrently: %w", n-len(events), n, errDuplicate)
	}
	stored := make([]*Message, 0, n)
	announced := map[int64]bool{}
	for _, i := range b.live {
		in := b.ins[i]
		m := msgs[in.Provider+"\x00"+in.ProviderMessageID]
		ev := events[m]
		row := b.conv[b.convKeyOf(i)]
		ev.InboxID = row.InboxID
		ch := &Change{Conversation: *row}
		if c, ok := created[row.ID]; ok && !announced[row.ID] {
			announced[row.ID] = true
			ch.Events = append(ch.Events, c)
		}
		ch.Events = append(ch.Events, ev)
		b.res[i].Change = ch
		stored = append(stored, m)
	}
	return stored, nil
}

// storedConcurrently turns a violation of the messages' provider-id key
// (another transaction stored the same message first) into errDuplicate.
func storedConcurrently(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == "messages_provider_id_key" {
		return fmt.Errorf("%s: %w", pgErr.Message, errDuplicate)
	}
	return err
}
