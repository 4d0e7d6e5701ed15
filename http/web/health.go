package web

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"
)

// healthz says the process is up; it checks nothing else.
func (s *Server) healthz(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"status": "ok"})
}

// readyz says whether PostgreSQL and Redis answer: 200 when both do, 503
// naming each dependency's state otherwise.
func (s *Server) readyz(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
	defer cancel()
	checks := fiber.Map{"postgres": "ok", "redis": "ok"}
	ready := true
	if err := s.store.Ping(ctx); err != nil {
		checks["postgres"] = "unavailable: " + err.Error()
		ready = false
	}
	if err := s.rdb.Ping(ctx).Err(); err != nil {
		checks["redis"] = "unavailable: " + err.Error()
		ready = false
	}
	checks["status"] = "ready"
	if !ready {
		checks["status"] = "unavailable"
		c.Status(fiber.StatusServiceUnavailable)
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(checks)
}
