package models_test

import (
	"context"
	"maps"
	"slices"
	"strconv"
	"testing"

	"github.com/parley-chat/parley/models"
)

// textOrg is searchOrg with 30 conversations (open, "Person i", newest
// first) in an inbox of its own, and a second inbox holding conversation
// "Hidden" (31). Messages are set per conversation by body.
func textOrg(t *testing.T, st *models.Store, slug string, bodies map[int]string) (models.Scope, int64, int64) {
	t.Helper()
	ctx := context.Background()
	sc, inbox := searchOrg(t, st, slug, 31, `CASE i WHEN 31 THEN 'Hidden' ELSE 'Person ' || i END`,
		`'+1555020' || lpad(i::text, 4, '0')`, `'open'`)
	db := st.DB()
	var other int64
	err := db.NewRaw(`INSERT INTO inboxes (org_id, location_id, name)
		SELECT org_id, location_id, 'Other' FROM inboxes WHERE id = ? RETURNING id`, inbox).Scan(ctx, &other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.NewRaw(`UPDATE conversations SET inbox_id = ? WHERE org_id = ? AND recipient_id =
		(SELECT id FROM recipients WHERE org_id = ? AND name = 'Hidden')`, other, sc.OrgID, sc.OrgID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	// Highest number first, so a lower number's message is newer: a
	// conversation found by its messages is listed by its newest match.
	keys := slices.Collect(maps.Keys(bodies))
	slices.SortFunc(keys, func(a, b int) int { return abs(b) - abs(a) })
	for _, i := range keys {
		body := bodies[i]
		note := i < 0
		if note {
			i = -i
		}
		name := "Hidden"
		if i != 31 {
			name = "Person " + itoa(i)
		}
		_, err := db.NewRaw(`INSERT INTO messages (org_id, conversation_id, direction, channel, is_note, body, author_type, status)
			SELECT c.org_id, c.id, 'inbound', 'sms', ?, ?, 'recipient', CASE WHEN ? THEN 'none' ELSE 'received' END
			FROM conversations AS c JOIN recipients AS r ON r.id = c.recipient_id WHERE c.org_id = ? AND r.name = ?`,
			note, body, note, sc.OrgID, name).Exec(ctx)
		if err != nil {
			t.Fatal(err)
		}
	}
	// Statistics, so common words take the walk (search_words.go).
	if _, err := db.NewRaw("ANALYZE messages").Exec(ctx); err != nil {
		t.Fatal(err)
	}
	return sc, inbox, other
}

func itoa(i int) string { return strconv.Itoa(i) }

func abs(i int) int { return max(i, -i) }

// TestConversationSearchFindsMessageText: a word of a message finds its
// conversation, with the message and the words marked; words are ANDed
// and prefixes, quotes make a phrase; another organization's messages and
// an inbox the agent cannot see stay out.
func TestConversationSearchFindsMessageText(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	sc, inbox, _ := textOrg(t, st, "msgsearch", map[int]string{
		3:   "Can I bring my <b>zucchini</b> to the Tuesday class?",
		5:   "Is there free parking on Tuesday?",
		8:   "Parking is free behind the building",
		-12: "Team only: the zucchini grower called back",
		31:  "zucchini in the hidden inbox",
	})
	// Another organization's message with the same word.
	other, _, _ := textOrg(t, st, "msgsearch-other", map[int]string{4: "zucchini elsewhere"})

	search := func(sc models.Scope, q string) *models.ConversationPage {
		t.Helper()
		p, err := st.Conversations(ctx, sc, models.ConversationFilter{Query: q})
		if err != nil {
			t.Fatalf("search %q: %v", q, err)
		}
		return p
	}
	cases := []struct {
		q    string
		want []string
	}{
		{"zucchini", []string{"Person 3", "Person 12", "Hidden"}},      // body and note, whole word
		{"ZUCCH", []string{"Person 3", "Person 12", "Hidden"}},         // a prefix, any case
		{"parking tuesday", []string{"Person 5"}},                      // every word, any order
		{"free parking", []string{"Person 5", "Person 8"}},             // both words, anywhere
		{`"free parking"`, []string{"Person 5"}},                       // a phrase: next to each other, in order
		{`"parking free"`, nil},                                        // ... in that order
		{"Person 7", []string{"Person 7"}},                             // names still match (substring)
		{"elsewhere", nil},                                             // another organization's message
		{"nothing-like-this", nil},                                     // punctuation separates words, never an operator
		{"zucchini & !(", []string{"Person 3", "Person 12", "Hidden"}}, // tsquery syntax is not read as such
	}
	for _, c := range cases {
		if got := names(search(sc, c.q)); !slices.Equal(got, c.want) {
			t.Errorf("search %q: %v, want %v", c.q, got, c.want)
		}
	}

	// The matched message and its snippet: escaped later, marked here.
	p := search(sc, "zucchini")
	m, ok := p.Matches[p.Rows[0].ID]
	if !ok || m.IsNote {
		t.Fatalf("match of Person 3: %+v (ok %v)", m, ok)
	}
	var hits, text string
	for _, part := range m.Snippet {
		text += part.Text
		if part.Hit {
			hits += part.Text
		}
	}
	// The snippet is the text as written (the page escapes it), the
	// searched word marked.
	if hits != "zucchini" || text != "Can I bring my <b>zucchini</b> to the Tuesday class?" {
		t.Errorf("snippet %+v: hits %q, text %q", m.Snippet, hits, text)
	}
	if n := p.Matches[p.Rows[1].ID]; !n.IsNote {
		t.Errorf("Person 12's match is the note: %+v", n)
	}
	var msgConv int64
	if err := st.DB().NewRaw(`SELECT conversation_id FROM messages WHERE id = ?`, m.MessageID).Scan(ctx, &msgConv); err != nil || msgConv != p.Rows[0].ID {
		t.Errorf("matched message %d is in conversation %d (%v), want %d", m.MessageID, msgConv, err, p.Rows[0].ID)
	}
	// A row found by its recipient alone has no match.
	if p := search(sc, "Person 7"); len(p.Matches) != 0 {
		t.Errorf("name search matches %v", p.Matches)
	}

	// An agent limited to the first inbox does not see the hidden one.
	agent := sc
	agent.Role, agent.InboxIDs = models.RoleAgent, []int64{inbox}
	if got := names(search(agent, "zucchini")); !slices.Equal(got, []string{"Person 3", "Person 12"}) {
		t.Errorf("limited agent: %v", got)
	}
	if got := names(search(other, "zucchini")); !slices.Equal(got, []string{"Person 4"}) {
		t.Errorf("other organization: %v", got)
	}
}

// TestConversationSearchTextPages: a word in every conversation pages
// through all of them in list order, each once, merged with name matches.
func TestConversationSearchTextPages(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	bodies := map[int]string{}
	for i := 1; i <= 30; i++ {
		bodies[i] = "your order is ready"
		if i%2 == 0 {
			bodies[i] = "ready for pickup"
		}
	}
	sc, _, _ := textOrg(t, st, "msgsearch-pages", bodies)
	var got []string
	f := models.ConversationFilter{Query: "ready", Limit: 7}
	for range 10 {
		p, err := st.Conversations(ctx, sc, f)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, names(p)...)
		if len(p.Matches) != len(p.Rows) {
			t.Errorf("page of %d rows has %d matches", len(p.Rows), len(p.Matches))
		}
		if !p.More {
			break
		}
		f.BeforeAt, f.BeforeID = p.NextAt, p.NextID
	}
	var want []string
	for i := 1; i <= 30; i++ {
		want = append(want, "Person "+itoa(i))
	}
	if !slices.Equal(got, want) {
		t.Errorf("pages: %v\nwant %v", got, want)
	}
	// "order" is in odd ones only; "pickup 2" matches Person 2 by name
	// and no message holds both words.
	p, err := st.Conversations(ctx, sc, models.ConversationFilter{Query: "order"})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Rows) != 15 || p.Rows[0].RecipientName != "Person 1" {
		t.Errorf("order: %v", names(p))
	}
}

// TestMessageSearchWaysAgree: walking the newest messages and reading the
// index list the same conversations, newest match first, page by page,
// under filters, with a conversation matching in several messages listed
// once, by its newest match, and one matching by name listed by activity.
func TestMessageSearchWaysAgree(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	bodies := map[int]string{}
	for i := 1; i <= 30; i++ {
		switch i % 3 {
		case 0:
			bodies[i] = "the parcel is at the depot"
		case 1:
			bodies[i] = "parcel tracking number sent"
		default:
			bodies[i] = "see you at the clinic"
		}
	}
	sc, _, _ := textOrg(t, st, "msgsearch-ways", bodies)
	db := st.DB()
	// A second, newer match in Person 20 and 25 (25's newest of all), so
	// they lead, each once.
	for _, who := range []string{"Person 20", "Person 25"} {
		_, err := db.NewRaw(`INSERT INTO messages (org_id, conversation_id, direction, channel, body, author_type, status)
			SELECT c.org_id, c.id, 'inbound', 'sms', 'parcel again', 'recipient', 'received'
			FROM conversations AS c JOIN recipients AS r ON r.id = c.recipient_id WHERE c.org_id = ? AND r.name = ?`,
			sc.OrgID, who).Exec(ctx)
		if err != nil {
			t.Fatal(err)
		}
	}
	// Person 2 matches "clinic" by a message; a recipient named Parcel Co
	// matches "parcel" by name too.
	if _, err := db.NewRaw(`UPDATE recipients SET name = 'Parcel Co' WHERE org_id = ? AND name = 'Person 9'`, sc.OrgID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := db.NewRaw(`UPDATE conversations SET status = 'closed' WHERE org_id = ? AND recipient_id IN
		(SELECT id FROM recipients WHERE org_id = ? AND name IN ('Person 1', 'Person 7'))`, sc.OrgID, sc.OrgID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	// One statement writes "holiday hours" into every conversation (as a
	// broadcast's fan-out does): 30 matches written at the same instant.
	if _, err := db.NewRaw(`INSERT INTO messages (org_id, conversation_id, direction, channel, body, author_type, status)
		SELECT c.org_id, c.id, 'outbound', 'sms', 'holiday hours', 'user', 'sent'
		FROM conversations AS c WHERE c.org_id = ? ORDER BY c.id DESC`, sc.OrgID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	pages := func(f models.ConversationFilter) []string {
		t.Helper()
		var got []string
		for range 20 {
			p, err := st.Conversations(ctx, sc, f)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, names(p)...)
			if !p.More {
				return got
			}
			f.BeforeAt, f.BeforeID = p.NextAt, p.NextID
		}
		t.Fatalf("%q: no last page", f.Query)
		return nil
	}
	for _, f := range []models.ConversationFilter{
		{Query: "parcel", Limit: 4},
		{Query: "parcel", Limit: 4, Status: "all"},
		{Query: "parc", Limit: 3},
		{Query: `"the parcel"`, Limit: 2},
		{Query: "clinic", Limit: 5},
		{Query: "nothing", Limit: 5},
		{Query: "holiday", Limit: 7},
		{Query: "holiday", Limit: 7, Status: "all"},
	} {
		st.SetTextWay("walk")
		walked := pages(f)
		st.SetTextWay("index")
		indexed := pages(f)
		st.SetTextWay("")
		if !slices.Equal(walked, indexed) {
			t.Errorf("%q (%s): walked %v\nindexed %v", f.Query, f.Status, walked, indexed)
		}
		if f.Query == "holiday" && len(walked) != map[string]int{"": 29, "all": 31}[f.Status] {
			t.Errorf("holiday (%s): %d listed, want every one the filter keeps: %v", f.Status, len(walked), walked)
		}
		seen := map[string]bool{}
		for _, n := range walked {
			if seen[n] {
				t.Errorf("%q: %s listed twice: %v", f.Query, n, walked)
			}
			seen[n] = true
		}
		if f.Query == "parcel" && f.Status == "" {
			// By newest match: 25 and 20 lead (their second), then the
			// others (a lower number's message is newer); closed 1 and 7
			// are out. Parcel Co (Person 9, renamed) by its activity,
			// older than every message here.
			want := []string{"Person 25", "Person 20", "Person 3", "Person 4", "Person 6", "Person 10", "Person 12",
				"Person 13", "Person 15", "Person 16", "Person 18", "Person 19", "Person 21", "Person 22", "Person 24",
				"Person 27", "Person 28", "Person 30", "Parcel Co"}
			if !slices.Equal(walked, want) {
				t.Errorf("parcel: %v\nwant %v", walked, want)
			}
		}
	}
}
