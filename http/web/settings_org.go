package web

import (
	"github.com/gofiber/fiber/v2"
	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/views"
)

// The Settings section's Organization tab (/settings): the name and the
// default country for phone numbers. Managers see it read-only; agents get
// a 404; every change goes through the store, which checks the role again
// and writes the audit log.

// settingsGuards are the settings routes' checks: view (managers and
// admins) and manage (admins).
func settingsGuards() (view, manage fiber.Handler) {
	return requirePerm(models.PermViewSettings), requirePerm(models.PermManageSettings)
}

func settingsLayout(title, sub string) views.Layout {
	return views.Layout{Title: title, Active: "settings", Sub: sub}
}

// settings shows the Organization tab.
func (s *Server) settings(c *fiber.Ctx) error {
	su := sessionUser(c)
	if !su.Scope.Can(models.PermViewSettings) {
		return fiber.ErrNotFound
	}
	org, err := s.store.Organization(c.UserContext(), su.Scope)
	if err != nil {
		return err
	}
	d := views.SettingsOrgData{ReadOnly: !su.Scope.Can(models.PermManageSettings), Saved: c.Query("saved") == "1",
		Name: org.Name, DefaultCountry: org.DefaultCountry, Countries: models.Countries()}
	return s.render(c, "settings", settingsLayout("Settings", "organization"), d)
}

// saveOrganization handles the Organization form.
func (s *Server) saveOrganization(c *fiber.Ctx) error {
	su := sessionUser(c)
	name, country := c.FormValue("name"), c.FormValue("default_country")
	_, err := s.store.UpdateOrganization(c.UserContext(), su.Scope, models.OrganizationInput{Name: &name, DefaultCountry: &country})
	if fe := asFieldError(err); fe != nil {
		d := views.SettingsOrgData{Name: name, DefaultCountry: country, Countries: models.Countries(),
			Errors: map[string]string{fe.Field: fe.Message}}
		c.Status(fiber.StatusUnprocessableEntity)
		return s.render(c, "settings", settingsLayout("Settings", "organization"), d)
	}
	if err != nil {
		return err
	}
	return c.Redirect("/settings?saved=1", fiber.StatusSeeOther)
}
