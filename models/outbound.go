package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// OutboundSMS is what the worker needs to send one queued message.
type OutboundSMS struct {
	MessageID int64  `bun:"message_id"`
	From      string `bun:"from"` // E.164
	To        string `bun:"to"`   // E.164
	Body      string `bun:"body"`
}

// ErrNotSendable: the message must not go out (already sent, failed,
// opted out, plan inactive). The reason is recorded on the message.
var ErrNotSendable = errors.New("message not sendable")

// ErrClaimed: another worker marked the message sending less than
// SendClaimLease ago and may still be sending it; try again later.
var ErrClaimed = errors.New("message is being sent by another worker")

// SendClaimLease is how long a worker's claim on a message (its mark
// 'sending') keeps every other worker from sending it. It must outlast one
// send and its record (the provider call is bounded by its own timeout,
// 10 s by default), and it is about as long as asynq takes to hand a
// killed worker's task to another (55 s to 2 min; see jobs), so taking a
// dead worker's message over costs little extra wait.
const SendClaimLease = time.Minute

// sendClaimLeaseSQL is SendClaimLease as a PostgreSQL interval.
var sendClaimLeaseSQL = fmt.Sprintf("interval '%d seconds'", int(SendClaimLease/time.Second))

// ClaimSMS re-checks the compliance gate for a queued message and marks
// it sending. A message already past queued is not claimed again, except
// one stuck in sending by a worker that died mid-call (or released its
// claim after a failed call; see ReleaseSMSClaim): that one is sent again,
// which is the one way a duplicate can reach a recipient (bounded by the
// task's retries; see jobs). A claim younger than SendClaimLease is
// another worker's: ErrClaimed, and the caller tries again later.
func (s *Store) ClaimSMS(ctx context.Context, msgID int64) (*OutboundSMS, *Change, error) {
	c, ch, err := s.claim(ctx, msgID, ChannelSMS)
	if err != nil {
		return nil, ch, err
	}
	return &OutboundSMS{MessageID: c.MessageID, From: c.From, To: c.To, Body: c.Body}, nil, nil
}

// claimed is a message a worker claimed: its text and the two addresses
// on its channel (the inbox's and the recipient's).
type claimed struct {
	MessageID int64  `bun:"message_id"`
	From      string `bun:"from"`
	To        string `bun:"to"`
	Body      string `bun:"body"`
	Automated bool   `bun:"automated"`
	Author    string `bun:"author_type"`
}

// claim is the one claim both channels share (ClaimSMS, ClaimEmail): it
// re-checks the send gate for a queued message of channel and marks it
// sending, or fails it with the gate's reason.
func (s *Store) claim(ctx context.Context, msgID int64, channel string) (*claimed, *Change, error) {
	// The common case in one statement (its own transaction, one round
	// trip): lock the message, check the gate, mark it sending. Anything
	// else (not found, past sending, the gate closed) takes the full path
	// below, which locks and checks again and records the reason.
	//
	// This commit does not wait for the WAL flush (synchronous_commit off
	// for this transaction only): the mark is visible to every other
	// transaction at once, so a STOP still serializes against it, and
	// losing it in a database crash leaves the message queued, which the
	// next attempt claims exactly as it claims a sending one. The send's
	// own record (RecordSent) commits synchronously, and its flush
	// covers this earlier WAL too.
	var fast []claimed
	err := s.prepared(ctx, &fast, claimQuery, msgID, channel)
	if err == nil && len(fast) == 1 {
		return &fast[0], nil, nil
	}
	return s.claimChecked(ctx, msgID, channel)
}

// ReleaseSMSClaim gives up this worker's claim on a message it marked
// sending but could not send or record (the provider unreachable, the
// database refusing the record), so the task's own retry may claim it at
// once; the message stays sending.
func (s *Store) ReleaseSMSClaim(ctx context.Context, msgID int64) error {
	return s.releaseClaim(ctx, msgID)
}

// releaseClaim is ReleaseSMSClaim and ReleaseEmailClaim.
func (s *Store) releaseClaim(ctx context.Context, msgID int64) error {
	if _, err := s.db.NewRaw("UPDATE messages SET claimed_at = NULL WHERE id = ? AND status = ?", msgID, MsgSending).Exec(ctx); err != nil {
		return fmt.Errorf("store: release claim %d: %w", msgID, err)
	}
	return nil
}

// claimChecked is claim in a transaction, step by step.
func (s *Store) claimChecked(ctx context.Context, msgID int64, channel string) (*claimed, *Change, error) {
	var out *claimed
	var ch *Change
	var gateClosed string
	err := s.inTx(ctx, func(tx bun.Tx) error {
		ch, gateClosed = nil, ""
		var row struct {
			Message
			From      *string `bun:"from_addr"`
			To        *string `bun:"to_addr"`
			Reason    string  `bun:"gate_reason"`
			ClaimLive bool    `bun:"claim_live"`
		}
		err := tx.NewRaw(`SELECT `+msgColumnsM+`, `+channelAddrsSQL+`, `+sendGateSQL+` AS gate_reason,
			coalesce(m.claimed_at > now() - `+sendClaimLeaseSQL+`, false) AS claim_live
			FROM messages m JOIN conversations c ON c.id = m.conversation_id
			JOIN recipients r ON r.id = c.recipient_id JOIN inboxes i ON i.id = c.inbox_id JOIN locations l ON l.id = i.location_id
			WHERE m.id = ? AND m.direction = 'outbound' AND m.channel = ? AND NOT m.is_note
			FOR UPDATE OF m`, msgID, channel).Scan(ctx, &row)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("message %d: %w", msgID, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("load message: %w", err)
		}
		if !pending(row.Status) {
			return fmt.Errorf("message %d is %s: %w", msgID, row.Status, ErrNotSendable)
		}
		if row.Status == MsgSending && row.ClaimedAt != nil && row.ClaimLive {
			return fmt.Errorf("message %d (claimed %s): %w", msgID, row.ClaimedAt.Format(time.RFC3339), ErrClaimed)
		}
		reason := row.Reason
		if reason == "" {
			// The last word on its credits: charged now if the task has
			// not yet, or refused when the balance no longer covers it.
			if reason, err = settleSend(ctx, tx, msgID); err != nil {
				return err
			}
		}
		if reason != "" {
			// Recorded and committed (an error here would roll the
			// failure back): the caller learns it from gateClosed.
			ch, err = setMessageStatus(ctx, tx, &row.Message, MsgFailed, reason)
			if err != nil {
				return err
			}
			gateClosed = reason
			return dropOrRefund(ctx, tx, []int64{msgID})
		}
		if _, err := tx.NewRaw("UPDATE messages SET status = ?, claimed_at = now() WHERE id = ?", MsgSending, msgID).Exec(ctx); err != nil {
			return fmt.Errorf("mark sending: %w", err)
		}
		// The gate passed, so both addresses are set.
		out = &claimed{MessageID: msgID, From: *row.From, To: *row.To, Body: row.Body,
			Automated: row.Automated, Author: row.AuthorType}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("store: claim %s: %w", channel, err)
	}
	if gateClosed != "" {
		return nil, ch, fmt.Errorf("store: claim %s: message %d: %s: %w", channel, msgID, gateClosed, ErrNotSendable)
	}
	return out, nil, nil
}

// channelAddrsSQL is, over m, r and i as in sendGateSQL, the inbox's
// address (from_addr) and the recipient's (to_addr) on the message's
// channel.
const channelAddrsSQL = `(CASE WHEN m.channel = '` + ChannelSMS + `' THEN i.sms_number ELSE i.email_address END) AS from_addr,
	(CASE WHEN m.channel = '` + ChannelSMS + `' THEN r.phone ELSE r.email END) AS to_addr`

// RecordSent stores the provider's ids for a sent message (one per part)
// and moves it to sent, or further when receipts for its parts came first.
//
// The common case is one statement (recordSent). A part whose id is
// already stored, a receipt kept pending (see ApplyReceipt) or a part a
// receipt adopted by client-ref, makes that statement fail on the parts'
// unique key, changing nothing; the send is then recorded step by step
// (recordSentChecked), adopting those parts with their statuses.
func (s *Store) RecordSent(ctx context.Context, msgID int64, provider string, ids []string) (*Change, error) {
	ch, err := s.recordSent(ctx, msgID, provider, ids)
	if !isUniqueViolation(err) {
		return ch, err
	}
	for attempt := 1; ; attempt++ {
		ch, err = s.recordSentChecked(ctx, msgID, provider, ids)
		if err == nil || attempt == receiveAttempts || !isTransient(err) || ctx.Err() != nil {
			return ch, err
		}
	}
}

// recordSentChecked is RecordSent in a transaction, for parts already
// known: lock the message, then adopt or insert its parts (the order
// ApplyReceipt locks them in), record the provider, and settle the
// message from its parts' statuses, in one commit.
func (s *Store) recordSentChecked(ctx context.Context, msgID int64, provider string, ids []string) (*Change, error) {
	var ch *Change
	err := s.inTx(ctx, func(tx bun.Tx) error {
		m, err := lockMessage(ctx, tx, msgID)
		if err != nil {
			return err
		}
		if m == nil {
			return fmt.Errorf("message %d: %w", msgID, ErrNotFound)
		}
		var adopted []struct {
			ErrCode int `bun:"err_code"`
		}
		err = tx.NewRaw(`INSERT INTO message_parts (message_id, provider, provider_message_id)
			SELECT ?, ?, p.id FROM unnest(?::text[]) WITH ORDINALITY AS p(id, n) ORDER BY p.n
			ON CONFLICT (provider, provider_message_id) DO UPDATE SET message_id = excluded.message_id, updated_at = now()
			WHERE message_parts.message_id IS NULL
			RETURNING err_code`, m.ID, provider, pgdialect.Array(ids)).Scan(ctx, &adopted)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("record parts: %w", err)
		}
		first := ""
		if len(ids) > 0 {
			first = ids[0]
		}
		if _, err := tx.NewRaw(`UPDATE messages SET provider = ?, provider_message_id = coalesce(provider_message_id, NULLIF(?, '')),
			sent_at = coalesce(sent_at, now()) WHERE id = ?`, provider, first, m.ID).Exec(ctx); err != nil {
			return fmt.Errorf("record provider: %w", err)
		}
		if ch, err = settleMessage(ctx, tx, m); err != nil {
			return err
		}
		for _, p := range adopted {
			if p.ErrCode == errCodeOptOut {
				return optOutByReceipt(ctx, tx, m)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: record sent: %w", err)
	}
	return ch, nil
}

// recordSent writes everything in one statement (its own transaction, one
// round trip): lock the message, record the provider and its ids, and move
// the status forward to sent (never back, as setMessageStatus does) with
// its message_status event. The conversation row for agents' screens is
// read after the commit.
func (s *Store) recordSent(ctx context.Context, msgID int64, provider string, ids []string) (*Change, error) {
	if ids == nil {
		ids = []string{}
	}
	first := ""
	if len(ids) > 0 {
		first = ids[0]
	}
	var rows []struct {
		Message
		OldStatus      string     `bun:"old_status"`
		EventID        *int64     `bun:"event_id"`
		EventInboxID   *int64     `bun:"event_inbox_id"`
		EventCreatedAt *time.Time `bun:"event_created_at"`
	}
	err := s.prepared(ctx, &rows, recordSentQuery, msgID, provider, first, ids)
	if err != nil {
		return nil, fmt.Errorf("store: record sent: %w", err)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("store: record sent: message %d: %w", msgID, ErrNotFound)
	}
	row := rows[0]
	if row.EventID == nil {
		return nil, nil // already sent (or past it): nothing new to show
	}
	m := row.Message
	ev := Event{ID: *row.EventID, OrgID: m.OrgID, InboxID: *row.EventInboxID, ConversationID: m.ConversationID,
		Kind: EvMessageStatus, MessageID: &m.ID, Detail: map[string]any{"status": MsgSent}, CreatedAt: *row.EventCreatedAt,
		Message: &m}
	ch := &Change{Events: []Event{ev}}
	// Unscoped, as setMessageStatus reads it: the caller is the worker.
	conv, err := loadConversationRow(ctx, s.db.DB, m.OrgID, m.ConversationID)
	if err != nil {
		// The send is recorded (committed above): failing now would make
		// the caller treat it as not recorded. Without the row there is
		// nothing to show live; screens pick the event up on their next
		// resume from conversation_events.
		return nil, nil
	}
	ch.Conversation = *conv
	return ch, nil
}

// RecordSendFailed marks a message failed with the provider's reason. A
// message that had not been sent (the provider refused it, or every
// attempt failed) is refunded.
func (s *Store) RecordSendFailed(ctx context.Context, msgID int64, reason string) (*Change, error) {
	var ch *Change
	err := s.inTx(ctx, func(tx bun.Tx) error {
		m := new(Message)
		if err := tx.NewSelect().Model(m).Where("id = ?", msgID).For("UPDATE").Scan(ctx); err != nil {
			return notFound("message", err)
		}
		unsent := m.Direction == "outbound" && pending(m.Status)
		var err error
		if ch, err = setMessageStatus(ctx, tx, m, MsgFailed, reason); err != nil {
			return err
		}
		if unsent {
			// It never went out: its credits come back.
			return dropOrRefund(ctx, tx, []int64{msgID})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: record send failed: %w", err)
	}
	return ch, nil
}

// setMessageStatus moves a locked message forward to status and records a
// message_status event; it returns nil when the status would go backward
// or stay the same.
func setMessageStatus(ctx context.Context, tx bun.Tx, m *Message, status, reason string) (*Change, error) {
	if statusRank[status] <= statusRank[m.Status] && !(status == MsgFailed && m.Status == MsgSending) {
		return nil, nil
	}
	q := tx.NewUpdate().Model(m).Set("status = ?, status_reason = ?", status, reason).WherePK()
	if status == MsgDelivered {
		q = q.Set("delivered_at = now()")
	}
	if _, err := q.Exec(ctx); err != nil {
		return nil, fmt.Errorf("set status: %w", err)
	}
	m.Status, m.StatusReason = status, reason
	conv := new(Conversation)
	if err := tx.NewSelect().Model(conv).Where("id = ?", m.ConversationID).Scan(ctx); err != nil {
		return nil, fmt.Errorf("load conversation: %w", err)
	}
	ev, err := insertEvent(ctx, tx, conv, EvMessageStatus, &m.ID, nil, map[string]any{"status": status})
	if err != nil {
		return nil, err
	}
	ev.Message = m
	ch := &Change{Events: []Event{*ev}}
	// The row is loaded unscoped: the caller is the worker or a webhook.
	row, err := loadConversationRow(ctx, tx.Tx, conv.OrgID, conv.ID)
	if err != nil {
		return nil, err
	}
	ch.Conversation = *row
	return ch, nil
}

// The worker runs these for every send, as cached prepared statements
// (see prepared.go; B3).

// claimQuery locks a message of channel $2, checks the status and the
// send gate and marks it sending, returning nothing when either says no,
// or when its charge is still pending (claimChecked settles it).
// Its commit does not wait for the WAL flush (see claim).
var claimQuery = `WITH m0 AS (
		SELECT m.id, m.body, m.automated, m.author_type, ` + channelAddrsSQL + `
		FROM messages m JOIN conversations c ON c.id = m.conversation_id
		JOIN recipients r ON r.id = c.recipient_id JOIN inboxes i ON i.id = c.inbox_id JOIN locations l ON l.id = i.location_id
		WHERE m.id = $1 AND m.direction = 'outbound' AND m.channel = $2::text AND NOT m.is_note
		  AND m.status IN ` + pendingStatusesSQL + ` AND ` + sendGateSQL + ` = ''
		  AND (m.status <> '` + MsgSending + `' OR m.claimed_at IS NULL OR m.claimed_at <= now() - ` + sendClaimLeaseSQL + `)
		  AND NOT EXISTS (SELECT 1 FROM credit_pending p WHERE p.message_id = m.id AND p.kind = '` + ChargeOutbound + `')
		FOR UPDATE OF m
	)
	UPDATE messages SET status = '` + MsgSending + `', claimed_at = now() FROM m0, (SELECT set_config('synchronous_commit', 'off', true)) AS async
	WHERE messages.id = m0.id
	RETURNING m0.id AS message_id, m0.from_addr AS "from", m0.to_addr AS "to", m0.body, m0.automated, m0.author_type`

// recordSentQuery is recordSent's statement: $1 message, $2 provider, $3
// the first provider id, $4 all of them. A part id already stored
// (recorded, adopted by a receipt, or a pending receipt) fails it with a
// unique violation, and RecordSent takes the checked path.
var recordSentQuery = `WITH old AS (
		SELECT id, status FROM messages WHERE id = $1 FOR UPDATE
	), upd AS (
		UPDATE messages m SET provider = $2::text, provider_message_id = coalesce(m.provider_message_id, NULLIF($3::text, '')),
			sent_at = coalesce(m.sent_at, now()),
			status = CASE WHEN old.status IN ` + pastSentStatusesSQL + ` THEN m.status ELSE '` + MsgSent + `' END,
			status_reason = CASE WHEN old.status IN ` + pastSentStatusesSQL + ` THEN m.status_reason ELSE '' END
		FROM old WHERE m.id = old.id
		RETURNING ` + msgColumnsM + `, old.status AS old_status
	), parts AS (
		INSERT INTO message_parts (message_id, provider, provider_message_id)
		SELECT old.id, $2::text, p.id FROM old, unnest($4::text[]) WITH ORDINALITY AS p(id, n) ORDER BY p.n
` + sentEventSQL

// sentEventSQL ends a record-sent statement (RecordSent,
// RecordEmailSent) whose CTE upd moved a message to sent: the
// message_status event, unless it was past sent already, and the row the
// caller scans (the message, old_status, the event's id, inbox and time).
var sentEventSQL = `
	), ev AS (
		INSERT INTO conversation_events (org_id, inbox_id, conversation_id, kind, message_id, detail)
		SELECT c.org_id, c.inbox_id, c.id, 'message_status', upd.id, jsonb_build_object('status', '` + MsgSent + `')
		FROM upd JOIN conversations c ON c.id = upd.conversation_id
		WHERE upd.old_status NOT IN ` + pastSentStatusesSQL + `
		RETURNING id, inbox_id, created_at
	)
	SELECT upd.*, ev.id AS event_id, ev.inbox_id AS event_inbox_id, ev.created_at AS event_created_at
	FROM upd LEFT JOIN ev ON true`

// prepared runs query with $n parameters as a cached prepared statement
// and scans every row into dest (a pointer to a slice).
func (s *Store) prepared(ctx context.Context, dest any, query string, args ...any) error {
	rows, err := queryCached(ctx, s.db.DB, query, args...)
	if err != nil {
		return err
	}
	return s.db.ScanRows(ctx, rows, dest)
}
