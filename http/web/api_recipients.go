package web

import (
	"errors"
	"net/http"

	"github.com/gofiber/fiber/v2"
	"github.com/parley-chat/parley/models"
)

// The recipients API (spec/api.md): the same store methods as the
// Recipients page and the recipient page.

// apiRecipientOut is a recipient as the API shows it.
type apiRecipientOut struct {
	ID            int64   `json:"id"`
	Name          string  `json:"name"`
	Phone         *string `json:"phone" jsonschema:"description=E.164"`
	Email         *string `json:"email"`
	Notes         string  `json:"notes"`
	LocationID    *int64  `json:"location_id" jsonschema:"description=the home location"`
	Timezone      string  `json:"timezone" jsonschema:"description=IANA zone name; empty: from the phone number or the location"`
	SMSOptedOut   bool    `json:"sms_opted_out"`
	EmailOptedOut bool    `json:"email_opted_out"`
	CreatedAt     string  `json:"created_at" jsonschema:"format=date-time"`
	UpdatedAt     string  `json:"updated_at" jsonschema:"format=date-time"`
}

func recipientOut(r *models.Recipient) apiRecipientOut {
	return apiRecipientOut{ID: r.ID, Name: r.Name, Phone: r.Phone, Email: r.Email, Notes: r.Notes, LocationID: r.LocationID, Timezone: r.Timezone,
		SMSOptedOut: r.SMSOptedOutAt != nil, EmailOptedOut: r.EmailOptedOutAt != nil,
		CreatedAt: rfc3339(r.CreatedAt), UpdatedAt: rfc3339(r.UpdatedAt)}
}

// apiRecipientIn creates or changes a recipient; an absent field is left
// as it is, an empty phone or email removes it (one must remain).
type apiRecipientIn struct {
	Name  *string `json:"name,omitempty"`
	Phone *string `json:"phone,omitempty" jsonschema:"description=any format; stored as E.164"`
	Email *string `json:"email,omitempty"`
	Notes *string `json:"notes,omitempty"`
	// LocationID and Timezone (PATCH only): the home location (0: none)
	// and IANA time zone ("": none).
	LocationID *int64  `json:"location_id,omitempty" jsonschema:"description=PATCH: the home location, one of the organization's (0: none)"`
	Timezone   *string `json:"timezone,omitempty" jsonschema:"description=PATCH: an IANA time zone name such as Europe/Paris (empty: none)"`
}

func (in apiRecipientIn) input() models.RecipientInput {
	return models.RecipientInput{Name: in.Name, Phone: in.Phone, Email: in.Email, Notes: in.Notes}
}

// apiConsentChannel is a recipient's consent on one channel.
type apiConsentChannel struct {
	Channel    string  `json:"channel" jsonschema:"enum=sms,enum=email"`
	OptedOut   bool    `json:"opted_out"`
	OptedOutAt *string `json:"opted_out_at" jsonschema:"format=date-time"`
	// Source is who holds the opt-out (null while opted in): keyword,
	// receipt and unsubscribe are undone only by the recipient, agent and
	// import only by staff.
	Source *string `json:"source" jsonschema:"enum=keyword,enum=receipt,enum=agent,enum=import,enum=unsubscribe"`
}

// apiConsentEventOut is one change of consent.
type apiConsentEventOut struct {
	ID          int64   `json:"id"`
	Channel     string  `json:"channel" jsonschema:"enum=sms,enum=email"`
	Action      string  `json:"action" jsonschema:"enum=opt_out,enum=opt_in,enum=opt_in_refused,description=opt_in_refused: a START that did not lift an opt-out staff made"`
	Source      string  `json:"source" jsonschema:"enum=keyword,enum=receipt,enum=agent,enum=import,enum=unsubscribe"`
	Detail      string  `json:"detail" jsonschema:"description=the keyword received or the reason given"`
	ActorUserID *int64  `json:"actor_user_id"`
	ActorName   *string `json:"actor_name"`
	CreatedAt   string  `json:"created_at" jsonschema:"format=date-time"`
}

// apiConsentOut is GET /recipients/{id}/consent.
type apiConsentOut struct {
	RecipientID int64                `json:"recipient_id"`
	Channels    []apiConsentChannel  `json:"channels"`
	History     []apiConsentEventOut `json:"history"`
}

// apiConsentIn changes consent by hand (admins).
type apiConsentIn struct {
	Channel  string `json:"channel" jsonschema:"enum=sms,enum=email"`
	OptedOut bool   `json:"opted_out"`
	Reason   string `json:"reason,omitempty"`
}

func (s *Server) apiRecipientRoutes(api fiber.Router) {
	s.apiHandle(api, apiOp{Method: fiber.MethodGet, Path: "/recipients", Tag: "recipients", List: true,
		Summary: "Recipients, newest first; with Accept: text/csv every match as CSV", Out: apiRecipientOut{}, AlsoProduces: "text/csv",
		Query: []apiParam{{Name: "q", Description: "a substring of name, email or phone"},
			{Name: "group_id", Type: "integer", Description: "only this group's members"}}}, s.apiRecipients)
	s.apiHandle(api, apiOp{Method: fiber.MethodPost, Path: "/recipients", Tag: "recipients", Status: http.StatusCreated,
		Summary: "Add a recipient", Body: apiRecipientIn{}, Out: apiRecipientOut{}}, s.apiCreateRecipient)
	s.apiHandle(api, apiOp{Method: fiber.MethodGet, Path: "/recipients/:id<int>", Tag: "recipients",
		Summary: "One recipient", Out: apiRecipientOut{}}, s.apiRecipient)
	s.apiHandle(api, apiOp{Method: fiber.MethodPatch, Path: "/recipients/:id<int>", Tag: "recipients",
		Summary: "Change a recipient's name, phone, email or notes", Body: apiRecipientIn{}, Out: apiRecipientOut{}}, s.apiUpdateRecipient)
	s.apiHandle(api, apiOp{Method: fiber.MethodDelete, Path: "/recipients/:id<int>", Tag: "recipients",
		Summary:  "Delete a recipient. One with conversations is refused (409, saying how many conversations and messages) unless with_conversations=true, which deletes them too; credit ledger entries are kept. An opted-out recipient is never deleted (409).",
		Query:    []apiParam{{Name: "with_conversations", Type: "boolean", Description: "also delete the recipient's conversations and their messages"}},
		Problems: map[int]string{http.StatusConflict: "the recipient has conversations (without with_conversations=true), opted out, or has conversations in inboxes the caller cannot see"}}, s.apiDeleteRecipient)
	s.apiHandle(api, apiOp{Method: fiber.MethodGet, Path: "/recipients/:id<int>/consent", Tag: "recipients",
		Summary: "Consent per channel, and its history", Out: apiConsentOut{}}, s.apiRecipientConsent)
	s.apiHandle(api, apiOp{Method: fiber.MethodPost, Path: "/recipients/:id<int>/consent", Tag: "recipients",
		Summary: "Opt a recipient out of a channel or back in, by hand (admins). Opting back in an opt-out the recipient made (STOP, a carrier's report, an unsubscribe link) is refused (422 on opted_out): only they can undo it.", Body: apiConsentIn{}, Out: apiConsentOut{}}, s.apiSetConsent)
	s.apiRecipientActionRoutes(api)
}

func (s *Server) apiRecipients(c *fiber.Ctx) error {
	su := sessionUser(c)
	var after int64
	limit, err := pageParams(c, &after)
	if err != nil {
		return err
	}
	f, err := recipientFilter(c)
	if err != nil {
		return err
	}
	if wantsCSV(c) {
		return s.sendRecipientsCSV(c, su.Scope, f)
	}
	page, err := s.store.RecipientsFiltered(c.UserContext(), su.Scope, f, after, limit)
	if err != nil {
		return err
	}
	out := apiList[apiRecipientOut]{Data: make([]apiRecipientOut, 0, len(page.Recipients))}
	for i := range page.Recipients {
		out.Data = append(out.Data, recipientOut(&page.Recipients[i]))
	}
	if page.NextAfter != 0 {
		out.NextCursor = makeCursor(page.NextAfter)
	}
	return c.JSON(out)
}

func (s *Server) apiCreateRecipient(c *fiber.Ctx) error {
	var in apiRecipientIn
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	r, err := s.store.CreateRecipient(c.UserContext(), sessionUser(c).Scope, in.input())
	if err != nil {
		return err
	}
	return c.Status(http.StatusCreated).JSON(recipientOut(r))
}

func (s *Server) apiRecipient(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	r, err := s.store.RecipientByID(c.UserContext(), sessionUser(c).Scope, id)
	if err != nil {
		return err
	}
	return c.JSON(recipientOut(r))
}

func (s *Server) apiUpdateRecipient(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var in apiRecipientIn
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	ctx, sc := c.UserContext(), sessionUser(c).Scope
	var changes []*models.Change
	r, err := s.store.RecipientByID(ctx, sc, id)
	if err != nil {
		return err
	}
	placed := in.LocationID != nil || in.Timezone != nil
	place := models.RecipientPlace{Timezone: r.Timezone}
	if placed {
		if r.LocationID != nil {
			place.LocationID = *r.LocationID
		}
		if in.LocationID != nil {
			place.LocationID = *in.LocationID
		}
		if in.Timezone != nil {
			place.Timezone = *in.Timezone
		}
		// Checked before anything is written: a bad place leaves the
		// name, phone and email as they were too.
		if err := s.store.CheckRecipientPlace(ctx, sc, place); err != nil {
			return err
		}
	}
	if in.Name != nil || in.Phone != nil || in.Email != nil || in.Notes != nil {
		if r, changes, err = s.store.UpdateRecipient(ctx, sc, id, in.input()); err != nil {
			return err
		}
		s.publishAll(changes)
	}
	if placed {
		if r, err = s.store.SetRecipientPlace(ctx, sc, id, place); err != nil {
			return err
		}
	}
	return c.JSON(recipientOut(r))
}

func (s *Server) apiDeleteRecipient(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	with := c.Query("with_conversations")
	if with != "" && with != "true" && with != "false" {
		return &apiError{Status: http.StatusUnprocessableEntity, Type: problemTypeBase + "validation",
			Detail: "with_conversations must be true or false.", Fields: []fieldProblem{{Field: "with_conversations", Message: "true or false."}}}
	}
	if with == "true" {
		err := s.apiDeleteWithConversations(c, id)
		if errors.Is(err, models.ErrRecipientOptedOut) {
			return &apiError{Status: http.StatusConflict, Type: problemTypeBase + "recipient-opted-out",
				Detail: "The recipient opted out; deleting them would forget it, so they cannot be deleted."}
		}
		return err
	}
	if err := s.store.DeleteRecipient(c.UserContext(), sessionUser(c).Scope, id); err != nil {
		switch {
		case errors.Is(err, models.ErrRecipientOptedOut):
			return &apiError{Status: http.StatusConflict, Type: problemTypeBase + "recipient-opted-out",
				Detail: "The recipient opted out; deleting them would forget it, so they cannot be deleted."}
		case errors.Is(err, models.ErrConflict):
			return s.hasConversationsProblem(c, id)
		}
		return err
	}
	return c.SendStatus(http.StatusNoContent)
}

func (s *Server) apiRecipientConsent(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	return s.writeConsent(c, id)
}

func (s *Server) apiSetConsent(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var in apiConsentIn
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	changes, err := s.store.SetConsent(c.UserContext(), sessionUser(c).Scope, id, in.Channel, in.OptedOut, in.Reason)
	if err != nil {
		return err
	}
	s.publishAll(changes)
	return s.writeConsent(c, id)
}

// writeConsent answers with a recipient's consent state and history.
func (s *Server) writeConsent(c *fiber.Ctx, id int64) error {
	ctx, sc := c.UserContext(), sessionUser(c).Scope
	r, err := s.store.RecipientByID(ctx, sc, id)
	if err != nil {
		return err
	}
	hist, err := s.store.ConsentHistory(ctx, sc, id)
	if err != nil {
		return err
	}
	out := apiConsentOut{RecipientID: r.ID, History: make([]apiConsentEventOut, 0, len(hist))}
	for _, ch := range []struct {
		name string
		at   *string
		src  *string
	}{{models.ChannelSMS, timePtr(r.SMSOptedOutAt), r.SMSOptOutSource}, {models.ChannelEmail, timePtr(r.EmailOptedOutAt), r.EmailOptOutSource}} {
		out.Channels = append(out.Channels, apiConsentChannel{Channel: ch.name, OptedOut: ch.at != nil, OptedOutAt: ch.at, Source: ch.src})
	}
	for _, e := range hist {
		out.History = append(out.History, apiConsentEventOut{ID: e.ID, Channel: e.Channel, Action: e.Action, Source: e.Source,
			Detail: e.Detail, ActorUserID: e.ActorUserID, ActorName: e.ActorName, CreatedAt: rfc3339(e.CreatedAt)})
	}
	return c.JSON(out)
}
