package models

import (
	"context"
	"fmt"
	"strings"
)

// emailAddressKnownQuery: is $1 an inbox's address, $2 a conversation's
// reply token, or $3 the bounce token of a message we sent? Each is one
// unique-index probe (an empty token matches nothing: the columns' checks
// refuse empty tokens).
const emailAddressKnownQuery = `SELECT EXISTS (SELECT 1 FROM inboxes WHERE email_address = $1)
	OR EXISTS (SELECT 1 FROM email_threads WHERE token = $2)
	OR EXISTS (SELECT 1 FROM email_messages WHERE bounce_token = $3)`

// EmailAddressKnown reports whether mail to addr is accepted: an inbox's
// address, a conversation's reply address (replyToken, read by the edge
// from addr), or the return path of a message we sent (bounceToken); the
// tokens are empty when addr has none. One statement: it runs for every
// RCPT TO.
func (s *Store) EmailAddressKnown(ctx context.Context, addr, replyToken, bounceToken string) (bool, error) {
	rows, err := queryCached(ctx, s.db.DB, emailAddressKnownQuery, normalAddr(addr),
		storable(strings.ToLower(replyToken)), storable(strings.ToLower(bounceToken)))
	if err != nil {
		return false, fmt.Errorf("store: email address known: %w", err)
	}
	known := false
	if err := scanAll(rows, func() error { return rows.Scan(&known) }); err != nil {
		return false, fmt.Errorf("store: email address known: %w", err)
	}
	return known, nil
}
