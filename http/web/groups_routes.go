package web

import (
	"github.com/gofiber/fiber/v2"
	"github.com/parley-chat/parley/models"
)

// groupRoutes adds the Recipients section's list routes: a new
// recipient, the CSV export, the bulk group actions and the Groups pages.
// Reading is every signed-in user's; changes need recipients.edit.
func (s *Server) groupRoutes(app *fiber.App) {
	edit := requirePerm(models.PermEditRecipients)
	app.Get("/recipients.csv", s.requireUser, s.recipientsCSV)
	app.Get("/recipients/new", s.requireUser, edit, s.newRecipient)
	app.Post("/recipients", s.requireUser, edit, s.createRecipient)
	app.Post("/recipients/groups", s.requireUser, edit, s.recipientsBulk)
	app.Get("/groups", s.requireUser, s.groupsPage)
	app.Post("/groups", s.requireUser, edit, s.createGroup)
	app.Get("/groups/:id<int>", s.requireUser, s.groupPage)
	app.Post("/groups/:id<int>", s.requireUser, edit, s.renameGroup)
	app.Post("/groups/:id<int>/delete", s.requireUser, edit, s.deleteGroup)
}
