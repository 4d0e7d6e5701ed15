package web

import (
	"errors"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/views"
)

// Every chat action is one store transaction, then one publish: the
// acting browser gets the result in its response, every other screen
// through its socket.

func asFieldError(err error) *models.FieldError {
	var fe *models.FieldError
	if errors.As(err, &fe) {
		return fe
	}
	return nil
}

// gateMessage explains a refused send in words an agent can act on.
func gateMessage(err error, channel string) string {
	switch {
	case errors.Is(err, models.ErrOptedOut):
		return views.OptedOutText(channel)
	case errors.Is(err, models.ErrPlanInactive):
		return "This location's Chat plan is not active, so messages cannot be sent. An admin can activate it in Settings."
	case errors.Is(err, models.ErrInsufficientCredits):
		return creditsMessage(err)
	}
	return ""
}

func convID(c *fiber.Ctx) (int64, error) { return pathID(c, "id") }

// startChat handles the new-chat form.
func (s *Server) startChat(c *fiber.Ctx) error {
	su := sessionUser(c)
	inboxID, _ := strconv.ParseInt(c.FormValue("inbox"), 10, 64)
	in := models.StartInput{InboxID: inboxID, To: c.FormValue("to"), Body: c.FormValue("body"), Subject: c.FormValue("subject")}
	ch, err := s.store.StartConversation(c.UserContext(), su.Scope, in)
	if err != nil {
		form := &views.NewChatData{InboxID: inboxID, To: in.To, Body: in.Body, Subject: in.Subject, Errors: map[string]string{}}
		switch {
		case asFieldError(err) != nil:
			form.Errors[asFieldError(err).Field] = asFieldError(err).Message
		case gateMessage(err, "") != "":
			form.Errors["general"] = gateMessage(err, models.ChannelSMS)
		default:
			return err
		}
		d, derr := s.chatsData(c, su, nil)
		if derr != nil {
			return derr
		}
		form.Inboxes, d.NewChat = openInboxes(d.Inboxes), form
		s.newChatCredits(c, form)
		c.Status(fiber.StatusUnprocessableEntity)
		return s.render(c, "chats", views.Layout{Title: "New chat", Active: "chats"}, d)
	}
	s.publish(ch)
	target := "/chats/" + strconv.FormatInt(ch.Conversation.ID, 10)
	if c.Get("HX-Request") == "true" {
		c.Set("HX-Location", `{"path": "`+target+`", "target": "#chats", "select": "#chats", "swap": "outerHTML"}`)
		return c.SendStatus(fiber.StatusNoContent)
	}
	return c.Redirect(target, fiber.StatusSeeOther)
}

// reply handles the composer: a message to the recipient, or a note.
func (s *Server) reply(c *fiber.Ctx) error {
	su := sessionUser(c)
	id, err := convID(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	body, note := c.FormValue("body"), c.FormValue("note") == "on"
	ch, err := s.store.Reply(ctx, su.Scope, id, body, note)
	if err != nil {
		conv, cerr := s.store.ConversationByID(ctx, su.Scope, id)
		if cerr != nil {
			return cerr // not found stays a 404
		}
		msg := gateMessage(err, conv.Channel)
		if fe := asFieldError(err); fe != nil {
			msg = fe.Message
		}
		if msg == "" {
			return err
		}
		c.Status(fiber.StatusUnprocessableEntity)
		return s.fragment(c, "composer", s.composer(c, conv, body, note, msg))
	}
	s.publish(ch)
	// A fresh composer, plus the new item for this browser in case its
	// socket is down (the socket's copy is dropped as a duplicate).
	if err := s.fragment(c, "composer", s.composer(c, &ch.Conversation, "", false, "")); err != nil {
		return err
	}
	return writeItems(s.views, c, ch.Conversation, ch.Events)
}

// assign gives the conversation to someone ("me", a user id, or 0 for nobody).
func (s *Server) assign(c *fiber.Ctx) error {
	su := sessionUser(c)
	id, err := convID(c)
	if err != nil {
		return err
	}
	who := strings.TrimSpace(c.FormValue("assignee"))
	var assignee int64
	if who == "me" {
		assignee = su.User.ID
	} else if assignee, err = strconv.ParseInt(who, 10, 64); err != nil {
		return fiber.NewError(fiber.StatusBadRequest, "assignee must be me, a user id or 0")
	}
	return s.act(c, func() (*models.Change, error) { return s.store.Assign(c.UserContext(), su.Scope, id, assignee) })
}

func (s *Server) closeChat(c *fiber.Ctx) error {
	su := sessionUser(c)
	id, err := convID(c)
	if err != nil {
		return err
	}
	return s.act(c, func() (*models.Change, error) { return s.store.Close(c.UserContext(), su.Scope, id) })
}

func (s *Server) reopenChat(c *fiber.Ctx) error {
	su := sessionUser(c)
	id, err := convID(c)
	if err != nil {
		return err
	}
	return s.act(c, func() (*models.Change, error) { return s.store.Reopen(c.UserContext(), su.Scope, id) })
}

// act runs a header action and answers with the updated header, list row
// and timeline items as out-of-band swaps (the same frames the socket carries).
func (s *Server) act(c *fiber.Ctx, fn func() (*models.Change, error)) error {
	ch, err := fn()
	if fe := asFieldError(err); fe != nil {
		return fiber.NewError(fiber.StatusUnprocessableEntity, fe.Message)
	}
	if err != nil {
		return err
	}
	s.publish(ch)
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	_, err = c.Write(s.frames(ch).thread)
	return err
}

// chatPreview renders the composer's live character, segment and credit
// count. The composer sends its location's rate and available credits
// with each request (rendered for this user with the composer; the send
// checks again), so typing costs no query.
func (s *Server) chatPreview(c *fiber.Ctx) error {
	rate, _ := strconv.Atoi(c.FormValue("rate"))
	p := preview(c.FormValue("channel"), c.FormValue("body"), max(rate, 0))
	if av := c.FormValue("available"); av != "" {
		if n, err := strconv.ParseInt(av, 10, 64); err == nil {
			p.Available, p.Metered = n, true
		}
	}
	return s.fragment(c, "preview", p)
}

// fragment renders one named template of the chats page.
func (s *Server) fragment(c *fiber.Ctx, name string, data any) error {
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return s.views.Fragment(c, "chats", name, data)
}
