package models

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/parley-chat/parley/channels/email"
	"github.com/uptrace/bun"
)

// insertEmailExtrasQuery stores what an inbound email carries besides its
// text: its email_messages row ($1..$11) and its attachments ($12..$16, in
// order), and returns the row's time and the attachments' ids and times.
const insertEmailExtrasQuery = `WITH em AS (INSERT INTO email_messages (message_id, org_id, header_id, in_reply_to, refs, subject,
			from_addr, to_addr, automated, full_text, raw)
			VALUES ($1, $2, $3, $4, $5::text[], $6, $7, $8, $9, $10, $11) RETURNING created_at),
		a AS (INSERT INTO attachments (org_id, message_id, filename, content_type, size, omitted, data)
			SELECT $2, $1, filename, content_type, size, omitted, data
			FROM unnest($12::text[], $13::text[], $14::bigint[], $15::bool[], $16::bytea[])
				WITH ORDINALITY AS v (filename, content_type, size, omitted, data, ord)
			ORDER BY ord
			RETURNING id, created_at)
	SELECT 0::bigint, created_at FROM em
	UNION ALL
	SELECT id, created_at FROM a`

// storeEmailExtras completes an inbound email the core just stored (the
// message of ch): the conversation's thread (its reply token and
// subject), the email's headers and raw bytes, its attachments. It fills
// the message's Email (without Raw) and Attachments (without Data), so
// live screens show them.
func storeEmailExtras(ctx context.Context, tx bun.Tx, in InboundEmail, ch *Change) error {
	var m *Message
	for _, ev := range ch.Events {
		if ev.Message != nil {
			m = ev.Message
		}
	}
	if m == nil {
		return fmt.Errorf("store email extras: the change has no message: %w", ErrConflict)
	}
	th, err := ensureEmailThread(ctx, tx, m.OrgID, m.ConversationID, threadSubject(in.Subject))
	if err != nil {
		return err
	}
	ch.Conversation.Subject = th.Subject
	em := &EmailMessage{MessageID: m.ID, OrgID: m.OrgID, HeaderID: in.HeaderID, InReplyTo: in.InReplyTo,
		References: in.References, Subject: in.Subject, FromAddr: in.From, ToAddr: in.To,
		Automated: in.Automated, FullText: in.FullText}
	if em.References == nil {
		em.References = []string{}
	}
	var raw []byte
	if len(in.Raw) > 0 {
		raw = in.Raw
	}
	n := len(in.Attachments)
	names, types, sizes := make([]string, n), make([]string, n), make([]int64, n)
	omitted, data := make([]bool, n), make([][]byte, n)
	atts := make([]Attachment, n)
	for i, a := range in.Attachments {
		names[i], types[i], sizes[i], omitted[i], data[i] = a.Filename, a.ContentType, a.Size, a.Omitted, a.Data
		atts[i] = Attachment{OrgID: m.OrgID, MessageID: m.ID, Filename: a.Filename, ContentType: a.ContentType,
			Size: a.Size, Omitted: a.Omitted}
	}
	rows, err := queryCached(ctx, tx.Tx, insertEmailExtrasQuery, em.MessageID, em.OrgID, em.HeaderID, em.InReplyTo,
		em.References, em.Subject, em.FromAddr, em.ToAddr, em.Automated, em.FullText, raw,
		names, types, sizes, omitted, data)
	if err != nil {
		return fmt.Errorf("store email extras: %w", err)
	}
	type stored struct {
		id int64
		at time.Time
	}
	var got []stored
	err = scanAll(rows, func() error {
		var s stored
		if err := rows.Scan(&s.id, &s.at); err != nil {
			return err
		}
		if s.id == 0 {
			em.CreatedAt = s.at
			return nil
		}
		got = append(got, s)
		return nil
	})
	if err != nil {
		return fmt.Errorf("store email extras: %w", err)
	}
	if len(got) != n {
		return fmt.Errorf("store email extras: %d of %d attachments came back: %w", len(got), n, ErrConflict)
	}
	// Ids are handed out in insertion order, which is the mail's order.
	sort.Slice(got, func(x, y int) bool { return got[x].id < got[y].id })
	for i := range atts {
		atts[i].ID, atts[i].CreatedAt = got[i].id, got[i].at
	}
	m.Email, m.Attachments = em, atts
	return nil
}

// threadSubject is a mail's subject as its thread keeps it: without the
// "Re: " its replies add (channels/email's ReplySubject decides what a
// reply prefix is).
func threadSubject(subject string) string {
	return strings.TrimSpace(strings.TrimPrefix(email.ReplySubject(subject), "Re:"))
}
