package web

import (
	"strconv"

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

// recipients lists recipients, with substring search and keyset pages.
func (s *Server) recipients(c *fiber.Ctx) error {
	su := sessionUser(c)
	q := c.Query("q")
	if len(q) > 200 {
		return fiber.NewError(fiber.StatusBadRequest, "search text too long")
	}
	after, _ := strconv.ParseInt(c.Query("after"), 10, 64)
	page, err := s.store.Recipients(c.UserContext(), su.Scope, q, after, 50)
	if err != nil {
		return err
	}
	return s.render(c, "recipients", views.Layout{Title: "Recipients", Active: "recipients"}, views.RecipientsData{Query: q, Page: page, Continued: after > 0})
}
