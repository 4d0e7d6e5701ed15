package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// The reply dashboard: for every recipient row of a broadcast, whether the
// person replied within the reply window (an inbound message from them to
// the broadcast's inbox on that channel), opted out after it reached
// them, was never reached (failed), or is silent.

// replyStatesSQL lists a broadcast's rows with their dashboard state;
// parameters: the broadcast, its inbox, its reply window in hours. A
// STOP is an opt-out, not a reply.
const replyStatesSQL = `SELECT br.recipient_id, r.name, r.phone, r.email, br.channel, br.status AS row_status, br.skip_reason,
		coalesce(m.status, '') AS message_status, coalesce(m.status_reason, '') AS status_reason,
		rep.conversation_id, rep.created_at AS replied_at, coalesce(rep.body, '') AS reply_preview,
		oo.created_at AS opted_out_at, cc.status AS chat_status, u.name AS assignee_name,
		CASE WHEN oo.created_at IS NOT NULL THEN 'opted_out'
			WHEN rep.conversation_id IS NOT NULL THEN 'replied'
			WHEN m.status = 'failed' THEN 'failed'
			WHEN br.status = 'skipped' OR br.status = 'cancelled' THEN 'skipped'
			WHEN m.status IN ('sent', 'delivered') THEN 'silent'
			ELSE 'pending' END AS state
	FROM broadcast_recipients AS br JOIN recipients AS r ON r.id = br.recipient_id
	LEFT JOIN messages AS m ON m.id = br.message_id
	LEFT JOIN LATERAL (SELECT im.conversation_id, im.created_at, left(im.body, 140) AS body
		FROM conversations AS c JOIN messages AS im ON im.conversation_id = c.id
		WHERE m.id IS NOT NULL AND c.recipient_id = br.recipient_id AND c.inbox_id = ?1 AND c.channel = br.channel
			AND im.direction = 'inbound' AND im.created_at > m.created_at
			AND im.created_at <= m.created_at + make_interval(hours => ?2::int)
			AND upper(btrim(im.body)) NOT IN ('STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'REVOKE', 'OPTOUT', 'OPT-OUT')
		ORDER BY im.id LIMIT 1) AS rep ON true
	LEFT JOIN LATERAL (SELECT ce.created_at FROM recipient_consent_events AS ce
		WHERE m.id IS NOT NULL AND ce.recipient_id = br.recipient_id AND ce.channel = br.channel
			AND ce.action = 'opt_out' AND ce.created_at > m.created_at
		ORDER BY ce.id LIMIT 1) AS oo ON true
	LEFT JOIN conversations AS cc ON cc.id = rep.conversation_id
	LEFT JOIN users AS u ON u.id = cc.assignee_id
	WHERE br.broadcast_id = ?0`

// replyRow scans one replyStatesSQL row.
type replyRow struct {
	RecipientID    int64      `bun:"recipient_id"`
	Name           string     `bun:"name"`
	Phone          *string    `bun:"phone"`
	Email          *string    `bun:"email"`
	Channel        string     `bun:"channel"`
	RowStatus      string     `bun:"row_status"`
	SkipReason     string     `bun:"skip_reason"`
	OptedOutAt     *time.Time `bun:"opted_out_at"`
	MessageStatus  string     `bun:"message_status"`
	StatusReason   string     `bun:"status_reason"`
	ConversationID *int64     `bun:"conversation_id"`
	RepliedAt      *time.Time `bun:"replied_at"`
	ReplyPreview   string     `bun:"reply_preview"`
	ChatStatus     *string    `bun:"chat_status"`
	AssigneeName   *string    `bun:"assignee_name"`
	State          string     `bun:"state"`
}

// BroadcastReplies is the reply dashboard: every recipient row with its
// state (replied, opted out, failed, silent, pending, skipped), the chat
// a reply is in, ordered by recipient.
func (s *Store) BroadcastReplies(ctx context.Context, sc Scope, id int64, f BroadcastReplyFilter) (*BroadcastReplyPage, error) {
	if err := require(sc, PermBroadcast); err != nil {
		return nil, err
	}
	switch f.State {
	case "", ReplyStateReplied, ReplyStateOptedOut, ReplyStateFailed, ReplyStateSilent, ReplyStatePending, ReplyStateSkipped:
	default:
		return nil, fieldErr("state", "Choose replied, opted_out, failed, silent, pending or skipped.")
	}
	// Only what the rows are matched with (not the counts a view reads).
	var v struct {
		InboxID          int64 `bun:"inbox_id"`
		ReplyWindowHours int   `bun:"reply_window_hours"`
	}
	if err := s.db.NewRaw(`SELECT inbox_id, reply_window_hours FROM broadcasts WHERE org_id = ? AND id = ?`, sc.OrgID, id).Scan(ctx, &v); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			err = ErrNotFound
		}
		return nil, fmt.Errorf("store: broadcast replies: %w", err)
	}
	limit := f.Limit
	switch {
	case limit == 0:
		limit = 100
	case limit > 500:
		limit = 500
	}
	q := `SELECT * FROM (` + replyStatesSQL + `) AS d WHERE d.recipient_id > ?3 AND (?4 = '' OR d.state = ?4)
		ORDER BY d.recipient_id, d.channel`
	args := []any{id, v.InboxID, v.ReplyWindowHours, f.After, f.State}
	if limit > 0 {
		q += ` LIMIT ?5`
		args = append(args, limit+1)
	}
	var rows []replyRow
	if err := s.db.NewRaw(q, args...).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("store: broadcast replies: %w", err)
	}
	page := &BroadcastReplyPage{}
	if limit > 0 && len(rows) > limit {
		// Cut at a recipient boundary: the next page starts after one.
		cut := rows[limit].RecipientID
		for len(rows) > 0 && rows[len(rows)-1].RecipientID == cut {
			rows = rows[:len(rows)-1]
		}
		if len(rows) > 0 {
			page.NextAfter = rows[len(rows)-1].RecipientID
		}
	}
	for _, r := range rows {
		out := BroadcastReply{RecipientID: r.RecipientID, Name: r.Name, Phone: r.Phone, Email: r.Email, Channel: r.Channel,
			State: r.State, MessageStatus: r.MessageStatus, StatusReason: r.StatusReason, SkipReason: r.SkipReason,
			ConversationID: r.ConversationID, RepliedAt: r.RepliedAt, ReplyPreview: r.ReplyPreview, AssigneeName: r.AssigneeName}
		if r.ChatStatus != nil {
			out.ChatStatus = *r.ChatStatus
		}
		page.Rows = append(page.Rows, out)
	}
	return page, nil
}
