package web

import (
	"github.com/gofiber/fiber/v2"
	"github.com/parley-chat/parley/views"
)

// passwordLinkPage shows the set-a-password form of a one-time link (an
// invitation or a reset), or says clearly that the link is used, expired
// (410) or unknown (404).
func (s *Server) passwordLinkPage(c *fiber.Ctx) error {
	token := c.Params("token")
	info, err := s.store.PasswordLinkByToken(c.UserContext(), token)
	if err != nil {
		status, d, ok := errLinkStatus(err)
		if !ok {
			return err
		}
		c.Status(status)
		return s.render(c, "password", views.Layout{Title: "Password link"}, d)
	}
	c.Set("Referrer-Policy", "no-referrer") // the token is in the URL
	return s.render(c, "password", views.Layout{Title: "Choose a password"}, views.PasswordLinkData{Token: token, Info: info})
}

// usePasswordLink sets the password, marks the link used and ends every
// session of the user; nobody is signed in: the login page says what to do.
func (s *Server) usePasswordLink(c *fiber.Ctx) error {
	ctx := c.UserContext()
	token := c.Params("token")
	err := s.store.UsePasswordLink(ctx, token, c.FormValue("password"), clientIP(c, s.cfg.TrustedProxyPrefixes))
	if fe := asFieldError(err); fe != nil {
		info, ierr := s.store.PasswordLinkByToken(ctx, token)
		if ierr != nil {
			return s.passwordLinkPage(c)
		}
		c.Status(fiber.StatusUnprocessableEntity)
		return s.render(c, "password", views.Layout{Title: "Choose a password"},
			views.PasswordLinkData{Token: token, Info: info, Error: fe.Message})
	}
	if err != nil {
		status, d, ok := errLinkStatus(err)
		if !ok {
			return err
		}
		c.Status(status)
		return s.render(c, "password", views.Layout{Title: "Password link"}, d)
	}
	return c.Redirect("/login?notice=password", fiber.StatusSeeOther)
}
