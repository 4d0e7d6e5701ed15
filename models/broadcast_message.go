package models

import (
	"context"
	"fmt"

	"github.com/parley-chat/parley/channels/email"
	"github.com/parley-chat/parley/jobs/task"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// messageRows stores a batch of a broadcast's messages, set-based: one
// closed conversation per row (origin broadcast: the recipient's history;
// a reply opens a chat linked to it), its created and message events, the
// queued message with its price, its pending charge and send task (on the
// bulk queue, so chats' replies go first), an email thread for email
// rows, and the rows marked queued. The caller holds the rows' locks.
func (s *Store) messageRows(ctx context.Context, tx bun.Tx, b *Broadcast, rows []dueRow) error {
	card, err := loadRateCard(ctx, tx, b.OrgID)
	if err != nil {
		return err
	}
	shaper := newSMSShaper(b.Body)
	n := len(rows)
	rids, chans, bodies, previews, encs := make([]int64, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	segs, prices := make([]int, n), make([]int, n)
	for i, r := range rows {
		rids[i], chans[i] = r.RecipientID, r.Channel
		if r.Channel == ChannelSMS {
			text, seg := shaper.shape(r.Name)
			bodies[i], encs[i], segs[i] = text, string(seg.Encoding), seg.Segments
		} else {
			bodies[i] = fillPlaceholders(b.Body, r.Name)
		}
		previews[i] = preview(bodies[i])
		prices[i] = card.Price(r.Channel, ChargeOutbound, segs[i], false)
	}
	// The conversations, in the rows' order.
	var convs []struct {
		ID          int64  `bun:"id"`
		RecipientID int64  `bun:"recipient_id"`
		Channel     string `bun:"channel"`
	}
	if err := tx.NewRaw(`INSERT INTO conversations (org_id, inbox_id, recipient_id, channel, status, origin, broadcast_id,
			last_message_preview, closed_at)
		SELECT ?, ?, r, c, ?, ?, ?, p, now() FROM unnest(?::bigint[], ?::text[], ?::text[]) WITH ORDINALITY AS x(r, c, p, n)
		ORDER BY n RETURNING id, recipient_id, channel`,
		b.OrgID, b.InboxID, StatusClosed, OriginBroadcast, b.ID,
		pgdialect.Array(rids), pgdialect.Array(chans), pgdialect.Array(previews)).Scan(ctx, &convs); err != nil {
		return fmt.Errorf("broadcast conversations: %w", err)
	}
	type key struct {
		r int64
		c string
	}
	convOf := make(map[key]int64, n)
	for _, c := range convs {
		convOf[key{c.RecipientID, c.Channel}] = c.ID
	}
	convIDs := make([]int64, n)
	for i := range rows {
		convIDs[i] = convOf[key{rids[i], chans[i]}]
	}
	author, authorID := "user", b.CreatedBy
	if authorID == nil {
		author = "automation"
	}
	var msgs []struct {
		ID             int64 `bun:"id"`
		ConversationID int64 `bun:"conversation_id"`
	}
	if err := tx.NewRaw(`INSERT INTO messages (org_id, conversation_id, direction, channel, body, author_type, author_user_id,
			status, encoding, segments, credits_charged)
		SELECT ?, cv, 'outbound', c, bd, ?, ?, ?, e, s, p
		FROM unnest(?::bigint[], ?::text[], ?::text[], ?::text[], ?::int[], ?::int[]) WITH ORDINALITY AS x(cv, c, bd, e, s, p, n)
		ORDER BY n RETURNING id, conversation_id`,
		b.OrgID, author, authorID, MsgQueued, pgdialect.Array(convIDs), pgdialect.Array(chans), pgdialect.Array(bodies),
		pgdialect.Array(encs), pgdialect.Array(segs), pgdialect.Array(prices)).Scan(ctx, &msgs); err != nil {
		return fmt.Errorf("broadcast messages: %w", err)
	}
	msgOf := make(map[int64]int64, n)
	for _, m := range msgs {
		msgOf[m.ConversationID] = m.ID
	}
	msgIDs := make([]int64, n)
	specs := make([]task.Spec, 0, n+1)
	specs = append(specs, task.NewCreditsCharge(b.LocationID))
	for i := range rows {
		msgIDs[i] = msgOf[convIDs[i]]
		sp := sendTask(chans[i], msgIDs[i])
		sp.Queue = task.QueueBulk
		specs = append(specs, sp)
	}
	detail := fmt.Sprintf(`{"broadcast_id": %d}`, b.ID)
	if _, err := tx.NewRaw(`INSERT INTO conversation_events (org_id, inbox_id, conversation_id, kind, message_id, actor_user_id, detail)
		SELECT ?, ?, cv, k, CASE WHEN k = ? THEN m END, ?, ?::jsonb
		FROM unnest(?::bigint[], ?::bigint[]) WITH ORDINALITY AS x(cv, m, n), unnest(ARRAY[?, ?]::text[]) WITH ORDINALITY AS y(k, o)
		ORDER BY n, o`,
		b.OrgID, b.InboxID, EvMessage, authorID, detail, pgdialect.Array(convIDs), pgdialect.Array(msgIDs),
		EvCreated, EvMessage).Exec(ctx); err != nil {
		return fmt.Errorf("broadcast events: %w", err)
	}
	if _, err := tx.NewRaw(`INSERT INTO credit_pending (message_id, kind, org_id, location_id, credits)
		SELECT m, ?, ?, ?, p FROM unnest(?::bigint[], ?::int[]) AS x(m, p)`,
		ChargeOutbound, b.OrgID, b.LocationID, pgdialect.Array(msgIDs), pgdialect.Array(prices)).Exec(ctx); err != nil {
		return fmt.Errorf("broadcast charges: %w", err)
	}
	if err := insertOutbox(ctx, tx, b.OrgID, specs...); err != nil {
		return err
	}
	var threadConvs []int64
	var tokens, subjects []string
	for i, r := range rows {
		if r.Channel == ChannelEmail {
			threadConvs = append(threadConvs, convIDs[i])
			tokens = append(tokens, email.NewToken())
			subjects = append(subjects, fillPlaceholders(b.Subject, r.Name))
		}
	}
	if len(threadConvs) > 0 {
		if _, err := tx.NewRaw(`INSERT INTO email_threads (conversation_id, org_id, token, subject)
			SELECT cv, ?, t, s FROM unnest(?::bigint[], ?::text[], ?::text[]) AS x(cv, t, s)`,
			b.OrgID, pgdialect.Array(threadConvs), pgdialect.Array(tokens), pgdialect.Array(subjects)).Exec(ctx); err != nil {
			return fmt.Errorf("broadcast email threads: %w", err)
		}
	}
	if _, err := tx.NewRaw(`UPDATE broadcast_recipients AS br SET status = ?, conversation_id = x.cv, message_id = x.m
		FROM unnest(?::bigint[], ?::text[], ?::bigint[], ?::bigint[]) AS x(r, c, cv, m)
		WHERE br.broadcast_id = ? AND br.recipient_id = x.r AND br.channel = x.c`,
		BRQueued, pgdialect.Array(rids), pgdialect.Array(chans), pgdialect.Array(convIDs), pgdialect.Array(msgIDs), b.ID).Exec(ctx); err != nil {
		return fmt.Errorf("broadcast rows queued: %w", err)
	}
	return nil
}
