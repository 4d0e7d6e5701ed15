package web

import (
	"github.com/gofiber/fiber/v2"
	"github.com/parley-chat/parley/views"
)

// dashboard is the landing page: conversation counts and the locations.
func (s *Server) dashboard(c *fiber.Ctx) error {
	su := sessionUser(c)
	d, err := s.store.Dashboard(c.UserContext(), su.Scope)
	if err != nil {
		return err
	}
	return s.render(c, "dashboard", views.Layout{Title: "Dashboard", Active: "dashboard"}, d)
}
