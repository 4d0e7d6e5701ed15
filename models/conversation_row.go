package models

import (
	"context"
	"database/sql"
	"fmt"
)

// A ConversationRow is read in one way: conversationRowColumns over
// conversations AS c with conversationRowJoins, scanned by
// scanConversationRow. The list, a thread, and every change a chat action
// or the worker returns use it. The inbound core's group commit, on B2's
// hot path, reads conversationColumns with the same fields and completes
// the row from the sender and inbox it already holds (completeRow in
// inbound_conversations.go): the three joins cost it 5-8 % of its rate.

// conversationColumns are a conversation's own columns and
// conversationRowColumns a whole row's, in the order of conversationFields
// and rowFields.
const (
	conversationColumns = `c.id, c.org_id, c.inbox_id, c.recipient_id, c.channel, c.status, c.origin, c.assignee_id,
	c.broadcast_id, c.previous_id, c.last_message_at, c.last_message_preview, c.unread_count, c.created_at, c.updated_at, c.closed_at`
	conversationRowColumns = conversationColumns + `,
	r.name, r.phone, r.email, (CASE WHEN c.channel = 'sms' THEN r.sms_opted_out_at ELSE r.email_opted_out_at END) IS NOT NULL,
	i.name, i.location_id, u.name,
	CASE WHEN c.channel = 'email' THEN coalesce((SELECT t.subject FROM email_threads AS t WHERE t.conversation_id = c.id), '') ELSE '' END`
)

// conversationFields are the scan targets of conversationColumns.
func conversationFields(c *Conversation) []any {
	return []any{&c.ID, &c.OrgID, &c.InboxID, &c.RecipientID, &c.Channel, &c.Status, &c.Origin, &c.AssigneeID,
		&c.BroadcastID, &c.PreviousID, &c.LastMessageAt, &c.LastMessagePreview, &c.UnreadCount, &c.CreatedAt, &c.UpdatedAt, &c.ClosedAt}
}

// rowFields are the scan targets of conversationRowColumns.
func rowFields(row *ConversationRow) []any {
	return append(conversationFields(&row.Conversation),
		&row.RecipientName, &row.RecipientPhone, &row.RecipientEmail, &row.OptedOut,
		&row.InboxName, &row.LocationID, &row.AssigneeName, &row.Subject)
}

// The row's last column is an email conversation's thread subject (a
// primary-key lookup per row, skipped for SMS); the inbound core's
// completeRow leaves it empty and ReceiveEmail fills it from the thread it
// touched.

// conversationRowJoins brings in what a row shows of the recipient, the
// inbox and the assignee.
const conversationRowJoins = `JOIN recipients AS r ON r.id = c.recipient_id
	JOIN inboxes AS i ON i.id = c.inbox_id
	LEFT JOIN users AS u ON u.id = c.assignee_id`

// conversationRowByIDQuery is one conversation's row, unscoped but for the
// organization: $1 the organization, $2 the conversation. It runs as a
// cached prepared statement on the worker's path (RecordSent).
const conversationRowByIDQuery = `SELECT ` + conversationRowColumns + ` FROM conversations AS c ` + conversationRowJoins +
	` WHERE c.org_id = $1 AND c.id = $2`

// rowScanner is *sql.Rows or *sql.Row.
type rowScanner interface{ Scan(dest ...any) error }

// scanConversationRow reads conversationRowColumns, then extra columns.
func scanConversationRow(rs rowScanner, row *ConversationRow, extra ...any) error {
	return rs.Scan(append(rowFields(row), extra...)...)
}

// scanConversationRows reads every row of rows, then closes them.
func scanConversationRows(rows *sql.Rows) ([]ConversationRow, error) {
	var out []ConversationRow
	err := scanAll(rows, func() error {
		// Scanned in place: a row is large, and a copy of each (and of the
		// list as it grew) was a good part of a Chats page's allocations.
		out = append(out, ConversationRow{})
		return scanConversationRow(rows, &out[len(out)-1])
	})
	return out, err
}

// loadConversationRow reads one conversation's row through db (the
// store's pool or a transaction), unscoped but for the organization:
// internal callers that already know which conversation they touched.
func loadConversationRow(ctx context.Context, db execer, orgID, convID int64) (*ConversationRow, error) {
	rows, err := queryCached(ctx, db, conversationRowByIDQuery, orgID, convID)
	if err != nil {
		return nil, fmt.Errorf("load conversation row: %w", err)
	}
	list, err := scanConversationRows(rows)
	if err != nil {
		return nil, fmt.Errorf("load conversation row: %w", err)
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("conversation %d: %w", convID, ErrNotFound)
	}
	return &list[0], nil
}

// scanAll reads every row with scan, then closes rows.
func scanAll(rows *sql.Rows, scan func() error) error {
	defer rows.Close()
	for rows.Next() {
		if err := scan(); err != nil {
			return err
		}
	}
	return rows.Err()
}
