package web

import (
	"net/http"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/filesystem"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/parley-chat/parley/static"
)

// routes registers every route of the web server, in one place.
func (s *Server) routes() error {
	app := s.app
	app.Use(s.observe)
	app.Use(recover.New(recover.Config{EnableStackTrace: true, StackTraceHandler: s.logPanic}))

	// Operations: no session, no CSRF.
	app.Get("/healthz", s.healthz)
	app.Get("/readyz", s.readyz)
	app.Get("/metrics", s.metricsHandler())
	app.Use("/static", filesystem.New(filesystem.Config{
		Root: http.FS(static.FS),
		// Asset URLs carry a content hash (?v=), so they may be cached for long.
		MaxAge: 365 * 24 * 3600,
	}))

	if s.deps.Callbacks != nil {
		s.deps.Callbacks(app)
	}

	app.Use(s.loadSession, s.checkCSRF)

	app.Get("/login", s.loginPage)
	app.Post("/login", s.login)
	app.Post("/logout", s.logout)

	queues, err := s.queuesHandler()
	if err != nil {
		return err
	}
	app.Use(queuesPath, s.requireUser, s.requireAdmin, queues)

	app.Get("/", s.requireUser, s.dashboard)
	app.Get("/ws", s.ws)
	app.Get("/chats", s.requireUser, s.chats)
	app.Get("/chats/new", s.requireUser, s.newChat)
	app.Post("/chats", s.requireUser, s.startChat)
	app.Post("/chats/preview", s.requireUser, s.chatPreview)
	app.Get("/chats/:id<int>", s.requireUser, s.chatThread)
	app.Post("/chats/:id<int>/messages", s.requireUser, s.reply)
	app.Post("/chats/:id<int>/assign", s.requireUser, s.assign)
	app.Post("/chats/:id<int>/close", s.requireUser, s.closeChat)
	app.Post("/chats/:id<int>/reopen", s.requireUser, s.reopenChat)
	app.Get("/recipients", s.requireUser, s.recipients)
	app.Get("/broadcasts", s.requireUser, s.broadcasts)
	app.Get("/settings", s.requireUser, s.settings)
	app.Get("/credits", s.requireUser, s.credits)

	if s.deps.Pages != nil {
		s.deps.Pages(app, s.pageKit())
	}

	app.Use(func(c *fiber.Ctx) error { return fiber.ErrNotFound })
	return nil
}
