package web

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/parley-chat/parley/views"
)

// healthz says the process is up; it checks nothing else.
func (s *Server) healthz(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"status": "ok"})
}

// readyz says whether PostgreSQL and Redis answer: 200 when both do, 503
// naming each dependency's state otherwise.
func (s *Server) readyz(c *fiber.Ctx) error {
	checks := fiber.Map{}
	ready := true
	for _, d := range s.dependencies(c.UserContext()) {
		checks[d.Name] = "ok"
		if !d.OK {
			checks[d.Name] = "unavailable: " + d.Detail
			ready = false
		}
	}
	checks["status"] = "ready"
	if !ready {
		checks["status"] = "unavailable"
		c.Status(fiber.StatusServiceUnavailable)
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(checks)
}

// dependencies pings PostgreSQL and Redis (2 s at most): what /readyz
// answers and operators see on /admin/instance.
func (s *Server) dependencies(ctx context.Context) []views.DependencyState {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	out := []views.DependencyState{{Name: "postgres", OK: true}, {Name: "redis", OK: true}}
	if err := s.store.Ping(ctx); err != nil {
		out[0].OK, out[0].Detail = false, err.Error()
	}
	if err := s.rdb.Ping(ctx).Err(); err != nil {
		out[1].OK, out[1].Detail = false, err.Error()
	}
	return out
}
