package web

import (
	"strconv"

	"github.com/gofiber/fiber/v2"
	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/views"
)

// The Locations tab: /settings/locations lists them (archived ones apart),
// /settings/locations/new and /settings/locations/:id are the form.

// settingsLocations lists the organization's locations.
func (s *Server) settingsLocations(c *fiber.Ctx) error {
	su := sessionUser(c)
	ctx := c.UserContext()
	all, err := s.store.AllLocations(ctx, su.Scope, 0, 0)
	if err != nil {
		return err
	}
	ibs, err := s.store.AllInboxes(ctx, su.Scope, 0, 0)
	if err != nil {
		return err
	}
	d := views.SettingsLocationsData{ReadOnly: !su.Scope.Can(models.PermManageSettings)}
	for _, loc := range all {
		l := models.LocationSummary{Location: loc}
		for _, ib := range ibs {
			if ib.LocationID == loc.ID {
				l.Inboxes = append(l.Inboxes, ib)
			}
		}
		if l.ArchivedAt != nil {
			d.Archived = append(d.Archived, l)
		} else {
			d.Active = append(d.Active, l)
		}
	}
	return s.render(c, "settings_locations", settingsLayout("Locations", "locations"), d)
}

// newLocation shows an empty location form.
func (s *Server) newLocation(c *fiber.Ctx) error {
	d := views.SettingsLocationData{Timezone: "UTC", PlanStatus: models.PlanInactive, PlanCredits: "0", PlanPeriodMonths: "1"}
	return s.locationForm(c, &d, fiber.StatusOK)
}

// settingsLocation shows one location's form.
func (s *Server) settingsLocation(c *fiber.Ctx) error {
	su := sessionUser(c)
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	l, err := s.store.LocationByID(c.UserContext(), su.Scope, id)
	if err != nil {
		return err
	}
	d := locationData(l)
	d.Saved = c.Query("saved") != ""
	if err := s.fillAccount(c, &d, l); err != nil {
		return err
	}
	return s.locationForm(c, &d, fiber.StatusOK)
}

// locationForm renders the form, with the location's inboxes when it has an id.
func (s *Server) locationForm(c *fiber.Ctx, d *views.SettingsLocationData, status int) error {
	su := sessionUser(c)
	d.ReadOnly = !su.Scope.Can(models.PermManageSettings)
	d.PlanReadOnly = d.ReadOnly || !su.Scope.Can(models.PermManageCredits)
	d.Timezones = models.TimeZones()
	if d.ID != 0 {
		ibs, err := s.store.AllInboxes(c.UserContext(), su.Scope, 0, 0)
		if err != nil {
			return err
		}
		for _, ib := range ibs {
			if ib.LocationID == d.ID {
				d.Inboxes = append(d.Inboxes, ib)
			}
		}
	}
	title := "New location"
	if d.ID != 0 {
		title = d.Name
	}
	c.Status(status)
	return s.render(c, "settings_location", settingsLayout(title, "locations"), d)
}

// locationInput reads the location form (cur: the location as saved, nil
// for a new one); its plan fields only from those who may change the plan.
func locationInput(c *fiber.Ctx, cur *models.Location) (models.LocationInput, views.SettingsLocationData, *models.FieldError) {
	d := views.SettingsLocationData{Name: c.FormValue("name"), Timezone: c.FormValue("timezone"),
		QuietStart: c.FormValue("quiet_start"), QuietEnd: c.FormValue("quiet_end"),
		PlanStatus: c.FormValue("plan_status"), PlanName: c.FormValue("plan_name")}
	in := models.LocationInput{Name: &d.Name, Timezone: &d.Timezone, QuietStart: &d.QuietStart, QuietEnd: &d.QuietEnd}
	if !sessionUser(c).Scope.Can(models.PermManageCredits) {
		return in, d, nil
	}
	fe := readPlan(c, &in, &d, cur)
	return in, d, fe
}

// createLocation handles the new-location form.
func (s *Server) createLocation(c *fiber.Ctx) error {
	su := sessionUser(c)
	in, d, fe := locationInput(c, nil)
	var l *models.Location
	var err error
	if fe == nil {
		l, err = s.store.CreateLocation(c.UserContext(), su.Scope, in)
		fe = asFieldError(err)
	}
	if fe != nil {
		d.Errors = map[string]string{fe.Field: fe.Message}
		return s.locationForm(c, &d, fiber.StatusUnprocessableEntity)
	}
	if err != nil {
		return err
	}
	return c.Redirect("/settings/locations/"+strconv.FormatInt(l.ID, 10)+"?saved=1", fiber.StatusSeeOther)
}

// updateLocation handles a location's form.
func (s *Server) updateLocation(c *fiber.Ctx) error {
	su := sessionUser(c)
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	cur, err := s.store.LocationByID(c.UserContext(), su.Scope, id)
	if err != nil {
		return err
	}
	in, d, fe := locationInput(c, cur)
	if fe == nil {
		_, err = s.store.UpdateLocation(c.UserContext(), su.Scope, id, in)
		fe = asFieldError(err)
	}
	if fe != nil {
		d.ID, d.Archived = id, cur.ArchivedAt != nil
		d.Errors = map[string]string{fe.Field: fe.Message}
		if err := s.fillAccount(c, &d, cur); err != nil {
			return err
		}
		return s.locationForm(c, &d, fiber.StatusUnprocessableEntity)
	}
	if err != nil {
		return err
	}
	return c.Redirect("/settings/locations/"+strconv.FormatInt(id, 10)+"?saved=1", fiber.StatusSeeOther)
}

// archiveLocation archives a location (archived=1) or brings it back (archived=0).
func (s *Server) archiveLocation(c *fiber.Ctx) error {
	su := sessionUser(c)
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if _, err := s.store.ArchiveLocation(c.UserContext(), su.Scope, id, c.FormValue("archived") == "1"); err != nil {
		return err
	}
	return c.Redirect("/settings/locations/"+strconv.FormatInt(id, 10)+"?saved=1", fiber.StatusSeeOther)
}

// deref is a pointer's string, or "".
func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
