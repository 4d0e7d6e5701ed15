package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/parley-chat/parley/models"
)

// The conversations API (spec/api.md): the same store methods as the Chats
// module, and each action publishes its change as the page's handler
// does, so agents' screens follow what a program does.

// apiRecipientRef is the recipient a conversation is with.
type apiRecipientRef struct {
	ID    int64   `json:"id"`
	Name  string  `json:"name"`
	Phone *string `json:"phone"`
	Email *string `json:"email"`
}

// apiConversationOut is a conversation as the API shows it.
type apiConversationOut struct {
	ID                 int64           `json:"id"`
	InboxID            int64           `json:"inbox_id"`
	Channel            string          `json:"channel" jsonschema:"enum=sms,enum=email"`
	Status             string          `json:"status" jsonschema:"enum=new,enum=open,enum=closed"`
	Origin             string          `json:"origin" jsonschema:"enum=agent,enum=broadcast,enum=recipient"`
	AssigneeID         *int64          `json:"assignee_id"`
	Recipient          apiRecipientRef `json:"recipient"`
	OptedOut           bool            `json:"opted_out" jsonschema:"description=the recipient opted out of this channel"`
	BroadcastID        *int64          `json:"broadcast_id"`
	PreviousID         *int64          `json:"previous_id"`
	LastMessageAt      string          `json:"last_message_at" jsonschema:"format=date-time"`
	LastMessagePreview string          `json:"last_message_preview"`
	UnreadCount        int             `json:"unread_count"`
	CreatedAt          string          `json:"created_at" jsonschema:"format=date-time"`
	ClosedAt           *string         `json:"closed_at" jsonschema:"format=date-time"`
	Subject            string          `json:"subject,omitempty" jsonschema:"description=an email conversation's subject (without Re:)"`
	Credits            int64           `json:"credits" jsonschema:"description=what the conversation has cost so far: its messages' charges less refunds (charges are settled shortly after a message is stored)"`
	Match              *apiTextMatch   `json:"match,omitempty" jsonschema:"description=with ?q=: the newest message (or note) holding the words, when the conversation was found by its messages' text"`
}

// apiTextMatch is the message a search found in a conversation.
type apiTextMatch struct {
	MessageID int64    `json:"message_id"`
	IsNote    bool     `json:"is_note"`
	At        string   `json:"at" jsonschema:"format=date-time,description=when the message was written: a conversation found by its messages alone is listed by it"`
	Snippet   string   `json:"snippet" jsonschema:"description=plain text: a few words of the message around the match"`
	Matched   []string `json:"matched" jsonschema:"description=the runs of snippet text that matched the search, in order"`
}

// textMatchOut is m as the API shows it.
func textMatchOut(m models.MessageMatch) *apiTextMatch {
	out := &apiTextMatch{MessageID: m.MessageID, IsNote: m.IsNote, At: rfc3339(m.At), Matched: []string{}}
	var b strings.Builder
	for _, p := range m.Snippet {
		b.WriteString(p.Text)
		if p.Hit {
			out.Matched = append(out.Matched, p.Text)
		}
	}
	out.Snippet = b.String()
	return out
}

func conversationOut(r *models.ConversationRow) apiConversationOut {
	return apiConversationOut{ID: r.ID, InboxID: r.InboxID, Channel: r.Channel, Status: r.Status, Origin: r.Origin,
		AssigneeID: r.AssigneeID, Recipient: apiRecipientRef{ID: r.RecipientID, Name: r.RecipientName, Phone: r.RecipientPhone, Email: r.RecipientEmail},
		OptedOut: r.OptedOut, BroadcastID: r.BroadcastID, PreviousID: r.PreviousID, LastMessageAt: rfc3339(r.LastMessageAt),
		LastMessagePreview: r.LastMessagePreview, UnreadCount: r.UnreadCount, CreatedAt: rfc3339(r.CreatedAt), ClosedAt: timePtr(r.ClosedAt),
		Subject: r.Subject}
}

// apiStartIn starts (or continues) a chat: with to (a phone number or an
// email address) or recipient_id; a new email chat needs a subject.
type apiStartIn struct {
	InboxID     int64  `json:"inbox_id"`
	Channel     string `json:"channel,omitempty" jsonschema:"enum=sms,enum=email,description=default: follows from to or the recipient"`
	To          string `json:"to,omitempty" jsonschema:"description=a phone number or an email address; or give recipient_id"`
	RecipientID int64  `json:"recipient_id,omitempty"`
	Body        string `json:"body"`
	Subject     string `json:"subject,omitempty" jsonschema:"maxLength=200,description=required for a new email chat (ignored for SMS and when the chat continues an email thread's subject)"`
}

// apiStartOut is the conversation and its new message.
type apiStartOut struct {
	Conversation apiConversationOut `json:"conversation"`
	Message      *apiMessageOut     `json:"message"`
}

// apiAssignIn assigns a conversation; null (or absent) unassigns it.
type apiAssignIn struct {
	UserID *int64 `json:"user_id"`
}

// convCursor is the conversations list's keyset position.
type convCursor struct {
	At time.Time `json:"t"`
	ID int64     `json:"i"`
}

func (s *Server) apiConversationRoutes(api fiber.Router) {
	s.apiHandle(api, apiOp{Method: fiber.MethodGet, Path: "/conversations", Tag: "conversations", List: true,
		Summary: "Conversations, newest activity first", Out: apiConversationOut{},
		Query: []apiParam{
			{Name: "status", Description: "comma-separated: new, open, closed (default new,open); a broadcast's own closed conversation with each recipient is not a chat and is not listed (GET /conversations/{id} reads it)"},
			{Name: "assignee", Description: "me, none, or a user id"},
			{Name: "inbox_id", Type: "integer", Description: "one inbox"},
			{Name: "q", Description: "a substring of the recipient's name, email or phone, or words of a message or note (each word also matches longer words it starts; \"quoted words\" are a phrase; a conversation found by a message is listed by that message's time)"},
		}}, s.apiConversations)
	s.apiHandle(api, apiOp{Method: fiber.MethodPost, Path: "/conversations", Tag: "conversations", Status: http.StatusCreated,
		Idempotent: true, Summary: "Start a chat (or continue the active one) with a first message",
		Body: apiStartIn{}, Out: apiStartOut{}, Problems: sendRefusals()}, s.apiStartConversation)
	s.apiHandle(api, apiOp{Method: fiber.MethodGet, Path: "/conversations/:id<int>", Tag: "conversations",
		Summary: "One conversation", Out: apiConversationOut{}}, s.apiConversation)
	s.apiHandle(api, apiOp{Method: fiber.MethodPost, Path: "/conversations/:id<int>/assign", Tag: "conversations",
		Summary: "Assign to a team member, or to nobody with null", Body: apiAssignIn{}, Out: apiConversationOut{}}, s.apiAssign)
	s.apiHandle(api, apiOp{Method: fiber.MethodPost, Path: "/conversations/:id<int>/close", Tag: "conversations",
		Summary: "Close", Out: apiConversationOut{}}, s.apiConvAction((*models.Store).Close))
	s.apiHandle(api, apiOp{Method: fiber.MethodPost, Path: "/conversations/:id<int>/reopen", Tag: "conversations",
		Summary: "Reopen (409 if a newer one with the recipient is active)", Out: apiConversationOut{}}, s.apiConvAction((*models.Store).Reopen))
}

func (s *Server) apiConversations(c *fiber.Ctx) error {
	su := sessionUser(c)
	var cur convCursor
	limit, err := pageParams(c, &cur)
	if err != nil {
		return err
	}
	f := models.ConversationFilter{Status: c.Query("status", "active"), Query: strings.TrimSpace(c.Query("q")),
		BeforeAt: cur.At, BeforeID: cur.ID, Limit: limit}
	if f.Status == "" {
		f.Status = "active"
	}
	if len(f.Query) > 200 {
		return validation("q", "At most 200 characters.")
	}
	switch a := c.Query("assignee"); a {
	case "":
	case "me":
		f.Assignee = "mine"
	case "none":
		f.Assignee = "unassigned"
	default:
		id, err := strconv.ParseInt(a, 10, 64)
		if err != nil || id <= 0 {
			return validation("assignee", "Use me, none or a user id.")
		}
		f.AssigneeID = id
	}
	if v := c.Query("inbox_id"); v != "" {
		if f.InboxID, err = strconv.ParseInt(v, 10, 64); err != nil || f.InboxID <= 0 {
			return validation("inbox_id", "Use an inbox id.")
		}
	}
	page, err := s.store.Conversations(c.UserContext(), su.Scope, f)
	if err != nil {
		return err
	}
	out := apiList[apiConversationOut]{Data: make([]apiConversationOut, 0, len(page.Rows))}
	for i := range page.Rows {
		o := conversationOut(&page.Rows[i])
		if m, ok := page.Matches[page.Rows[i].ID]; ok {
			o.Match = textMatchOut(m)
		}
		out.Data = append(out.Data, o)
	}
	refs := make([]*apiConversationOut, len(out.Data))
	for i := range out.Data {
		refs[i] = &out.Data[i]
	}
	if err := s.withCosts(c.UserContext(), su.Scope, refs...); err != nil {
		return err
	}
	if page.More {
		out.NextCursor = makeCursor(convCursor{At: page.NextAt, ID: page.NextID})
	}
	return c.JSON(out)
}

func (s *Server) apiConversation(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	row, err := s.store.ConversationByID(c.UserContext(), sessionUser(c).Scope, id)
	if err != nil {
		return err
	}
	return s.sendConversation(c, conversationOut(row))
}

func (s *Server) apiStartConversation(c *fiber.Ctx) error {
	su := sessionUser(c)
	var in apiStartIn
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if in.InboxID <= 0 {
		return validation("inbox_id", "Choose the inbox to send from.")
	}
	switch in.Channel {
	case "", models.ChannelSMS, models.ChannelEmail:
	default:
		return validation("channel", "Use sms or email.")
	}
	to, err := s.startAddress(c.UserContext(), su.Scope, in)
	if err != nil {
		return err
	}
	return s.apiIdempotent(c, http.StatusCreated, func(ctx context.Context) (any, func(), error) {
		ch, err := s.store.StartConversation(ctx, su.Scope, models.StartInput{InboxID: in.InboxID, To: to, Body: in.Body, Subject: in.Subject})
		if err != nil {
			return nil, nil, sendRefusal(err)
		}
		out := apiStartOut{Conversation: conversationOut(&ch.Conversation), Message: lastMessage(ch)}
		if err := s.withCosts(ctx, su.Scope, &out.Conversation); err != nil {
			return nil, nil, err
		}
		return out, func() { s.publish(ch) }, nil
	})
}

// startAddress is the address a new chat goes to: to as given, or the
// recipient's address on the channel.
func (s *Server) startAddress(ctx context.Context, sc models.Scope, in apiStartIn) (string, error) {
	switch {
	case in.To != "" && in.RecipientID != 0:
		return "", validation("to", "Give to or recipient_id, not both.")
	case in.To != "":
		if in.Channel == models.ChannelSMS && strings.Contains(in.To, "@") {
			return "", validation("to", "An SMS chat needs a phone number.")
		}
		if in.Channel == models.ChannelEmail && !strings.Contains(in.To, "@") {
			return "", validation("to", "An email chat needs an email address.")
		}
		return in.To, nil
	case in.RecipientID != 0:
		r, err := s.store.RecipientByID(ctx, sc, in.RecipientID)
		if errors.Is(err, models.ErrNotFound) {
			return "", validation("recipient_id", "No such recipient.")
		}
		if err != nil {
			return "", err
		}
		if in.Channel == models.ChannelEmail {
			if r.Email == nil {
				return "", validation("recipient_id", "The recipient has no email address.")
			}
			return *r.Email, nil
		}
		if r.Phone == nil {
			return "", validation("recipient_id", "The recipient has no phone number.")
		}
		return *r.Phone, nil
	}
	return "", validation("to", "Give to (a phone number) or recipient_id.")
}

func (s *Server) apiAssign(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var in apiAssignIn
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	var who int64
	if in.UserID != nil {
		if who = *in.UserID; who <= 0 {
			return validation("user_id", "Use a user id, or null to unassign.")
		}
	}
	ch, err := s.store.Assign(c.UserContext(), sessionUser(c).Scope, id, who)
	if fe := asFieldError(err); fe != nil && fe.Field == "assignee" {
		return validation("user_id", fe.Message)
	}
	if err != nil {
		return err
	}
	s.publish(ch)
	return s.sendConversation(c, conversationOut(&ch.Conversation))
}

// apiConvAction runs a header action (close, reopen) and publishes it.
func (s *Server) apiConvAction(act func(*models.Store, context.Context, models.Scope, int64) (*models.Change, error)) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := pathID(c, "id")
		if err != nil {
			return err
		}
		ch, err := act(s.store, c.UserContext(), sessionUser(c).Scope, id)
		if fe := asFieldError(err); fe != nil && fe.Field == "status" {
			return &apiError{Status: http.StatusConflict, Type: problemTypeBase + "newer-conversation", Detail: fe.Message}
		}
		if err != nil {
			return err
		}
		s.publish(ch)
		return s.sendConversation(c, conversationOut(&ch.Conversation))
	}
}

// apiIdempotent answers a POST that creates something, honouring an
// Idempotency-Key header: run does the work and returns the body and what
// to do after the commit (publish); with a key, a repeat within 24 hours
// gets the first response again (Idempotent-Replayed: true) and nothing
// runs. A key first used on another method or path is a 422.
func (s *Server) apiIdempotent(c *fiber.Ctx, status int, run func(ctx context.Context) (any, func(), error)) error {
	key := c.Get("Idempotency-Key")
	if key == "" {
		out, after, err := run(c.UserContext())
		if err != nil {
			return err
		}
		after()
		return c.Status(status).JSON(out)
	}
	var after func()
	su := sessionUser(c)
	res, err := s.store.Idempotent(c.UserContext(), su.User.ID, key, c.Method()+" "+c.Path(),
		func(ctx context.Context) (int, []byte, error) {
			out, a, err := run(ctx)
			if err != nil {
				return 0, nil, err
			}
			after = a
			b, err := json.Marshal(out)
			return status, b, err
		})
	if errors.Is(err, models.ErrIdempotencyMismatch) {
		return &apiError{Status: http.StatusUnprocessableEntity, Type: problemTypeBase + "idempotency-key-reused",
			Detail: "This Idempotency-Key was used with another request; use a new key.",
			Fields: []fieldProblem{{Field: "Idempotency-Key", Message: "Already used with another request."}}}
	}
	if err != nil {
		return err
	}
	if res.Replayed {
		c.Set("Idempotent-Replayed", "true")
	} else if after != nil {
		after()
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Status(res.Status).Send(res.Body)
}

// sendRefusal turns a send the gate refused into a 422 whose type says
// why, or, for lack of credits, a 402 with the balance and the price.
func sendRefusal(err error) error {
	var ic *models.InsufficientCreditsError
	switch {
	case errors.As(err, &ic):
		return insufficientCredits(ic)
	case errors.Is(err, models.ErrOptedOut):
		return &apiError{Status: http.StatusUnprocessableEntity, Type: problemTypeBase + "opted-out",
			Detail: "The recipient opted out of this channel; nothing may be sent. An internal note is still possible."}
	case errors.Is(err, models.ErrPlanInactive):
		return &apiError{Status: http.StatusUnprocessableEntity, Type: problemTypeBase + "plan-inactive",
			Detail: "This location's Chat plan is not active, so messages cannot be sent."}
	}
	return err
}

// validation is a 422 naming one field.
func validation(field, msg string) error {
	return &apiError{Status: http.StatusUnprocessableEntity, Type: problemTypeBase + "validation",
		Detail: field + ": " + msg, Fields: []fieldProblem{{Field: field, Message: msg}}}
}
