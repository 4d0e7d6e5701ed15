package web

import (
	"errors"
	"net/http"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"
	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/views"
)

// errorMessages says, for each status a person may meet, what went wrong
// and what to do about it.
var errorMessages = map[int][2]string{
	http.StatusBadRequest:            {"That request was not understood", "Check what you entered and try again."},
	http.StatusForbidden:             {"This form has expired", "Reload the page and try again. If it keeps happening, sign in again."},
	http.StatusNotFound:              {"Page not found", "It may have moved, or you may not have access to it."},
	http.StatusMethodNotAllowed:      {"Not allowed here", "That action is not available on this page."},
	http.StatusRequestEntityTooLarge: {"That was too large", "Send something smaller (at most 2 MB)."},
	http.StatusTooManyRequests:       {"Too many requests", "Wait a moment and try again."},
	http.StatusServiceUnavailable:    {"Parley is not ready", "A service it depends on is unavailable. Try again shortly."},
}

// handleError is the one place that maps errors to responses.
func (s *Server) handleError(c *fiber.Ctx, err error) error {
	code := http.StatusInternalServerError
	var fe *fiber.Error
	switch {
	case errors.As(err, &fe):
		code = fe.Code
	case errors.Is(err, models.ErrNotFound):
		code = http.StatusNotFound
	}
	if code >= 500 {
		s.log.Error("request failed", "method", c.Method(), "path", c.Path(), "err", err)
	}
	msg, ok := errorMessages[code]
	if !ok {
		msg = [2]string{"Something went wrong", "The error was logged. Try again, and tell your administrator if it persists."}
	}
	c.Status(code)
	if c.Get("HX-Request") == "true" || !acceptsHTML(c) {
		c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
		// A refusal that explains itself (a 4xx with a message of its own,
		// such as "A newer conversation with this recipient is already
		// open") is what the page shows next to the control.
		if fe != nil && code < 500 && fe.Message != utils.StatusMessage(code) {
			return c.SendString(fe.Message)
		}
		return c.SendString(msg[0] + ". " + msg[1])
	}
	return s.render(c, "error", views.Layout{Title: msg[0]}, views.ErrorData{Status: code, Heading: msg[0], Message: msg[1]})
}

func acceptsHTML(c *fiber.Ctx) bool {
	a := c.Get(fiber.HeaderAccept)
	return a == "" || c.Accepts(fiber.MIMETextHTML) != ""
}

// logPanic records a recovered panic; the error handler then answers 500.
func (s *Server) logPanic(c *fiber.Ctx, e any) {
	s.log.Error("panic in handler", "method", c.Method(), "path", c.Path(), "panic", e)
}
