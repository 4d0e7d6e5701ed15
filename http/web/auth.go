package web

import (
	"errors"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/views"
)

// loginPage shows the sign-in form (or goes home if already signed in).
func (s *Server) loginPage(c *fiber.Ctx) error {
	if sessionUser(c) != nil {
		return c.Redirect(safeNext(c.Query("next")), fiber.StatusSeeOther)
	}
	d := views.LoginData{Next: safeNext(c.Query("next"))}
	if c.Query("notice") == "password" {
		d.Notice = "Your password is set. Sign in with it."
	}
	return s.render(c, "login", views.Layout{Title: "Sign in"}, d)
}

// login checks the credentials, starts a session and redirects. A failure
// shows the form again with the email kept and a message.
func (s *Server) login(c *fiber.Ctx) error {
	ctx := c.UserContext()
	email := strings.TrimSpace(c.FormValue("email"))
	password := c.FormValue("password")
	form := views.LoginData{Email: email, Next: safeNext(c.FormValue("next"))}
	fail := func(status int, msg string) error {
		c.Status(status)
		form.Error = msg
		return s.render(c, "login", views.Layout{Title: "Sign in"}, form)
	}
	if email == "" || password == "" {
		return fail(fiber.StatusUnprocessableEntity, "Enter your email and password.")
	}
	ip := clientIP(c, s.cfg.TrustedProxyPrefixes)
	blocked, err := s.throttle.Blocked(ctx, email, ip)
	if err != nil {
		return err
	}
	if blocked {
		return fail(fiber.StatusTooManyRequests, "Too many failed sign-in attempts. Wait 15 minutes and try again.")
	}
	u, err := s.store.Authenticate(ctx, email, password)
	if fe := asFieldError(err); fe != nil && fe.Field == "email" {
		// Not echoed back: the browser would show it mangled.
		form.Email, form.EmailError = "", fe.Message
		c.Status(fiber.StatusUnprocessableEntity)
		return s.render(c, "login", views.Layout{Title: "Sign in"}, form)
	}
	if errors.Is(err, models.ErrInvalidCredentials) {
		if err := s.throttle.Failed(ctx, email, ip); err != nil {
			return err
		}
		return fail(fiber.StatusUnauthorized, "That email and password do not match. Check them and try again.")
	}
	if err != nil {
		return err
	}
	if err := s.throttle.Succeeded(ctx, email); err != nil {
		s.log.Warn("reset login throttle", "err", err)
	}
	token, err := s.store.CreateSession(ctx, u.ID, s.cfg.SessionTTL, ip, c.Get(fiber.HeaderUserAgent))
	if err != nil {
		return err
	}
	s.setCookie(c, sessionCookie, token, s.cfg.SessionTTL)
	s.clearCookie(c, preSessionCookie)
	s.log.Info("signed in", "user_id", u.ID, "org_id", u.OrgID)
	return c.Redirect(form.Next, fiber.StatusSeeOther)
}

// logout ends the session and returns to the login page.
func (s *Server) logout(c *fiber.Ctx) error {
	if su := sessionUser(c); su != nil {
		if err := s.store.EndSession(c.UserContext(), su.SessionID); err != nil {
			return err
		}
	}
	s.clearCookie(c, sessionCookie)
	if c.Get("HX-Request") == "true" {
		c.Set("HX-Redirect", "/login")
		return c.SendStatus(fiber.StatusNoContent)
	}
	return c.Redirect("/login", fiber.StatusSeeOther)
}
