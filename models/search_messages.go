package models

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Searching message text. A search box's text finds a conversation when
// its recipient matches (search.go) or when one of its messages, notes
// included, holds the words. Notes are searched: they are the team's own
// text, only the team searches, and a note is shown in the thread to
// anyone who can open the conversation.
//
// How the text is read (parseTextQuery), over PostgreSQL's 'simple'
// configuration (words lower-cased as written, no stemming, no stop words):
//   - every word must appear in the message, in any order: "parking tuesday";
//   - each word also matches longer words it starts: "park" finds
//     "parking" (the box is a search-as-you-type box), "bob" an address
//     bob@example.com (which PostgreSQL keeps as one word);
//   - text in double quotes is a phrase, its words next to each other, in
//     that order, each matched whole: "\"free parking\"";
//   - a word is a run of letters and digits; anything else separates
//     words (as PostgreSQL's parser splits "walk-ins" into walk and ins,
//     and also keeps the whole), so no text is ever read as an operator.
//
// Each message's words are stored with it (messages.search, a generated
// column, 20261213000001) under a GIN index, messages_search_idx.

// messageSearchExpr is the words of messages AS m.
const messageSearchExpr = `m.search`

// A textTerm is one word of a search, matched whole or as a prefix.
type textTerm struct {
	Word   string
	Prefix bool
}

// parseTextQuery turns a search box's text into a tsquery in to_tsquery's
// syntax ("" when it holds no word) and the terms it holds.
func parseTextQuery(q string) (string, []textTerm) {
	var parts []string
	var terms []textTerm
	inPhrase := false
	for i, part := range strings.Split(q, `"`) {
		if i > 0 {
			inPhrase = !inPhrase
		}
		words := strings.FieldsFunc(strings.ToLower(part), func(r rune) bool { return !isWordRune(r) })
		if len(words) == 0 {
			continue
		}
		if inPhrase {
			quoted := make([]string, len(words))
			for j, w := range words {
				quoted[j] = "'" + w + "'"
				terms = append(terms, textTerm{Word: w})
			}
			parts = append(parts, "("+strings.Join(quoted, " <-> ")+")")
			continue
		}
		for _, w := range words {
			parts = append(parts, "'"+w+"':*")
			terms = append(terms, textTerm{Word: w, Prefix: true})
		}
	}
	return strings.Join(parts, " & "), terms
}

// isWordRune reports whether r is part of a word: a letter, a digit, or a
// mark (the vowel signs of Devanagari and other scripts, which PostgreSQL's
// parser keeps inside a word).
func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) }

// A MessageMatch is the message a search found in a conversation: the
// newest that holds the words, and its text around them.
type MessageMatch struct {
	MessageID int64
	IsNote    bool
	// At is when the message was written: a conversation found by its
	// messages is listed by it (see Conversations).
	At time.Time
	// Snippet is a few words of the message around the match, in parts;
	// the parts with Hit set are the words searched for.
	Snippet []SnippetPart
}

// A SnippetPart is a run of a snippet's text, a searched word or not.
type SnippetPart struct {
	Text string
	Hit  bool
}

// A textHit is a conversation a message search found: its newest message
// holding the words (below the page's cursor), and when it was written.
type textHit struct {
	Conv, Msg int64
	At        time.Time
}

// How a message-text search finds the conversations whose newest matching
// message is newest (measured on 1,000,000 messages, BENCHMARKS.md "Issue
// 13: message text from a stored column"). Each way costs in proportion to
// what it reads:
//   - when the words are in at least textWalkMinShare of the messages (by
//     ANALYZE's statistics: commonWords), walk the organization's messages
//     newest first, testing each one's stored words (about 0.3 µs a
//     message), at most textWalkBudget of them per statement: "thanks"
//     (13 % of the messages) fills a page of active chats within about
//     1,000 messages;
//   - otherwise, or when the walk does not fill the page (a filter that
//     keeps few conversations), ask the index for every matching message,
//     keep each conversation's newest and probe the conversations newest
//     match first until the page is full: "wombat" (0.5 %) is 4,735
//     messages to read, about 1-2 µs each.
//
// The walk's cost grows as the words and the filter keep fewer
// conversations (a page needs n of them), the index's as the words are
// more common; 1 % of the messages is where they cross for the active
// chats (about 40 % of the conversations). Rare words never reach the walk:
// they are not among the words ANALYZE keeps.
const (
	textWalkMinShare = 0.01
	textWalkBudget   = 20000
	textWalkRounds   = 3
	// textIDCap bounds what the index's way reads: a word in more messages
	// than that (which the walk did not settle, under a filter keeping few
	// conversations) is listed from the first textIDCap the index gives,
	// not necessarily the newest.
	textIDCap = 50000
)

// textSearch is what listMessageMatches needs besides the list's filters.
type textSearch struct {
	tsq   string
	terms []textTerm
	// notName, when set, leaves out conversations whose search text holds
	// it: the recipient search lists those already, by their activity.
	notName string
	// before is the page's cursor, (when, conversation id), zero for the
	// first page.
	beforeAt time.Time
	beforeID int64
}

// listMessageMatches finds the conversations (within l's conditions)
// holding a message that matches, newest match first, at most n.
func (s *Store) listMessageMatches(ctx context.Context, sc Scope, l *listFilter, ts textSearch, n int) ([]textHit, error) {
	words, freq, err := s.commonWords.get(ctx, s)
	if err != nil {
		return nil, err
	}
	walk := textFrequency(words, freq, ts.terms) >= textWalkMinShare
	if s.textWay != "" {
		walk = s.textWay == "walk"
	}
	if walk {
		hits, err := s.textWalk(ctx, sc.OrgID, l, ts, n)
		if err != nil || len(hits) == n || s.textWay == "walk" {
			return hits, err
		}
	}
	return s.textIndexed(ctx, sc.OrgID, l, ts, n)
}

// textConds adds, for matching messages AS alias, the conditions on their
// conversation (a probe of it, by its primary key: a lateral subquery with
// LIMIT stays a per-row probe instead of becoming a join over every
// conversation) and the cursor's; it returns them and the tsquery's
// parameter.
func textConds(args *sqlArgs, l *listFilter, ts textSearch, alias string) (string, string) {
	q := args.add(ts.tsq)
	conv := `SELECT 1 FROM conversations AS c WHERE c.id = ` + alias + `.conversation_id AND ` + l.clause()
	if ts.notName != "" {
		conv += ` AND strpos(c.search_text, ` + args.add(ts.notName) + `) = 0`
	}
	conds := ` CROSS JOIN LATERAL (` + conv + ` LIMIT 1) AS ok`
	if ts.beforeID != 0 {
		at, id := args.add(ts.beforeAt), args.add(ts.beforeID)
		conds += ` WHERE (` + alias + `.created_at, ` + alias + `.conversation_id) < (` + at + `::timestamptz, ` + id + `::bigint)`
	}
	return conds, q
}

// textWalk walks the organization's messages newest first (by creation
// time, then id: messages_org_created_idx), keeping each conversation's
// first (so newest) match within l, until n conversations and every match
// as new as the n-th (ties). Each statement reads at most textWalkBudget
// messages; fewer than n hits means the walk stopped short (nothing is
// known past it), not that there are no more.
func (s *Store) textWalk(ctx context.Context, orgID int64, l *listFilter, ts textSearch, n int) ([]textHit, error) {
	var hits []textHit
	seen := map[int64]bool{}
	var last *textHit // the last match read: the next statement starts below it
	want := 2 * n
	for round := range textWalkRounds {
		args := append(sqlArgs(nil), l.args...)
		conds, q := textConds(&args, l, ts, "w")
		inner := `SELECT m.id, m.org_id, m.conversation_id, m.created_at, m.search FROM messages AS m WHERE m.org_id = ` + args.add(orgID)
		switch {
		case last != nil:
			inner += ` AND (m.created_at, m.id) < (` + args.add(last.At) + `::timestamptz, ` + args.add(last.Msg) + `::bigint)`
		case ts.beforeID != 0:
			inner += ` AND m.created_at <= ` + args.add(ts.beforeAt) + `::timestamptz`
		}
		inner += ` ORDER BY m.created_at DESC, m.id DESC LIMIT ` + strconv.Itoa(textWalkBudget)
		match := `w.search @@ to_tsquery('simple', ` + q + `)`
		if ts.beforeID != 0 {
			// A conversation with a match at or past the cursor was on an
			// earlier page.
			match += ` AND NOT EXISTS (SELECT 1 FROM messages AS p WHERE p.conversation_id = w.conversation_id
				AND p.org_id = w.org_id AND p.search @@ to_tsquery('simple', ` + q + `)
				AND (p.created_at, p.conversation_id) >= (` + args.add(ts.beforeAt) + `::timestamptz, ` + args.add(ts.beforeID) + `::bigint))`
		}
		stmt := `SELECT w.conversation_id, w.id, w.created_at FROM (` + inner + `) AS w` + conds
		if ts.beforeID != 0 {
			stmt += ` AND ` + match
		} else {
			stmt += ` WHERE ` + match
		}
		stmt += ` ORDER BY w.created_at DESC, w.id DESC LIMIT ` + strconv.Itoa(want)
		rows, err := s.db.DB.QueryContext(ctx, stmt, args...)
		if err != nil {
			return nil, fmt.Errorf("message search: %w", err)
		}
		got := 0
		err = scanAll(rows, func() error {
			var h textHit
			if err := rows.Scan(&h.Conv, &h.Msg, &h.At); err != nil {
				return err
			}
			got++
			last = &h
			if !seen[h.Conv] {
				seen[h.Conv] = true
				hits = append(hits, h)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("message search: %w", err)
		}
		// Done once a match older than the n-th has been read (every
		// conversation as new as the n-th is in hand), or once the walk
		// ran out of messages or budget (what was not read is older still,
		// but for 20,000 messages written at the very same instant).
		if got < want || (len(hits) >= n && last.At.Before(hits[n-1].At)) {
			break
		}
		want *= 4
		if round == textWalkRounds-1 && len(hits) >= n {
			return hits[:n-1], nil // ties with the n-th go on: the index's way decides
		}
	}
	// Matches written at the same instant are listed by conversation, as
	// the index's way lists them.
	slices.SortStableFunc(hits, func(a, b textHit) int {
		if c := b.At.Compare(a.At); c != 0 {
			return c
		}
		return cmp.Compare(b.Conv, a.Conv)
	})
	return hits[:min(len(hits), n)], nil // fewer than n: stopped short, or there are no more
}

// textIndexed asks the index for the messages matching (at most
// textIDCap of them), keeps each conversation's newest, and probes the
// conversations, newest match first, until n are within l.
func (s *Store) textIndexed(ctx context.Context, orgID int64, l *listFilter, ts textSearch, n int) ([]textHit, error) {
	args := append(sqlArgs(nil), l.args...)
	conds, q := textConds(&args, l, ts, "h")
	// The ordered subquery is kept as it is (a subquery with ORDER BY is
	// not merged into its parent), so the probes run in its order and the
	// LIMIT stops them.
	stmt := `SELECT h.conversation_id, h.id, h.created_at FROM (
		SELECT d.conversation_id, d.id, d.created_at FROM (
			SELECT DISTINCT ON (x.conversation_id) x.conversation_id, x.id, x.created_at FROM (
				SELECT m.conversation_id, m.id, m.created_at FROM messages AS m
				WHERE m.org_id = ` + args.add(orgID) + ` AND ` + messageSearchExpr + ` @@ to_tsquery('simple', ` + q + `)
				LIMIT ` + strconv.Itoa(textIDCap) + `) AS x
			ORDER BY x.conversation_id, x.created_at DESC, x.id DESC) AS d
		ORDER BY d.created_at DESC, d.conversation_id DESC) AS h` + conds + `
	ORDER BY h.created_at DESC, h.conversation_id DESC LIMIT ` + strconv.Itoa(n)
	rows, err := s.db.DB.QueryContext(ctx, stmt, args...)
	if err != nil {
		return nil, fmt.Errorf("message search: %w", err)
	}
	var hits []textHit
	err = scanAll(rows, func() error {
		var h textHit
		if err := rows.Scan(&h.Conv, &h.Msg, &h.At); err != nil {
			return err
		}
		hits = append(hits, h)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("message search: %w", err)
	}
	return hits, nil
}

// messageMatches reads the hits' messages and marks the searched words in
// a snippet of each, by conversation id.
func (s *Store) messageMatches(ctx context.Context, orgID int64, hits []textHit, terms []textTerm) (map[int64]MessageMatch, error) {
	if len(hits) == 0 {
		return nil, nil
	}
	ids := make([]int64, len(hits))
	conv := make(map[int64]textHit, len(hits))
	for i, h := range hits {
		ids[i] = h.Msg
		conv[h.Msg] = h
	}
	rows, err := s.db.DB.QueryContext(ctx, `SELECT m.id, m.is_note, m.body FROM messages AS m
		WHERE m.org_id = $1 AND m.id = ANY($2::bigint[])`, orgID, ids)
	if err != nil {
		return nil, fmt.Errorf("message search snippets: %w", err)
	}
	out := make(map[int64]MessageMatch, len(hits))
	err = scanAll(rows, func() error {
		var m MessageMatch
		var body string
		if err := rows.Scan(&m.MessageID, &m.IsNote, &body); err != nil {
			return err
		}
		h := conv[m.MessageID]
		m.At, m.Snippet = h.At, snippet(body, terms)
		out[h.Conv] = m
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("message search snippets: %w", err)
	}
	return out, nil
}

// mergeRows merges two lists in list order (newest first, by sortAt),
// each conversation once, at most n rows.
func mergeRows(a, b []ConversationRow, n int) []ConversationRow {
	out := make([]ConversationRow, 0, min(n, len(a)+len(b)))
	seen := make(map[int64]bool, len(a)+len(b))
	newer := func(x, y *ConversationRow) bool {
		xa, ya := x.sortAt(), y.sortAt()
		return xa.After(ya) || (xa.Equal(ya) && x.ID > y.ID)
	}
	for len(out) < n && (len(a) > 0 || len(b) > 0) {
		var r ConversationRow
		if len(b) == 0 || (len(a) > 0 && newer(&a[0], &b[0])) {
			r, a = a[0], a[1:]
		} else {
			r, b = b[0], b[1:]
		}
		if !seen[r.ID] {
			seen[r.ID] = true
			out = append(out, r)
		}
	}
	return out
}
