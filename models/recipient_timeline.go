package models

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// A recipient's timeline: their conversations (when each started), the
// broadcasts they were sent (with the state of their copy) and their
// consent changes, newest first; or, with a search, their messages whose
// text matches it (full-text, over this recipient's messages only; no
// index is needed for one person's messages).

// Kinds of timeline item.
const (
	TimelineConversation = "conversation"
	TimelineBroadcast    = "broadcast"
	TimelineConsent      = "consent"
	TimelineMessage      = "message"
)

// TimelineItem is one entry of a recipient's timeline. Which fields mean
// what depends on Kind:
//
//   - conversation: ID the conversation, Title its inbox, State its
//     status, Detail its last message's preview;
//   - broadcast: ID the broadcast, Title its name, State the recipient's
//     copy (pending, queued, sent, delivered, failed, skipped, cancelled),
//     Detail why it was skipped;
//   - consent: ID the change, Title its action (opt_out, opt_in,
//     opt_in_refused), State its source, Detail the keyword or reason,
//     Actor the teammate;
//   - message: ID the message, ConversationID its conversation, Title its
//     direction, State its status, Detail its text.
type TimelineItem struct {
	Kind           string    `bun:"kind"`
	At             time.Time `bun:"at"`
	ID             int64     `bun:"id"`
	ConversationID *int64    `bun:"conversation_id"`
	Title          string    `bun:"title"`
	Channel        string    `bun:"channel"`
	State          string    `bun:"state"`
	Detail         string    `bun:"detail"`
	Actor          *string   `bun:"actor"`
}

// TimelinePage is one page of a timeline.
type TimelinePage struct {
	Items []TimelineItem
	// Next is the page number after this one; 0 at the end.
	Next int
}

// timelinePageSize is how many items a page holds.
const timelinePageSize = 30

// RecipientTimeline reads page (1-based) of the timeline of a recipient
// the scope may see; a non-empty q searches their messages instead. A
// limited agent sees only the conversations, broadcasts and messages of
// their inboxes (consent changes are the person's, shown to all).
func (s *Store) RecipientTimeline(ctx context.Context, sc Scope, recipientID int64, q string, page int) (*TimelinePage, error) {
	q = strings.TrimSpace(q)
	if err := checkText("q", "The search", q); err != nil {
		return nil, err
	}
	if len(q) > 200 {
		return nil, fieldErr("q", "The search is too long (at most 200 characters).")
	}
	if _, err := s.RecipientByID(ctx, sc, recipientID); err != nil {
		return nil, err
	}
	if page < 1 {
		page = 1
	}
	inboxes := "TRUE"
	var args []any
	if !sc.AllInboxes() {
		inboxes = "%s = ANY(?)"
	}
	inboxFilter := func(col string) string {
		if sc.AllInboxes() {
			return inboxes
		}
		args = append(args, pgdialect.Array(sc.InboxIDs))
		return fmt.Sprintf(inboxes, col)
	}
	var sqlText string
	if q != "" {
		// Read as the Chats search reads it (search_messages.go): every
		// word, each also as the start of a longer one, "quoted" phrases.
		tsq, _ := parseTextQuery(q)
		if tsq == "" {
			return &TimelinePage{}, nil // no word to look for
		}
		args = append(args, sc.OrgID, recipientID)
		f := inboxFilter("c.inbox_id")
		args = append(args, tsq)
		sqlText = `SELECT 'message' AS kind, m.created_at AS at, m.id, m.conversation_id, m.direction AS title, m.channel,
			m.status AS state, m.body AS detail, NULL AS actor
			FROM messages m JOIN conversations c ON c.id = m.conversation_id
			WHERE c.org_id = ? AND c.recipient_id = ? AND ` + f + `
			  AND ` + messageSearchExpr + ` @@ to_tsquery('simple', ?)
			ORDER BY at DESC, id DESC LIMIT ? OFFSET ?`
	} else {
		args = append(args, sc.OrgID, recipientID)
		fc := inboxFilter("c.inbox_id")
		args = append(args, sc.OrgID, recipientID)
		fb := inboxFilter("b.inbox_id")
		args = append(args, sc.OrgID, recipientID)
		sqlText = `SELECT * FROM (
			SELECT 'conversation' AS kind, c.created_at AS at, c.id, NULL::bigint AS conversation_id, i.name AS title,
				c.channel, c.status AS state, c.last_message_preview AS detail, NULL AS actor
			FROM conversations c JOIN inboxes i ON i.id = c.inbox_id
			WHERE c.org_id = ? AND c.recipient_id = ? AND ` + fc + `
			UNION ALL
			SELECT 'broadcast', coalesce(m.created_at, b.started_at, b.send_at), b.id, m.conversation_id, b.name, br.channel,
				CASE WHEN br.status = 'queued' THEN coalesce(m.status, 'queued') ELSE br.status END, br.skip_reason, NULL
			FROM broadcast_recipients br JOIN broadcasts b ON b.id = br.broadcast_id LEFT JOIN messages m ON m.id = br.message_id
			WHERE br.org_id = ? AND br.recipient_id = ? AND ` + fb + `
			UNION ALL
			SELECT 'consent', ce.created_at, ce.id, NULL, ce.action, ce.channel, ce.source, ce.detail, u.name
			FROM recipient_consent_events ce LEFT JOIN users u ON u.id = ce.actor_user_id
			WHERE ce.org_id = ? AND ce.recipient_id = ?
		) t ORDER BY at DESC, kind, id DESC LIMIT ? OFFSET ?`
	}
	args = append(args, timelinePageSize+1, (page-1)*timelinePageSize)
	out := &TimelinePage{}
	if err := s.db.NewRaw(sqlText, args...).Scan(ctx, &out.Items); err != nil {
		return nil, fmt.Errorf("store: recipient timeline: %w", err)
	}
	if len(out.Items) > timelinePageSize {
		out.Items, out.Next = out.Items[:timelinePageSize], page+1
	}
	return out, nil
}

// RecipientPlace is a recipient's home location and time zone.
type RecipientPlace struct {
	// LocationID is the home location (0: none).
	LocationID int64
	// Timezone is an IANA zone name ("" derives it from the phone or the
	// location).
	Timezone string
}

// SetRecipientPlace sets a recipient's home location (one of the
// organization's) and time zone (an IANA name time.LoadLocation knows);
// a bad one is a FieldError on location_id or timezone.
func (s *Store) SetRecipientPlace(ctx context.Context, sc Scope, id int64, in RecipientPlace) (*Recipient, error) {
	if err := require(sc, PermEditRecipients); err != nil {
		return nil, err
	}
	var r *Recipient
	err := s.inTx(ctx, func(tx bun.Tx) error {
		loc, err := checkPlace(ctx, tx, sc, &in)
		if err != nil {
			return err
		}
		if r, err = recipientInScope(ctx, tx, sc, id, true); err != nil {
			return err
		}
		r.LocationID, r.Timezone = loc, in.Timezone
		_, err = tx.NewUpdate().Model(r).Column("location_id", "timezone").Set("updated_at = now()").WherePK().Returning("*").Exec(ctx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: recipient place: %w", err)
	}
	return r, nil
}

// CheckRecipientPlace refuses a place SetRecipientPlace would refuse,
// writing nothing: a caller that changes more than the place checks it
// first, so a bad one leaves the rest unchanged too.
func (s *Store) CheckRecipientPlace(ctx context.Context, sc Scope, in RecipientPlace) error {
	_, err := checkPlace(ctx, s.db, sc, &in)
	return err
}

// checkPlace tidies and checks a place: its time zone, and its location
// (nil: none) being one of the organization's.
func checkPlace(ctx context.Context, db bun.IDB, sc Scope, in *RecipientPlace) (*int64, error) {
	in.Timezone = strings.TrimSpace(in.Timezone)
	if in.Timezone != "" {
		if len(in.Timezone) > 64 || strings.EqualFold(in.Timezone, "local") {
			return nil, fieldErr("timezone", "Choose a time zone such as America/New_York.")
		}
		if _, err := time.LoadLocation(in.Timezone); err != nil {
			return nil, fieldErr("timezone", "Choose a time zone such as America/New_York.")
		}
	}
	if in.LocationID == 0 {
		return nil, nil
	}
	ok, err := db.NewSelect().Table("locations").Where("id = ? AND org_id = ?", in.LocationID, sc.OrgID).Exists(ctx)
	if err != nil {
		return nil, fmt.Errorf("location: %w", err)
	}
	if !ok {
		return nil, fieldErr("location_id", "Choose one of your organization's locations.")
	}
	return &in.LocationID, nil
}

// PlaceOption is a location a recipient's home may be.
type PlaceOption struct {
	ID   int64  `bun:"id"`
	Name string `bun:"name"`
}

// RecipientPlaceOptions lists the organization's locations (not archived)
// for a recipient's home location picker.
func (s *Store) RecipientPlaceOptions(ctx context.Context, sc Scope) ([]PlaceOption, error) {
	var out []PlaceOption
	if err := s.db.NewRaw("SELECT id, name FROM locations WHERE org_id = ? AND archived_at IS NULL ORDER BY name, id", sc.OrgID).
		Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("store: place options: %w", err)
	}
	return out, nil
}
