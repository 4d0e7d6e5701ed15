package web

import (
	"errors"

	"github.com/gofiber/fiber/v2"
	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/views"
)

// The email unsubscribe link (List-Unsubscribe, RFC 8058). The token in
// the URL is the credential: no session, no CSRF token (a mail client's
// one-click POST has neither). GET only shows a confirm button, because
// link scanners and previews fetch every URL in a message; POST, from
// that button or from the mail client (body List-Unsubscribe=One-Click),
// records the opt-out.

// unsubscribePath is where the links point: /unsubscribe/<token>.
const unsubscribePath = "/unsubscribe/:token"

// unsubscribePage asks the recipient to confirm.
func (s *Server) unsubscribePage(c *fiber.Ctx) error {
	info, err := s.store.UnsubscribeInfo(c.UserContext(), c.Params("token"))
	return s.renderUnsubscribe(c, info, err, false)
}

// unsubscribe records the opt-out and publishes it to the recipient's
// open email conversations.
func (s *Server) unsubscribe(c *fiber.Ctx) error {
	ctx := c.UserContext()
	token := c.Params("token")
	changes, err := s.store.UnsubscribeEmail(ctx, token)
	if err != nil {
		return s.renderUnsubscribe(c, nil, err, false)
	}
	s.publishAll(changes)
	info, err := s.store.UnsubscribeInfo(ctx, token)
	return s.renderUnsubscribe(c, info, err, true)
}

// resubscribePath undoes the recipient's own unsubscribe, from the page
// the link shows (someone who clicked by mistake); same credential.
const resubscribePath = unsubscribePath + "/resubscribe"

// resubscribe opts the recipient back in to email and publishes it to
// their open email conversations. An opt-out staff made stays, and the
// page says whom to ask.
func (s *Server) resubscribe(c *fiber.Ctx) error {
	ctx := c.UserContext()
	token := c.Params("token")
	changes, err := s.store.ResubscribeEmail(ctx, token)
	if err != nil && !errors.Is(err, models.ErrOptOutHeldByStaff) {
		return s.renderUnsubscribe(c, nil, err, false)
	}
	s.publishAll(changes)
	info, ierr := s.store.UnsubscribeInfo(ctx, token)
	if err != nil || ierr != nil {
		return s.renderUnsubscribe(c, info, ierr, false)
	}
	return s.renderResubscribed(c, info)
}

// renderResubscribed shows that the address gets email again.
func (s *Server) renderResubscribed(c *fiber.Ctx, info *models.Unsubscriber) error {
	c.Locals(localCSRF, "")
	c.Set("Referrer-Policy", "no-referrer")
	d := views.UnsubscribeData{Token: c.Params("token"), Email: info.Email, OrgName: info.OrgName, Resubscribed: true}
	return s.render(c, "unsubscribe", views.Layout{Title: "You're subscribed again"}, d)
}

// renderUnsubscribe shows the page: the confirm button, the done notice
// (with the way back, unless staff hold the opt-out), or (404) that the
// link does not work. It sets no cookie: the page is for a recipient, who
// has no session here.
func (s *Server) renderUnsubscribe(c *fiber.Ctx, info *models.Unsubscriber, err error, done bool) error {
	if err != nil && !errors.Is(err, models.ErrNotFound) {
		return err
	}
	c.Locals(localCSRF, "")                 // no pre-session cookie for a recipient
	c.Set("Referrer-Policy", "no-referrer") // the token is in the URL
	d := views.UnsubscribeData{Token: c.Params("token"), Done: done}
	if err != nil {
		c.Status(fiber.StatusNotFound)
		d.Missing = true
	} else {
		d.Email, d.OrgName, d.Already, d.HeldByStaff = info.Email, info.OrgName, info.OptedOut && !done, info.HeldByStaff
	}
	title := "Unsubscribe"
	if done {
		title = "You're unsubscribed"
	}
	return s.render(c, "unsubscribe", views.Layout{Title: title}, d)
}
