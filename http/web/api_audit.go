package web

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/parley-chat/parley/models"
)

// GET /api/v1/audit: the audit log, as the page at /settings/audit shows it
// (the same store method, the same filters, newest first).

// apiAuditOut is one audit log entry as the API shows it.
type apiAuditOut struct {
	ID          int64           `json:"id"`
	CreatedAt   string          `json:"created_at" jsonschema:"format=date-time"`
	ActorUserID *int64          `json:"actor_user_id" jsonschema:"description=null: the CLI or the system"`
	ActorName   string          `json:"actor_name"`
	Via         string          `json:"via" jsonschema:"enum=web,enum=api,enum=cli,enum=system"`
	TokenID     *int64          `json:"token_id" jsonschema:"description=the API token of a change made through the API"`
	IP          string          `json:"ip"`
	Action      string          `json:"action" jsonschema:"example=inbox.archive"`
	TargetType  string          `json:"target_type"`
	TargetID    *int64          `json:"target_id"`
	TargetName  string          `json:"target_name"`
	Before      json.RawMessage `json:"before" jsonschema:"description=the target's state before the change (null: it did not exist)"`
	After       json.RawMessage `json:"after" jsonschema:"description=the target's state after the change (null: it no longer exists)"`
}

// apiAuditCursor is the keyset position of GET /audit's next page.
type apiAuditCursor struct {
	Before int64 `json:"before"`
}

func (s *Server) apiAuditRoutes(api fiber.Router) {
	s.apiHandle(api, apiOp{Method: fiber.MethodGet, Path: "/audit", Tag: "audit",
		Summary: "The audit log: administrative changes, newest first (admins)", Out: apiAuditOut{}, List: true,
		Query: []apiParam{
			{Name: "actor_id", Type: "integer", Description: "changes made by this user"},
			{Name: "action", Description: "actions starting with this, e.g. inbox. or inbox.archive"},
			{Name: "target_type", Description: "changes to this kind of thing, e.g. inbox, user, api_token"},
			{Name: "target_id", Type: "integer", Description: "changes to this one thing (with target_type)"},
			{Name: "from", Description: "changes at or after this time (RFC 3339)"},
			{Name: "to", Description: "changes before this time (RFC 3339)"},
		}}, requirePerm(models.PermViewAudit), s.apiAudit)
}

func (s *Server) apiAudit(c *fiber.Ctx) error {
	su := sessionUser(c)
	var cur apiAuditCursor
	limit, err := pageParams(c, &cur)
	if err != nil {
		return err
	}
	f, err := apiAuditFilter(c)
	if err != nil {
		return err
	}
	rows, next, err := s.store.AuditLog(c.UserContext(), su.Scope, f, cur.Before, limit)
	if err != nil {
		return err
	}
	out := apiList[apiAuditOut]{Data: make([]apiAuditOut, 0, len(rows))}
	for _, e := range rows {
		out.Data = append(out.Data, apiAuditOut{ID: e.ID, CreatedAt: rfc3339(e.CreatedAt), ActorUserID: e.ActorUserID,
			ActorName: e.ActorName, Via: e.Via, TokenID: e.TokenID, IP: e.IP, Action: e.Action, TargetType: e.TargetType,
			TargetID: e.TargetID, TargetName: e.TargetName, Before: jsonOrNull(e.Before), After: jsonOrNull(e.After)})
	}
	if next != 0 {
		out.NextCursor = makeCursor(apiAuditCursor{Before: next})
	}
	return c.JSON(out)
}

// apiAuditFilter reads GET /audit's filters; a malformed one is a 422
// naming it.
func apiAuditFilter(c *fiber.Ctx) (models.AuditFilter, error) {
	f := models.AuditFilter{Action: c.Query("action"), TargetType: c.Query("target_type")}
	var bad []fieldProblem
	for _, p := range []struct {
		name string
		dst  *int64
	}{{"actor_id", &f.ActorID}, {"target_id", &f.TargetID}} {
		v := c.Query(p.name)
		if v == "" {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			bad = append(bad, fieldProblem{Field: p.name, Message: "A positive whole number."})
			continue
		}
		*p.dst = n
	}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		v := c.Query(p.name)
		if v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			bad = append(bad, fieldProblem{Field: p.name, Message: "A time in RFC 3339, e.g. 2026-01-31T00:00:00Z."})
			continue
		}
		*p.dst = t
	}
	if len(bad) > 0 {
		return f, &apiError{Status: http.StatusUnprocessableEntity, Type: problemTypeBase + "validation",
			Detail: bad[0].Field + ": " + bad[0].Message, Fields: bad}
	}
	return f, nil
}

// jsonOrNull is raw JSON, or null when there is none.
func jsonOrNull(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 {
		return json.RawMessage("null")
	}
	return raw
}
