package web

import (
	"context"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/views"
)

// An inbox's auto-responses on its settings page (issue 14): the same
// store methods as the API.

// fillAutoResponses shows the inbox's saved auto-responses, unless the
// form comes back refused with what was typed.
func (s *Server) fillAutoResponses(ctx context.Context, sc models.Scope, d *views.SettingsInboxData) error {
	if d.AutoTyped {
		return nil
	}
	a, err := s.store.InboxAutoResponses(ctx, sc, d.ID)
	if err != nil {
		return err
	}
	d.Auto = views.AutoForm{InitialEnabled: a.InitialEnabled, InitialBody: a.InitialBody,
		OutOfOfficeEnabled: a.OutOfOfficeEnabled, OutOfOfficeBody: a.OutOfOfficeBody,
		ResponseTime: a.ResponseTime, Notice: a.Notice, Cooldown: strconv.Itoa(a.CooldownMinutes),
		Initial: a.Write(a.InitialBody), OutOfOffice: a.Write(a.OutOfOfficeBody)}
	return nil
}

// autoField is the form's field for a store error's field.
func autoField(field string) string { return strings.ReplaceAll(field, ".", "_") }

// saveAutoResponses handles the auto-responses form.
func (s *Server) saveAutoResponses(c *fiber.Ctx) error {
	su := sessionUser(c)
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	f := views.AutoForm{InitialEnabled: c.FormValue("initial_enabled") != "", InitialBody: c.FormValue("initial_body"),
		OutOfOfficeEnabled: c.FormValue("out_of_office_enabled") != "", OutOfOfficeBody: c.FormValue("out_of_office_body"),
		ResponseTime: c.FormValue("response_time"), Notice: c.FormValue("notice"), Cooldown: strings.TrimSpace(c.FormValue("cooldown_minutes"))}
	in := models.AutoResponses{InitialEnabled: f.InitialEnabled, InitialBody: f.InitialBody,
		OutOfOfficeEnabled: f.OutOfOfficeEnabled, OutOfOfficeBody: f.OutOfOfficeBody,
		ResponseTime: f.ResponseTime, Notice: f.Notice, CooldownMinutes: models.DefaultCooldownMinutes}
	var fe *models.FieldError
	if f.Cooldown != "" {
		if in.CooldownMinutes, err = strconv.Atoi(f.Cooldown); err != nil {
			fe = &models.FieldError{Field: "cooldown_minutes", Message: "Write a number of minutes (1440 is a day)."}
		}
	}
	if fe == nil {
		_, err = s.store.SetInboxAutoResponses(c.UserContext(), su.Scope, id, in)
		if fe = asFieldError(err); fe == nil && err != nil {
			return err
		}
	}
	if fe != nil {
		return s.inboxSectionError(c, id, &models.FieldError{Field: autoField(fe.Field), Message: fe.Message},
			func(d *views.SettingsInboxData) { d.Auto, d.AutoTyped = f, true })
	}
	return c.Redirect(inboxPath(id)+"?saved=auto#auto-responses", fiber.StatusSeeOther)
}
