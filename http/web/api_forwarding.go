package web

import (
	"net/http"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/parley-chat/parley/models"
)

// An inbox's forwarding rules in the API (issue 14): the same store
// methods the inbox's settings page will call.

// apiForwardingRuleOut is a rule as the API shows it.
type apiForwardingRuleOut struct {
	ID                int64                  `json:"id"`
	InboxID           int64                  `json:"inbox_id"`
	Targets           []models.ForwardTarget `json:"targets" jsonschema:"description=each one of {user_id} (notified by email)\\, {phone} (E.164\\, by SMS) or {email}"`
	Channels          []string               `json:"channels" jsonschema:"description=sms\\, email or both"`
	Schedule          models.Schedule        `json:"schedule"`
	OnlyUnassigned    bool                   `json:"only_unassigned"`
	UnansweredMinutes int                    `json:"unanswered_minutes" jsonschema:"description=0: at once; else an escalation after this many minutes without an answer"`
	Active            bool                   `json:"active" jsonschema:"description=whether the schedule applies at the time asked (?at=\\, default now)\\, in the inbox's location's timezone"`
	CreatedAt         string                 `json:"created_at" jsonschema:"format=date-time"`
}

// apiForwardingRuleIn is POST /inboxes/{id}/forwarding-rules.
type apiForwardingRuleIn struct {
	Targets           []models.ForwardTarget `json:"targets"`
	Channels          []string               `json:"channels"`
	Schedule          models.Schedule        `json:"schedule"`
	OnlyUnassigned    bool                   `json:"only_unassigned,omitempty"`
	UnansweredMinutes int                    `json:"unanswered_minutes,omitempty"`
}

func apiForwardingRule(r *models.ForwardingRule, active bool) apiForwardingRuleOut {
	return apiForwardingRuleOut{ID: r.ID, InboxID: r.InboxID, Targets: r.Targets, Channels: r.Channels,
		Schedule: r.Schedule, OnlyUnassigned: r.OnlyUnassigned, UnansweredMinutes: r.UnansweredMinutes,
		Active: active, CreatedAt: rfc3339(r.CreatedAt)}
}

// apiForwardingRoutes registers an inbox's forwarding rules.
func (s *Server) apiForwardingRoutes(api fiber.Router) {
	view, manage := settingsGuards()
	s.apiHandle(api, apiOp{Method: fiber.MethodGet, Path: "/inboxes/:id<int>/forwarding-rules", Tag: "inboxes",
		Summary: "An inbox's forwarding rules, each saying whether it applies now or at the time asked",
		Out:     apiForwardingRuleOut{}, List: true, Query: []apiParam{
			{Name: "at", Description: "the time to evaluate the schedules at (RFC 3339; default now)"},
		}}, view, s.apiListForwardingRules)
	s.apiHandle(api, apiOp{Method: fiber.MethodPost, Path: "/inboxes/:id<int>/forwarding-rules", Tag: "inboxes",
		Summary: "Add a forwarding rule: whom to notify of each inbound message, how and when", Body: apiForwardingRuleIn{},
		Out: apiForwardingRuleOut{}, Status: http.StatusCreated}, manage, s.apiAddForwardingRule)
	s.apiHandle(api, apiOp{Method: fiber.MethodDelete, Path: "/inboxes/:id<int>/forwarding-rules/:rule_id<int>", Tag: "inboxes",
		Summary: "Remove a forwarding rule"}, manage, s.apiRemoveForwardingRule)
}

func (s *Server) apiListForwardingRules(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	at := time.Now()
	if v := c.Query("at"); v != "" {
		if at, err = time.Parse(time.RFC3339, v); err != nil {
			return validation("at", "A time in RFC 3339, e.g. 2026-12-24T18:00:00-05:00.")
		}
	}
	rules, err := s.store.ForwardingAt(c.UserContext(), sessionUser(c).Scope, id, at)
	if err != nil {
		return err
	}
	// An inbox has few rules: one page holds them all.
	out := apiList[apiForwardingRuleOut]{Data: []apiForwardingRuleOut{}}
	for i := range rules {
		out.Data = append(out.Data, apiForwardingRule(&rules[i].ForwardingRule, rules[i].Active))
	}
	return c.JSON(out)
}

func (s *Server) apiAddForwardingRule(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var in apiForwardingRuleIn
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	sc := sessionUser(c).Scope
	r, err := s.store.AddForwardingRule(c.UserContext(), sc, id, models.ForwardingRuleInput{
		Targets: in.Targets, Channels: in.Channels, Schedule: in.Schedule,
		OnlyUnassigned: in.OnlyUnassigned, UnansweredMinutes: in.UnansweredMinutes})
	if err != nil {
		return err
	}
	// Whether it applies now, as the list says it.
	rules, err := s.store.ForwardingAt(c.UserContext(), sc, id, time.Now())
	if err != nil {
		return err
	}
	active := false
	for _, ra := range rules {
		active = active || (ra.ID == r.ID && ra.Active)
	}
	return c.Status(http.StatusCreated).JSON(apiForwardingRule(r, active))
}

func (s *Server) apiRemoveForwardingRule(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	rid, err := pathID(c, "rule_id")
	if err != nil {
		return err
	}
	if err := s.store.RemoveForwardingRule(c.UserContext(), sessionUser(c).Scope, id, rid); err != nil {
		return err
	}
	return c.SendStatus(http.StatusNoContent)
}
