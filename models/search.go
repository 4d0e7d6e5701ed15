package models

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// Searching recipients by name, email or phone: each recipient holds
// search_text, its name, email and phone lower-cased (a stored generated
// column), and one trigram index (recipients_search_trgm) serves it; each
// conversation holds a copy of its recipient's, kept in step by triggers,
// which the Chats list walks (conversation_list.go). A query that looks
// like a phone number, however it is typed ("(555) 765-4321", "765-4321",
// "+1 555 765 4321"), is searched as its digits: a stored number is E.164,
// "+" and digits, so its digits are a substring of the text and the same
// index finds them.

// recipientSearchOn is the search text of recipients AS alias: a
// condition is recipientSearchOn(alias) + " LIKE lower(pattern)" (or
// ILIKE pattern), which recipients_search_trgm serves.
func recipientSearchOn(alias string) string { return alias + ".search_text" }

// minTrigramLen is the shortest text the trigram index can narrow; a
// shorter one matches too much for the index to help anyway.
const minTrigramLen = 3

// A searchText is what a search box's text is matched as.
type searchText struct {
	Text  string // what to find, a substring (case-insensitive)
	Phone bool   // the digits of a phone-like query
}

// parseSearch reads a search box's text: trimmed, and reduced to its
// digits when it looks like (part of) a phone number, that is when it
// holds only digits, spaces and + - ( ) . and at least three digits.
func parseSearch(q string) searchText {
	q = strings.TrimSpace(q)
	var digits strings.Builder
	for _, r := range q {
		switch {
		case r >= '0' && r <= '9':
			digits.WriteRune(r)
		case strings.ContainsRune(" +-().", r):
		default:
			return searchText{Text: q}
		}
	}
	if digits.Len() >= 3 {
		return searchText{Text: digits.String(), Phone: true}
	}
	return searchText{Text: q}
}

// likePattern is t as a LIKE substring pattern; it matches the search
// text once lower-cased (in SQL, with lower(), as the text was).
func (t searchText) likePattern() string { return "%" + escapeLike(t.Text) + "%" }

// escapeLike quotes LIKE's wildcards so a search for "50%" means the text "50%".
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// matchingRecipientsQuery lists the ids of the organization's ($1)
// recipients whose search text matches the pattern $2, through the trigram
// index; limitedMatchingRecipientsQuery stops after %d of them.
const (
	matchingRecipientsQuery        = `SELECT r.id FROM recipients AS r WHERE r.org_id = $1 AND r.search_text LIKE lower($2)`
	limitedMatchingRecipientsQuery = matchingRecipientsQuery + ` LIMIT %d`
)

// matchingRecipients returns the ids of the recipients matching t, at
// most limit of them (0: all). The statement is prepared once per
// connection: its plan, a bitmap scan of the trigram index, suits every
// pattern.
func (s *Store) matchingRecipients(ctx context.Context, orgID int64, t searchText, limit int) ([]int64, error) {
	q := matchingRecipientsQuery
	if limit > 0 {
		q = fmt.Sprintf(limitedMatchingRecipientsQuery, limit)
	}
	rows, err := queryCached(ctx, s.db.DB, q, orgID, t.likePattern())
	if err != nil {
		return nil, fmt.Errorf("matching recipients: %w", err)
	}
	var ids []int64
	err = scanAll(rows, func() error {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return err
		}
		ids = append(ids, id)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("matching recipients: %w", err)
	}
	return ids, nil
}

// sqlArgs numbers a statement's parameters as they are added.
type sqlArgs []any

// add appends v and returns its placeholder, "$n".
func (a *sqlArgs) add(v any) string {
	*a = append(*a, v)
	return "$" + strconv.Itoa(len(*a))
}
