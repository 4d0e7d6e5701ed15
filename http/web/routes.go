package web

import (
	"fmt"
	"net/http"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/filesystem"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/static"
)

// routes is the route table: every path the server answers, grouped by how
// a request is authenticated. Fiber matches in registration order, so the
// groups without a session come before the middleware that loads it.
func (s *Server) routes() error {
	app := s.app
	app.Use(s.observe)
	if bodyLimit(s.deps.Callbacks) > BodyLimit {
		app.Use(s.limitBodies)
	}
	app.Use(recover.New(recover.Config{EnableStackTrace: true, StackTraceHandler: s.logPanic}))

	// Operations: no session, no CSRF (/metrics may want a bearer token).
	app.Get("/healthz", s.healthz)
	app.Get("/readyz", s.readyz)
	app.Get("/metrics", s.metricsHandler())
	// Versioned URLs are immutable; others revalidate by ETag (static_cache.go).
	app.Use("/static", staticCache(s.versions), filesystem.New(filesystem.Config{Root: http.FS(static.FS)}))

	// Provider callbacks: no session, no CSRF. Vonage signs its webhooks
	// (and calls them with GET or POST); the simulator's Vonage-compatible
	// API checks an API key and secret, as Vonage's does.
	if cb := s.deps.Callbacks; cb != nil {
		for _, m := range []string{fiber.MethodGet, fiber.MethodPost} {
			app.Add(m, "/webhooks/vonage/inbound", cb.VonageInbound)
			app.Add(m, "/webhooks/vonage/status", cb.VonageStatus)
		}
		// Inbound email from a provider's inbound parse: a shared secret.
		app.Post(emailWebhookPath, cb.EmailInbound)
	}
	if sim := s.deps.Simulator; sim != nil {
		app.Post("/simulator/vonage/sms/json", sim.VonageSend) // simulator.Path + "/sms/json"
	}
	// Email unsubscribe links (RFC 8058): the token is the credential; no
	// session, no CSRF (unsubscribe.go).
	app.Get(unsubscribePath, s.unsubscribePage)
	app.Post(unsubscribePath, s.unsubscribe)
	app.Post(resubscribePath, s.resubscribe)

	// API: bearer tokens (spec/api.md), before the session and CSRF checks;
	// errors are problem details. The description needs no token; every
	// other route is in apiRoutes (api_routes.go), and apiNotFound answers
	// whatever they do not take.
	api := app.Group(apiPrefix, s.apiProblems)
	s.apiHandle(api, apiOp{Method: fiber.MethodGet, Path: "/openapi.json", Tag: "meta", Public: true,
		Summary: "This API's OpenAPI 3.1 description", Out: map[string]any{}}, s.openAPI)
	api.Use(s.apiAuth, s.apiRateLimit())
	s.apiRoutes(api)
	api.Use(apiNotFound)
	doc, err := s.openAPIDoc()
	if err != nil {
		return fmt.Errorf("web: openapi: %w", err)
	}
	s.apiDoc = doc

	// Session pages: from here on the session is loaded and every
	// state-changing request must carry the CSRF token.
	app.Use(s.loadSession, s.checkCSRF)
	// First run: every page is /setup until an organization exists (firstrun.go).
	app.Use(s.firstRunGate)
	app.Get(setupPath, s.setupPage)
	app.Post(setupPath, s.setup)
	app.Get("/login", s.loginPage)
	app.Post("/login", s.login)
	app.Post("/logout", s.logout)
	app.Get("/", s.requireUser, s.dashboard)
	app.Get("/ws", s.ws) // answers 401 itself: a socket cannot follow a redirect
	app.Get("/chats", s.requireUser, s.chats)
	app.Get("/chats/new", s.requireUser, s.newChat)
	app.Get("/chats/empty", s.requireUser, s.chatsEmpty)
	app.Post("/chats", s.requireUser, s.startChat)
	app.Post("/chats/preview", s.requireUser, s.chatPreview)
	app.Get("/chats/:id<int>", s.requireUser, s.chatThread)
	app.Post("/chats/:id<int>/messages", s.requireUser, s.reply)
	app.Post("/chats/:id<int>/assign", s.requireUser, s.assign)
	app.Post("/chats/:id<int>/close", s.requireUser, s.closeChat)
	app.Post("/chats/:id<int>/reopen", s.requireUser, s.reopenChat)
	// An email's files and original (attachments.go): who may see the conversation.
	app.Get("/attachments/:id<int>", s.requireUser, s.downloadAttachment)
	app.Get("/messages/:id<int>/original", s.requireUser, s.messageOriginal)
	app.Get("/recipients", s.requireUser, s.recipients)
	s.groupRoutes(app) // groups_routes.go: new recipient, CSV export, bulk actions, Groups
	app.Get("/recipients/:id<int>", s.requireUser, s.recipientPage)
	s.importRoutes(app) // import_page.go
	app.Post("/recipients/:id<int>", s.requireUser, requirePerm(models.PermEditRecipients), s.saveRecipient)
	app.Post("/recipients/:id<int>/consent", s.requireUser, requirePerm(models.PermRecipientConsent), s.recipientConsent)
	s.recipientActionRoutes(app)
	app.Post("/chats/:id<int>/recipient", s.requireUser, requirePerm(models.PermEditRecipients), s.renameFromThread)
	s.broadcastRoutes(app) // broadcast_pages.go
	app.Get("/settings", s.requireUser, s.settings)
	// Settings: organization, locations, inboxes (settings_*.go); managers
	// see them, admins change them, agents get a 404.
	settingsView, settingsManage := settingsGuards()
	app.Post("/settings", s.requireUser, settingsManage, s.saveOrganization)
	app.Get("/settings/locations", s.requireUser, settingsView, s.settingsLocations)
	app.Get("/settings/locations/new", s.requireUser, settingsManage, s.newLocation)
	app.Post("/settings/locations", s.requireUser, settingsManage, s.createLocation)
	app.Get("/settings/locations/:id<int>", s.requireUser, settingsView, s.settingsLocation)
	app.Post("/settings/locations/:id<int>", s.requireUser, settingsManage, s.updateLocation)
	app.Post("/settings/locations/:id<int>/archive", s.requireUser, settingsManage, s.archiveLocation)
	app.Post("/settings/locations/:id<int>/credits", s.requireUser, requirePerm(models.PermManageCredits), s.buyCredits)
	app.Get("/settings/rate-card", s.requireUser, requirePerm(models.PermViewCredits), s.rateCardPage)
	app.Post("/settings/rate-card", s.requireUser, requirePerm(models.PermManageCredits), s.saveRateCard)
	app.Get("/settings/inboxes", s.requireUser, settingsView, s.settingsInboxes)
	app.Get("/settings/inboxes/new", s.requireUser, settingsManage, s.newInbox)
	app.Post("/settings/inboxes", s.requireUser, settingsManage, s.createInbox)
	app.Get("/settings/inboxes/:id<int>", s.requireUser, settingsView, s.settingsInbox)
	app.Post("/settings/inboxes/:id<int>", s.requireUser, settingsManage, s.updateInbox)
	app.Post("/settings/inboxes/:id<int>/archive", s.requireUser, settingsManage, s.archiveInbox)
	app.Post("/settings/inboxes/:id<int>/delete", s.requireUser, settingsManage, s.deleteInbox)
	app.Post("/settings/inboxes/:id<int>/closures", s.requireUser, settingsManage, s.addClosure)
	app.Post("/settings/inboxes/:id<int>/closures/:cid<int>/delete", s.requireUser, settingsManage, s.removeClosure)
	app.Post("/settings/inboxes/:id<int>/forwarding", s.requireUser, settingsManage, s.addForwarding)
	app.Post("/settings/inboxes/:id<int>/auto-responses", s.requireUser, settingsManage, s.saveAutoResponses)
	app.Post("/settings/inboxes/:id<int>/forwarding/:rid<int>/delete", s.requireUser, settingsManage, s.removeForwarding)
	app.Get("/credits", s.requireUser, requirePerm(models.PermViewCredits), s.credits)
	app.Get("/credits/banner", s.requireUser, requirePerm(models.PermViewCredits), s.creditBanner)
	app.Get("/credits/ledger.csv", s.requireUser, requirePerm(models.PermViewCredits), s.creditsLedgerCSV)
	s.teamRoutes(app) // team.go: Settings → Team, /profile, /password/:token
	app.Get("/settings/audit", s.requireUser, requirePerm(models.PermViewAudit), s.auditPage)
	if sim := s.deps.Simulator; sim != nil {
		phone := sim.Phone(s.pageKit())
		app.Get("/simulator/phone", s.requireUser, phone.Page)
		app.Get("/simulator/phone/thread", s.requireUser, phone.Thread)
		app.Post("/simulator/phone/send", s.requireUser, phone.Send)
	}
	if mb := s.deps.Mailbox; mb != nil {
		pages := mb.Pages(s.pageKit())
		app.Get("/simulator/mailbox", s.requireUser, pages.Page)
		app.Get("/simulator/mailbox/list", s.requireUser, pages.List)
		app.Post("/simulator/mailbox/send", s.requireUser, pages.Send)
		app.Post("/simulator/mailbox/reply", s.requireUser, pages.Reply)
	}

	// Operators: a session of an instance operator; anyone else (an
	// organization's admin included) gets a 404.
	queues, err := s.queuesHandler()
	if err != nil {
		return err
	}
	app.Use(queuesPath, s.requireUser, s.requireOperator, queues)
	app.Get(instancePath, s.requireUser, s.requireOperator, s.instancePage())

	app.Use(func(c *fiber.Ctx) error { return fiber.ErrNotFound })
	return nil
}
