package web

import (
	"errors"
	"strconv"

	"github.com/gofiber/fiber/v2"
	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/views"
)

// The Inboxes tab: /settings/inboxes lists them (archived ones apart),
// /settings/inboxes/new and /settings/inboxes/:id are the form, with the
// business hours per weekday and the holidays and closures.

// openInboxes leaves out archived inboxes (the new-chat picker offers only
// inboxes a chat may start from).
func openInboxes(ibs []models.Inbox) []models.Inbox {
	out := make([]models.Inbox, 0, len(ibs))
	for _, ib := range ibs {
		if ib.ArchivedAt == nil {
			out = append(out, ib)
		}
	}
	return out
}

func inboxPath(id int64) string { return "/settings/inboxes/" + strconv.FormatInt(id, 10) }

// settingsInboxes lists the organization's inboxes.
func (s *Server) settingsInboxes(c *fiber.Ctx) error {
	su := sessionUser(c)
	ctx := c.UserContext()
	ibs, err := s.store.AllInboxes(ctx, su.Scope, 0, 0)
	if err != nil {
		return err
	}
	locs, err := s.store.AllLocations(ctx, su.Scope, 0, 0)
	if err != nil {
		return err
	}
	d := views.SettingsInboxesData{ReadOnly: !su.Scope.Can(models.PermManageSettings)}
	for _, l := range locs {
		d.CanAdd = d.CanAdd || l.ArchivedAt == nil
	}
	for _, ib := range ibs {
		if ib.ArchivedAt != nil {
			d.Archived = append(d.Archived, ib)
		} else {
			d.Active = append(d.Active, ib)
		}
	}
	return s.render(c, "settings_inboxes", settingsLayout("Inboxes", "inboxes"), d)
}

// newInbox shows an empty inbox form (?location= preselects the location).
func (s *Server) newInbox(c *fiber.Ctx) error {
	loc, _ := strconv.ParseInt(c.Query("location"), 10, 64)
	d := views.SettingsInboxData{LocationID: loc, Days: dayFields(nil)}
	return s.inboxForm(c, &d, fiber.StatusOK)
}

// settingsInbox shows one inbox's form and closures.
func (s *Server) settingsInbox(c *fiber.Ctx) error {
	su := sessionUser(c)
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	ib, err := s.store.InboxByID(c.UserContext(), su.Scope, id)
	if err != nil {
		return err
	}
	d := inboxData(ib)
	d.Saved = c.Query("saved")
	return s.inboxForm(c, &d, fiber.StatusOK)
}

// inboxData is an inbox's settings as its form shows them.
func inboxData(ib *models.Inbox) views.SettingsInboxData {
	return views.SettingsInboxData{ID: ib.ID, Archived: ib.ArchivedAt != nil, Name: ib.Name, LocationID: ib.LocationID,
		SMSNumber: deref(ib.SMSNumber), EmailAddress: deref(ib.EmailAddress), HelpText: ib.HelpText,
		HoursSet: len(ib.BusinessHours) > 0, Days: dayFields(ib.BusinessHours)}
}

// dayFields is the business hours form's rows for bh.
func dayFields(bh models.BusinessHours) []views.DayHoursField {
	var out []views.DayHoursField
	for _, wd := range models.Weekdays() {
		out = append(out, views.DayHoursField{Key: wd[0], Name: wd[1], Text: models.FormatDayHours(bh[wd[0]])})
	}
	return out
}

// inboxForm renders the form with the locations to choose from and, for
// an existing inbox, its closures.
func (s *Server) inboxForm(c *fiber.Ctx, d *views.SettingsInboxData, status int) error {
	su := sessionUser(c)
	ctx := c.UserContext()
	d.ReadOnly = !su.Scope.Can(models.PermManageSettings)
	org, err := s.store.Organization(ctx, su.Scope)
	if err != nil {
		return err
	}
	d.Country = org.DefaultCountry
	locs, err := s.store.AllLocations(ctx, su.Scope, 0, 0)
	if err != nil {
		return err
	}
	for _, l := range locs {
		if l.ID == d.LocationID {
			d.LocationName, d.Timezone = l.Name, l.Timezone
		}
		if l.ArchivedAt == nil || l.ID == d.LocationID {
			d.Locations = append(d.Locations, l)
		}
	}
	if d.ID != 0 {
		if d.Closures, err = s.store.InboxClosures(ctx, su.Scope, d.ID); err != nil {
			return err
		}
		if err := s.fillForwarding(ctx, su.Scope, d, c.Query("forward_at")); err != nil {
			return err
		}
		if err := s.fillAutoResponses(ctx, su.Scope, d); err != nil {
			return err
		}
	}
	for i, day := range d.Days {
		if msg, ok := d.Errors["business_hours."+day.Key]; ok {
			d.Days[i].Error = msg
		}
	}
	title := "New inbox"
	if d.ID != 0 {
		title = d.Name
	}
	c.Status(status)
	return s.render(c, "settings_inbox", settingsLayout(title, "inboxes"), d)
}

// inboxInput reads the inbox form. A day's hours that cannot be read are a
// *models.FieldError for that day.
func inboxInput(c *fiber.Ctx) (models.InboxInput, views.SettingsInboxData, error) {
	loc, _ := strconv.ParseInt(c.FormValue("location_id"), 10, 64)
	d := views.SettingsInboxData{Name: c.FormValue("name"), LocationID: loc, SMSNumber: c.FormValue("sms_number"),
		EmailAddress: c.FormValue("email_address"), HelpText: c.FormValue("help_text"),
		HoursSet: c.FormValue("hours") == "set"}
	in := models.InboxInput{Name: &d.Name, LocationID: &d.LocationID, SMSNumber: &d.SMSNumber,
		EmailAddress: &d.EmailAddress, HelpText: &d.HelpText}
	bh := models.BusinessHours{}
	var firstErr error
	for _, wd := range models.Weekdays() {
		text := c.FormValue("business_hours." + wd[0])
		d.Days = append(d.Days, views.DayHoursField{Key: wd[0], Name: wd[1], Text: text})
		if !d.HoursSet {
			continue
		}
		ivs, err := models.ParseDayHours(text)
		if err != nil && firstErr == nil {
			firstErr = &models.FieldError{Field: "business_hours." + wd[0], Message: "Write the hours as 09:00-17:00, with commas between intervals."}
		}
		if len(ivs) > 0 {
			bh[wd[0]] = ivs
		}
	}
	if d.HoursSet && len(bh) == 0 && firstErr == nil {
		firstErr = &models.FieldError{Field: "business_hours", Message: "Give the hours of at least one day, or choose Always open."}
	}
	in.BusinessHours = &bh
	return in, d, firstErr
}

// inboxFormError re-renders a refused inbox form with the message next to its field.
func (s *Server) inboxFormError(c *fiber.Ctx, d *views.SettingsInboxData, fe *models.FieldError) error {
	d.Errors = map[string]string{fe.Field: fe.Message}
	return s.inboxForm(c, d, fiber.StatusUnprocessableEntity)
}

// createInbox handles the new-inbox form.
func (s *Server) createInbox(c *fiber.Ctx) error {
	su := sessionUser(c)
	if !su.Scope.Can(models.PermManageSettings) {
		return fiber.ErrNotFound
	}
	in, d, err := inboxInput(c)
	var ib *models.Inbox
	if err == nil {
		ib, err = s.store.CreateInbox(c.UserContext(), su.Scope, in)
	}
	if fe := asFieldError(err); fe != nil {
		return s.inboxFormError(c, &d, fe)
	}
	if err != nil {
		return err
	}
	return c.Redirect(inboxPath(ib.ID)+"?saved=inbox", fiber.StatusSeeOther)
}

// updateInbox handles an inbox's form.
func (s *Server) updateInbox(c *fiber.Ctx) error {
	su := sessionUser(c)
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	cur, err := s.store.InboxByID(c.UserContext(), su.Scope, id)
	if err != nil {
		return err
	}
	in, d, err := inboxInput(c)
	if err == nil {
		_, err = s.store.UpdateInbox(c.UserContext(), su.Scope, id, in)
	}
	if fe := asFieldError(err); fe != nil {
		d.ID, d.Archived = id, cur.ArchivedAt != nil
		return s.inboxFormError(c, &d, fe)
	}
	if err != nil {
		return err
	}
	return c.Redirect(inboxPath(id)+"?saved=inbox", fiber.StatusSeeOther)
}

// archiveInbox archives an inbox (archived=1) or brings it back (archived=0).
func (s *Server) archiveInbox(c *fiber.Ctx) error {
	su := sessionUser(c)
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if _, err := s.store.ArchiveInbox(c.UserContext(), su.Scope, id, c.FormValue("archived") == "1"); err != nil {
		return err
	}
	return c.Redirect(inboxPath(id)+"?saved=archive", fiber.StatusSeeOther)
}

// deleteInbox deletes an inbox without conversations; one with
// conversations is shown again with the reason (archive it instead).
func (s *Server) deleteInbox(c *fiber.Ctx) error {
	su := sessionUser(c)
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	err = s.store.DeleteInbox(c.UserContext(), su.Scope, id)
	if errors.Is(err, models.ErrInboxInUse) {
		return c.Redirect(inboxPath(id)+"?saved=in_use", fiber.StatusSeeOther)
	}
	if err != nil {
		return err
	}
	return c.Redirect("/settings/inboxes", fiber.StatusSeeOther)
}

// inboxSectionError shows an inbox's page again for a refused form of
// one of its sections (a closure, a forwarding rule, the auto-responses):
// keep puts what was typed back into that section.
func (s *Server) inboxSectionError(c *fiber.Ctx, id int64, fe *models.FieldError, keep func(*views.SettingsInboxData)) error {
	ib, err := s.store.InboxByID(c.UserContext(), sessionUser(c).Scope, id)
	if err != nil {
		return err
	}
	d := inboxData(ib)
	keep(&d)
	return s.inboxFormError(c, &d, fe)
}

// addClosure handles the add-a-closure form.
func (s *Server) addClosure(c *fiber.Ctx) error {
	su := sessionUser(c)
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	in := models.ClosureInput{Name: c.FormValue("closure_name"), StartsOn: c.FormValue("starts_on"), EndsOn: c.FormValue("ends_on")}
	_, err = s.store.AddClosure(c.UserContext(), su.Scope, id, in)
	if fe := asFieldError(err); fe != nil {
		return s.inboxSectionError(c, id, fe, func(d *views.SettingsInboxData) { d.Closure = in })
	}
	if err != nil {
		return err
	}
	return c.Redirect(inboxPath(id)+"?saved=closure#closures", fiber.StatusSeeOther)
}

// removeClosure handles a closure's Remove button.
func (s *Server) removeClosure(c *fiber.Ctx) error {
	su := sessionUser(c)
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	cid, err := pathID(c, "cid")
	if err != nil {
		return err
	}
	if err := s.store.RemoveClosure(c.UserContext(), su.Scope, id, cid); err != nil {
		return err
	}
	return c.Redirect(inboxPath(id)+"?saved=closure#closures", fiber.StatusSeeOther)
}
