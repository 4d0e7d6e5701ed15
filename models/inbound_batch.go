package models

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"time"

	"github.com/uptrace/bun"
)

// Batchable reports whether an inbound SMS may be stored by ReceiveSMSBatch:
// a whole (not concatenated) message that is not a STOP/START/HELP keyword.
// The others take ReceiveSMS, one transaction each.
func Batchable(in InboundSMS) bool {
	return in.Total <= 1 && MatchKeyword(in.Body) == ""
}

// ReceiveSMSBatch stores many inbound SMS in one transaction with a fixed
// number of statements, whatever the batch size: a group commit. Every
// message must be Batchable. It has ReceiveSMS's effects for each message
// (routing, unrouted kept, recipient and conversation found or created,
// stored once per provider id, timeline events), and returns one result
// per message, in order. On error nothing is stored.
//
// Its statements take arrays as parameters, so their text never changes
// with the batch and each is parsed and planned once per connection.
func (s *Store) ReceiveSMSBatch(ctx context.Context, ins []InboundSMS) ([]*InboundResult, error) {
	for _, in := range ins {
		if !Batchable(in) {
			return nil, fmt.Errorf("store: receive sms batch: message %s needs the single path: %w", in.ProviderMessageID, ErrConflict)
		}
	}
	var res []*InboundResult
	err := s.inTx(ctx, func(tx bun.Tx) error {
		b := &inboundBatch{tx: tx, ins: ins, res: make([]*InboundResult, len(ins))}
		for i := range b.res {
			b.res[i] = &InboundResult{}
		}
		res = b.res
		return b.store(ctx)
	})
	if err != nil {
		return nil, fmt.Errorf("store: receive sms batch: %w", err)
	}
	return res, nil
}

// inboundBatch is one group commit in progress.
type inboundBatch struct {
	tx  bun.Tx
	ins []InboundSMS
	res []*InboundResult

	live  []int          // indexes of messages to store, in arrival order
	inbox map[int]*Inbox // by message index
	rcpt  map[rcptKey]*batchRecipient
	conv  map[convKey]*ConversationRow
}

type rcptKey struct {
	org   int64
	phone string
}

type convKey struct{ inbox, rcpt int64 }

// batchRecipient is what a conversation row shows of its recipient.
type batchRecipient struct {
	id          int64
	name        string
	phone       *string
	email       *string
	smsOptedOut bool
}

// store runs the batch: route, drop duplicates, recipients, conversations
// (moved or opened), then messages with their events.
func (b *inboundBatch) store(ctx context.Context) error {
	if err := b.route(ctx); err != nil {
		return err
	}
	if err := b.dropDuplicates(ctx); err != nil {
		return err
	}
	if len(b.live) == 0 {
		return nil
	}
	if err := b.recipients(ctx); err != nil {
		return err
	}
	created, err := b.conversations(ctx)
	if err != nil {
		return err
	}
	return b.messages(ctx, created)
}

// query runs a statement with its parameters sent apart, cached as a
// prepared statement on the connection.
func (b *inboundBatch) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return queryCached(ctx, b.tx.Tx, q, args...)
}

// scanAll reads every row with scan, then closes rows.
func scanAll(rows *sql.Rows, scan func() error) error {
	defer rows.Close()
	for rows.Next() {
		if err := scan(); err != nil {
			return err
		}
	}
	return rows.Err()
}

// route finds each message's inbox by the number it was sent to, keeps
// the others as unrouted, and marks repeats within the batch duplicates.
func (b *inboundBatch) route(ctx context.Context) error {
	var numbers []string
	seenNumber := map[string]bool{}
	for _, in := range b.ins {
		if !seenNumber[in.To] {
			seenNumber[in.To] = true
			numbers = append(numbers, in.To)
		}
	}
	rows, err := b.query(ctx, "SELECT id, org_id, location_id, name, sms_number FROM inboxes WHERE sms_number = ANY($1::text[])", numbers)
	if err != nil {
		return fmt.Errorf("route by number: %w", err)
	}
	byNumber := map[string]*Inbox{}
	err = scanAll(rows, func() error {
		in := new(Inbox)
		if err := rows.Scan(&in.ID, &in.OrgID, &in.LocationID, &in.Name, &in.SMSNumber); err != nil {
			return err
		}
		byNumber[*in.SMSNumber] = in
		return nil
	})
	if err != nil {
		return fmt.Errorf("route by number: %w", err)
	}
	b.inbox = make(map[int]*Inbox, len(b.ins))
	seenID := make(map[string]bool, len(b.ins))
	var unrouted []int
	for i, in := range b.ins {
		id := in.Provider + "\x00" + in.ProviderMessageID
		if seenID[id] {
			b.res[i].Duplicate = true
			continue
		}
		seenID[id] = true
		if inbox := byNumber[in.To]; inbox != nil {
			b.inbox[i] = inbox
			b.live = append(b.live, i)
			continue
		}
		b.res[i].Unrouted = true
		unrouted = append(unrouted, i)
	}
	return b.keepUnrouted(ctx, unrouted)
}

// keepUnrouted stores messages to numbers no inbox owns, once each.
func (b *inboundBatch) keepUnrouted(ctx context.Context, idx []int) error {
	if len(idx) == 0 {
		return nil
	}
	var provider, id, from, to, body []string
	for _, i := range idx {
		in := b.ins[i]
		provider, id, from, to, body = append(provider, in.Provider), append(id, in.ProviderMessageID),
			append(from, in.From), append(to, in.To), append(body, in.Body)
	}
	if _, err := execCached(ctx, b.tx.Tx, `INSERT INTO unrouted_messages (provider, provider_message_id, msisdn, to_number, body)
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
		ON CONFLICT (provider, provider_message_id) DO NOTHING`,
		provider, id, from, to, body); err != nil {
		return fmt.Errorf("keep unrouted: %w", err)
	}
	return nil
}

// dropDuplicates takes out messages already stored: provider retries.
func (b *inboundBatch) dropDuplicates(ctx context.Context) error {
	if len(b.live) == 0 {
		return nil
	}
	providers := make([]string, len(b.live))
	ids := make([]string, len(b.live))
	for n, i := range b.live {
		providers[n], ids[n] = b.ins[i].Provider, b.ins[i].ProviderMessageID
	}
	rows, err := b.query(ctx, `SELECT m.provider, m.provider_message_id FROM messages AS m
		JOIN unnest($1::text[], $2::text[]) AS k (provider, id) ON m.provider = k.provider AND m.provider_message_id = k.id`,
		providers, ids)
	if err != nil {
		return fmt.Errorf("check duplicates: %w", err)
	}
	dup := map[string]bool{}
	err = scanAll(rows, func() error {
		var p, id string
		if err := rows.Scan(&p, &id); err != nil {
			return err
		}
		dup[p+"\x00"+id] = true
		return nil
	})
	if err != nil || len(dup) == 0 {
		return wrapIf("check duplicates", err)
	}
	live := b.live[:0]
	for _, i := range b.live {
		if dup[b.ins[i].Provider+"\x00"+b.ins[i].ProviderMessageID] {
			b.res[i].Duplicate = true
			continue
		}
		live = append(live, i)
	}
	b.live = live
	return nil
}

// recipients finds or creates each sender, by organization and phone, in
// one statement: new ones come from the insert, the others from the table.
func (b *inboundBatch) recipients(ctx context.Context) error {
	var keys []rcptKey
	seen := map[rcptKey]bool{}
	for _, i := range b.live {
		k := rcptKey{b.inbox[i].OrgID, b.ins[i].From}
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	// A fixed order, so two batches creating the same senders wait for
	// each other instead of deadlocking.
	sort.Slice(keys, func(x, y int) bool {
		if keys[x].org != keys[y].org {
			return keys[x].org < keys[y].org
		}
		return keys[x].phone < keys[y].phone
	})
	orgs := make([]int64, len(keys))
	phones := make([]string, len(keys))
	for n, k := range keys {
		orgs[n], phones[n] = k.org, k.phone
	}
	rows, err := b.query(ctx, `WITH k AS (SELECT * FROM unnest($1::bigint[], $2::text[]) AS k (org_id, phone)),
		ins AS (INSERT INTO recipients (org_id, phone) SELECT org_id, phone FROM k
			ON CONFLICT (org_id, phone) WHERE phone IS NOT NULL DO NOTHING
			RETURNING id, org_id, name, phone, email, sms_opted_out_at IS NOT NULL)
		SELECT * FROM ins
		UNION ALL
		SELECT r.id, r.org_id, r.name, r.phone, r.email, r.sms_opted_out_at IS NOT NULL
		FROM recipients AS r JOIN k ON r.org_id = k.org_id AND r.phone = k.phone`, orgs, phones)
	if err != nil {
		return fmt.Errorf("find or create recipients: %w", err)
	}
	b.rcpt = make(map[rcptKey]*batchRecipient, len(keys))
	err = scanAll(rows, func() error {
		r := new(batchRecipient)
		var org int64
		if err := rows.Scan(&r.id, &org, &r.name, &r.phone, &r.email, &r.smsOptedOut); err != nil {
			return err
		}
		if r.phone != nil {
			b.rcpt[rcptKey{org, *r.phone}] = r
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("find or create recipients: %w", err)
	}
	for _, k := range keys {
		// Created by a transaction that committed after this statement
		// began: the batch fails and its messages go one by one.
		if b.rcpt[k] == nil {
			return fmt.Errorf("recipient %s of organization %d raced another writer: %w", k.phone, k.org, ErrConflict)
		}
	}
	return nil
}

// convKeyOf is the conversation a live message belongs to.
func (b *inboundBatch) convKeyOf(i int) convKey {
	return convKey{b.inbox[i].ID, b.rcpt[rcptKey{b.inbox[i].OrgID, b.ins[i].From}].id}
}

// conversationColumns are the conversations columns the batch reads back,
// in the order scanConversation expects.
const conversationColumns = `c.id, c.org_id, c.inbox_id, c.recipient_id, c.channel, c.status, c.origin, c.assignee_id,
	c.broadcast_id, c.previous_id, c.last_message_at, c.last_message_preview, c.unread_count, c.created_at, c.updated_at, c.closed_at`

func scanConversation(rows *sql.Rows, c *Conversation, extra ...any) error {
	return rows.Scan(append([]any{&c.ID, &c.OrgID, &c.InboxID, &c.RecipientID, &c.Channel, &c.Status, &c.Origin, &c.AssigneeID,
		&c.BroadcastID, &c.PreviousID, &c.LastMessageAt, &c.LastMessagePreview, &c.UnreadCount, &c.CreatedAt, &c.UpdatedAt, &c.ClosedAt}, extra...)...)
}

// conversations moves each sender's active SMS conversation in the inbox
// (activity, preview, unread count), locking it in id order, and opens
// the missing ones, linked to the last closed one, with their "created"
// events. It returns those events by conversation.
func (b *inboundBatch) conversations(ctx context.Context) (map[int64]Event, error) {
	type bump struct {
		key     convKey
		org     int64
		preview string
		n       int32
	}
	bumps := map[convKey]*bump{}
	var keys []convKey
	for _, i := range b.live {
		k := b.convKeyOf(i)
		p := bumps[k]
		if p == nil {
			p = &bump{key: k, org: b.inbox[i].OrgID}
			bumps[k] = p
			keys = append(keys, k)
		}
		p.preview = preview(b.ins[i].Body)
		p.n++
	}
	arrays := func(ks []convKey) (orgs, inboxes, rcpts []int64, previews []string, ns []int32) {
		for _, k := range ks {
			p := bumps[k]
			orgs, inboxes, rcpts = append(orgs, p.org), append(inboxes, k.inbox), append(rcpts, k.rcpt)
			previews, ns = append(previews, p.preview), append(ns, p.n)
		}
		return
	}
	_, inboxes, rcpts, previews, ns := arrays(keys)
	rows, err := b.query(ctx, `WITH v AS (SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::int[]) AS v (inbox_id, recipient_id, preview, n)),
		locked AS (SELECT c.id, v.preview, v.n FROM conversations AS c JOIN v ON c.inbox_id = v.inbox_id AND c.recipient_id = v.recipient_id
			WHERE c.channel = 'sms' AND c.status <> 'closed' ORDER BY c.id FOR UPDATE OF c)
		UPDATE conversations AS c SET last_message_at = now(), last_message_preview = locked.preview,
			unread_count = c.unread_count + locked.n, updated_at = now()
		FROM locked WHERE c.id = locked.id
		RETURNING `+conversationColumns+`, (SELECT u.name FROM users AS u WHERE u.id = c.assignee_id)`,
		inboxes, rcpts, previews, ns)
	if err != nil {
		return nil, fmt.Errorf("move conversations: %w", err)
	}
	b.conv = make(map[convKey]*ConversationRow, len(keys))
	err = scanAll(rows, func() error {
		row := new(ConversationRow)
		if err := scanConversation(rows, &row.Conversation, &row.AssigneeName); err != nil {
			return err
		}
		b.conv[convKey{row.InboxID, row.RecipientID}] = row
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("move conversations: %w", err)
	}
	var missing []convKey
	for _, k := range keys {
		if b.conv[k] == nil {
			missing = append(missing, k)
		}
	}
	created := map[int64]Event{}
	if len(missing) > 0 {
		sort.Slice(missing, func(x, y int) bool {
			if missing[x].inbox != missing[y].inbox {
				return missing[x].inbox < missing[y].inbox
			}
			return missing[x].rcpt < missing[y].rcpt
		})
		if err := b.open(ctx, arrays, missing, created); err != nil {
			return nil, err
		}
	}
	b.completeRows()
	return created, nil
}

// open inserts new conversations and their "created" events. No ON
// CONFLICT: one opened concurrently by another path fails the batch, and
// its messages are then stored one by one.
func (b *inboundBatch) open(ctx context.Context, arrays func([]convKey) ([]int64, []int64, []int64, []string, []int32),
	missing []convKey, created map[int64]Event) error {
	orgs, inboxes, rcpts, previews, ns := arrays(missing)
	rows, err := b.query(ctx, `WITH v AS (SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::int[])
			WITH ORDINALITY AS v (org_id, inbox_id, recipient_id, preview, n, ord)),
		prev AS (SELECT DISTINCT ON (c.inbox_id, c.recipient_id) c.inbox_id, c.recipient_id, c.id FROM conversations AS c
			JOIN v ON c.inbox_id = v.inbox_id AND c.recipient_id = v.recipient_id
			WHERE c.channel = 'sms' ORDER BY c.inbox_id, c.recipient_id, c.id DESC),
		c AS (INSERT INTO conversations (org_id, inbox_id, recipient_id, channel, status, origin, previous_id, last_message_preview, unread_count)
			SELECT v.org_id, v.inbox_id, v.recipient_id, 'sms', 'new', 'recipient', prev.id, v.preview, v.n
			FROM v LEFT JOIN prev ON prev.inbox_id = v.inbox_id AND prev.recipient_id = v.recipient_id ORDER BY v.ord
			RETURNING *),
		e AS (INSERT INTO conversation_events (org_id, inbox_id, conversation_id, kind, detail)
			SELECT org_id, inbox_id, id, 'created', '{"origin": "recipient"}' FROM c ORDER BY id
			RETURNING id, conversation_id, created_at)
		SELECT `+conversationColumns+`, e.id, e.created_at FROM c JOIN e ON e.conversation_id = c.id`,
		orgs, inboxes, rcpts, previews, ns)
	if err != nil {
		return fmt.Errorf("open conversations: %w", err)
	}
	err = scanAll(rows, func() error {
		row := new(ConversationRow)
		var ev Event
		if err := scanConversation(rows, &row.Conversation, &ev.ID, &ev.CreatedAt); err != nil {
			return err
		}
		ev.OrgID, ev.InboxID, ev.ConversationID, ev.Kind = row.OrgID, row.InboxID, row.ID, EvCreated
		ev.Detail = map[string]any{"origin": OriginRecipient}
		created[row.ID] = ev
		b.conv[convKey{row.InboxID, row.RecipientID}] = row
		return nil
	})
	if err != nil {
		return fmt.Errorf("open conversations: %w", err)
	}
	if len(created) != len(missing) {
		return fmt.Errorf("opened %d of %d conversations: %w", len(created), len(missing), ErrConflict)
	}
	return nil
}

// completeRows fills in what the list shows of each conversation's
// recipient and inbox, from values the batch already holds.
func (b *inboundBatch) completeRows() {
	for _, i := range b.live {
		k := b.convKeyOf(i)
		row, r, inbox := b.conv[k], b.rcpt[rcptKey{b.inbox[i].OrgID, b.ins[i].From}], b.inbox[i]
		if row == nil {
			continue
		}
		row.RecipientName, row.RecipientPhone, row.RecipientEmail, row.OptedOut = r.name, r.phone, r.email, r.smsOptedOut
		row.InboxName, row.LocationID = inbox.Name, inbox.LocationID
	}
}

// messages inserts the live messages in arrival order, each with its
// "message" event, and completes every live message's result.
func (b *inboundBatch) messages(ctx context.Context, created map[int64]Event) error {
	n := len(b.live)
	orgs, convs := make([]int64, n), make([]int64, n)
	bodies, providers, pids, encodings := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	segments := make([]int32, n)
	msgs := make(map[string]*Message, n)
	for j, i := range b.live {
		in, conv := b.ins[i], b.conv[b.convKeyOf(i)]
		id := in.ProviderMessageID
		m := &Message{OrgID: conv.OrgID, ConversationID: conv.ID, Direction: "inbound", Channel: ChannelSMS,
			Body: in.Body, AuthorType: "recipient", Status: MsgReceived, Provider: in.Provider, ProviderMessageID: &id}
		var seg int
		m.Encoding, seg = smsShape(in.Body)
		m.Segments = seg
		msgs[in.Provider+"\x00"+id] = m
		orgs[j], convs[j], bodies[j], providers[j], pids[j], encodings[j], segments[j] =
			m.OrgID, m.ConversationID, m.Body, m.Provider, id, m.Encoding, int32(seg)
	}
	rows, err := b.query(ctx, `WITH m AS (INSERT INTO messages (org_id, conversation_id, direction, channel, body, author_type, status,
			provider, provider_message_id, encoding, segments)
			SELECT org_id, conversation_id, 'inbound', 'sms', body, 'recipient', 'received', provider, pid, encoding, segments
			FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[])
				WITH ORDINALITY AS v (org_id, conversation_id, body, provider, pid, encoding, segments, ord)
			ORDER BY ord
			RETURNING id, org_id, conversation_id, provider, provider_message_id, created_at),
		e AS (INSERT INTO conversation_events (org_id, inbox_id, conversation_id, kind, message_id, detail)
			SELECT m.org_id, c.inbox_id, m.conversation_id, 'message', m.id, '{}' FROM m JOIN conversations AS c ON c.id = m.conversation_id
			ORDER BY m.id
			RETURNING id, message_id, created_at)
		SELECT m.id, m.provider, m.provider_message_id, m.created_at, e.id, e.created_at FROM m JOIN e ON e.message_id = m.id`,
		orgs, convs, bodies, providers, pids, encodings, segments)
	if err != nil {
		return fmt.Errorf("insert inbound messages: %w", err)
	}
	events := make(map[*Message]Event, n)
	err = scanAll(rows, func() error {
		var id, evID int64
		var provider, pid string
		var at, evAt time.Time
		if err := rows.Scan(&id, &provider, &pid, &at, &evID, &evAt); err != nil {
			return err
		}
		m := msgs[provider+"\x00"+pid]
		if m == nil {
			return fmt.Errorf("unknown message %s came back: %w", pid, ErrConflict)
		}
		m.ID, m.CreatedAt = id, at
		mid := id
		events[m] = Event{ID: evID, OrgID: m.OrgID, ConversationID: m.ConversationID, Kind: EvMessage,
			MessageID: &mid, Detail: map[string]any{}, CreatedAt: evAt, Message: m}
		return nil
	})
	if err != nil {
		return fmt.Errorf("insert inbound messages: %w", err)
	}
	announced := map[int64]bool{}
	for _, i := range b.live {
		in := b.ins[i]
		m := msgs[in.Provider+"\x00"+in.ProviderMessageID]
		ev, ok := events[m]
		if !ok {
			return fmt.Errorf("message %s not stored: %w", in.ProviderMessageID, ErrConflict)
		}
		row := b.conv[b.convKeyOf(i)]
		ev.InboxID = row.InboxID
		ch := &Change{Conversation: *row}
		if c, ok := created[row.ID]; ok && !announced[row.ID] {
			announced[row.ID] = true
			ch.Events = append(ch.Events, c)
		}
		ch.Events = append(ch.Events, ev)
		b.res[i].Change = ch
	}
	return nil
}

// preview is the start of a message the chats list shows.
func preview(body string) string {
	r := []rune(body)
	if len(r) > previewLength {
		r = r[:previewLength]
	}
	return string(r)
}

// wrapIf wraps a non-nil error with what was being done.
func wrapIf(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", op, err)
}
