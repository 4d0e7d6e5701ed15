package models

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/uptrace/bun"
)

// Merging two recipients (one person known twice, e.g. by phone and by
// email). The survivor keeps its id; the other's conversations (with
// their messages and events), consent history, group memberships and
// broadcast_recipients rows move to it, and the other is deleted.
//
//   - Fields: the survivor's name, phone and email stay; each it lacks is
//     taken from the other. Notes are joined (the survivor's first) while
//     they fit the notes' limit.
//   - An address the other opted out on and the survivor does not take
//     (the survivor has another one) would be lost, and a text from it
//     would come back as a new recipient with no opt-out: such a merge is
//     refused (merge the other way round, or remove the survivor's
//     address first).
//   - Consent: opted out on a channel if either is; when both are, the
//     recipient's own opt-out (keyword, receipt, unsubscribe) outranks
//     staff's, so nobody can undo what the person asked for.
//   - Two active conversations on the same inbox and channel cannot both
//     stay active (conversations_one_active_key): the one with the older
//     last message is closed, with a "closed" event whose detail says
//     why, before the move.
//   - A broadcast or group both were in keeps the survivor's row.
//
// One transaction; the two recipient rows are locked in id order, then
// their conversations in id order (the order a STOP takes its sender and
// the inbound core its conversations), so merges and keywords cannot
// deadlock.

// MergePreview is what merging other into survivor would do.
type MergePreview struct {
	Survivor, Other *Recipient
	// Conversations and Messages move to the survivor.
	Conversations, Messages int
	// Closed counts the active conversations closed because both had
	// one on the same inbox and channel.
	Closed int
	// ConsentEvents, Groups and Broadcasts count the rows that move.
	ConsentEvents, Groups, Broadcasts int
	// Filled names the fields the survivor takes from the other.
	Filled []string
	// Result is the survivor as it would be after the merge.
	Result Recipient
}

// mergePlan computes the merged recipient, or a FieldError on other_id
// when the merge would lose an opted-out address.
func mergePlan(s, o *Recipient) (Recipient, []string, error) {
	m := *s
	var filled []string
	if o.SMSOptedOutAt != nil && o.Phone != nil && s.Phone != nil && *s.Phone != *o.Phone {
		return m, nil, fieldErr("other_id", "%s opted out of texts at %s, which would be lost: merge the other way round, or remove %s's phone number first.",
			labelOr(o), *o.Phone, labelOr(s))
	}
	if o.EmailOptedOutAt != nil && o.Email != nil && s.Email != nil && *s.Email != *o.Email {
		return m, nil, fieldErr("other_id", "%s opted out of email at %s, which would be lost: merge the other way round, or remove %s's email address first.",
			labelOr(o), *o.Email, labelOr(s))
	}
	if m.Name == "" && o.Name != "" {
		m.Name, filled = o.Name, append(filled, "name")
	}
	if m.Phone == nil && o.Phone != nil {
		m.Phone, filled = o.Phone, append(filled, "phone")
	}
	if m.Email == nil && o.Email != nil {
		m.Email, filled = o.Email, append(filled, "email")
	}
	if n := strings.TrimSpace(o.Notes); n != "" && !strings.Contains(m.Notes, n) {
		joined := n
		if strings.TrimSpace(m.Notes) != "" {
			joined = m.Notes + "\n\n" + n
		}
		if utf8.RuneCountInString(joined) <= maxRecipientNotes {
			m.Notes, filled = joined, append(filled, "notes")
		}
	}
	if m.LocationID == nil && o.LocationID != nil {
		m.LocationID, filled = o.LocationID, append(filled, "home location")
	}
	if m.Timezone == "" && o.Timezone != "" {
		m.Timezone, filled = o.Timezone, append(filled, "time zone")
	}
	m.SMSOptedOutAt, m.SMSOptOutSource = stricterOptOut(s.SMSOptedOutAt, s.SMSOptOutSource, o.SMSOptedOutAt, o.SMSOptOutSource)
	m.EmailOptedOutAt, m.EmailOptOutSource = stricterOptOut(s.EmailOptedOutAt, s.EmailOptOutSource, o.EmailOptedOutAt, o.EmailOptOutSource)
	return m, filled, nil
}

// labelOr names a recipient, or "The other recipient".
func labelOr(r *Recipient) string {
	if l := recipientLabel(r); l != "" {
		return l
	}
	return "The other recipient"
}

// lockPair loads and locks two recipients the scope may see, in id order.
func lockPair(ctx context.Context, db bun.IDB, sc Scope, survivorID, otherID int64, lock bool) (*Recipient, *Recipient, error) {
	var rs []Recipient
	q := visibleRecipients(db.NewSelect().Model(&rs).Where("recipient.id IN (?, ?)", survivorID, otherID), sc, "recipient").
		OrderExpr("recipient.id")
	if lock {
		q = q.For("UPDATE OF recipient")
	}
	if err := q.Scan(ctx); err != nil {
		return nil, nil, fmt.Errorf("load recipients: %w", err)
	}
	if len(rs) != 2 {
		return nil, nil, fmt.Errorf("recipient: %w", ErrNotFound)
	}
	if rs[0].ID == survivorID {
		return &rs[0], &rs[1], nil
	}
	return &rs[1], &rs[0], nil
}

// mergeCounts fills a preview's counts.
func mergeCounts(ctx context.Context, db bun.IDB, p *MergePreview) error {
	s, o := p.Survivor.ID, p.Other.ID
	err := db.NewRaw(`SELECT
		(SELECT count(*) FROM conversations WHERE recipient_id = ?1),
		(SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE c.recipient_id = ?1),
		(SELECT count(*) FROM conversations a JOIN conversations b ON a.inbox_id = b.inbox_id AND a.channel = b.channel
			WHERE a.recipient_id = ?0 AND b.recipient_id = ?1 AND a.status <> 'closed' AND b.status <> 'closed'),
		(SELECT count(*) FROM recipient_consent_events WHERE recipient_id = ?1),
		(SELECT count(*) FROM group_members g WHERE g.recipient_id = ?1
			AND NOT EXISTS (SELECT 1 FROM group_members h WHERE h.group_id = g.group_id AND h.recipient_id = ?0)),
		(SELECT count(*) FROM broadcast_recipients b WHERE b.recipient_id = ?1
			AND NOT EXISTS (SELECT 1 FROM broadcast_recipients x WHERE x.broadcast_id = b.broadcast_id AND x.channel = b.channel AND x.recipient_id = ?0))`,
		s, o).Scan(ctx, &p.Conversations, &p.Messages, &p.Closed, &p.ConsentEvents, &p.Groups, &p.Broadcasts)
	if err != nil {
		return fmt.Errorf("merge counts: %w", err)
	}
	return nil
}

// PreviewMerge says what merging otherID into survivorID would do, or why
// it is refused (a FieldError on other_id).
func (s *Store) PreviewMerge(ctx context.Context, sc Scope, survivorID, otherID int64) (*MergePreview, error) {
	if survivorID == otherID {
		if _, err := s.RecipientByID(ctx, sc, survivorID); err != nil {
			return nil, fmt.Errorf("store: preview merge: %w", err)
		}
		return nil, fieldErr("other_id", "A recipient cannot be merged with itself; choose another.")
	}
	sv, ot, err := lockPair(ctx, s.db, sc, survivorID, otherID, false)
	if err != nil {
		return nil, fmt.Errorf("store: preview merge: %w", err)
	}
	p := &MergePreview{Survivor: sv, Other: ot}
	if p.Result, p.Filled, err = mergePlan(sv, ot); err != nil {
		return nil, err
	}
	if err := mergeCounts(ctx, s.db, p); err != nil {
		return nil, fmt.Errorf("store: preview merge: %w", err)
	}
	return p, nil
}

// MergeRecipients merges otherID into survivorID (see the top of this
// file) and returns the survivor and the live changes of the conversations
// that moved or were closed. Merging a recipient with itself, or a merge
// that would lose an opted-out address, is a FieldError on other_id;
// another organization's id is ErrNotFound; a limited agent who does not
// see all of either's conversations gets ErrRecipientElsewhere.
func (s *Store) MergeRecipients(ctx context.Context, sc Scope, survivorID, otherID int64) (*Recipient, []*Change, error) {
	if err := require(sc, PermEditRecipients); err != nil {
		return nil, nil, err
	}
	if survivorID == otherID {
		// Another organization's id is not found, before any other answer.
		if _, err := s.RecipientByID(ctx, sc, survivorID); err != nil {
			return nil, nil, fmt.Errorf("store: merge recipients: %w", err)
		}
		return nil, nil, fieldErr("other_id", "A recipient cannot be merged with itself; choose another.")
	}
	var (
		out     *Recipient
		changes []*Change
	)
	err := s.inTx(ctx, func(tx bun.Tx) error {
		changes = nil
		sv, ot, err := lockPair(ctx, tx, sc, survivorID, otherID, true)
		if err != nil {
			return err
		}
		for _, id := range []int64{sv.ID, ot.ID} {
			if err := checkAllVisible(ctx, tx, sc, id); err != nil {
				return err
			}
		}
		merged, filled, err := mergePlan(sv, ot)
		if err != nil {
			return err
		}
		p := &MergePreview{Survivor: sv, Other: ot}
		var convs []Conversation
		if err := tx.NewSelect().Model(&convs).Where("recipient_id IN (?, ?)", sv.ID, ot.ID).
			OrderExpr("id").For("UPDATE").Scan(ctx); err != nil {
			return fmt.Errorf("lock conversations: %w", err)
		}
		if err := mergeCounts(ctx, tx, p); err != nil {
			return err
		}
		closed, err := s.closeMergeClashes(ctx, tx, sc, convs, sv.ID, ot.ID)
		if err != nil {
			return err
		}
		changes = append(changes, closed...)
		if err := moveRecipientRows(ctx, tx, sv.ID, ot.ID); err != nil {
			return err
		}
		// The other goes first: its phone and email are unique per
		// organization and may be the survivor's next.
		if _, err := tx.NewDelete().Model(ot).WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("delete the other: %w", err)
		}
		if _, err := tx.NewUpdate().Model(&merged).Column("name", "phone", "email", "notes", "location_id", "timezone",
			"sms_opted_out_at", "sms_opt_out_source", "email_opted_out_at", "email_opt_out_source").
			Set("updated_at = now()").WherePK().Returning("*").Exec(ctx); err != nil {
			return fmt.Errorf("update the survivor: %w", err)
		}
		out = &merged
		if sv.SMSOptedOutAt == nil && merged.SMSOptedOutAt != nil {
			// The survivor takes the other's opt-out: its queued texts fail.
			if _, err := cancelQueuedSMS(ctx, tx, &Conversation{}, out); err != nil {
				return err
			}
		}
		if err := auditMerge(ctx, tx, sc, sv, ot, p, filled); err != nil {
			return err
		}
		moved, err := s.recipientUpdated(ctx, tx, sc, out)
		if err != nil {
			return err
		}
		changes = append(changes, moved...)
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("store: merge recipients: %w", uniqueAsField(err))
	}
	return out, changes, nil
}

// closeMergeClashes closes, of each pair of active conversations the two
// recipients have on one inbox and channel, the one with the older last
// message, and returns their changes.
func (s *Store) closeMergeClashes(ctx context.Context, tx bun.Tx, sc Scope, convs []Conversation, survivorID, otherID int64) ([]*Change, error) {
	type key struct {
		inbox   int64
		channel string
	}
	active := map[key]map[int64]*Conversation{}
	for i := range convs {
		c := &convs[i]
		if c.Status == StatusClosed {
			continue
		}
		k := key{c.InboxID, c.Channel}
		if active[k] == nil {
			active[k] = map[int64]*Conversation{}
		}
		active[k][c.RecipientID] = c
	}
	var changes []*Change
	for i := range convs {
		c := &convs[i]
		pair := active[key{c.InboxID, c.Channel}]
		a, b := pair[survivorID], pair[otherID]
		if c.Status == StatusClosed || a == nil || b == nil {
			continue
		}
		older := a
		if b.LastMessageAt.Before(a.LastMessageAt) || (b.LastMessageAt.Equal(a.LastMessageAt) && b.ID < a.ID) {
			older = b
		}
		if c != older {
			continue
		}
		if _, err := tx.NewUpdate().Model(c).Set("status = 'closed', closed_at = now(), unread_count = 0, updated_at = now()").
			WherePK().Exec(ctx); err != nil {
			return nil, fmt.Errorf("close on merge: %w", err)
		}
		c.Status = StatusClosed
		ev, err := insertEvent(ctx, tx, c, EvClosed, nil, &sc.UserID, map[string]any{"reason": "merged"})
		if err != nil {
			return nil, err
		}
		row, err := s.conversationRow(ctx, tx, Scope{OrgID: sc.OrgID}, c.ID)
		if err != nil {
			return nil, err
		}
		changes = append(changes, &Change{Conversation: *row, Events: []Event{*ev}})
	}
	return changes, nil
}

// moveRecipientRows moves the other's rows to the survivor; rows the
// survivor already has an equal of stay and go with the other.
func moveRecipientRows(ctx context.Context, tx bun.Tx, survivorID, otherID int64) error {
	for _, q := range []string{
		`UPDATE conversations SET recipient_id = ?0, updated_at = now() WHERE recipient_id = ?1`,
		`UPDATE recipient_consent_events SET recipient_id = ?0 WHERE recipient_id = ?1`,
		`UPDATE group_members AS g SET recipient_id = ?0 WHERE g.recipient_id = ?1
			AND NOT EXISTS (SELECT 1 FROM group_members h WHERE h.group_id = g.group_id AND h.recipient_id = ?0)`,
		`UPDATE broadcast_recipients AS b SET recipient_id = ?0 WHERE b.recipient_id = ?1
			AND NOT EXISTS (SELECT 1 FROM broadcast_recipients x WHERE x.broadcast_id = b.broadcast_id AND x.channel = b.channel AND x.recipient_id = ?0)`,
	} {
		if _, err := tx.NewRaw(q, survivorID, otherID).Exec(ctx); err != nil {
			return fmt.Errorf("move to the survivor: %w", err)
		}
	}
	return nil
}

// auditMerge records the merge: the other as it was, and what moved.
func auditMerge(ctx context.Context, tx bun.Tx, sc Scope, sv, ot *Recipient, p *MergePreview, filled []string) error {
	type was struct {
		ID    int64   `json:"id"`
		Name  string  `json:"name"`
		Phone *string `json:"phone"`
		Email *string `json:"email"`
	}
	type moved struct {
		MergedFrom    int64    `json:"merged_from"`
		Conversations int      `json:"conversations"`
		Messages      int      `json:"messages"`
		Closed        int      `json:"closed"`
		ConsentEvents int      `json:"consent_events"`
		Groups        int      `json:"groups"`
		Broadcasts    int      `json:"broadcasts"`
		Filled        []string `json:"filled"`
	}
	return audit(ctx, tx, sc, AuditChange{Action: "recipient.merge", TargetType: "recipient", TargetID: sv.ID,
		TargetName: recipientLabel(sv), Before: was{ID: ot.ID, Name: ot.Name, Phone: ot.Phone, Email: ot.Email},
		After: moved{MergedFrom: ot.ID, Conversations: p.Conversations, Messages: p.Messages, Closed: p.Closed,
			ConsentEvents: p.ConsentEvents, Groups: p.Groups, Broadcasts: p.Broadcasts, Filled: filled}})
}
