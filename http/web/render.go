package web

import (
	"github.com/gofiber/fiber/v2"
	"github.com/parley-chat/parley/views"
)

// render writes a full page. The layout's CSRF token is filled in here so
// no page can forget it.
func (s *Server) render(c *fiber.Ctx, page string, l views.Layout, data any) error {
	l.CSRF = s.csrfToken(c)
	l.Simulator = s.cfg.Simulated()
	l.Mailbox = s.deps.Mailbox != nil
	if su := sessionUser(c); su != nil && l.User == nil {
		l.User = &su.User
		l.OrgName = su.OrgName
		l.Scope = su.Scope
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	// Pages are per user; never let a shared cache keep one.
	c.Set(fiber.HeaderCacheControl, "no-store")
	return s.views.Page(c, page, views.Page{L: l, D: data})
}
