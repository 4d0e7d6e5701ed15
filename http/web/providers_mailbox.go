package web

import "github.com/gofiber/fiber/v2"

// Mailbox is the built-in mailbox simulator (http/simulator/mailbox): the
// SMTP sink outbound mail goes to when no relay is configured, and a page
// where a signed-in person plays an email recipient.
type Mailbox interface {
	// Pages returns the mailbox's pages, rendered through kit.
	Pages(kit PageKit) MailboxPages
}

// MailboxPages are the mailbox simulator's pages, behind the login check.
// Like the phone's, they show and send only what concerns the inboxes the
// signed-in user may see (R9).
type MailboxPages interface {
	// Page shows a person's mailbox, the compose form and an open mail.
	Page(c *fiber.Ctx) error
	// List is the mailbox's list of mail, refreshed in place.
	List(c *fiber.Ctx) error
	// Send delivers a new mail from the person to an inbox.
	Send(c *fiber.Ctx) error
	// Reply answers a mail the person received.
	Reply(c *fiber.Ctx) error
}
