package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// Checking what a person or program asks to broadcast, and finding the
// inbox it goes out from.

// broadcastPlan is a checked broadcast input with its inbox and location.
type broadcastPlan struct {
	in       BroadcastInput
	inbox    *Inbox
	location *Location
}

// checkBroadcast checks in (trimming it in place) and resolves its inbox.
// draft allows an empty name and body (an estimate while composing).
func checkBroadcast(ctx context.Context, db bun.IDB, sc Scope, in BroadcastInput, draft bool) (*broadcastPlan, error) {
	if err := require(sc, PermBroadcast); err != nil {
		return nil, err
	}
	in.Name, in.Subject = strings.TrimSpace(in.Name), strings.TrimSpace(in.Subject)
	in.Audience.Query = strings.TrimSpace(in.Audience.Query)
	for _, f := range []struct{ field, what, s string }{
		{"name", "The name", in.Name}, {"body", "The message", in.Body},
		{"subject", "The subject", in.Subject}, {"audience", "The search", in.Audience.Query},
	} {
		if err := checkText(f.field, f.what, f.s); err != nil {
			return nil, err
		}
	}
	switch n := utf8.RuneCountInString(in.Name); {
	case n == 0 && !draft:
		return nil, fieldErr("name", "Name the broadcast (only your team sees the name).")
	case n > maxBroadcastName:
		return nil, fieldErr("name", "The name is too long (at most %d characters).", maxBroadcastName)
	}
	switch n := utf8.RuneCountInString(in.Body); {
	case strings.TrimSpace(in.Body) == "" && !draft:
		return nil, fieldErr("body", "Write the message.")
	case n > maxBroadcastBody:
		return nil, fieldErr("body", "The message is too long (at most %d characters).", maxBroadcastBody)
	}
	if err := checkPlaceholders(in.Body); err != nil {
		return nil, err
	}
	if !draft && strings.TrimSpace(fillPlaceholders(in.Body, "")) == "" {
		return nil, fieldErr("body", "For someone without a name the message would be empty: add text, or a fallback such as {first_name|there}.")
	}
	chans := map[string]bool{}
	for _, c := range in.Channels {
		if c != ChannelSMS && c != ChannelEmail {
			return nil, fieldErr("channels", "Choose SMS, email or both.")
		}
		chans[c] = true
	}
	if len(chans) == 0 {
		return nil, fieldErr("channels", "Choose SMS, email or both.")
	}
	in.Channels = in.Channels[:0]
	for _, c := range []string{ChannelSMS, ChannelEmail} {
		if chans[c] {
			in.Channels = append(in.Channels, c)
		}
	}
	if chans[ChannelEmail] {
		if in.Subject == "" && !draft {
			return nil, fieldErr("subject", "An email needs a subject.")
		}
		if utf8.RuneCountInString(in.Subject) > maxBroadcastSubject {
			return nil, fieldErr("subject", "The subject is too long (at most %d characters).", maxBroadcastSubject)
		}
		if err := checkPlaceholders(in.Subject); err != nil {
			return nil, &FieldError{Field: "subject", Message: err.(*FieldError).Message}
		}
	} else {
		in.Subject = ""
	}
	if chans[ChannelSMS] && !draft {
		// The longest a text can be once its placeholders are filled in is
		// checked per recipient when it goes out; the template itself must fit.
		if err := checkSMSBody(in.Body); err != nil {
			return nil, err
		}
	}
	switch {
	case in.ReplyWindowHours == 0:
		in.ReplyWindowHours = DefaultReplyWindowHours
	case in.ReplyWindowHours < 1 || in.ReplyWindowHours > MaxReplyWindowHours:
		return nil, fieldErr("reply_window_hours", "The reply window is 1 to %d hours.", MaxReplyWindowHours)
	}
	if in.SendAt != nil {
		if in.SendAt.After(time.Now().AddDate(1, 0, 0)) {
			return nil, fieldErr("send_at", "Schedule it within a year.")
		}
		if !in.SendAt.After(time.Now()) {
			in.SendAt = nil
		}
	}
	if err := checkAudience(ctx, db, sc, &in.Audience); err != nil {
		return nil, err
	}
	p := &broadcastPlan{in: in}
	var err error
	if p.inbox, err = broadcastInbox(ctx, db, sc, in); err != nil {
		return nil, err
	}
	p.location = p.inbox.Location
	p.in.InboxID = p.inbox.ID
	return p, nil
}

// checkAudience checks that exactly one audience is given and that its
// groups and location are the organization's (another's: not found).
func checkAudience(ctx context.Context, db bun.IDB, sc Scope, a *Audience) error {
	n := 0
	if len(a.GroupIDs) > 0 {
		n++
	}
	if a.LocationID != 0 {
		n++
	}
	if a.Query != "" {
		n++
	}
	if n != 1 {
		return fieldErr("audience", "Choose one audience: groups, everyone at a location, or a search.")
	}
	switch {
	case len(a.GroupIDs) > 0:
		if len(a.GroupIDs) > 100 {
			return fieldErr("audience", "Choose at most 100 groups.")
		}
		var found int
		if err := db.NewRaw("SELECT count(*) FROM groups WHERE org_id = ? AND id = ANY(?)", sc.OrgID, pgdialect.Array(a.GroupIDs)).
			Scan(ctx, &found); err != nil {
			return fmt.Errorf("audience groups: %w", err)
		}
		if found != len(uniqueIDs(a.GroupIDs)) {
			return fmt.Errorf("audience group: %w", ErrNotFound)
		}
		a.GroupIDs = uniqueIDs(a.GroupIDs)
	case a.LocationID != 0:
		var ok bool
		if err := db.NewRaw("SELECT EXISTS (SELECT 1 FROM locations WHERE org_id = ? AND id = ?)", sc.OrgID, a.LocationID).
			Scan(ctx, &ok); err != nil {
			return fmt.Errorf("audience location: %w", err)
		}
		if !ok {
			return fmt.Errorf("audience location: %w", ErrNotFound)
		}
	case utf8.RuneCountInString(a.Query) < minTrigramLen && !parseSearch(a.Query).Phone:
		return fieldErr("audience", "Search for at least %d characters.", minTrigramLen)
	}
	return nil
}

// uniqueIDs returns ids without repeats, in their first order.
func uniqueIDs(ids []int64) []int64 {
	seen := make(map[int64]bool, len(ids))
	out := ids[:0:0]
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// broadcastInbox is the inbox a broadcast goes out from: the one asked
// for, else the only unarchived inbox (of the audience's location, when it
// names one) that has every chosen channel.
func broadcastInbox(ctx context.Context, db bun.IDB, sc Scope, in BroadcastInput) (*Inbox, error) {
	var inboxes []Inbox
	q := db.NewSelect().Model(&inboxes).Relation("Location").
		Where("inbox.org_id = ? AND inbox.archived_at IS NULL", sc.OrgID).OrderExpr("inbox.id")
	if in.InboxID != 0 {
		q = q.Where("inbox.id = ?", in.InboxID)
	} else if in.Audience.LocationID != 0 {
		q = q.Where("inbox.location_id = ?", in.Audience.LocationID)
	}
	if err := q.Scan(ctx); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("broadcast inbox: %w", err)
	}
	if in.InboxID != 0 && (len(inboxes) == 0 || !sc.CanSeeInbox(in.InboxID)) {
		return nil, fmt.Errorf("broadcast inbox: %w", ErrNotFound)
	}
	var fit []*Inbox
	for i := range inboxes {
		ib := &inboxes[i]
		ok := true
		for _, c := range in.Channels {
			if (c == ChannelSMS && ib.SMSNumber == nil) || (c == ChannelEmail && ib.EmailAddress == nil) {
				ok = false
			}
		}
		if ok {
			fit = append(fit, ib)
		}
	}
	switch {
	case in.InboxID != 0 && len(fit) == 0:
		return nil, fieldErr("inbox_id", "The %s inbox cannot send on every channel you chose; choose another inbox or fewer channels.", inboxes[0].Name)
	case len(fit) == 0:
		return nil, fieldErr("inbox_id", "No inbox can send on the channels you chose; add an SMS number or email address to an inbox.")
	case len(fit) > 1:
		return nil, fieldErr("inbox_id", "Choose the inbox to send from.")
	}
	if fit[0].Location == nil || fit[0].Location.ArchivedAt != nil {
		return nil, fieldErr("inbox_id", "The %s inbox's location is archived.", fit[0].Name)
	}
	return fit[0], nil
}
