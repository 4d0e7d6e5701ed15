package web

import (
	"log/slog"

	"github.com/gofiber/fiber/v2"
)

// UnderQueues exposes underQueues to the package's external tests.
var UnderQueues = underQueues

// ParseHop exposes parseHop to the package's external tests.
var ParseHop = parseHop

// APIConventionsApp is a Fiber app with two test-only API routes that use
// the API's helpers as resource handlers do, errors answered by
// apiProblems: POST /api/v1/echo decodes its body with decodeJSON and
// returns it; GET /api/v1/page reads ?cursor= and ?limit= with pageParams.
func APIConventionsApp() *fiber.App {
	s := &Server{log: slog.New(slog.DiscardHandler)}
	app := fiber.New()
	api := app.Group(apiPrefix, s.apiProblems)
	api.Post("/echo", func(c *fiber.Ctx) error {
		var in struct {
			Name   string `json:"name"`
			Count  int    `json:"count"`
			Nested struct {
				Flag bool `json:"flag"`
			} `json:"nested"`
		}
		if err := decodeJSON(c, &in); err != nil {
			return err
		}
		return c.JSON(in)
	})
	api.Get("/page", func(c *fiber.Ctx) error {
		var cur struct {
			Before int64 `json:"before"`
		}
		limit, err := pageParams(c, &cur)
		if err != nil {
			return err
		}
		return c.JSON(fiber.Map{"limit": limit, "before": cur.Before, "next": makeCursor(map[string]int64{"before": 7})})
	})
	return app
}
