package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/gofiber/fiber/v2"
	"github.com/parley-chat/parley/models"
)

// The recipient's merge, timeline and deletion through the API: the same
// store methods as the recipient page (recipient_actions.go).

// apiMergeIn names the recipient merged into the one in the path.
type apiMergeIn struct {
	OtherID int64 `json:"other_id" jsonschema:"description=the recipient merged into this one and deleted"`
}

// apiTimelineItemOut is one entry of a recipient's timeline.
type apiTimelineItemOut struct {
	Kind           string  `json:"kind" jsonschema:"enum=conversation,enum=broadcast,enum=consent,enum=message"`
	At             string  `json:"at" jsonschema:"format=date-time"`
	ID             int64   `json:"id" jsonschema:"description=the conversation's, broadcast's, consent change's or message's id"`
	ConversationID *int64  `json:"conversation_id" jsonschema:"description=a message's or broadcast copy's conversation"`
	Title          string  `json:"title" jsonschema:"description=conversation: its inbox; broadcast: its name; consent: opt_out, opt_in or opt_in_refused; message: inbound or outbound"`
	Channel        string  `json:"channel" jsonschema:"enum=sms,enum=email"`
	State          string  `json:"state" jsonschema:"description=conversation: its status; broadcast: the recipient's copy (pending, queued, sent, delivered, failed, skipped, cancelled); consent: its source; message: its status"`
	Detail         string  `json:"detail" jsonschema:"description=conversation: the last message's preview; broadcast: why skipped; consent: the keyword or reason; message: its text"`
	Actor          *string `json:"actor" jsonschema:"description=consent: the teammate who made the change"`
}

// apiTimelineOut is one page of a timeline.
type apiTimelineOut struct {
	Data []apiTimelineItemOut `json:"data"`
	// NextPage is the page parameter of the next page (null at the end).
	NextPage *int `json:"next_page"`
}

func (s *Server) apiRecipientActionRoutes(api fiber.Router) {
	s.apiHandle(api, apiOp{Method: fiber.MethodPost, Path: "/recipients/:id<int>/merge", Tag: "recipients",
		Summary: "Merge another recipient into this one (its conversations, consent history, groups and broadcasts move here; it is deleted); returns the survivor",
		Body:    apiMergeIn{}, Out: apiRecipientOut{},
		Problems: map[int]string{http.StatusConflict: "the caller is limited to some inboxes and one of the two has conversations elsewhere"}}, s.apiMergeRecipient)
	s.apiHandle(api, apiOp{Method: fiber.MethodGet, Path: "/recipients/:id<int>/timeline", Tag: "recipients",
		Summary: "The recipient's conversations, broadcasts received and consent changes, newest first; with q, their messages matching it (full-text)",
		Out:     apiTimelineOut{},
		Query: []apiParam{{Name: "q", Description: "words to find in the recipient's messages (web search syntax)"},
			{Name: "page", Description: "the page, from 1 (30 items a page)", Type: "integer"}}}, s.apiRecipientTimeline)
}

func (s *Server) apiMergeRecipient(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var in apiMergeIn
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	r, changes, err := s.store.MergeRecipients(c.UserContext(), sessionUser(c).Scope, id, in.OtherID)
	if errors.Is(err, models.ErrRecipientElsewhere) {
		return &apiError{Status: http.StatusConflict, Type: problemTypeBase + "recipient-elsewhere",
			Detail: "One of the recipients has conversations in inboxes you cannot see, so you cannot merge them."}
	}
	if err != nil {
		return err
	}
	s.publishAll(changes)
	return c.JSON(recipientOut(r))
}

func (s *Server) apiRecipientTimeline(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	page := 1
	if v := c.Query("page"); v != "" {
		if page, err = strconv.Atoi(v); err != nil || page < 1 {
			return &apiError{Status: http.StatusUnprocessableEntity, Type: problemTypeBase + "validation",
				Detail: "page must be a whole number from 1.", Fields: []fieldProblem{{Field: "page", Message: "From 1."}}}
		}
	}
	tl, err := s.store.RecipientTimeline(c.UserContext(), sessionUser(c).Scope, id, c.Query("q"), page)
	if err != nil {
		return err
	}
	out := apiTimelineOut{Data: make([]apiTimelineItemOut, 0, len(tl.Items))}
	for _, it := range tl.Items {
		out.Data = append(out.Data, apiTimelineItemOut{Kind: it.Kind, At: rfc3339(it.At), ID: it.ID, ConversationID: it.ConversationID,
			Title: it.Title, Channel: it.Channel, State: it.State, Detail: it.Detail, Actor: it.Actor})
	}
	if tl.Next != 0 {
		out.NextPage = &tl.Next
	}
	return c.JSON(out)
}

// apiDeleteWithConversations deletes a recipient and their conversations
// (?with_conversations=true).
func (s *Server) apiDeleteWithConversations(c *fiber.Ctx, id int64) error {
	_, err := s.store.DeleteRecipientWithConversations(c.UserContext(), sessionUser(c).Scope, id)
	if errors.Is(err, models.ErrRecipientElsewhere) {
		return &apiError{Status: http.StatusConflict, Type: problemTypeBase + "recipient-elsewhere",
			Detail: "The recipient has conversations in inboxes you cannot see, so you cannot delete them."}
	}
	if err != nil {
		return err
	}
	return c.SendStatus(http.StatusNoContent)
}

// hasConversationsProblem is the refusal of a plain DELETE, saying what
// ?with_conversations=true would delete.
func (s *Server) hasConversationsProblem(c *fiber.Ctx, id int64) error {
	fp, err := s.store.RecipientDeletionPreview(c.UserContext(), sessionUser(c).Scope, id)
	if err != nil {
		return err
	}
	return &apiError{Status: http.StatusConflict, Type: problemTypeBase + "recipient-has-conversations",
		Detail: fmt.Sprintf("The recipient has %d conversations with %d messages. DELETE with ?with_conversations=true deletes them too (credit ledger entries are kept).",
			fp.Conversations, fp.Messages)}
}
