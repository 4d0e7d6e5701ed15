package models

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/uptrace/bun"
)

// Forwarding rules (issue 14): per inbox, whom to notify of each inbound
// message, how and when. This file keeps the rules; the fan-out that sends
// the notifications reads them (ActiveAt says whether one applies).

// A ForwardTarget is whom a rule notifies: exactly one of a user of the
// organization (by email: users have no phone number), an outside phone
// number (E.164) or an outside email address.
type ForwardTarget struct {
	UserID int64  `json:"user_id,omitempty"`
	Phone  string `json:"phone,omitempty"`
	Email  string `json:"email,omitempty"`
}

// ForwardingRule is one rule of an inbox.
type ForwardingRule struct {
	bun.BaseModel `bun:"table:forwarding_rules"`

	ID       int64           `bun:"id,pk,autoincrement"`
	OrgID    int64           `bun:"org_id"`
	InboxID  int64           `bun:"inbox_id"`
	Targets  []ForwardTarget `bun:"targets,type:jsonb"`
	Channels []string        `bun:"channels,array"`
	Schedule Schedule        `bun:"schedule,type:jsonb"`
	// OnlyUnassigned: only while the conversation has no assignee.
	OnlyUnassigned bool `bun:"only_unassigned"`
	// UnansweredMinutes, when not 0, makes the rule an escalation: it
	// notifies once the conversation has gone that long without an answer.
	UnansweredMinutes int       `bun:"unanswered_minutes"`
	CreatedBy         *int64    `bun:"created_by"`
	CreatedAt         time.Time `bun:"created_at,nullzero,default:now()"`
}

// ForwardingRuleInput is a rule as given.
type ForwardingRuleInput struct {
	Targets           []ForwardTarget
	Channels          []string
	Schedule          Schedule
	OnlyUnassigned    bool
	UnansweredMinutes int
}

const maxForwardTargets = 20

// ActiveAt reports whether the rule's schedule applies at t (see
// Schedule.ActiveAt).
func (r *ForwardingRule) ActiveAt(t time.Time, loc *time.Location, ib *Inbox, closures []Closure) bool {
	return r.Schedule.ActiveAt(t, loc, ib, closures)
}

// checkForwardingRule checks and normalizes a rule's input: its schedule,
// its channels, and each target's form (a phone read in country). Users
// are checked against the database by the caller.
func checkForwardingRule(in *ForwardingRuleInput, country string) error {
	if err := in.Schedule.Validate(); err != nil {
		return err
	}
	if len(in.Channels) == 0 {
		return fieldErr("channels", "Choose SMS, email or both.")
	}
	var channels []string
	for _, ch := range in.Channels {
		if ch != ChannelSMS && ch != ChannelEmail {
			return fieldErr("channels", "%q is not a channel; use sms or email.", ch)
		}
		if !slices.Contains(channels, ch) {
			channels = append(channels, ch)
		}
	}
	slices.Sort(channels)
	in.Channels = channels
	if in.UnansweredMinutes < 0 || in.UnansweredMinutes > 7*24*60 {
		return fieldErr("unanswered_minutes", "Choose 1 to 10080 minutes (a week), or leave it empty.")
	}
	if len(in.Targets) == 0 || len(in.Targets) > maxForwardTargets {
		return fieldErr("targets", "Choose 1 to %d people to notify.", maxForwardTargets)
	}
	sms, email := slices.Contains(channels, ChannelSMS), slices.Contains(channels, ChannelEmail)
	seen := map[ForwardTarget]bool{}
	for i := range in.Targets {
		t := &in.Targets[i]
		field := fmt.Sprintf("targets.%d", i)
		n := 0
		for _, set := range []bool{t.UserID != 0, t.Phone != "", t.Email != ""} {
			if set {
				n++
			}
		}
		if n != 1 {
			return fieldErr(field, "Give one of a user, a phone number or an email address.")
		}
		switch {
		case t.UserID != 0 && !email:
			return fieldErr(field, "Users are notified by email; add email to the channels, or give their phone number.")
		case t.Phone != "":
			p, err := NormalizePhone(t.Phone, country)
			if err != nil {
				return fieldErr(field+".phone", "%q is not a phone number.", t.Phone)
			}
			if !sms {
				return fieldErr(field+".phone", "A phone number is notified by SMS; add SMS to the channels.")
			}
			t.Phone = p
		case t.Email != "":
			e, ok := ParseEmail(t.Email)
			if !ok {
				return fieldErr(field+".email", "%q is not an email address.", t.Email)
			}
			if !email {
				return fieldErr(field+".email", "An email address is notified by email; add email to the channels.")
			}
			t.Email = e
		}
		if seen[*t] {
			return fieldErr(field, "This target is already in the rule.")
		}
		seen[*t] = true
	}
	return nil
}

// InboxForwardingRules lists an inbox's forwarding rules, oldest first
// (managers and admins).
func (s *Store) InboxForwardingRules(ctx context.Context, sc Scope, inboxID int64) ([]ForwardingRule, error) {
	if err := require(sc, PermViewSettings); err != nil {
		return nil, err
	}
	var rs []ForwardingRule
	err := s.db.NewSelect().Model(&rs).Where("inbox_id = ? AND org_id = ?", inboxID, sc.OrgID).Order("id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: forwarding rules: %w", err)
	}
	return rs, nil
}

// AddForwardingRule adds a rule to an inbox (admins). Every user it names
// must be an enabled user of the organization who sees the inbox: a
// forwarded message carries the recipient's words.
func (s *Store) AddForwardingRule(ctx context.Context, sc Scope, inboxID int64, in ForwardingRuleInput) (*ForwardingRule, error) {
	if err := require(sc, PermManageSettings); err != nil {
		return nil, err
	}
	r := new(ForwardingRule)
	err := s.inTx(ctx, func(tx bun.Tx) error {
		ib, err := inboxInScope(ctx, tx, sc, inboxID)
		if err != nil {
			return err
		}
		var country string
		if err := tx.NewRaw(`SELECT default_country FROM organizations WHERE id = ?`, sc.OrgID).Scan(ctx, &country); err != nil {
			return fmt.Errorf("store: add forwarding rule: %w", err)
		}
		if err := checkForwardingRule(&in, country); err != nil {
			return err
		}
		for i, t := range in.Targets {
			if t.UserID == 0 {
				continue
			}
			var ok bool
			err := tx.NewRaw(`SELECT EXISTS (SELECT 1 FROM users AS u WHERE u.id = ? AND u.org_id = ? AND u.disabled_at IS NULL
				AND (u.role <> 'agent' OR u.all_inboxes OR EXISTS (SELECT 1 FROM user_inboxes AS ui WHERE ui.user_id = u.id AND ui.inbox_id = ?)))`,
				t.UserID, sc.OrgID, inboxID).Scan(ctx, &ok)
			if err != nil {
				return fmt.Errorf("store: add forwarding rule: %w", err)
			}
			if !ok {
				return fieldErr(fmt.Sprintf("targets.%d.user_id", i), "No enabled user of the organization with this id sees this inbox.")
			}
		}
		if err := sameUserTwice(ctx, tx, in.Targets); err != nil {
			return err
		}
		*r = ForwardingRule{OrgID: sc.OrgID, InboxID: inboxID, Targets: in.Targets, Channels: in.Channels,
			Schedule: in.Schedule, OnlyUnassigned: in.OnlyUnassigned, UnansweredMinutes: in.UnansweredMinutes}
		if sc.UserID != 0 {
			r.CreatedBy = &sc.UserID
		}
		if _, err := tx.NewInsert().Model(r).ExcludeColumn("id", "created_at").Returning("id, created_at").Exec(ctx); err != nil {
			return fmt.Errorf("store: add forwarding rule: %w", err)
		}
		return audit(ctx, tx, sc, AuditChange{Action: "inbox.add_forwarding_rule", TargetType: "inbox",
			TargetID: ib.ID, TargetName: ib.Name, After: r.audited()})
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// sameUserTwice refuses an email address that is a user's the rule
// already names (ticked, and typed again as an outside address): they
// would be told twice.
func sameUserTwice(ctx context.Context, tx bun.Tx, targets []ForwardTarget) error {
	var ids []int64
	for _, t := range targets {
		if t.UserID != 0 {
			ids = append(ids, t.UserID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	var emails []string
	if err := tx.NewRaw(`SELECT lower(email) FROM users WHERE id IN (?)`, bun.List(ids)).Scan(ctx, &emails); err != nil {
		return fmt.Errorf("store: add forwarding rule: %w", err)
	}
	for i, t := range targets {
		if t.Email != "" && slices.Contains(emails, t.Email) {
			return fieldErr(fmt.Sprintf("targets.%d.email", i), "%s is a user's address, and that user is already in the rule.", t.Email)
		}
	}
	return nil
}

// RemoveForwardingRule removes one of an inbox's rules (admins).
func (s *Store) RemoveForwardingRule(ctx context.Context, sc Scope, inboxID, ruleID int64) error {
	return removeInboxItem(ctx, s, sc, inboxID, ruleID, "forwarding rule", "inbox.remove_forwarding_rule",
		func(r *ForwardingRule) any { return r.audited() })
}

// forwardingAudit is what the audit log records of a rule.
type forwardingAudit struct {
	ID                int64           `json:"id"`
	Targets           []ForwardTarget `json:"targets"`
	Channels          []string        `json:"channels"`
	Schedule          Schedule        `json:"schedule"`
	OnlyUnassigned    bool            `json:"only_unassigned"`
	UnansweredMinutes int             `json:"unanswered_minutes"`
}

func (r *ForwardingRule) audited() forwardingAudit {
	return forwardingAudit{ID: r.ID, Targets: r.Targets, Channels: r.Channels, Schedule: r.Schedule,
		OnlyUnassigned: r.OnlyUnassigned, UnansweredMinutes: r.UnansweredMinutes}
}

// A RuleAt is a forwarding rule and whether its schedule applies at the
// time asked.
type RuleAt struct {
	ForwardingRule
	Active bool
}

// ForwardingAt lists an inbox's rules, each with whether its schedule
// applies at t in the inbox's location's timezone: the settings' preview
// of who would be notified now, or at a time picked. The conditions on
// the conversation (only unassigned, unanswered for N minutes) belong to
// a message, not to a time, and are not evaluated here.
func (s *Store) ForwardingAt(ctx context.Context, sc Scope, inboxID int64, t time.Time) ([]RuleAt, error) {
	ib, err := s.InboxByID(ctx, sc, inboxID)
	if err != nil {
		return nil, err
	}
	rules, err := s.InboxForwardingRules(ctx, sc, inboxID)
	if err != nil {
		return nil, err
	}
	closures, err := s.InboxClosures(ctx, sc, inboxID)
	if err != nil {
		return nil, err
	}
	var tz string
	if err := s.db.NewRaw(`SELECT timezone FROM locations WHERE id = ? AND org_id = ?`, ib.LocationID, sc.OrgID).Scan(ctx, &tz); err != nil {
		return nil, fmt.Errorf("store: forwarding preview: %w", err)
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		loc = time.UTC
	}
	out := make([]RuleAt, len(rules))
	for i := range rules {
		out[i] = RuleAt{ForwardingRule: rules[i], Active: rules[i].ActiveAt(t, loc, ib, closures)}
	}
	return out, nil
}
