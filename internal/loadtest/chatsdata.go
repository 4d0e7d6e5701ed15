package loadtest

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// The data B5 and B6 are measured on: the demo organization's one inbox
// with N recipients, one conversation each, and M messages spread evenly
// over them, each with its timeline event. Generated in SQL
// (generate_series) inside the benchmark's own database, from a fixed
// seed, so two runs see the same rows.
//
// Names are drawn from 40 common first names and 40 common surnames; three
// of them (Martin, Martin, Martinez) contain "mart", so about 7 % of the
// recipients match that mid-frequency search. Phones are +1555 and seven
// digits, a permutation of the recipient's number, so each is distinct and
// the first recipient is +15557654321 (the phone searches' target).

// chatsDataOptions sizes the generated data.
type chatsDataOptions struct {
	Conversations int // and recipients
	Messages      int // spread evenly over the conversations
}

// chatsDataTable records, in the benchmark database, what was generated;
// a later run with the same sizes reuses the data.
const chatsDataTable = "loadtest_chats_data_words"

// chatsDataReady reports whether the database already holds data of
// these sizes.
func chatsDataReady(ctx context.Context, conn *pgx.Conn, o chatsDataOptions) (bool, error) {
	var ok bool
	err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_tables WHERE tablename = $1)`, chatsDataTable).Scan(&ok)
	if err != nil || !ok {
		return false, err
	}
	err = conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM `+chatsDataTable+` WHERE conversations = $1 AND messages = $2)`,
		o.Conversations, o.Messages).Scan(&ok)
	return ok, err
}

// generateChatsData fills the demo organization with o's rows (after
// migrate up and seed --demo) and analyzes the tables. It refuses a
// database that holds other conversations.
func generateChatsData(ctx context.Context, dbURL string, o chatsDataOptions, progress io.Writer) error {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return fmt.Errorf("loadtest: connect to the benchmark database: %w", err)
	}
	defer conn.Close(context.Background())
	if ready, err := chatsDataReady(ctx, conn, o); err != nil {
		return fmt.Errorf("loadtest: look for generated data: %w", err)
	} else if ready {
		// A migration since (a new column filled, an index rebuilt)
		// leaves dead rows and pages not marked all-visible: vacuum, as
		// after generating, so every run measures the same state.
		t := time.Now()
		if _, err := conn.Exec(ctx, `VACUUM ANALYZE recipients, conversations, messages, conversation_events`); err != nil {
			return fmt.Errorf("loadtest: vacuum analyze: %w", err)
		}
		fmt.Fprintf(progress, "generated data: reusing %d conversations, %d messages (vacuum analyze: %.1fs)\n",
			o.Conversations, o.Messages, time.Since(t).Seconds())
		return nil
	}
	var others int64
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM conversations`).Scan(&others); err != nil {
		return fmt.Errorf("loadtest: count conversations: %w", err)
	}
	if others > 0 {
		return fmt.Errorf("loadtest: %s already holds %d conversations of other data: use an empty database (-database-url)",
			databaseName(dbURL), others)
	}
	var org, inbox, admin, agent int64
	err = conn.QueryRow(ctx, `SELECT o.id, i.id,
			(SELECT id FROM users WHERE org_id = o.id AND role = 'admin' ORDER BY id LIMIT 1),
			(SELECT id FROM users WHERE org_id = o.id AND role = 'agent' ORDER BY id LIMIT 1)
		FROM organizations AS o JOIN inboxes AS i ON i.org_id = o.id
		WHERE o.slug = 'demo' ORDER BY i.id LIMIT 1`).Scan(&org, &inbox, &admin, &agent)
	if err != nil {
		return fmt.Errorf("loadtest: find the demo organization (seed --demo first): %w", err)
	}
	perConv := max(o.Messages/o.Conversations, 1)
	start := time.Now()
	steps := []struct {
		what string
		sql  string
		args []any
	}{
		// Rows are consistent by construction: skip the per-row foreign
		// key triggers (the session is a superuser's on the benchmark's own
		// database).
		{"replica mode", `SET session_replication_role = replica`, nil},
		{"seed", `SELECT setseed(0.42)`, nil},
		{"recipients", genRecipientsSQL, []any{org, o.Conversations}},
		{"conversations", genConversationsSQL, []any{org, inbox, admin, agent}},
		{"search text (replica mode skips its trigger)", genSearchTextSQL, nil},
		{"messages (rows: previews set)", genMessagesSQL, []any{agent, perConv, chatsWords}},
		{"events", genEventsSQL, nil},
		{"marker table", `CREATE TABLE ` + chatsDataTable + ` (conversations int, messages int, generated_at timestamptz DEFAULT now())`, nil},
		{"marker", `INSERT INTO ` + chatsDataTable + ` (conversations, messages) VALUES ($1, $2)`, []any{o.Conversations, o.Messages}},
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("loadtest: generate: %w", err)
	}
	defer tx.Rollback(context.Background()) //nolint:errcheck // after Commit it is a no-op
	for _, st := range steps {
		t := time.Now()
		tag, err := tx.Exec(ctx, st.sql, st.args...)
		if err != nil {
			return fmt.Errorf("loadtest: generate %s: %w", st.what, err)
		}
		if tag.RowsAffected() > 0 {
			fmt.Fprintf(progress, "generated %s: %d rows in %.1fs\n", st.what, tag.RowsAffected(), time.Since(t).Seconds())
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("loadtest: generate: commit: %w", err)
	}
	t := time.Now()
	if _, err := conn.Exec(ctx, `VACUUM ANALYZE recipients, conversations, messages, conversation_events`); err != nil {
		return fmt.Errorf("loadtest: vacuum analyze: %w", err)
	}
	fmt.Fprintf(progress, "vacuum analyze: %.1fs; data generated in %.1fs\n", time.Since(t).Seconds(), time.Since(start).Seconds())
	return nil
}

// firstNames and lastNames make the recipients' names; Martin, Martin and
// Martinez hold "mart".
const (
	firstNames = `'James','Mary','Robert','Patricia','John','Jennifer','Michael','Linda','David','Elizabeth',
		'William','Barbara','Richard','Susan','Joseph','Jessica','Thomas','Sarah','Charles','Karen',
		'Christopher','Lisa','Daniel','Nancy','Matthew','Betty','Anthony','Margaret','Mark','Sandra',
		'Donald','Ashley','Steven','Kimberly','Paul','Emily','Andrew','Donna','Joshua','Martin'`
	lastNames = `'Smith','Johnson','Williams','Brown','Jones','Garcia','Miller','Davis','Rodriguez','Martinez',
		'Hernandez','Lopez','Gonzalez','Wilson','Anderson','Thomas','Taylor','Moore','Jackson','Martin',
		'Lee','Perez','Thompson','White','Harris','Sanchez','Clark','Ramirez','Lewis','Robinson',
		'Walker','Young','Allen','King','Wright','Scott','Torres','Nguyen','Hill','Flores'`
	// lines are the message bodies, in turn.
	lines = `'Hi, is the office open on Saturday?','Yes, we are open 9 to 1 on Saturdays.',
		'Can I move my appointment to next week?','Sure, which day works best for you?',
		'Tuesday afternoon if possible.','Done: Tuesday at 2:30 pm. See you then!',
		'Thanks so much!','You are welcome. Reply here any time.',
		'Do you take walk-ins?','We do, but the wait can be long in the morning.',
		'What should I bring to my first visit?','Your ID, insurance card and a list of medications.',
		'Running 10 minutes late, sorry','No problem, we will hold your slot.',
		'Is parking available?','Yes, free parking behind the building.',
		'Can you send me the invoice again?','Sent it to your email just now.',
		'Got it, thanks','Great, have a nice day!'`
)

// genRecipientsSQL: $1 the organization, $2 how many. Recipient i's phone
// is +1555 followed by (i·7919 + 7646402) mod 10⁷ on seven digits: a
// permutation (7919 is prime to 10⁷), and i = 1 gives 765-4321. Every
// third recipient has an email made from the name.
const genRecipientsSQL = `
INSERT INTO recipients (org_id, name, phone, email, created_at, updated_at)
SELECT $1, n.first || ' ' || n.last,
	'+1555' || lpad(((i::bigint * 7919 + 7646402) % 10000000)::text, 7, '0'),
	CASE WHEN i % 3 = 0 THEN lower(n.first) || '.' || lower(n.last) || i || '@example.com' END,
	now() - interval '400 days', now() - interval '400 days'
FROM generate_series(1, $2::int) AS i,
	LATERAL (SELECT (ARRAY[` + firstNames + `])[1 + floor(random() * 40)::int] AS first,
	                (ARRAY[` + lastNames + `])[1 + floor(random() * 40)::int] AS last,
	                i AS dep) AS n
ORDER BY i`

// genConversationsSQL: one SMS conversation per recipient of the
// organization $1 in inbox $2: 10 % new (with unread messages), 30 % open,
// 60 % closed; a third assigned to the admin $3, a third to the agent $4;
// last activity spread over the past year.
const genConversationsSQL = `
INSERT INTO conversations (org_id, inbox_id, recipient_id, channel, status, origin, assignee_id,
	last_message_at, last_message_preview, unread_count, created_at, updated_at, closed_at)
SELECT $1, $2, r.id, 'sms', s.status, 'recipient',
	CASE r.id % 3 WHEN 0 THEN $3::bigint WHEN 1 THEN $4::bigint END,
	s.at, '', CASE WHEN s.status = 'new' THEN 1 + (r.id % 3)::int ELSE 0 END,
	s.at - interval '2 days', s.at, CASE WHEN s.status = 'closed' THEN s.at END
FROM recipients AS r,
	LATERAL (SELECT CASE WHEN u < 0.1 THEN 'new' WHEN u < 0.4 THEN 'open' ELSE 'closed' END AS status,
	                now() - random() * interval '365 days' AS at
	         FROM (SELECT random() AS u, r.id AS dep) AS x) AS s
WHERE r.org_id = $1
ORDER BY r.id`

// genSearchTextSQL copies each recipient's search text onto its
// conversations, as the conversations' insert trigger would, where the
// schema has it (a binary older than the column leaves nothing to do).
const genSearchTextSQL = `
DO $$ BEGIN
	IF to_regprocedure('recipient_search_text(text, text, text)') IS NOT NULL THEN
		EXECUTE 'UPDATE conversations AS c SET search_text = r.search_text FROM recipients AS r WHERE r.id = c.recipient_id';
	END IF;
END $$`

// genMessagesSQL: $2 messages per conversation, seven minutes apart,
// ending at its last activity, alternating inbound and outbound (by the
// agent $1); the preview is the last one's text. A body is a line, then
// two to eight words of $3 (chatsWords, skewed to its front), an order
// number in every 50th and "zucchini" in every 100,000th (chatswords.go).
const genMessagesSQL = `
WITH lines AS (SELECT ARRAY[` + lines + `] AS l),
ins AS (
	INSERT INTO messages (org_id, conversation_id, direction, channel, body, author_type, author_user_id,
		status, provider, encoding, segments, created_at, sent_at, delivered_at)
	SELECT c.org_id, c.id, d.direction, 'sms',
		(SELECT l FROM lines)[1 + (c.id + j) % 20] || ' ' ||
		(SELECT string_agg(($3::text[])[1 + floor(cardinality($3::text[]) * random() ^ 3)::int], ' ')
		 FROM generate_series(1, 2 + ((c.id * 7 + j) % 7)::int) AS k) ||
		CASE WHEN (c.id * $2::int + j) % 50 = 3 THEN ' order ' || (100000 + (c.id * 7919 + j) % 20000)::text ELSE '' END ||
		CASE WHEN (c.id * $2::int + j) % 100000 = 7 THEN ' zucchini' ELSE '' END,
		d.author, d.author_user,
		d.status, 'vonage', 'text', 1, t.at, d.sent, d.sent
	FROM conversations AS c,
		generate_series(1, $2::int) AS j,
		LATERAL (SELECT c.last_message_at - ($2::int - j) * interval '7 minutes' AS at) AS t,
		LATERAL (SELECT CASE WHEN j % 2 = 1 THEN 'inbound' ELSE 'outbound' END AS direction,
		                CASE WHEN j % 2 = 1 THEN 'recipient' ELSE 'user' END AS author,
		                CASE WHEN j % 2 = 0 THEN $1::bigint END AS author_user,
		                CASE WHEN j % 2 = 1 THEN 'received' ELSE 'delivered' END AS status,
		                CASE WHEN j % 2 = 0 THEN t.at END AS sent) AS d
	ORDER BY t.at, c.id
	RETURNING conversation_id, body, created_at
)
UPDATE conversations AS c SET last_message_preview = left(last.body, 140)
FROM (SELECT DISTINCT ON (conversation_id) conversation_id, body FROM ins ORDER BY conversation_id, created_at DESC) AS last
WHERE c.id = last.conversation_id`

// genEventsSQL: each message's timeline event, in message order.
const genEventsSQL = `
INSERT INTO conversation_events (org_id, inbox_id, conversation_id, kind, message_id, actor_user_id, created_at)
SELECT m.org_id, c.inbox_id, m.conversation_id, 'message', m.id, m.author_user_id, m.created_at
FROM messages AS m JOIN conversations AS c ON c.id = m.conversation_id
ORDER BY m.id`

// dropDatabase drops dbURL's database, closing its connections.
func dropDatabase(ctx context.Context, dbURL string) error {
	u, err := url.Parse(dbURL)
	if err != nil {
		return fmt.Errorf("loadtest: database url: %w", err)
	}
	name := strings.TrimPrefix(u.Path, "/")
	admin := *u
	admin.Path = "/postgres"
	conn, err := pgx.Connect(ctx, admin.String())
	if err != nil {
		return fmt.Errorf("loadtest: connect to %s: %w", admin.Redacted(), err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("loadtest: drop database %s: %w", name, err)
	}
	return nil
}
