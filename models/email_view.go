package models

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// How email looks to agents: a thread's email messages carry their
// headers and attachments (never the raw bytes or the files' contents,
// which are read one at a time, in scope, by MessageOriginal and
// Attachment).

// emailExtrasQuery reads the email rows of a page of messages ($1 the
// organization, $2 the message ids) with their attachments as a JSON
// array, in one statement: a thread's page costs one query more, however
// many email messages it shows.
const emailExtrasQuery = `SELECT e.message_id, e.header_id, e.in_reply_to, e.refs, e.subject, e.from_addr, e.to_addr,
		e.bounce_token, e.automated, e.created_at,
		coalesce((SELECT json_agg(json_build_object('id', a.id, 'filename', a.filename, 'content_type', a.content_type,
				'size', a.size, 'omitted', a.omitted, 'created_at', a.created_at) ORDER BY a.id)
			FROM attachments AS a WHERE a.message_id = e.message_id AND a.org_id = e.org_id), '[]')
	FROM email_messages AS e WHERE e.org_id = ? AND e.message_id = ANY(?)`

// attachmentJSON is one element of emailExtrasQuery's attachments array.
type attachmentJSON struct {
	ID          int64     `json:"id"`
	Filename    string    `json:"filename"`
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	Omitted     bool      `json:"omitted"`
	CreatedAt   time.Time `json:"created_at"`
}

// fillEmail sets Email (without Raw and FullText) and Attachments
// (without Data) on the email messages among msgs, all of orgID; SMS
// messages cost nothing. A message already filled (a live change that
// just stored it) is left as it is.
func fillEmail(ctx context.Context, db bun.IDB, orgID int64, msgs []*Message) error {
	byID := make(map[int64]*Message)
	var ids []int64
	for _, m := range msgs {
		if m != nil && m.Channel == ChannelEmail && m.Email == nil {
			byID[m.ID] = m
			ids = append(ids, m.ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	rows, err := db.QueryContext(ctx, emailExtrasQuery, orgID, pgdialect.Array(ids))
	if err != nil {
		return fmt.Errorf("store: email extras: %w", err)
	}
	err = scanAll(rows, func() error {
		em := &EmailMessage{OrgID: orgID}
		var atts []byte
		if err := rows.Scan(&em.MessageID, &em.HeaderID, &em.InReplyTo, pgdialect.Array(&em.References), &em.Subject,
			&em.FromAddr, &em.ToAddr, &em.BounceToken, &em.Automated, &em.CreatedAt, &atts); err != nil {
			return err
		}
		var list []attachmentJSON
		if err := json.Unmarshal(atts, &list); err != nil {
			return fmt.Errorf("attachments of message %d: %w", em.MessageID, err)
		}
		m := byID[em.MessageID]
		if m == nil {
			return nil
		}
		m.Email = em
		m.Attachments = make([]Attachment, len(list))
		for i, a := range list {
			m.Attachments[i] = Attachment{ID: a.ID, OrgID: orgID, MessageID: em.MessageID, Filename: a.Filename,
				ContentType: a.ContentType, Size: a.Size, Omitted: a.Omitted, CreatedAt: a.CreatedAt}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: email extras: %w", err)
	}
	return nil
}

// MessageOriginal returns an email message's raw bytes, as received (or
// as sent), and its whole text before quoted history and signature were
// stripped: what "Show original" shows. ErrNotFound unless the message is
// an email in a conversation the scope may see.
func (s *Store) MessageOriginal(ctx context.Context, sc Scope, msgID int64) (raw []byte, fullText string, err error) {
	q := s.db.NewSelect().TableExpr("email_messages AS e").ColumnExpr("e.raw, e.full_text").
		Join("JOIN messages AS m ON m.id = e.message_id").
		Join("JOIN conversations AS c ON c.id = m.conversation_id").
		Where("e.org_id = ? AND e.message_id = ? AND c.org_id = ?", sc.OrgID, msgID, sc.OrgID)
	q = visibleInboxes(q, sc, "c.inbox_id")
	if err := q.Scan(ctx, &raw, &fullText); err != nil {
		return nil, "", notFound(fmt.Sprintf("message %d's original", msgID), err)
	}
	if raw == nil {
		raw = []byte{}
	}
	return raw, fullText, nil
}

// Attachment returns a kept attachment with its contents. ErrNotFound
// unless it belongs to a message of a conversation the scope may see, and
// for one that was omitted (over the size limit: listed, not kept).
func (s *Store) Attachment(ctx context.Context, sc Scope, id int64) (*Attachment, error) {
	a := new(Attachment)
	q := s.db.NewSelect().TableExpr("attachments AS a").
		ColumnExpr("a.id, a.org_id, a.message_id, a.filename, a.content_type, a.size, a.omitted, a.data, a.created_at").
		Join("JOIN messages AS m ON m.id = a.message_id").
		Join("JOIN conversations AS c ON c.id = m.conversation_id").
		Where("a.org_id = ? AND a.id = ? AND c.org_id = ?", sc.OrgID, id, sc.OrgID)
	q = visibleInboxes(q, sc, "c.inbox_id")
	if err := q.Scan(ctx, &a.ID, &a.OrgID, &a.MessageID, &a.Filename, &a.ContentType, &a.Size, &a.Omitted, &a.Data, &a.CreatedAt); err != nil {
		return nil, notFound(fmt.Sprintf("attachment %d", id), err)
	}
	if a.Omitted {
		return nil, fmt.Errorf("store: attachment %d was not kept (too large): %w", id, ErrNotFound)
	}
	if a.Data == nil {
		a.Data = []byte{}
	}
	return a, nil
}
