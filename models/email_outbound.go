package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/parley-chat/parley/channels/email"
	"github.com/uptrace/bun"
)

// Outbound email: claiming a queued email for the worker (the same claim
// and gate as SMS), recording it as sent, failing it when it bounces.

// OutboundEmail is what the worker needs to build and send one queued
// email. Message ids are bare, without angle brackets.
type OutboundEmail struct {
	MessageID int64
	// From and FromName are the inbox's address and name; To and ToName
	// the recipient's.
	From, FromName string
	To, ToName     string
	// ThreadToken is the conversation's reply token (for Reply-To) and
	// Subject the thread's subject, without "Re: ".
	ThreadToken, Subject string
	// InReplyTo and References thread it: the newest email in the
	// conversation (the recipient's, or our own last one) and that
	// email's References. Empty for the first email of a thread.
	InReplyTo  string
	References []string
	Body       string
	// Automated is what machine wrote it, for Auto-Submitted (RFC 3834).
	Automated email.Automation
	// UnsubscribeToken names the recipient in the one-click unsubscribe
	// link (RFC 8058).
	UnsubscribeToken string
}

// ClaimEmail re-checks the send gate for a queued email and marks it
// sending, exactly as ClaimSMS does for a text (one claim for both), then
// reads what building it needs, making the conversation's thread and the
// recipient's unsubscribe token if they have none yet. When reading fails
// after the claim, the claim is released before returning the error.
func (s *Store) ClaimEmail(ctx context.Context, msgID int64) (*OutboundEmail, *Change, error) {
	c, ch, err := s.claim(ctx, msgID, ChannelEmail)
	if err != nil {
		return nil, ch, err
	}
	out, err := s.outboundEmail(ctx, c)
	if err != nil {
		if rerr := s.releaseClaim(ctx, msgID); rerr != nil {
			err = errors.Join(err, rerr)
		}
		return nil, nil, fmt.Errorf("store: claim email: %w", err)
	}
	return out, nil, nil
}

// ReleaseEmailClaim is ReleaseSMSClaim for an email.
func (s *Store) ReleaseEmailClaim(ctx context.Context, msgID int64) error {
	return s.releaseClaim(ctx, msgID)
}

// outboundEmail reads the rest of a claimed email: names, thread,
// threading headers and unsubscribe token. The common case is one read
// (outboundEmailQuery, no transaction); a conversation without a thread
// yet or a recipient without a token takes a transaction that makes them.
func (s *Store) outboundEmail(ctx context.Context, c *claimed) (*OutboundEmail, error) {
	var rows []outboundEmailRow
	if err := s.prepared(ctx, &rows, outboundEmailQuery, c.MessageID); err != nil {
		return nil, fmt.Errorf("read email: %w", err)
	}
	if len(rows) != 1 {
		return nil, fmt.Errorf("message %d: %w", c.MessageID, ErrNotFound)
	}
	row := rows[0]
	if row.Token == nil || row.Unsubscribe == nil {
		err := s.inTx(ctx, func(tx bun.Tx) error {
			thread, err := ensureEmailThread(ctx, tx, row.OrgID, row.ConvID, "")
			if err != nil {
				return err
			}
			row.Token, row.Subject = &thread.Token, &thread.Subject
			tok, err := ensureUnsubscribeToken(ctx, tx, row.RecipientID)
			row.Unsubscribe = &tok
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	out := &OutboundEmail{MessageID: c.MessageID, From: c.From, To: c.To, Body: c.Body, Automated: automation(c),
		FromName: row.InboxName, ToName: row.RcptName, ThreadToken: *row.Token, UnsubscribeToken: *row.Unsubscribe,
		References: row.Refs}
	if row.Subject != nil {
		out.Subject = *row.Subject
	}
	if row.InReplyTo != nil {
		out.InReplyTo = *row.InReplyTo
	}
	return out, nil
}

// outboundEmailRow is outboundEmailQuery's row.
type outboundEmailRow struct {
	OrgID       int64    `bun:"org_id"`
	ConvID      int64    `bun:"conversation_id"`
	RecipientID int64    `bun:"recipient_id"`
	InboxName   string   `bun:"inbox_name"`
	RcptName    string   `bun:"rcpt_name"`
	Unsubscribe *string  `bun:"unsubscribe_token"`
	Token       *string  `bun:"token"`
	Subject     *string  `bun:"subject"`
	InReplyTo   *string  `bun:"in_reply_to"`
	Refs        []string `bun:"refs,array"`
}

// outboundEmailQuery reads, for message $1, its names, its thread, its
// recipient's unsubscribe token and the newest other email of its
// conversation (what it answers: In-Reply-To and References).
const outboundEmailQuery = `SELECT m.org_id, m.conversation_id, c.recipient_id, i.name AS inbox_name, r.name AS rcpt_name,
		r.unsubscribe_token, t.token, t.subject, last.header_id AS in_reply_to, last.refs
	FROM messages m JOIN conversations c ON c.id = m.conversation_id
	JOIN recipients r ON r.id = c.recipient_id JOIN inboxes i ON i.id = c.inbox_id
	LEFT JOIN email_threads t ON t.conversation_id = c.id
	LEFT JOIN LATERAL (SELECT em.header_id, em.refs FROM messages m2 JOIN email_messages em ON em.message_id = m2.id
		WHERE m2.conversation_id = c.id AND m2.id <> m.id ORDER BY m2.id DESC LIMIT 1) AS last ON true
	WHERE m.id = $1`

// automation is the Auto-Submitted kind of a claimed message: a person's
// has none; an automation's answers the recipient (auto-replied) when it
// is marked automated, else it is auto-generated.
func automation(c *claimed) email.Automation {
	switch {
	case c.Author == "user":
		return email.ByPerson
	case c.Automated:
		return email.AutoReplied
	}
	return email.AutoGenerated
}

// ensureUnsubscribeToken returns a recipient's unsubscribe token, making
// one when it has none (concurrent callers get the same one).
func ensureUnsubscribeToken(ctx context.Context, tx bun.Tx, recipientID int64) (string, error) {
	var tok string
	if err := tx.NewRaw(`UPDATE recipients SET unsubscribe_token = coalesce(unsubscribe_token, ?) WHERE id = ? RETURNING unsubscribe_token`,
		email.NewToken(), recipientID).Scan(ctx, &tok); err != nil {
		return "", fmt.Errorf("unsubscribe token: %w", err)
	}
	return tok, nil
}

// SentEmail is what the worker handed the relay, for RecordEmailSent.
type SentEmail struct {
	HeaderID   string // its Message-ID, bare
	InReplyTo  string
	References []string
	Subject    string // as sent ("Re: ..." on a reply)
	From, To   string
	// BounceToken is its return path's token (email.BounceAddress).
	BounceToken string
	Raw         []byte
}

// RecordEmailSent stores what an email went out as (its email_messages
// row: headers, return-path token, the raw bytes) and moves it to sent
// with its message_status event, in one statement (its own transaction,
// one round trip; the conversation row for agents' screens is read after
// the commit, as RecordSent does). The email row PrepareEmail wrote
// before the send is kept as it is. Recording it again (a retry after a
// lost answer) changes nothing and returns no change.
func (s *Store) RecordEmailSent(ctx context.Context, msgID int64, sent SentEmail) (*Change, error) {
	if sent.HeaderID == "" || !validBounceToken(sent.BounceToken) {
		return nil, fmt.Errorf("store: record email sent: message %d: no message id or a bad bounce token", msgID)
	}
	refs := sent.References
	if refs == nil {
		refs = []string{}
	}
	var rows []struct {
		Message
		OldStatus      string     `bun:"old_status"`
		EmailCreatedAt time.Time  `bun:"email_created_at"`
		EventID        *int64     `bun:"event_id"`
		EventInboxID   *int64     `bun:"event_inbox_id"`
		EventCreatedAt *time.Time `bun:"event_created_at"`
	}
	subject := storable(sent.Subject)
	err := s.prepared(ctx, &rows, recordEmailSentQuery, msgID, sent.HeaderID, sent.InReplyTo, refs, subject,
		sent.From, sent.To, sent.BounceToken, sent.Raw)
	if err != nil {
		return nil, fmt.Errorf("store: record email sent: %w", err)
	}
	if len(rows) == 0 {
		// Recorded before, or no such email.
		exists, err := s.db.NewSelect().Model((*Message)(nil)).
			Where("id = ? AND direction = 'outbound' AND channel = ?", msgID, ChannelEmail).Exists(ctx)
		if err != nil {
			return nil, fmt.Errorf("store: record email sent: %w", err)
		}
		if !exists {
			return nil, fmt.Errorf("store: record email sent: message %d: %w", msgID, ErrNotFound)
		}
		return nil, nil
	}
	row := rows[0]
	if row.EventID == nil {
		return nil, nil // past sent already (a bounce came first): nothing new to show
	}
	m := row.Message
	m.Email = &EmailMessage{MessageID: m.ID, OrgID: m.OrgID, HeaderID: sent.HeaderID, InReplyTo: sent.InReplyTo,
		References: refs, Subject: subject, FromAddr: sent.From, ToAddr: sent.To, BounceToken: &sent.BounceToken,
		CreatedAt: row.EmailCreatedAt}
	ev := Event{ID: *row.EventID, OrgID: m.OrgID, InboxID: *row.EventInboxID, ConversationID: m.ConversationID,
		Kind: EvMessageStatus, MessageID: &m.ID, Detail: map[string]any{"status": MsgSent}, CreatedAt: *row.EventCreatedAt,
		Message: &m}
	conv, err := loadConversationRow(ctx, s.db.DB, m.OrgID, m.ConversationID)
	if err != nil {
		return nil, nil // recorded; screens pick the event up on their next resume
	}
	return &Change{Conversation: *conv, Events: []Event{ev}}, nil
}

// recordEmailSentQuery is RecordEmailSent's statement: $1 the message,
// $2.. its email row. The email row is written once (a second record
// finds it and changes nothing); the status moves forward to sent only.
var recordEmailSentQuery = `WITH old AS (
		SELECT id, org_id, status FROM messages WHERE id = $1 AND direction = 'outbound' AND channel = '` + ChannelEmail + `' FOR UPDATE
	), ins AS (
		INSERT INTO email_messages (message_id, org_id, header_id, in_reply_to, refs, subject, from_addr, to_addr, bounce_token, raw)
		SELECT old.id, old.org_id, $2::text, $3::text, $4::text[], $5::text, $6::text, $7::text, $8::text, $9::bytea FROM old
		ON CONFLICT (message_id) DO NOTHING
		RETURNING message_id, created_at
	), em AS (
		-- the row written now, or the one PrepareEmail wrote before the send
		-- (this statement's snapshot sees that one, not ins's)
		SELECT message_id, created_at FROM ins
		UNION ALL
		SELECT message_id, created_at FROM email_messages WHERE message_id = $1
	), upd AS (
		UPDATE messages m SET provider = '` + ProviderEmail + `', sent_at = coalesce(m.sent_at, now()),
			status = CASE WHEN old.status IN ` + pastSentStatusesSQL + ` THEN m.status ELSE '` + MsgSent + `' END,
			status_reason = CASE WHEN old.status IN ` + pastSentStatusesSQL + ` THEN m.status_reason ELSE '' END
		FROM old, em WHERE m.id = old.id
		RETURNING ` + msgColumnsM + `, old.status AS old_status, em.created_at AS email_created_at
` + sentEventSQL

// PrepareEmail stores what an email is about to go out as (its
// email_messages row: Message-ID, return-path token, raw bytes) before it
// is handed to the relay, and returns what is stored: the prepared email
// of an earlier attempt when there was one, so a retry sends the same
// Message-ID and return path. A bounce can then come back (and its
// return path be accepted by the listener) before the relay has even
// answered, as the mailbox simulator's do.
func (s *Store) PrepareEmail(ctx context.Context, msgID int64, sent SentEmail) (SentEmail, error) {
	if sent.HeaderID == "" || !validBounceToken(sent.BounceToken) {
		return sent, fmt.Errorf("store: prepare email: message %d: no message id or a bad bounce token", msgID)
	}
	refs := sent.References
	if refs == nil {
		refs = []string{}
	}
	var stored EmailMessage
	err := s.inTx(ctx, func(tx bun.Tx) error {
		var orgID int64
		if err := tx.NewRaw(`SELECT org_id FROM messages WHERE id = ? AND direction = 'outbound' AND channel = ?`,
			msgID, ChannelEmail).Scan(ctx, &orgID); err != nil {
			return notFound("message", err)
		}
		em := &EmailMessage{MessageID: msgID, OrgID: orgID, HeaderID: sent.HeaderID, InReplyTo: sent.InReplyTo,
			References: refs, Subject: storable(sent.Subject), FromAddr: sent.From, ToAddr: sent.To,
			BounceToken: &sent.BounceToken, Raw: sent.Raw}
		if _, err := tx.NewInsert().Model(em).ModelTableExpr("email_messages").On("CONFLICT (message_id) DO NOTHING").
			Exec(ctx); err != nil {
			return fmt.Errorf("insert email: %w", err)
		}
		return tx.NewSelect().Model(&stored).ModelTableExpr("email_messages AS email_message").
			Where("message_id = ?", msgID).Scan(ctx)
	})
	if err != nil {
		return sent, fmt.Errorf("store: prepare email: %w", err)
	}
	out := SentEmail{HeaderID: stored.HeaderID, InReplyTo: stored.InReplyTo, References: stored.References,
		Subject: stored.Subject, From: stored.FromAddr, To: stored.ToAddr, Raw: stored.Raw}
	if stored.BounceToken != nil {
		out.BounceToken = *stored.BounceToken
	}
	return out, nil
}

// validBounceToken: a token email.NewToken could have made.
func validBounceToken(t string) bool {
	_, ok := email.ParseBounceAddress(email.BounceAddress(t, "x.invalid"), "x.invalid")
	return ok && strings.ToLower(t) == t
}

// BounceReasonPrefix starts the reason a bounced email is failed with.
const BounceReasonPrefix = "Bounced: "

// RecordBounce marks the outbound email whose return path carries token
// failed with reason (a delivery status notification came back), and
// returns the change to show live; ErrNotFound for an unknown token. A
// bounce for an email already failed changes nothing (nil change).
func (s *Store) RecordBounce(ctx context.Context, token, reason string) (*Change, error) {
	token = strings.ToLower(strings.TrimSpace(token))
	reason = storable(strings.TrimSpace(reason))
	if reason == "" {
		reason = "the receiving server gave no reason"
	}
	var ch *Change
	err := s.inTx(ctx, func(tx bun.Tx) error {
		m := new(Message)
		err := tx.NewSelect().Model(m).
			Where("id = (SELECT message_id FROM email_messages WHERE bounce_token = ?)", token).
			For("UPDATE").Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("bounce token: %w", ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("load message: %w", err)
		}
		if m.Status == MsgFailed {
			return nil
		}
		ch, err = setMessageStatus(ctx, tx, m, MsgFailed, BounceReasonPrefix+reason)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: record bounce: %w", err)
	}
	return ch, nil
}
