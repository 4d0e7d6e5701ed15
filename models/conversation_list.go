package models

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// The chats list (B6) and its search (B5). Each shape of the list (which
// filters are set, how the search runs) is one statement text with $n
// parameters, prepared once per connection: planning the four-way join
// cost more than running it (1-5 ms against about 1 ms at 100,000
// conversations). Filter values from a fixed set (status, "unassigned")
// are part of the text; the limit too, so a generic plan knows it.
//
// A search must find the newest matching conversations, and the cheapest
// way depends on how common the text is:
//   - a common one ("mart": 7 % of the names) is found soonest by walking
//     the newest conversations and testing each one's search text (its
//     recipient's name, email and phone, copied onto the conversation and
//     into the activity index, so the walk is an index-only scan);
//   - a rare one (a name, a phone number) by asking the trigram index for
//     the matching recipients first, then taking their conversations.
//
// A name search walks at most searchWindow conversations; if that does
// not fill the page, the text is rare enough for the index, which gives
// the whole answer. A phone-like search (its digits) asks the index first,
// for at most searchIDCap recipients; past that, it walks. Either way a
// search reads at most a few thousand rows, whatever the text.
const (
	searchWindow = 2500
	searchIDCap  = 2000
)

// listFilter is the WHERE clause of a list statement, over conversations
// AS c, and its parameters.
type listFilter struct {
	where []string
	args  sqlArgs
}

// and adds a condition.
func (l *listFilter) and(cond string) { l.where = append(l.where, cond) }

// with is a copy of l with one more condition, cond with %s for each of
// the values, in turn, as parameters.
func (l *listFilter) with(cond string, values ...any) *listFilter {
	o := &listFilter{where: append([]string(nil), l.where...), args: append(sqlArgs(nil), l.args...)}
	params := make([]any, len(values))
	for i, v := range values {
		params[i] = o.args.add(v)
	}
	o.and(fmt.Sprintf(cond, params...))
	return o
}

// clause is the conditions joined by AND.
func (l *listFilter) clause() string { return strings.Join(l.where, " AND ") }

// listOrder is the list's order, newest activity first.
const listOrder = ` ORDER BY c.last_message_at DESC, c.id DESC`

// Conversations lists conversations newest activity first.
func (s *Store) Conversations(ctx context.Context, sc Scope, f ConversationFilter) (*ConversationPage, error) {
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	if err := checkText("q", "The search", f.Query); err != nil {
		return nil, err
	}
	l := &listFilter{}
	l.and("c.org_id = " + l.args.add(sc.OrgID))
	// A broadcast's own conversations are not chats (20261212000001).
	l.and("c.listed")
	if !sc.AllInboxes() {
		l.and("c.inbox_id = ANY(" + l.args.add(sc.InboxIDs) + "::bigint[])")
	}
	switch {
	case strings.Contains(f.Status, ","):
		cond, err := statusList(f.Status)
		if err != nil {
			return nil, err
		}
		l.and(cond)
		f.Status = "all"
	}
	switch f.Status {
	case "", "active":
		l.and("c.status IN ('new', 'open')")
	case StatusNew, StatusOpen, StatusClosed:
		l.and("c.status = '" + f.Status + "'") // one of three constants
	case "all":
	default:
		return nil, fieldErr("status", "unknown status %q", f.Status)
	}
	switch f.Assignee {
	case "":
	case "mine":
		l.and("c.assignee_id = " + l.args.add(sc.UserID))
	case "unassigned":
		l.and("c.assignee_id IS NULL")
	default:
		return nil, fieldErr("assignee", "unknown assignee filter %q", f.Assignee)
	}
	if f.AssigneeID != 0 {
		l.and("c.assignee_id = " + l.args.add(f.AssigneeID))
	}
	if f.InboxID != 0 {
		l.and("c.inbox_id = " + l.args.add(f.InboxID))
	}
	// The recipient search pages by activity; the message search by its
	// own cursor condition (listMessageMatches).
	byName := l
	if f.BeforeID != 0 {
		byName = l.with("(c.last_message_at, c.id) < (%s::timestamptz, %s::bigint)", f.BeforeAt, f.BeforeID)
	}
	rows, err := s.listSearch(ctx, sc, byName, f)
	if err != nil {
		return nil, fmt.Errorf("store: conversations: %w", err)
	}
	page := &ConversationPage{Rows: rows}
	if tsq, terms := parseTextQuery(f.Query); tsq != "" {
		// The recipients that match, listed by activity, and the
		// conversations whose messages do, listed by their newest match
		// (and left out when their recipient matches): each list is the
		// newest n of its kind, so the newest n of both are the newest n.
		ts := textSearch{tsq: tsq, terms: terms, notName: strings.ToLower(parseSearch(f.Query).Text),
			beforeAt: f.BeforeAt, beforeID: f.BeforeID}
		hits, err := s.listMessageMatches(ctx, sc, l, ts, f.Limit+1)
		if err != nil {
			return nil, fmt.Errorf("store: conversations: %w", err)
		}
		byText, err := s.hitRows(ctx, l, hits)
		if err != nil {
			return nil, fmt.Errorf("store: conversations: %w", err)
		}
		page.Rows = mergeRows(rows, byText, f.Limit+1)
		var shown []textHit
		for _, h := range hits {
			if slices.ContainsFunc(page.Rows[:min(len(page.Rows), f.Limit)], func(p ConversationRow) bool { return p.ID == h.Conv }) {
				shown = append(shown, h)
			}
		}
		if page.Matches, err = s.messageMatches(ctx, sc.OrgID, shown, terms); err != nil {
			return nil, fmt.Errorf("store: conversations: %w", err)
		}
	}
	if len(page.Rows) > f.Limit {
		page.Rows, page.More = page.Rows[:f.Limit], true
		last := &page.Rows[f.Limit-1]
		page.NextAt, page.NextID = last.sortAt(), last.ID
	}
	return page, nil
}

// hitRows reads the rows of the conversations a message search found, in
// the hits' order, each listed by its hit.
func (s *Store) hitRows(ctx context.Context, l *listFilter, hits []textHit) ([]ConversationRow, error) {
	if len(hits) == 0 {
		return nil, nil
	}
	ids := make([]int64, len(hits))
	for i, h := range hits {
		ids[i] = h.Conv
	}
	rows, err := s.listRows(ctx, l.with("c.id = ANY(%s::bigint[])", ids), len(ids))
	if err != nil {
		return nil, err
	}
	byID := make(map[int64]*ConversationRow, len(rows))
	for i := range rows {
		byID[rows[i].ID] = &rows[i]
	}
	out := make([]ConversationRow, 0, len(rows))
	for _, h := range hits {
		if r, ok := byID[h.Conv]; ok {
			r.hitAt = h.At
			out = append(out, *r)
		}
	}
	return out, nil
}

// listSearch runs the list statement for f's search (none, walked, or
// through the trigram index) and returns up to f.Limit+1 rows.
func (s *Store) listSearch(ctx context.Context, sc Scope, l *listFilter, f ConversationFilter) ([]ConversationRow, error) {
	t := parseSearch(f.Query)
	n := f.Limit + 1
	switch {
	case t.Text == "":
		return s.listRows(ctx, l, n)
	case len(t.Text) < minTrigramLen:
		return s.listWalk(ctx, l, t, n, 0)
	case t.Phone:
		ids, err := s.matchingRecipients(ctx, sc.OrgID, t, searchIDCap)
		if err != nil {
			return nil, err
		}
		if len(ids) < searchIDCap {
			return s.listOf(ctx, l, ids, n)
		}
		return s.listWalk(ctx, l, t, n, 0)
	}
	rows, err := s.listWalk(ctx, l, t, n, searchWindow)
	if err != nil || len(rows) == n {
		return rows, err
	}
	ids, err := s.matchingRecipients(ctx, sc.OrgID, t, 0)
	if err != nil {
		return nil, err
	}
	return s.listOf(ctx, l, ids, n)
}

// listRows runs the list statement with l's conditions.
func (s *Store) listRows(ctx context.Context, l *listFilter, n int) ([]ConversationRow, error) {
	q := `SELECT ` + conversationRowColumns + ` FROM conversations AS c ` + conversationRowJoins +
		` WHERE ` + l.clause() + listOrder + ` LIMIT ` + strconv.Itoa(n)
	rows, err := queryCached(ctx, s.db.DB, q, l.args...)
	if err != nil {
		return nil, err
	}
	return scanConversationRows(rows)
}

// listOf is the list of the conversations of the recipients ids.
func (s *Store) listOf(ctx context.Context, l *listFilter, ids []int64, n int) ([]ConversationRow, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	return s.listRows(ctx, l.with("c.recipient_id = ANY(%s::bigint[])", ids), n)
}

// listWalk walks the newest conversations (at most window of them; 0:
// all) and keeps those whose recipient matches t. The walk reads the
// activity index alone: it carries each conversation's status, assignee,
// inbox and search text (a copy of its recipient's name, email and phone,
// kept in step by triggers), so the walk is an index-only scan that tests
// strpos on each entry, and only the rows kept are fetched and joined.
// strpos, which no index serves, keeps the planner on the walk.
func (s *Store) listWalk(ctx context.Context, l *listFilter, t searchText, n, window int) ([]ConversationRow, error) {
	args := append(sqlArgs(nil), l.args...)
	match := `strpos(c.search_text, ` + args.add(strings.ToLower(t.Text)) + `) > 0`
	walk := `SELECT c.id, c.last_message_at FROM conversations AS c WHERE ` + l.clause() + ` AND ` + match
	if window > 0 {
		walk = `SELECT c.id, c.last_message_at FROM (SELECT c.id, c.last_message_at, c.search_text FROM conversations AS c WHERE ` +
			l.clause() + listOrder + ` LIMIT ` + strconv.Itoa(window) + `) AS c WHERE ` + match
	}
	limit := ` LIMIT ` + strconv.Itoa(n)
	q := `SELECT ` + conversationRowColumns + ` FROM (` + walk + listOrder + limit + `) AS w
	JOIN conversations AS c ON c.id = w.id ` + conversationRowJoins + listOrder + limit
	rows, err := queryCached(ctx, s.db.DB, q, args...)
	if err != nil {
		return nil, err
	}
	return scanConversationRows(rows)
}

// statusList turns a comma-separated list of statuses ("new,closed") into
// a condition; the statuses are constants, so they are part of the text.
func statusList(list string) (string, error) {
	seen := map[string]bool{}
	var in []string
	for _, st := range strings.Split(list, ",") {
		st = strings.TrimSpace(st)
		switch st {
		case StatusNew, StatusOpen, StatusClosed:
		default:
			return "", fieldErr("status", "unknown status %q", st)
		}
		if !seen[st] {
			seen[st] = true
			in = append(in, "'"+st+"'")
		}
	}
	return "c.status IN (" + strings.Join(in, ", ") + ")", nil
}
