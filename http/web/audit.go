package web

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/views"
)

// The audit log page (/settings/audit): admins read every administrative
// change, filtered, a page at a time. The API's GET /audit (api_audit.go)
// calls the same store method.

// auditPageSize is how many entries one page of the audit log shows.
const auditPageSize = 50

// auditPage shows the audit log.
func (s *Server) auditPage(c *fiber.Ctx) error {
	su := sessionUser(c)
	ctx := c.UserContext()
	loc := s.viewerZone(ctx, su)
	form := views.AuditFilterForm{
		ActorID: strings.TrimSpace(c.Query("actor_id")), Action: strings.TrimSpace(c.Query("action")),
		TargetType: strings.TrimSpace(c.Query("target_type")), TargetID: strings.TrimSpace(c.Query("target_id")),
		From: strings.TrimSpace(c.Query("from")), To: strings.TrimSpace(c.Query("to")),
	}
	data := views.AuditData{Filter: form, Errors: map[string]string{}, Zone: loc.String()}
	actors, err := s.store.AuditActors(ctx, su.Scope)
	if err != nil {
		return err
	}
	data.Actors = actors
	f, fieldErrs := auditFilterFromForm(form, loc)
	before, err := strconv.ParseInt(c.Query("before", "0"), 10, 64)
	if err != nil || before < 0 {
		fieldErrs["before"] = "Use the Older link."
	}
	var rows []models.AuditEntry
	var next int64
	if len(fieldErrs) == 0 {
		rows, next, err = s.store.AuditLog(ctx, su.Scope, f, before, auditPageSize)
		if fe := asFieldError(err); fe != nil {
			fieldErrs[fe.Field] = fe.Message
		} else if err != nil {
			return err
		}
	}
	l := views.Layout{Title: "Audit log", Active: "settings", Sub: "audit"}
	if len(fieldErrs) > 0 {
		data.Errors = fieldErrs
		c.Status(fiber.StatusUnprocessableEntity)
		return s.render(c, "audit", l, data)
	}
	for _, e := range rows {
		data.Rows = append(data.Rows, views.NewAuditRow(e, loc, su.User.Uses24h()))
	}
	q := auditQuery(form)
	if next != 0 {
		q.Set("before", strconv.FormatInt(next, 10))
		data.OlderURL = "/settings/audit?" + q.Encode()
	}
	if before != 0 {
		q.Del("before")
		data.NewestURL = "/settings/audit?" + q.Encode()
	}
	return s.render(c, "audit", l, data)
}

// auditFilterFromForm reads the page's filter: From and To are days in the
// viewer's zone, To inclusive. Fields it cannot read are in the map.
func auditFilterFromForm(form views.AuditFilterForm, loc *time.Location) (models.AuditFilter, map[string]string) {
	errs := map[string]string{}
	f := models.AuditFilter{Action: form.Action, TargetType: form.TargetType}
	var ok bool
	if f.ActorID, ok = optionalID(form.ActorID); !ok {
		errs["actor_id"] = "Choose a person from the list."
	}
	if f.TargetID, ok = optionalID(form.TargetID); !ok {
		errs["target_id"] = "A target id is a positive whole number."
	}
	day := func(field, v string) time.Time {
		if v == "" {
			return time.Time{}
		}
		t, err := time.ParseInLocation(time.DateOnly, v, loc)
		if err != nil {
			errs[field] = "Give a date as YYYY-MM-DD."
		}
		return t
	}
	f.From = day("from", form.From)
	if to := day("to", form.To); !to.IsZero() {
		f.To = to.AddDate(0, 0, 1)
	}
	return f, errs
}

// optionalID reads an id that may be absent ("" is 0).
func optionalID(v string) (int64, bool) {
	if v == "" {
		return 0, true
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil && n > 0
}

// auditQuery is the filter as query parameters, for the pages' links.
func auditQuery(form views.AuditFilterForm) url.Values {
	q := url.Values{}
	for k, v := range map[string]string{"actor_id": form.ActorID, "action": form.Action, "target_type": form.TargetType,
		"target_id": form.TargetID, "from": form.From, "to": form.To} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return q
}

// viewerZone is the time zone a user reads times in: their own choice,
// else their organization's locations' one when they all share it, else UTC.
func (s *Server) viewerZone(ctx context.Context, su *models.SessionUser) *time.Location {
	if loc, err := time.LoadLocation(su.User.Timezone); su.User.Timezone != "" && err == nil {
		return loc
	}
	locs, err := s.store.Locations(ctx, su.Scope)
	if err != nil || len(locs) == 0 {
		return time.UTC
	}
	tz := locs[0].Timezone
	for _, l := range locs[1:] {
		if l.Timezone != tz {
			return time.UTC
		}
	}
	if loc, err := time.LoadLocation(tz); tz != "" && err == nil {
		return loc
	}
	return time.UTC
}
