package models_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/parley-chat/parley/models"
)

// searchOrg creates an organization of its own with one inbox and n
// recipients, one SMS conversation each, named and numbered by name and
// phone (recipient i, from 1), with activity i minutes ago and the
// status status(i). It returns the admin's scope and the inbox.
func searchOrg(t *testing.T, st *models.Store, slug string, n int, name, phone, status string) (models.Scope, int64) {
	t.Helper()
	ctx := context.Background()
	sc := otherOrgScope(t, st, slug)
	db := st.DB()
	var inbox int64
	err := db.NewRaw(`WITH l AS (INSERT INTO locations (org_id, name) VALUES (?, 'Main') RETURNING org_id, id)
		INSERT INTO inboxes (org_id, location_id, name) SELECT org_id, id, 'Desk' FROM l RETURNING id`, sc.OrgID).Scan(ctx, &inbox)
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.NewRaw(`WITH r AS (
			INSERT INTO recipients (org_id, name, phone)
			SELECT ?, `+name+`, `+phone+` FROM generate_series(1, ?::int) AS i ORDER BY i RETURNING id, name, phone)
		INSERT INTO conversations (org_id, inbox_id, recipient_id, channel, status, origin, last_message_at)
		SELECT ?, ?, ri.id, 'sms', `+status+`, 'recipient', now() - ri.i * interval '1 minute'
		FROM (SELECT id, row_number() OVER (ORDER BY id) AS i FROM r) AS ri`, sc.OrgID, n, sc.OrgID, inbox).Exec(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.NewRaw("ANALYZE recipients, conversations").Exec(ctx); err != nil {
		t.Fatal(err)
	}
	return sc, inbox
}

// names lists the recipients' names of a page's rows.
func names(p *models.ConversationPage) []string {
	var out []string
	for _, r := range p.Rows {
		out = append(out, r.RecipientName)
	}
	return out
}

func TestConversationSearchPhoneHoweverTyped(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	sc, _ := searchOrg(t, st, "search-phone", 40,
		`CASE i WHEN 7 THEN 'Rosa Martinez' ELSE 'Person ' || i END`,
		`CASE i WHEN 7 THEN '+15557654321' ELSE '+1555010' || lpad(i::text, 4, '0') END`, `'open'`)
	for _, q := range []string{"(555) 765-4321", "765-4321", "+1 555 765 4321", "555.765.4321", "5557654321", "7654321"} {
		p, err := st.Conversations(ctx, sc, models.ConversationFilter{Query: q})
		if err != nil {
			t.Fatal(err)
		}
		if got := names(p); !slices.Equal(got, []string{"Rosa Martinez"}) {
			t.Errorf("search %q: %v, want [Rosa Martinez]", q, got)
		}
		rp, err := st.Recipients(ctx, sc, q, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(rp.Recipients) != 1 || rp.Recipients[0].Name != "Rosa Martinez" || rp.NextAfter != 0 {
			t.Errorf("recipients %q: %+v", q, rp)
		}
	}
	// Two digits are not a phone fragment; letters make it text again.
	for _, q := range []string{"(76)", "765-4321x", "Rosa 765"} {
		p, err := st.Conversations(ctx, sc, models.ConversationFilter{Query: q})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Rows) != 0 {
			t.Errorf("search %q: %v, want nothing", q, names(p))
		}
	}
}

// TestConversationSearchMatchesReference compares every search path (the
// walk that fills its page, the walk that falls back to the index, the
// index first for phones) with a plain query over all rows, across
// filters, page sizes and a keyset cursor. The organization has more
// conversations than one walk reads, with the rare names only among the
// oldest.
func TestConversationSearchMatchesReference(t *testing.T) {
	if testing.Short() {
		t.Skip("generates 3,000 conversations")
	}
	ctx := context.Background()
	st := openStore(t)
	const n = 3000
	sc, _ := searchOrg(t, st, "search-ref", n,
		`CASE WHEN i % 9 = 0 THEN 'Martin ' || i WHEN i > 2990 THEN 'Quentin Rare' || i ELSE 'Person ' || i END`,
		`'+1555' || lpad((i * 7919 % 10000000)::text, 7, '0')`,
		`(ARRAY['new', 'open', 'closed'])[1 + i % 3]`)
	ref := func(f models.ConversationFilter, pattern string) []string {
		t.Helper()
		var out []string
		status := map[string]string{"": "c.status IN ('new', 'open')", "closed": "c.status = 'closed'", "all": "true"}[f.Status]
		cursor := "true"
		args := []any{sc.OrgID, pattern}
		if f.BeforeID != 0 {
			cursor = "(c.last_message_at, c.id) < (?, ?)"
			args = append(args, f.BeforeAt, f.BeforeID)
		}
		args = append(args, f.Limit)
		err := st.DB().NewRaw(`SELECT r.name FROM conversations AS c JOIN recipients AS r ON r.id = c.recipient_id
			WHERE c.org_id = ? AND (r.name || ' ' || coalesce(r.email, '') || ' ' || coalesce(r.phone, '')) ILIKE ?
			AND `+status+` AND `+cursor+` ORDER BY c.last_message_at DESC, c.id DESC LIMIT ?`, args...).Scan(ctx, &out)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	for _, tc := range []struct{ query, pattern string }{
		{"mart", "%mart%"},           // common: the walk fills the page
		{"MARTIN 29", "%martin 29%"}, // a few, spread: the walk falls back to the index
		{"quentin", "%quentin%"},     // only the oldest: past the walk's window
		{"rare2995", "%rare2995%"},   // one
		{"ma", "%ma%"},               // too short for the index: walked
		{"555", "%555%"},             // a phone fragment everyone matches: past the index's cap, walked
		{"(555) 0", "%5550%"},        // a phone fragment
		{"nobody", "%nobody%"},       // none
	} {
		for _, status := range []string{"", "closed", "all"} {
			for _, limit := range []int{5, 50} {
				f := models.ConversationFilter{Query: tc.query, Status: status, Limit: limit}
				p, err := st.Conversations(ctx, sc, f)
				if err != nil {
					t.Fatal(err)
				}
				f.Limit++
				want := ref(f, tc.pattern)
				more := len(want) > limit
				want = want[:min(limit, len(want))]
				if got := names(p); !slices.Equal(got, want) || p.More != more {
					t.Errorf("%q status %q limit %d: %d rows, more %v; want %d, more %v\n got %v\nwant %v",
						tc.query, status, limit, len(got), p.More, len(want), more, head(got), head(want))
					continue
				}
				if !p.More {
					continue
				}
				last := p.Rows[len(p.Rows)-1]
				f = models.ConversationFilter{Query: tc.query, Status: status, Limit: limit, BeforeAt: last.LastMessageAt, BeforeID: last.ID}
				p2, err := st.Conversations(ctx, sc, f)
				if err != nil {
					t.Fatal(err)
				}
				f.Limit++
				want = ref(f, tc.pattern)
				want = want[:min(limit, len(want))]
				if got := names(p2); !slices.Equal(got, want) {
					t.Errorf("%q status %q limit %d, second page: got %v, want %v", tc.query, status, limit, head(got), head(want))
				}
			}
		}
	}
	// A limited agent sees only its inboxes' conversations.
	none := models.Scope{OrgID: sc.OrgID, UserID: sc.UserID, Role: models.RoleAgent, InboxIDs: []int64{}}
	if p, err := st.Conversations(ctx, none, models.ConversationFilter{Query: "mart"}); err != nil || len(p.Rows) != 0 {
		t.Errorf("an agent without inboxes: %v, %v", names(p), err)
	}
}

// head shortens a list for an error message.
func head(s []string) string {
	if len(s) > 6 {
		return fmt.Sprintf("%s … (%d)", strings.Join(s[:6], ", "), len(s))
	}
	return strings.Join(s, ", ")
}

func TestRecipientsPagesUncounted(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	sc, _ := searchOrg(t, st, "search-pages", 60, `'Person ' || i`, `'+1555' || lpad(i::text, 7, '0')`, `'open'`)
	p, err := st.Recipients(ctx, sc, "person", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Recipients) != 50 || p.NextAfter == 0 {
		t.Fatalf("first page: %d listed, next %d", len(p.Recipients), p.NextAfter)
	}
	p, err = st.Recipients(ctx, sc, "person", p.NextAfter, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Recipients) != 10 || p.NextAfter != 0 || p.Recipients[9].Name != "Person 1" {
		t.Fatalf("second page: %d listed, next %d", len(p.Recipients), p.NextAfter)
	}
}
