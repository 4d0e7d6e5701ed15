package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/parley-chat/parley/models"
)

// apiPrefix is where the JSON API lives (spec/api.md). It authenticates
// with bearer tokens, not the session cookie, so routes.go mounts it
// before the session and CSRF checks.
const apiPrefix = "/api/v1"

// problem is an RFC 9457 problem details object, the API's error body.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
}

// underAPI says whether a path is the API's. Fiber's groups match a bare
// prefix, so /api/v1x would be taken too without this check.
func underAPI(path string) bool {
	return path == apiPrefix || strings.HasPrefix(path, apiPrefix+"/")
}

// apiProblems answers every error under /api/v1 as problem details, so the
// API's handlers return errors as the pages' handlers do.
func (s *Server) apiProblems(c *fiber.Ctx) error {
	if !underAPI(c.Path()) {
		return c.Next()
	}
	err := c.Next()
	if err == nil {
		return nil
	}
	code, detail := http.StatusInternalServerError, "The error was logged."
	var fe *fiber.Error
	switch {
	case errors.As(err, &fe):
		code, detail = fe.Code, fe.Message
	case errors.Is(err, models.ErrNotFound):
		code, detail = http.StatusNotFound, "No such resource, or not yours to see."
	}
	if code >= 500 {
		s.log.Error("api request failed", "method", c.Method(), "path", c.Path(), "err", err)
	}
	return writeProblem(c, code, detail)
}

// writeProblem sends a problem details response.
func writeProblem(c *fiber.Ctx, code int, detail string) error {
	c.Status(code)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(problem{Type: "about:blank", Title: http.StatusText(code), Status: code, Detail: detail},
		"application/problem+json")
}

// apiNotFound ends the API's route table: a path under /api/v1 that no
// handler took is a 404 problem, never a page.
func apiNotFound(c *fiber.Ctx) error {
	if !underAPI(c.Path()) {
		return c.Next()
	}
	return fiber.NewError(fiber.StatusNotFound, "No such API endpoint.")
}
