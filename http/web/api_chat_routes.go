package web

import "github.com/gofiber/fiber/v2"

// apiChatRoutes registers the chat resources: recipients, conversations
// and their messages.
func (s *Server) apiChatRoutes(api fiber.Router) {
	s.apiRecipientRoutes(api)
	s.apiConversationRoutes(api)
	s.apiMessageRoutes(api)
	s.apiAttachmentRoutes(api) // attachments.go
}
