package models

import (
	"context"
	"fmt"
	"strconv"
	"strings"
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
//   - every word must appear, in any order: "parking tuesday";
//   - each word also matches longer words it starts: "park" finds
//     "parking" (the box is a search-as-you-type box);
//   - text in double quotes is a phrase, its words next to each other, in
//     that order, each matched whole: "\"free parking\"";
//   - a word is a run of letters and digits; anything else separates
//     words (as PostgreSQL's parser splits "walk-ins" into walk and ins,
//     and also keeps the whole), so no text is ever read as an operator.
//
// The index is messages_body_search_idx, a GIN index over
// to_tsvector('simple', body) whose statistics target is raised so the
// planner knows a rare word from a common one: the statement is planned
// for each search (never a cached generic plan), so a common word walks
// the newest conversations and stops at a page, and a rare one reads the
// index.

// messageSearchExpr is the indexed expression over messages AS m.
const messageSearchExpr = `to_tsvector('simple', m.body)`

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
		words := strings.FieldsFunc(strings.ToLower(part), func(r rune) bool {
			return !unicode.IsLetter(r) && !unicode.IsDigit(r)
		})
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

// A MessageMatch is the message a search found in a conversation: the
// newest that holds the words, and its text around them.
type MessageMatch struct {
	MessageID int64
	IsNote    bool
	// Snippet is a few words of the message around the match, in parts;
	// the parts with Hit set are the words searched for.
	Snippet []SnippetPart
}

// A SnippetPart is a run of a snippet's text, a searched word or not.
type SnippetPart struct {
	Text string
	Hit  bool
}

// Snippet markers: ts_headline wraps each match in them; a body that
// holds one itself only shifts a highlight (the text is escaped anyway).
const (
	hitStart = "\x01"
	hitStop  = "\x02"
)

// splitSnippet reads a headline with hitStart/hitStop markers into parts.
func splitSnippet(h string) []SnippetPart {
	var parts []SnippetPart
	for h != "" {
		i := strings.Index(h, hitStart)
		if i < 0 {
			parts = append(parts, SnippetPart{Text: h})
			break
		}
		if i > 0 {
			parts = append(parts, SnippetPart{Text: h[:i]})
		}
		h = h[i+len(hitStart):]
		j := strings.Index(h, hitStop)
		if j < 0 {
			j = len(h)
		}
		if j > 0 {
			parts = append(parts, SnippetPart{Text: h[:j], Hit: true})
		}
		h = strings.TrimPrefix(h[j:], hitStop)
	}
	return parts
}

// How a message-text search runs (measured on 1,000,000 messages,
// BENCHMARKS.md "Issue 13"):
//   - when the words are common (in textWalkMinShare of the messages, by
//     ANALYZE's statistics: commonWords), walk the
//     newest textWalkWindow conversations within the filters and test their
//     messages ("thanks": about 50 conversations read for a page);
//   - otherwise, or when the walk does not fill the page, ask the index for
//     the messages holding the words, at most textIDCap of them: a rare
//     word ("zucchini") has few, and their conversations are the answer;
//   - when there are more (words in thousands of messages), one statement
//     planned with the words known: such words are among the common ones
//     ANALYZE keeps, so the planner's estimate is right and it picks the
//     walk or the index. A rare word never gets there: the planner guesses
//     a word it has no statistics for as common as the least common one it
//     has, and walked every conversation for 4.5 s on "zucchini".
//
// Each step tests to_tsvector on the bodies it reads (about 10 µs a
// message on this machine), hence the bounds.
const (
	textWalkWindow = 200
	textIDCap      = 20000
	// textWalkMinShare is the share of messages a search's words must be
	// in for the walk: with about 10 messages a conversation, 3 % puts
	// them in about a quarter of the conversations, so the window fills.
	textWalkMinShare = 0.03
)

// listMessageMatches lists the conversations (within l's conditions)
// holding a message that matches tsq, newest activity first, at most n.
func (s *Store) listMessageMatches(ctx context.Context, sc Scope, l *listFilter, tsq string, terms []textTerm, n int) ([]ConversationRow, error) {
	words, freq, err := s.commonWords.get(ctx, s)
	if err != nil {
		return nil, err
	}
	if textFrequency(words, freq, terms) >= textWalkMinShare {
		rows, err := s.listTextWalk(ctx, l, tsq, n, textWalkWindow)
		if err != nil || len(rows) == n {
			return rows, err
		}
	}
	ids, whole, err := s.textConversations(ctx, sc.OrgID, tsq, textIDCap)
	if err != nil {
		return nil, err
	}
	if whole {
		if len(ids) == 0 {
			return nil, nil
		}
		o := &listFilter{where: append([]string(nil), l.where...), args: append(sqlArgs(nil), l.args...)}
		o.and("c.id = ANY(" + o.args.add(ids) + "::bigint[])")
		return s.listRows(ctx, o, n)
	}
	return s.listTextWalk(ctx, l, tsq, n, 0)
}

// textMatch is the condition "a message of c matches" with tsq as a
// parameter of args.
func textMatch(args *sqlArgs, tsq string) string {
	return `EXISTS (SELECT 1 FROM messages AS m WHERE m.conversation_id = c.id AND m.org_id = c.org_id AND ` +
		messageSearchExpr + ` @@ to_tsquery('simple', ` + args.add(tsq) + `))`
}

// listTextWalk keeps the conversations among the newest window (0: all)
// within l's conditions that hold a message matching tsq. It is sent
// unprepared on purpose: planned with the words known (see above).
func (s *Store) listTextWalk(ctx context.Context, l *listFilter, tsq string, n, window int) ([]ConversationRow, error) {
	args := append(sqlArgs(nil), l.args...)
	match := textMatch(&args, tsq)
	inner := `SELECT c.id, c.last_message_at FROM conversations AS c WHERE ` + l.clause() + ` AND ` + match
	if window > 0 {
		inner = `SELECT c.id, c.last_message_at FROM (SELECT c.id, c.org_id, c.last_message_at FROM conversations AS c WHERE ` +
			l.clause() + listOrder + ` LIMIT ` + strconv.Itoa(window) + `) AS c WHERE ` + match
	}
	limit := ` LIMIT ` + strconv.Itoa(n)
	q := `SELECT ` + conversationRowColumns + ` FROM (` + inner + listOrder + limit + `) AS w
	JOIN conversations AS c ON c.id = w.id ` + conversationRowJoins + listOrder + limit
	rows, err := s.db.DB.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("message search: %w", err)
	}
	return scanConversationRows(rows)
}

// textConversations lists the conversations of the organization's
// messages that match tsq, reading at most limit messages; whole says no
// message was left unread.
func (s *Store) textConversations(ctx context.Context, orgID int64, tsq string, limit int) (ids []int64, whole bool, err error) {
	q := `SELECT m.conversation_id FROM messages AS m
		WHERE m.org_id = $1 AND ` + messageSearchExpr + ` @@ to_tsquery('simple', $2) LIMIT ` + strconv.Itoa(limit)
	rows, err := s.db.DB.QueryContext(ctx, q, orgID, tsq)
	if err != nil {
		return nil, false, fmt.Errorf("message search: %w", err)
	}
	seen := map[int64]bool{}
	messages := 0
	err = scanAll(rows, func() error {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return err
		}
		messages++
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("message search: %w", err)
	}
	return ids, messages < limit, nil
}

// messageMatches finds, for each of the conversations ids, its newest
// message matching tsq and a snippet of it. Conversations without one are
// absent from the map.
func (s *Store) messageMatches(ctx context.Context, orgID int64, ids []int64, tsq string) (map[int64]MessageMatch, error) {
	if len(ids) == 0 || tsq == "" {
		return nil, nil
	}
	// Per conversation, its messages newest first until one matches (the
	// conversation's index, read backwards): a common word's index entries
	// would be far more than the page's messages.
	q := `SELECT w.id, h.id, h.is_note,
		ts_headline('simple', h.body, to_tsquery('simple', $3),
			'StartSel=` + hitStart + `, StopSel=` + hitStop + `, MaxWords=18, MinWords=6, ShortWord=0, MaxFragments=1, FragmentDelimiter=" … "')
	FROM unnest($2::bigint[]) AS w(id),
	LATERAL (SELECT m.id, m.is_note, m.body FROM messages AS m
		WHERE m.conversation_id = w.id AND m.org_id = $1 AND ` + messageSearchExpr + ` @@ to_tsquery('simple', $3)
		ORDER BY m.id DESC LIMIT 1) AS h`
	rows, err := s.db.DB.QueryContext(ctx, q, orgID, ids, tsq)
	if err != nil {
		return nil, fmt.Errorf("message search snippets: %w", err)
	}
	out := make(map[int64]MessageMatch, len(ids))
	err = scanAll(rows, func() error {
		var conv int64
		var m MessageMatch
		var headline string
		if err := rows.Scan(&conv, &m.MessageID, &m.IsNote, &headline); err != nil {
			return err
		}
		m.Snippet = splitSnippet(headline)
		out[conv] = m
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("message search snippets: %w", err)
	}
	return out, nil
}

// mergeRows merges two lists in list order (newest activity first), each
// conversation once, at most n rows.
func mergeRows(a, b []ConversationRow, n int) []ConversationRow {
	out := make([]ConversationRow, 0, min(n, len(a)+len(b)))
	seen := make(map[int64]bool, len(a)+len(b))
	newer := func(x, y *ConversationRow) bool {
		return x.LastMessageAt.After(y.LastMessageAt) || (x.LastMessageAt.Equal(y.LastMessageAt) && x.ID > y.ID)
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
