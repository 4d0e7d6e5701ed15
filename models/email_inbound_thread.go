package models

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/uptrace/bun"
)

// emailThreading is what one statement found about an inbound email: is
// its sender one of our own inboxes (a loop), and which inbox each rule
// of the threading order would route it to.
type emailThreading struct {
	own bool
	// byToken: the inbox of the conversation its reply token names.
	byToken sql.NullInt64
	// byRefs: the inbox of the conversation holding the newest message we
	// sent that In-Reply-To / References names, in the organization the
	// mail was addressed to, whose recipient is this sender.
	byRefs sql.NullInt64
	// byTo: the inbox whose address it was sent to.
	byTo sql.NullInt64
}

// inboxID is the inbox the threading order picks: the reply token, else
// the references, else the address; zero when none applies (the core
// then routes by To, and keeps the mail as unrouted).
func (t emailThreading) inboxID() int64 {
	for _, id := range []sql.NullInt64{t.byToken, t.byRefs, t.byTo} {
		if id.Valid {
			return id.Int64
		}
	}
	return 0
}

// threadEmailQuery finds, for a reply token ($1), the address the mail
// was delivered to ($2), its sender ($3) and the ids it refers to ($4,
// most relevant first), whether the sender is one of our inbox addresses
// and the inbox each threading rule names. References are matched only
// to outbound messages of the organization owning the address, in a
// conversation with this sender: a stranger quoting our Message-ID does
// not reach someone else's conversation.
const threadEmailQuery = `WITH dest AS (SELECT id, org_id FROM inboxes WHERE email_address = $2)
	SELECT EXISTS (SELECT 1 FROM inboxes WHERE email_address = $3),
		(SELECT c.inbox_id FROM email_threads AS t JOIN conversations AS c ON c.id = t.conversation_id WHERE t.token = $1),
		(SELECT c.inbox_id FROM email_messages AS em
			JOIN dest ON em.org_id = dest.org_id
			JOIN messages AS m ON m.id = em.message_id AND m.direction = 'outbound'
			JOIN conversations AS c ON c.id = m.conversation_id
			JOIN recipients AS r ON r.id = c.recipient_id AND r.email = $3
			WHERE em.header_id = ANY($4::text[])
			ORDER BY array_position($4::text[], em.header_id), em.message_id DESC LIMIT 1),
		(SELECT id FROM dest)`

// maxThreadRefs bounds the ids a mail's threading looks up: its
// In-Reply-To and its newest References (the end of the list).
const maxThreadRefs = 50

// threadRefs is the ids an email refers to, most relevant first: its
// In-Reply-To, then its References newest first, once each.
func threadRefs(in InboundEmail) []string {
	refs := make([]string, 0, len(in.References)+1)
	seen := map[string]bool{"": true}
	add := func(id string) {
		if !seen[id] && len(refs) < maxThreadRefs {
			seen[id] = true
			refs = append(refs, id)
		}
	}
	add(in.InReplyTo)
	for i := len(in.References) - 1; i >= 0; i-- {
		add(in.References[i])
	}
	return refs
}

// threadEmail runs threadEmailQuery for a normalized email.
func threadEmail(ctx context.Context, tx bun.Tx, in InboundEmail) (emailThreading, error) {
	var t emailThreading
	rows, err := queryCached(ctx, tx.Tx, threadEmailQuery, in.Token, in.To, in.From, threadRefs(in))
	if err != nil {
		return t, fmt.Errorf("thread email: %w", err)
	}
	found := false
	err = scanAll(rows, func() error {
		found = true
		return rows.Scan(&t.own, &t.byToken, &t.byRefs, &t.byTo)
	})
	if err == nil && !found {
		err = sql.ErrNoRows
	}
	if err != nil {
		return t, fmt.Errorf("thread email: %w", err)
	}
	return t, nil
}
