package web

import "github.com/gofiber/fiber/v2"

// ProviderCallbacks answer the SMS provider's webhooks (http/webhook's
// Handler). They carry no session and no CSRF token: the provider signs
// them. Vonage calls each with GET or POST.
type ProviderCallbacks interface {
	// VonageInbound stores an inbound text.
	VonageInbound(c *fiber.Ctx) error
	// VonageStatus applies a delivery receipt.
	VonageStatus(c *fiber.Ctx) error
	// EmailInbound stores an email an inbound-parse provider posts
	// (authenticated by PARLEY_EMAIL_WEBHOOK_SECRET; 404 without one).
	EmailInbound(c *fiber.Ctx) error
}

// emailBodyLimiter is what ProviderCallbacks may also have: the largest
// body the inbound email webhook takes (0: off). The web server admits
// bodies that large on that route alone.
type emailBodyLimiter interface{ EmailBodyLimit() int }

// Simulator is the built-in stand-in for Vonage (http/simulator).
type Simulator interface {
	// VonageSend answers the Vonage-compatible send API the SMS sender is
	// pointed at; it checks the API key and secret, not a session.
	VonageSend(c *fiber.Ctx) error
	// Phone returns the pages where a signed-in person plays a recipient,
	// rendered through kit.
	Phone(kit PageKit) PhonePages
}

// PhonePages are the simulator's phone, behind the login check.
type PhonePages interface {
	// Page shows the phone.
	Page(c *fiber.Ctx) error
	// Thread is the phone's thread, refreshed in place.
	Thread(c *fiber.Ctx) error
	// Send texts an inbox from the phone.
	Send(c *fiber.Ctx) error
}
