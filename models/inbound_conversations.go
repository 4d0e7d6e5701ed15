package models

import (
	"context"
	"fmt"
	"sort"
)

// The inbound core moves each sender's active conversation, or opens one.

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

// broadcastReplySQL is true when c (a conversation), with bc its
// broadcast, is a chat-enabled broadcast's message still within the
// reply window: a reply to it opens a chat marked with the broadcast, or
// marks the open one it joins (broadcastReplySQL2, over p and bc).
const (
	broadcastReplySQL  = `c.origin = '` + OriginBroadcast + `' AND bc.chat_enabled AND c.created_at > now() - make_interval(hours => bc.reply_window_hours)`
	broadcastReplySQL2 = `bc.chat_enabled AND p.created_at > now() - make_interval(hours => bc.reply_window_hours)`
)

// moveConversationsQuery moves each sender's active conversation in the
// inbox on the channel (activity, preview, unread count), locking them in
// id order, and returns their rows.
const moveConversationsQuery = `WITH v AS (SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::int[])
			AS v (inbox_id, recipient_id, channel, preview, n)),
		locked AS (SELECT c.id, v.preview, v.n FROM conversations AS c
			JOIN v ON c.inbox_id = v.inbox_id AND c.recipient_id = v.recipient_id AND c.channel = v.channel
			WHERE c.status <> '` + StatusClosed + `' ORDER BY c.id FOR UPDATE OF c),
		moved AS (UPDATE conversations AS c SET last_message_at = now(), last_message_preview = locked.preview,
			unread_count = c.unread_count + locked.n, updated_at = now(),
			broadcast_id = coalesce(c.broadcast_id, (SELECT bc.id FROM conversations AS p JOIN broadcasts AS bc ON bc.id = p.broadcast_id
				WHERE p.recipient_id = c.recipient_id AND p.inbox_id = c.inbox_id AND p.channel = c.channel
					AND p.origin = '` + OriginBroadcast + `' AND p.status = '` + StatusClosed + `' AND ` + broadcastReplySQL2 + `
				ORDER BY p.id DESC LIMIT 1))
			FROM locked WHERE c.id = locked.id RETURNING c.*)
	SELECT ` + conversationColumns + `, u.name FROM moved AS c LEFT JOIN users AS u ON u.id = c.assignee_id`

// openConversationsQuery opens the missing conversations, each linked to
// the sender's last closed one, with their "created" events, and returns
// their rows with the events' ids and times. One opened concurrently by
// another transaction is skipped here and moved by the caller.
const openConversationsQuery = `WITH v AS (SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::int[])
			WITH ORDINALITY AS v (org_id, inbox_id, recipient_id, channel, preview, n, ord)),
		prev AS (SELECT DISTINCT ON (c.inbox_id, c.recipient_id, c.channel) c.inbox_id, c.recipient_id, c.channel, c.id,
				CASE WHEN ` + broadcastReplySQL + ` THEN c.broadcast_id END AS broadcast_id
			FROM conversations AS c
			JOIN v ON c.inbox_id = v.inbox_id AND c.recipient_id = v.recipient_id AND c.channel = v.channel
			LEFT JOIN broadcasts AS bc ON bc.id = c.broadcast_id
			ORDER BY c.inbox_id, c.recipient_id, c.channel, c.id DESC),
		opened AS (INSERT INTO conversations (org_id, inbox_id, recipient_id, channel, status, origin, broadcast_id, previous_id,
				last_message_preview, unread_count)
			SELECT v.org_id, v.inbox_id, v.recipient_id, v.channel, '` + StatusNew + `',
				CASE WHEN prev.broadcast_id IS NULL THEN '` + OriginRecipient + `' ELSE '` + OriginBroadcast + `' END,
				prev.broadcast_id, prev.id, v.preview, v.n
			FROM v LEFT JOIN prev ON prev.inbox_id = v.inbox_id AND prev.recipient_id = v.recipient_id AND prev.channel = v.channel
			ORDER BY v.ord
			ON CONFLICT (inbox_id, recipient_id, channel) WHERE status <> '` + StatusClosed + `' DO NOTHING
			RETURNING *),
		e AS (INSERT INTO conversation_events (org_id, inbox_id, conversation_id, kind, detail)
			SELECT org_id, inbox_id, id, '` + EvCreated + `', jsonb_build_object('origin', origin) FROM opened ORDER BY id
			RETURNING id, conversation_id, created_at)
	SELECT ` + conversationColumns + `, e.id, e.created_at FROM opened AS c JOIN e ON e.conversation_id = c.id`

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
		if missing[x].rcpt != missing[y].rcpt {
			return missing[x].rcpt < missing[y].rcpt
		}
		return missing[x].channel < missing[y].channel
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
		if err := rows.Scan(append(conversationFields(&row.Conversation), &row.AssigneeName)...); err != nil {
			return err
		}
		b.completeRow(row)
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
		row := new(ConversationRow) // new: nobody is assigned yet
		var ev Event
		if err := rows.Scan(append(conversationFields(&row.Conversation), &ev.ID, &ev.CreatedAt)...); err != nil {
			return err
		}
		ev.OrgID, ev.InboxID, ev.ConversationID, ev.Kind = row.OrgID, row.InboxID, row.ID, EvCreated
		ev.Detail = map[string]any{"origin": row.Origin}
		created[row.ID] = ev
		b.completeRow(row)
		return nil
	})
	if err != nil {
		return fmt.Errorf("open conversations: %w", err)
	}
	return nil
}

// completeRow fills in what a conversation row shows of its recipient and
// inbox from the sender and inbox the batch holds (the columns and fields
// of conversationRowColumns, without its joins), and records the row.
func (b *inboundBatch) completeRow(row *ConversationRow) {
	if r := b.senders[row.RecipientID]; r != nil {
		row.RecipientName, row.RecipientPhone, row.RecipientEmail = r.name, r.phone, r.email
		row.OptedOut = r.smsOptedOut
		if row.Channel != ChannelSMS {
			row.OptedOut = r.emailOptedOut
		}
	}
	if inbox := b.inboxByID[row.InboxID]; inbox != nil {
		row.InboxName, row.LocationID = inbox.Name, inbox.LocationID
	}
	b.conv[convKey{row.InboxID, row.RecipientID, row.Channel}] = row
}
