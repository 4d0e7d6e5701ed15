package web

import "github.com/gofiber/fiber/v2"

// emailWebhookPath is where inbound-parse providers post email.
const emailWebhookPath = "/webhooks/email/inbound"

// bodyLimit is the app's body limit: BodyLimit, or the inbound email
// webhook's when that is on and larger (limitBodies then keeps every other
// route at BodyLimit).
func bodyLimit(cb ProviderCallbacks) int {
	if l, ok := cb.(emailBodyLimiter); ok && cb != nil {
		return max(importBodyLimit, l.EmailBodyLimit())
	}
	return importBodyLimit
}

// limitBodies answers 413 to a body over BodyLimit on any route but the
// inbound email webhook's, when the app admits larger bodies for it.
func (s *Server) limitBodies(c *fiber.Ctx) error {
	if n := len(c.Request().Body()); n > BodyLimit && c.Path() != emailWebhookPath && (n > importBodyLimit || !isImportUpload(c)) {
		return fiber.ErrRequestEntityTooLarge
	}
	return c.Next()
}
