package web

import (
	"context"
	"net/http"

	"github.com/gofiber/fiber/v2"
	"github.com/parley-chat/parley/models"
)

// The messages API: a conversation's messages and notes, and sending one.

// apiMessageOut is a message (or note) as the API shows it.
type apiMessageOut struct {
	ID             int64  `json:"id"`
	ConversationID int64  `json:"conversation_id"`
	Direction      string `json:"direction" jsonschema:"enum=inbound,enum=outbound"`
	Channel        string `json:"channel" jsonschema:"enum=sms,enum=email"`
	Body           string `json:"body"`
	Note           bool   `json:"note"`
	AuthorType     string `json:"author_type" jsonschema:"enum=user,enum=recipient,enum=automation"`
	AuthorUserID   *int64 `json:"author_user_id"`
	Status         string `json:"status" jsonschema:"enum=none,enum=received,enum=queued,enum=sending,enum=sent,enum=delivered,enum=failed"`
	StatusReason   string `json:"status_reason"`
	Segments       int    `json:"segments"`
	Credits        int    `json:"credits"`
	CreatedAt      string `json:"created_at" jsonschema:"format=date-time"`
	// Email is an email's headers (absent for SMS); Attachments its files.
	Email       *apiEmailOut       `json:"email,omitempty"`
	Attachments []apiAttachmentOut `json:"attachments"`
	Automated   bool               `json:"automated" jsonschema:"description=machine-written (an auto-submitted email): nothing automatic answers it"`
}

func messageOut(m *models.Message) apiMessageOut {
	out := apiMessageOut{ID: m.ID, ConversationID: m.ConversationID, Direction: m.Direction, Channel: m.Channel, Body: m.Body,
		Note: m.IsNote, AuthorType: m.AuthorType, AuthorUserID: m.AuthorUserID, Status: m.Status, StatusReason: m.StatusReason,
		Segments: m.Segments, Credits: m.CreditsCharged, CreatedAt: rfc3339(m.CreatedAt), Automated: m.Automated}
	out.Email, out.Attachments = emailOut(m)
	return out
}

// lastMessage is the newest message a change carries, or nil.
func lastMessage(ch *models.Change) *apiMessageOut {
	for i := len(ch.Events) - 1; i >= 0; i-- {
		if m := ch.Events[i].Message; m != nil {
			out := messageOut(m)
			return &out
		}
	}
	return nil
}

// apiMessageIn sends a message, or with note records an internal note.
type apiMessageIn struct {
	Body string `json:"body"`
	Note bool   `json:"note,omitempty"`
}

func (s *Server) apiMessageRoutes(api fiber.Router) {
	s.apiHandle(api, apiOp{Method: fiber.MethodGet, Path: "/conversations/:id<int>/messages", Tag: "messages", List: true,
		Summary: "A conversation's messages and notes, newest first", Out: apiMessageOut{}}, s.apiMessages)
	s.apiHandle(api, apiOp{Method: fiber.MethodPost, Path: "/conversations/:id<int>/messages", Tag: "messages",
		Status: http.StatusCreated, Idempotent: true,
		Summary: "Send a message (queued; see its status) or, with note, leave an internal note",
		Body:    apiMessageIn{}, Out: apiMessageOut{}, Problems: sendRefusals()}, s.apiSend)
}

func (s *Server) apiMessages(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var before int64
	limit, err := pageParams(c, &before)
	if err != nil {
		return err
	}
	page, err := s.store.ConversationMessages(c.UserContext(), sessionUser(c).Scope, id, before, limit)
	if err != nil {
		return err
	}
	out := apiList[apiMessageOut]{Data: make([]apiMessageOut, 0, len(page.Messages))}
	for i := range page.Messages {
		out.Data = append(out.Data, messageOut(&page.Messages[i]))
	}
	if page.NextBefore != 0 {
		out.NextCursor = makeCursor(page.NextBefore)
	}
	return c.JSON(out)
}

func (s *Server) apiSend(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var in apiMessageIn
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	sc := sessionUser(c).Scope
	return s.apiIdempotent(c, http.StatusCreated, func(ctx context.Context) (any, func(), error) {
		ch, err := s.store.Reply(ctx, sc, id, in.Body, in.Note)
		if err != nil {
			return nil, nil, sendRefusal(err)
		}
		return lastMessage(ch), func() { s.publish(ch) }, nil
	})
}
