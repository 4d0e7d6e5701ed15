package web

import (
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/hibiken/asynqmon"
)

// queuesPath is where the Asynq monitoring dashboard is mounted. asynqmon
// routes on the full path, so its RootPath must equal the mount path.
const queuesPath = "/admin/queues"

// queuesHandler serves the Asynq dashboard; routes put admin-only checks
// in front of it (it has no auth of its own).
func (s *Server) queuesHandler() (fiber.Handler, error) {
	mon := asynqmon.New(asynqmon.Options{RootPath: queuesPath, RedisConnOpt: s.queue})
	s.closers = append(s.closers, mon.Close)
	return adaptor.HTTPHandler(mon), nil
}
