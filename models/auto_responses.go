package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// Auto-responses (issue 14): per inbox, the initial response to the first
// message of a new conversation and the out-of-office reply outside
// business hours or during a closure. This file keeps the settings and
// writes the texts; the sending (cool-down, loop breaker) reads them.

// AutoResponses are an inbox's auto-response settings.
type AutoResponses struct {
	bun.BaseModel `bun:"table:inbox_auto_responses"`

	InboxID            int64  `bun:"inbox_id,pk"`
	OrgID              int64  `bun:"org_id"`
	InitialEnabled     bool   `bun:"initial_enabled"`
	InitialBody        string `bun:"initial_body"`
	OutOfOfficeEnabled bool   `bun:"out_of_office_enabled"`
	OutOfOfficeBody    string `bun:"out_of_office_body"`
	// CooldownMinutes: never twice to the same recipient within it.
	CooldownMinutes int `bun:"cooldown_minutes"`
	// ResponseTime and Notice fill {response_time} and {notice}.
	ResponseTime string    `bun:"response_time"`
	Notice       string    `bun:"notice"`
	UpdatedAt    time.Time `bun:"updated_at,nullzero,default:now()"`

	// Location is the inbox's location's name, which fills {location}.
	Location string `bun:"-"`
}

// Written is a text as it goes out, and its shape as an SMS.
type Written struct {
	Text     string
	Encoding string // "text" (GSM-7) or "unicode"
	Segments int
}

// Write writes body (one of the settings' texts) as it goes out.
func (a *AutoResponses) Write(body string) Written {
	text := a.RenderAuto(body, a.Location)
	enc, n := smsShape(text)
	return Written{Text: text, Encoding: enc, Segments: n}
}

// DefaultCooldownMinutes is the cool-down of an inbox that set none: a day.
const DefaultCooldownMinutes = 24 * 60

// autoPlaceholders are the placeholders a text may hold.
var autoPlaceholders = []string{"{location}", "{response_time}", "{notice}"}

// RenderAuto writes an auto-response's text for an inbox of location:
// each placeholder replaced by its value.
func (a *AutoResponses) RenderAuto(body, location string) string {
	return strings.NewReplacer("{location}", location, "{response_time}", a.ResponseTime, "{notice}", a.Notice).Replace(body)
}

// checkAutoResponses checks the settings: a text for each kind enabled,
// known placeholders with their values set, and a text that fits an SMS
// once written (an auto-response may go by SMS). field is the API's name
// of each part ("initial.body").
func checkAutoResponses(a *AutoResponses, location string) error {
	a.InitialBody, a.OutOfOfficeBody = strings.TrimSpace(a.InitialBody), strings.TrimSpace(a.OutOfOfficeBody)
	a.ResponseTime, a.Notice = strings.TrimSpace(a.ResponseTime), strings.TrimSpace(a.Notice)
	if a.CooldownMinutes < 0 || a.CooldownMinutes > 30*24*60 {
		return fieldErr("cooldown_minutes", "Choose 0 to 43200 minutes (30 days).")
	}
	if len([]rune(a.ResponseTime)) > 100 {
		return fieldErr("response_time", "At most 100 characters.")
	}
	if len([]rune(a.Notice)) > 500 {
		return fieldErr("notice", "At most 500 characters.")
	}
	for _, k := range []struct {
		field   string
		enabled bool
		body    string
	}{{"initial.body", a.InitialEnabled, a.InitialBody}, {"out_of_office.body", a.OutOfOfficeEnabled, a.OutOfOfficeBody}} {
		if k.enabled && k.body == "" {
			return fieldErr(k.field, "Write the text to send, or turn this response off.")
		}
		if len([]rune(k.body)) > 1600 {
			return fieldErr(k.field, "At most 1,600 characters.")
		}
		for _, p := range unknownPlaceholderRE.FindAllString(k.body, -1) { // what looks like one (broadcast_text.go)
			switch p {
			case "{location}":
			case "{response_time}":
				if a.ResponseTime == "" {
					return fieldErr(k.field, "Set the expected response time below, or take out {response_time}.")
				}
			case "{notice}":
				if a.Notice == "" {
					return fieldErr(k.field, "Set the notice below, or take out {notice}.")
				}
			default:
				return fieldErr(k.field, "%s is not a placeholder; use %s.", p, strings.Join(autoPlaceholders, ", "))
			}
		}
		var fe *FieldError
		if err := checkSMSBody(a.RenderAuto(k.body, location)); errors.As(err, &fe) {
			return fieldErr(k.field, "%s", fe.Message)
		}
	}
	return nil
}

// InboxAutoResponses reads an inbox's auto-responses (managers and admins);
// an inbox that set none has both off and a day's cool-down.
func (s *Store) InboxAutoResponses(ctx context.Context, sc Scope, inboxID int64) (*AutoResponses, error) {
	if err := require(sc, PermViewSettings); err != nil {
		return nil, err
	}
	if _, err := s.InboxByID(ctx, sc, inboxID); err != nil {
		return nil, err
	}
	a := &AutoResponses{InboxID: inboxID, OrgID: sc.OrgID, CooldownMinutes: DefaultCooldownMinutes}
	err := s.db.NewSelect().Model(a).Where("inbox_id = ? AND org_id = ?", inboxID, sc.OrgID).Scan(ctx)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: auto-responses: %w", err)
	}
	if err := s.db.NewRaw(`SELECT l.name FROM locations AS l JOIN inboxes AS i ON i.location_id = l.id WHERE i.id = ?`, inboxID).
		Scan(ctx, &a.Location); err != nil {
		return nil, fmt.Errorf("store: auto-responses: %w", err)
	}
	return a, nil
}

// SetInboxAutoResponses replaces an inbox's auto-responses (admins).
func (s *Store) SetInboxAutoResponses(ctx context.Context, sc Scope, inboxID int64, in AutoResponses) (*AutoResponses, error) {
	if err := require(sc, PermManageSettings); err != nil {
		return nil, err
	}
	a := &in
	err := s.inTx(ctx, func(tx bun.Tx) error {
		ib, err := inboxInScope(ctx, tx, sc, inboxID)
		if err != nil {
			return err
		}
		if err := tx.NewRaw(`SELECT name FROM locations WHERE id = ?`, ib.LocationID).Scan(ctx, &a.Location); err != nil {
			return fmt.Errorf("store: set auto-responses: %w", err)
		}
		if err := checkAutoResponses(a, a.Location); err != nil {
			return err
		}
		before := &AutoResponses{CooldownMinutes: DefaultCooldownMinutes}
		if err := tx.NewSelect().Model(before).Where("inbox_id = ?", inboxID).For("UPDATE").Scan(ctx); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("store: set auto-responses: %w", err)
		}
		a.InboxID, a.OrgID = inboxID, sc.OrgID
		_, err = tx.NewInsert().Model(a).On("CONFLICT (inbox_id) DO UPDATE").
			Set("initial_enabled = EXCLUDED.initial_enabled, initial_body = EXCLUDED.initial_body").
			Set("out_of_office_enabled = EXCLUDED.out_of_office_enabled, out_of_office_body = EXCLUDED.out_of_office_body").
			Set("cooldown_minutes = EXCLUDED.cooldown_minutes, response_time = EXCLUDED.response_time, notice = EXCLUDED.notice").
			Set("updated_at = now()").Returning("updated_at").Exec(ctx)
		if err != nil {
			return fmt.Errorf("store: set auto-responses: %w", err)
		}
		return audit(ctx, tx, sc, AuditChange{Action: "inbox.set_auto_responses", TargetType: "inbox",
			TargetID: ib.ID, TargetName: ib.Name, Before: before.audited(), After: a.audited()})
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// autoAudit is what the audit log records of an inbox's auto-responses.
type autoAudit struct {
	InitialEnabled     bool   `json:"initial_enabled"`
	InitialBody        string `json:"initial_body"`
	OutOfOfficeEnabled bool   `json:"out_of_office_enabled"`
	OutOfOfficeBody    string `json:"out_of_office_body"`
	CooldownMinutes    int    `json:"cooldown_minutes"`
	ResponseTime       string `json:"response_time"`
	Notice             string `json:"notice"`
}

func (a *AutoResponses) audited() autoAudit {
	return autoAudit{InitialEnabled: a.InitialEnabled, InitialBody: a.InitialBody, OutOfOfficeEnabled: a.OutOfOfficeEnabled,
		OutOfOfficeBody: a.OutOfOfficeBody, CooldownMinutes: a.CooldownMinutes, ResponseTime: a.ResponseTime, Notice: a.Notice}
}
