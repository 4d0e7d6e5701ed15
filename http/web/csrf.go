package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
)

// CSRF protection: every state-changing request must carry a token, as the
// form field _csrf or the header X-CSRF-Token. The token is an HMAC, under
// the session secret, of what the browser is bound to: its session when
// signed in, or a random pre-session cookie before (so the login form is
// protected too). Stateless, so any node verifies any token.

const (
	preSessionCookie = "parley_pre"
	csrfHeader       = "X-CSRF-Token"
	csrfField        = "_csrf"
	localCSRF        = "parley.csrf"
)

type csrfKey []byte

func newCSRFKey(secret string) csrfKey {
	// Derive a purpose-bound key so the secret can serve other uses later.
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("parley csrf v1"))
	return m.Sum(nil)
}

func (k csrfKey) token(binding string) string {
	m := hmac.New(sha256.New, k)
	m.Write([]byte(binding))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (k csrfKey) valid(binding, token string) bool {
	if binding == "" || token == "" {
		return false
	}
	return hmac.Equal([]byte(k.token(binding)), []byte(token))
}

// binding names what the request's token is tied to; it creates the
// pre-session cookie for an anonymous visitor when create is set.
func (s *Server) binding(c *fiber.Ctx, create bool) string {
	if su := sessionUser(c); su != nil {
		return "s:" + strconv.FormatInt(su.SessionID, 10)
	}
	pre := c.Cookies(preSessionCookie)
	if pre == "" && create {
		raw := make([]byte, 18)
		_, _ = rand.Read(raw)
		pre = base64.RawURLEncoding.EncodeToString(raw)
		s.setCookie(c, preSessionCookie, pre, 12*time.Hour)
		c.Locals(preSessionCookie, pre)
	}
	if pre == "" {
		pre, _ = c.Locals(preSessionCookie).(string)
	}
	if pre == "" {
		return ""
	}
	return "a:" + pre
}

// csrfToken is the token to embed in the page being rendered.
func (s *Server) csrfToken(c *fiber.Ctx) string {
	if t, ok := c.Locals(localCSRF).(string); ok {
		return t
	}
	t := s.csrf.token(s.binding(c, true))
	c.Locals(localCSRF, t)
	return t
}

func isSafeMethod(m string) bool {
	return m == fiber.MethodGet || m == fiber.MethodHead || m == fiber.MethodOptions
}

// checkCSRF refuses a state-changing request without a valid token (403).
// The Asynq dashboard's own scripts cannot send our token, so under its
// path a same-origin check stands in (the browser sets Origin on every
// cross-site POST, and the session cookie is SameSite=Lax).
func (s *Server) checkCSRF(c *fiber.Ctx) error {
	if isSafeMethod(c.Method()) {
		return c.Next()
	}
	if underQueues(c.Path()) {
		if origin := c.Get(fiber.HeaderOrigin); origin == s.origin || (origin == "" && c.Get("Sec-Fetch-Site") == "same-origin") {
			return c.Next()
		}
		return fiber.ErrForbidden
	}
	token := c.Get(csrfHeader)
	if token == "" {
		token = c.FormValue(csrfField)
	}
	if !s.csrf.valid(s.binding(c, false), token) {
		return fiber.ErrForbidden
	}
	return c.Next()
}
