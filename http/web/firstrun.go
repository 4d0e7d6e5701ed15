package web

import (
	"errors"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/views"
)

// setupPath is the first-run page: it exists only while no organization does.
const setupPath = "/setup"

// firstRunGate sends every page to /setup while the instance has no
// organization. Once one exists it is remembered (organizations are never
// all deleted by the application), so the check costs one query per
// request only before first run.
func (s *Server) firstRunGate(c *fiber.Ctx) error {
	if s.setUp.Load() {
		return c.Next()
	}
	ok, err := s.store.HasOrganization(c.UserContext())
	if err != nil {
		return err
	}
	if ok {
		s.setUp.Store(true)
		return c.Next()
	}
	if c.Path() == setupPath {
		return c.Next()
	}
	if c.Get("HX-Request") == "true" {
		c.Set("HX-Redirect", setupPath)
		return c.SendStatus(fiber.StatusUnauthorized)
	}
	return c.Redirect(setupPath, fiber.StatusSeeOther)
}

// setupPage shows the first-run form; once an organization exists it is
// not found.
func (s *Server) setupPage(c *fiber.Ctx) error {
	if s.setUp.Load() {
		return fiber.ErrNotFound
	}
	return s.renderSetup(c, views.SetupData{Timezone: "UTC"})
}

func (s *Server) renderSetup(c *fiber.Ctx, d views.SetupData) error {
	d.TimeZones = models.TimeZones()
	return s.render(c, "setup", views.Layout{Title: "Set up Parley"}, d)
}

// setup creates the first organization, its location and its admin (an
// instance operator), signs the admin in and goes home. Bad fields are
// shown next to each field (422) and change nothing; a first run that
// lost a race, or comes after one, is not found.
func (s *Server) setup(c *fiber.Ctx) error {
	if s.setUp.Load() {
		return fiber.ErrNotFound
	}
	ctx := c.UserContext()
	in := models.NewOrganization{
		Name: c.FormValue("name"), LocationName: c.FormValue("location_name"), Timezone: c.FormValue("timezone"),
		AdminName: c.FormValue("admin_name"), AdminEmail: c.FormValue("admin_email"),
		AdminPassword: c.FormValue("admin_password"), FirstRun: true,
	}
	ip := clientIP(c, s.cfg.TrustedProxyPrefixes)
	r, err := s.store.CreateOrganization(ctx, models.Scope{Via: models.ViaWeb, IP: ip}, in)
	if errors.Is(err, models.ErrAlreadySetUp) {
		s.setUp.Store(true)
		return fiber.ErrNotFound
	}
	if errs := fieldErrors(err); errs != nil {
		c.Status(fiber.StatusUnprocessableEntity)
		return s.renderSetup(c, views.SetupData{
			Name: strings.TrimSpace(in.Name), LocationName: strings.TrimSpace(in.LocationName),
			Timezone: strings.TrimSpace(in.Timezone), AdminName: strings.TrimSpace(in.AdminName),
			AdminEmail: strings.TrimSpace(in.AdminEmail), Errors: errs,
		})
	}
	if err != nil {
		return err
	}
	s.setUp.Store(true)
	token, err := s.store.CreateSession(ctx, r.Admin.ID, s.cfg.SessionTTL, ip, c.Get(fiber.HeaderUserAgent))
	if err != nil {
		return err
	}
	s.setCookie(c, sessionCookie, token, s.cfg.SessionTTL)
	s.clearCookie(c, preSessionCookie)
	s.log.Info("first run: organization created", "org_id", r.Org.ID, "user_id", r.Admin.ID)
	if c.Get("HX-Request") == "true" {
		c.Set("HX-Redirect", "/")
		return c.SendStatus(fiber.StatusNoContent)
	}
	return c.Redirect("/", fiber.StatusSeeOther)
}

// fieldErrors maps each field a store error names to its message (every
// one of an errors.Join), or nil when err holds no *models.FieldError.
func fieldErrors(err error) map[string]string {
	if asFieldError(err) == nil {
		return nil
	}
	out := map[string]string{}
	var walk func(error)
	walk = func(e error) {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
			return
		}
		if fe := asFieldError(e); fe != nil {
			if _, seen := out[fe.Field]; !seen {
				out[fe.Field] = fe.Message
			}
		}
	}
	walk(err)
	return out
}
