package web

import (
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/parley-chat/parley/models"
)

const (
	sessionCookie = "parley_session"
	localUser     = "parley.user"
)

// sessionUser returns the signed-in user of the request, or nil.
func sessionUser(c *fiber.Ctx) *models.SessionUser {
	su, _ := c.Locals(localUser).(*models.SessionUser)
	return su
}

// loadSession resolves the session cookie, if any, to its user. A stale or
// forged cookie is cleared; the request goes on as anonymous.
func (s *Server) loadSession(c *fiber.Ctx) error {
	token := c.Cookies(sessionCookie)
	if token == "" {
		return c.Next()
	}
	su, err := s.store.SessionByToken(c.UserContext(), token, s.cfg.SessionTTL)
	switch {
	case err == nil:
		su.Scope.Via, su.Scope.IP = models.ViaWeb, clientIP(c, s.cfg.TrustedProxyPrefixes)
		c.Locals(localUser, su)
	case errors.Is(err, models.ErrNotFound):
		s.clearCookie(c, sessionCookie)
	default:
		return err
	}
	return c.Next()
}

// requireUser sends anonymous requests to the login page (an HTMX request
// is told to redirect the whole page).
func (s *Server) requireUser(c *fiber.Ctx) error {
	if sessionUser(c) != nil {
		return c.Next()
	}
	target := "/login"
	if c.Method() == fiber.MethodGet && c.OriginalURL() != "/" {
		target += "?next=" + url.QueryEscape(c.OriginalURL())
	}
	if c.Get("HX-Request") == "true" {
		c.Set("HX-Redirect", target)
		return c.SendStatus(fiber.StatusUnauthorized)
	}
	return c.Redirect(target, fiber.StatusSeeOther)
}

// requirePerm answers 404 to a user whose role does not grant p (the role
// matrix, models/policy.go): a page they may not use does not exist for
// them. It goes after requireUser (pages) or apiAuth (the API).
func requirePerm(p models.Permission) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if su := sessionUser(c); su != nil && su.Scope.Can(p) {
			return c.Next()
		}
		return fiber.ErrNotFound
	}
}

// setCookie writes an HttpOnly, SameSite=Lax cookie, Secure behind https.
func (s *Server) setCookie(c *fiber.Ctx, name, value string, ttl time.Duration) {
	c.Cookie(&fiber.Cookie{
		Name: name, Value: value, Path: "/",
		Expires:  time.Now().Add(ttl),
		MaxAge:   int(ttl.Seconds()),
		HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode,
		Secure: s.cfg.SecureCookies(),
	})
}

func (s *Server) clearCookie(c *fiber.Ctx, name string) {
	c.Cookie(&fiber.Cookie{
		Name: name, Value: "", Path: "/", MaxAge: -1,
		Expires:  time.Unix(0, 0),
		HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode,
		Secure: s.cfg.SecureCookies(),
	})
}

// safeNext keeps a post-login redirect on this site: a path, never a URL
// to elsewhere ("//evil.example" included).
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	return next
}
