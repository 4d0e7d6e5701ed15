package models

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"time"

	"github.com/parley-chat/parley/jobs/task"
	"github.com/uptrace/bun"
)

// The inbound core stores received messages, any channel, any number, in
// the caller's transaction with a fixed number of statements: route each
// message to its inbox by the address it was sent to (others are kept as
// unrouted), drop provider retries, find or create the senders, move or
// open their conversations, insert the messages with their timeline
// events, and write the follow-up outbox rows. ReceiveSMS runs it for one
// message (with its pre- and post-steps), ReceiveBatch for a group commit.
//
// Its statements take arrays as parameters, so their text never changes
// with the batch and each is parsed and planned once per connection (see
// prepared.go). Rows it races with another transaction over (a sender or
// a conversation created concurrently) are read again with a fresh
// snapshot; a message stored concurrently fails the call with
// errDuplicate, and nothing is kept.

// inboundBatch is one call of the core in progress.
type inboundBatch struct {
	tx       bun.Tx
	ins      []Inbound
	res      []*InboundResult
	followUp FollowUpFunc

	live  []int          // indexes of messages to store, in arrival order
	inbox map[int]*Inbox // by message index
	rcpt  map[rcptKey]int64
	conv  map[convKey]*ConversationRow
}

// FollowUpFunc returns the jobs a stored inbound message triggers (the
// credit charge, the auto-response check, forwarding), written to the
// outbox in the message's own transaction.
type FollowUpFunc func(m *Message, conv *ConversationRow) []task.Spec

// rcptKey is a sender: an organization's phone number or email address.
type rcptKey struct {
	org     int64
	channel string
	addr    string
}

// convKey is the active conversation a message belongs to.
type convKey struct {
	inbox, rcpt int64
	channel     string
}

// receive runs the core in tx and returns one result per message.
func (s *Store) receive(ctx context.Context, tx bun.Tx, ins []Inbound) ([]*InboundResult, error) {
	b := &inboundBatch{tx: tx, ins: ins, res: make([]*InboundResult, len(ins)), followUp: s.followUp}
	for i := range b.res {
		b.res[i] = &InboundResult{}
	}
	for _, in := range ins {
		if in.Channel != ChannelSMS && in.Channel != ChannelEmail {
			return nil, fmt.Errorf("message %s on unknown channel %q: %w", in.ProviderMessageID, in.Channel, ErrConflict)
		}
	}
	if err := b.store(ctx); err != nil {
		return nil, err
	}
	return b.res, nil
}

// store runs the steps in order.
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
	msgs, err := b.messages(ctx, created)
	if err != nil {
		return err
	}
	return b.followUps(ctx, msgs)
}

// query runs a statement as a cached prepared statement in the transaction.
func (b *inboundBatch) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return queryCached(ctx, b.tx.Tx, q, args...)
}

// route finds each message's inbox by the address it was sent to, keeps
// the others as unrouted, and marks repeats within the batch duplicates.
func (b *inboundBatch) route(ctx context.Context) error {
	var numbers, emails []string
	for _, in := range b.ins {
		if in.Channel == ChannelSMS {
			numbers = append(numbers, in.To)
		} else {
			emails = append(emails, in.To)
		}
	}
	rows, err := b.query(ctx, `SELECT id, org_id, location_id, name, sms_number, email_address FROM inboxes
		WHERE sms_number = ANY($1::text[]) OR email_address = ANY($2::text[])`, numbers, emails)
	if err != nil {
		return fmt.Errorf("route: %w", err)
	}
	byAddr := map[string]*Inbox{}
	err = scanAll(rows, func() error {
		in := new(Inbox)
		if err := rows.Scan(&in.ID, &in.OrgID, &in.LocationID, &in.Name, &in.SMSNumber, &in.EmailAddress); err != nil {
			return err
		}
		if in.SMSNumber != nil {
			byAddr[ChannelSMS+":"+*in.SMSNumber] = in
		}
		if in.EmailAddress != nil {
			byAddr[ChannelEmail+":"+*in.EmailAddress] = in
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("route: %w", err)
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
		if inbox := byAddr[in.Channel+":"+in.To]; inbox != nil {
			b.inbox[i] = inbox
			b.live = append(b.live, i)
			continue
		}
		b.res[i].Unrouted = true
		unrouted = append(unrouted, i)
	}
	return b.keepUnrouted(ctx, unrouted)
}

// keepUnrouted stores messages to addresses no inbox owns, once each.
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
	if err != nil {
		return fmt.Errorf("check duplicates: %w", err)
	}
	if len(dup) == 0 {
		return nil
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

// senderOf is the sender of a live message.
func (b *inboundBatch) senderOf(i int) rcptKey {
	return rcptKey{b.inbox[i].OrgID, b.ins[i].Channel, b.ins[i].From}
}

// Recipients are found by phone for SMS and by email address for email:
// one statement per channel present, each inserting the new senders and
// reading the others.
var (
	findOrCreateRecipientsQuery = map[string]string{
		ChannelSMS: findOrCreateRecipientsSQL("phone"), ChannelEmail: findOrCreateRecipientsSQL("email"),
	}
	findRecipientsQuery = map[string]string{
		ChannelSMS: findRecipientsSQL("phone"), ChannelEmail: findRecipientsSQL("email"),
	}
)

func findOrCreateRecipientsSQL(col string) string {
	return `WITH k AS (SELECT * FROM unnest($1::bigint[], $2::text[]) AS k (org_id, addr)),
		ins AS (INSERT INTO recipients (org_id, ` + col + `) SELECT org_id, addr FROM k
			ON CONFLICT (org_id, ` + col + `) WHERE ` + col + ` IS NOT NULL DO NOTHING
			RETURNING id, org_id, ` + col + `)
		SELECT * FROM ins
		UNION ALL
		SELECT r.id, r.org_id, r.` + col + ` FROM recipients AS r JOIN k ON r.org_id = k.org_id AND r.` + col + ` = k.addr`
}

func findRecipientsSQL(col string) string {
	return `SELECT r.id, r.org_id, r.` + col + ` FROM recipients AS r
		JOIN unnest($1::bigint[], $2::text[]) AS k (org_id, addr) ON r.org_id = k.org_id AND r.` + col + ` = k.addr`
}

// recipients finds or creates each sender.
func (b *inboundBatch) recipients(ctx context.Context) error {
	byChannel := map[string][]rcptKey{}
	seen := map[rcptKey]bool{}
	for _, i := range b.live {
		k := b.senderOf(i)
		if !seen[k] {
			seen[k] = true
			byChannel[k.channel] = append(byChannel[k.channel], k)
		}
	}
	b.rcpt = make(map[rcptKey]int64, len(seen))
	for _, channel := range []string{ChannelSMS, ChannelEmail} {
		keys := byChannel[channel]
		if len(keys) == 0 {
			continue
		}
		// A fixed order, so two batches creating the same senders wait for
		// each other instead of deadlocking.
		sort.Slice(keys, func(x, y int) bool {
			if keys[x].org != keys[y].org {
				return keys[x].org < keys[y].org
			}
			return keys[x].addr < keys[y].addr
		})
		if err := b.readRecipients(ctx, findOrCreateRecipientsQuery[channel], channel, keys); err != nil {
			return fmt.Errorf("find or create recipients: %w", err)
		}
		// A sender another transaction created after this statement began
		// (its insert waited for that one and did nothing) is visible to
		// the next statement.
		var missing []rcptKey
		for _, k := range keys {
			if _, ok := b.rcpt[k]; !ok {
				missing = append(missing, k)
			}
		}
		if len(missing) == 0 {
			continue
		}
		if err := b.readRecipients(ctx, findRecipientsQuery[channel], channel, missing); err != nil {
			return fmt.Errorf("find recipients: %w", err)
		}
		for _, k := range missing {
			if _, ok := b.rcpt[k]; !ok {
				return fmt.Errorf("recipient %s of organization %d not found after insert: %w", k.addr, k.org, ErrConflict)
			}
		}
	}
	return nil
}

// readRecipients runs one recipients statement over keys and records the ids.
func (b *inboundBatch) readRecipients(ctx context.Context, q, channel string, keys []rcptKey) error {
	orgs := make([]int64, len(keys))
	addrs := make([]string, len(keys))
	for n, k := range keys {
		orgs[n], addrs[n] = k.org, k.addr
	}
	rows, err := b.query(ctx, q, orgs, addrs)
	if err != nil {
		return err
	}
	return scanAll(rows, func() error {
		var id, org int64
		var addr *string
		if err := rows.Scan(&id, &org, &addr); err != nil {
			return err
		}
		if addr != nil {
			b.rcpt[rcptKey{org, channel, *addr}] = id
		}
		return nil
	})
}

// convKeyOf is the conversation a live message belongs to.
func (b *inboundBatch) convKeyOf(i int) convKey {
	return convKey{b.inbox[i].ID, b.rcpt[b.senderOf(i)], b.ins[i].Channel}
}

// bump is what a batch adds to one conversation.
type bump struct {
	key     convKey
	org     int64
	preview string
	n       int32
}

// moveConversationsQuery moves each sender's active conversation in the
// inbox on the channel (activity, preview, unread count), locking them in
// id order, and returns their rows.
const moveConversationsQuery = `WITH v AS (SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::int[])
			AS v (inbox_id, recipient_id, channel, preview, n)),
		locked AS (SELECT c.id, v.preview, v.n FROM conversations AS c
			JOIN v ON c.inbox_id = v.inbox_id AND c.recipient_id = v.recipient_id AND c.channel = v.channel
			WHERE c.status <> '` + StatusClosed + `' ORDER BY c.id FOR UPDATE OF c),
		moved AS (UPDATE conversations AS c SET last_message_at = now(), last_message_preview = locked.preview,
			unread_count = c.unread_count + locked.n, updated_at = now()
			FROM locked WHERE c.id = locked.id RETURNING c.*)
	SELECT ` + conversationRowColumns + ` FROM moved AS c ` + conversationRowJoins

// openConversationsQuery opens the missing conversations, each linked to
// the sender's last closed one, with their "created" events, and returns
// their rows with the events' ids and times. One opened concurrently by
// another transaction is skipped here and moved by the caller.
const openConversationsQuery = `WITH v AS (SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::int[])
			WITH ORDINALITY AS v (org_id, inbox_id, recipient_id, channel, preview, n, ord)),
		prev AS (SELECT DISTINCT ON (c.inbox_id, c.recipient_id, c.channel) c.inbox_id, c.recipient_id, c.channel, c.id FROM conversations AS c
			JOIN v ON c.inbox_id = v.inbox_id AND c.recipient_id = v.recipient_id AND c.channel = v.channel
			ORDER BY c.inbox_id, c.recipient_id, c.channel, c.id DESC),
		opened AS (INSERT INTO conversations (org_id, inbox_id, recipient_id, channel, status, origin, previous_id, last_message_preview, unread_count)
			SELECT v.org_id, v.inbox_id, v.recipient_id, v.channel, '` + StatusNew + `', '` + OriginRecipient + `', prev.id, v.preview, v.n
			FROM v LEFT JOIN prev ON prev.inbox_id = v.inbox_id AND prev.recipient_id = v.recipient_id AND prev.channel = v.channel
			ORDER BY v.ord
			ON CONFLICT (inbox_id, recipient_id, channel) WHERE status <> '` + StatusClosed + `' DO NOTHING
			RETURNING *),
		e AS (INSERT INTO conversation_events (org_id, inbox_id, conversation_id, kind, detail)
			SELECT org_id, inbox_id, id, '` + EvCreated + `', '{"origin": "` + OriginRecipient + `"}' FROM opened ORDER BY id
			RETURNING id, conversation_id, created_at)
	SELECT ` + conversationRowColumns + `, e.id, e.created_at FROM opened AS c JOIN e ON e.conversation_id = c.id ` + conversationRowJoins

// conversations moves or opens every live message's conversation and
// returns the "created" events of those it opened, by conversation.
func (b *inboundBatch) conversations(ctx context.Context) (map[int64]Event, error) {
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
	b.conv = make(map[convKey]*ConversationRow, len(keys))
	if err := b.move(ctx, bumps, keys); err != nil {
		return nil, err
	}
	created := map[int64]Event{}
	missing := b.missing(keys)
	if len(missing) == 0 {
		return created, nil
	}
	sort.Slice(missing, func(x, y int) bool {
		if missing[x].inbox != missing[y].inbox {
			return missing[x].inbox < missing[y].inbox
		}
		return missing[x].rcpt < missing[y].rcpt
	})
	if err := b.open(ctx, bumps, missing, created); err != nil {
		return nil, err
	}
	// Opened concurrently by another transaction, now committed: move them.
	if again := b.missing(missing); len(again) > 0 {
		if err := b.move(ctx, bumps, again); err != nil {
			return nil, err
		}
		if len(b.missing(again)) > 0 {
			return nil, fmt.Errorf("conversations neither found nor opened: %w", ErrConflict)
		}
	}
	return created, nil
}

// missing returns the keys with no conversation row yet.
func (b *inboundBatch) missing(keys []convKey) []convKey {
	var out []convKey
	for _, k := range keys {
		if b.conv[k] == nil {
			out = append(out, k)
		}
	}
	return out
}

// move bumps the active conversations of keys.
func (b *inboundBatch) move(ctx context.Context, bumps map[convKey]*bump, keys []convKey) error {
	inboxes, rcpts := make([]int64, len(keys)), make([]int64, len(keys))
	channels, previews, ns := make([]string, len(keys)), make([]string, len(keys)), make([]int32, len(keys))
	for n, k := range keys {
		p := bumps[k]
		inboxes[n], rcpts[n], channels[n], previews[n], ns[n] = k.inbox, k.rcpt, k.channel, p.preview, p.n
	}
	rows, err := b.query(ctx, moveConversationsQuery, inboxes, rcpts, channels, previews, ns)
	if err != nil {
		return fmt.Errorf("move conversations: %w", err)
	}
	err = scanAll(rows, func() error {
		row := new(ConversationRow)
		if err := scanConversationRow(rows, row); err != nil {
			return err
		}
		b.conv[convKey{row.InboxID, row.RecipientID, row.Channel}] = row
		return nil
	})
	if err != nil {
		return fmt.Errorf("move conversations: %w", err)
	}
	return nil
}

// open inserts the conversations of keys and their "created" events.
func (b *inboundBatch) open(ctx context.Context, bumps map[convKey]*bump, keys []convKey, created map[int64]Event) error {
	orgs, inboxes, rcpts := make([]int64, len(keys)), make([]int64, len(keys)), make([]int64, len(keys))
	channels, previews, ns := make([]string, len(keys)), make([]string, len(keys)), make([]int32, len(keys))
	for n, k := range keys {
		p := bumps[k]
		orgs[n], inboxes[n], rcpts[n], channels[n], previews[n], ns[n] = p.org, k.inbox, k.rcpt, k.channel, p.preview, p.n
	}
	rows, err := b.query(ctx, openConversationsQuery, orgs, inboxes, rcpts, channels, previews, ns)
	if err != nil {
		return fmt.Errorf("open conversations: %w", err)
	}
	err = scanAll(rows, func() error {
		row := new(ConversationRow)
		var ev Event
		if err := scanConversationRow(rows, row, &ev.ID, &ev.CreatedAt); err != nil {
			return err
		}
		ev.OrgID, ev.InboxID, ev.ConversationID, ev.Kind = row.OrgID, row.InboxID, row.ID, EvCreated
		ev.Detail = map[string]any{"origin": OriginRecipient}
		created[row.ID] = ev
		b.conv[convKey{row.InboxID, row.RecipientID, row.Channel}] = row
		return nil
	})
	if err != nil {
		return fmt.Errorf("open conversations: %w", err)
	}
	return nil
}

// insertMessagesQuery inserts inbound messages in arrival order, each with
// its "message" event. A message another transaction stored meanwhile is
// skipped (and the caller fails with errDuplicate).
const insertMessagesQuery = `WITH m AS (INSERT INTO messages (org_id, conversation_id, direction, channel, body, author_type, status,
			provider, provider_message_id, encoding, segments)
			SELECT org_id, conversation_id, 'inbound', channel, body, 'recipient', '` + MsgReceived + `', provider, pid, encoding, segments
			FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::int[])
				WITH ORDINALITY AS v (org_id, conversation_id, channel, body, provider, pid, encoding, segments, ord)
			ORDER BY ord
			ON CONFLICT (provider, provider_message_id) WHERE provider_message_id IS NOT NULL DO NOTHING
			RETURNING id, org_id, conversation_id, provider, provider_message_id, created_at),
		e AS (INSERT INTO conversation_events (org_id, inbox_id, conversation_id, kind, message_id, detail)
			SELECT m.org_id, c.inbox_id, m.conversation_id, '` + EvMessage + `', m.id, '{}' FROM m JOIN conversations AS c ON c.id = m.conversation_id
			ORDER BY m.id
			RETURNING id, message_id, created_at)
	SELECT m.id, m.provider, m.provider_message_id, m.created_at, e.id, e.created_at FROM m JOIN e ON e.message_id = m.id`

// messages inserts the live messages with their events, completes every
// live message's result, and returns the stored messages in order.
func (b *inboundBatch) messages(ctx context.Context, created map[int64]Event) ([]*Message, error) {
	n := len(b.live)
	orgs, convs := make([]int64, n), make([]int64, n)
	channels, bodies, providers, pids, encodings := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	segments := make([]int32, n)
	msgs := make(map[string]*Message, n)
	for j, i := range b.live {
		in, conv := b.ins[i], b.conv[b.convKeyOf(i)]
		id := in.ProviderMessageID
		m := &Message{OrgID: conv.OrgID, ConversationID: conv.ID, Direction: "inbound", Channel: in.Channel,
			Body: in.Body, AuthorType: "recipient", Status: MsgReceived, Provider: in.Provider, ProviderMessageID: &id}
		if in.Channel == ChannelSMS {
			m.Encoding, m.Segments = smsShape(in.Body)
		}
		msgs[in.Provider+"\x00"+id] = m
		orgs[j], convs[j], channels[j], bodies[j], providers[j], pids[j], encodings[j], segments[j] =
			m.OrgID, m.ConversationID, m.Channel, m.Body, m.Provider, id, m.Encoding, int32(m.Segments)
	}
	rows, err := b.query(ctx, insertMessagesQuery, orgs, convs, channels, bodies, providers, pids, encodings, segments)
	if err != nil {
		return nil, fmt.Errorf("insert inbound messages: %w", err)
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
		return nil, fmt.Errorf("insert inbound messages: %w", err)
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

// followUps writes the outbox rows the stored messages trigger, in one
// statement: the one place inbound work is queued.
func (b *inboundBatch) followUps(ctx context.Context, msgs []*Message) error {
	if b.followUp == nil {
		return nil
	}
	var orgs []int64
	var specs []task.Spec
	for j, i := range b.live {
		row := b.conv[b.convKeyOf(i)]
		for _, t := range b.followUp(msgs[j], row) {
			orgs, specs = append(orgs, row.OrgID), append(specs, t)
		}
	}
	if err := insertOutboxRows(ctx, b.tx.Tx, orgs, specs); err != nil {
		return fmt.Errorf("queue follow-ups: %w", err)
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
