package web

import (
	"strconv"

	"github.com/gofiber/fiber/v2"
	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/views"
)

// The recipient page (/recipients/:id): edit the recipient, see the
// conversations with them, and (admins) change consent by hand; and the
// thread's rename, which calls the same store method.

func recipientID(c *fiber.Ctx) (int64, error) { return pathID(c, "id") }

// recipientData loads the page for a recipient the user may see.
func (s *Server) recipientData(c *fiber.Ctx, id int64) (*views.RecipientData, error) {
	ctx, sc := c.UserContext(), sessionUser(c).Scope
	r, err := s.store.RecipientByID(ctx, sc, id)
	if err != nil {
		return nil, err
	}
	d := &views.RecipientData{Recipient: r, Form: recipientForm(r)}
	if d.Conversations, err = s.store.RecipientConversations(ctx, sc, id); err != nil {
		return nil, err
	}
	if d.History, err = s.store.ConsentHistory(ctx, sc, id); err != nil {
		return nil, err
	}
	d.Query = c.Query("q")
	d.Page, _ = strconv.Atoi(c.Query("page"))
	if d.Page < 1 {
		d.Page = 1
	}
	d.Timeline, err = s.store.RecipientTimeline(ctx, sc, id, d.Query, d.Page)
	if fe := asFieldError(err); fe != nil {
		d.Timeline = &models.TimelinePage{}
	} else if err != nil {
		return nil, err
	}
	if d.Places, err = s.store.RecipientPlaceOptions(ctx, sc); err != nil {
		return nil, err
	}
	d.Place = models.RecipientPlace{Timezone: r.Timezone}
	if r.LocationID != nil {
		d.Place.LocationID = *r.LocationID
	}
	d.PlaceErrors = map[string]string{}
	d.PlaceSaved = c.Query("place") == "1"
	return d, nil
}

func recipientForm(r *models.Recipient) views.RecipientForm {
	f := views.RecipientForm{Name: r.Name, Notes: r.Notes, Errors: map[string]string{}}
	if r.Phone != nil {
		f.Phone = *r.Phone
	}
	if r.Email != nil {
		f.Email = *r.Email
	}
	return f
}

func (s *Server) renderRecipient(c *fiber.Ctx, d *views.RecipientData) error {
	return s.render(c, "recipient", views.Layout{Title: d.Label() + " · Recipients", Active: "recipients"}, d)
}

// recipientPage shows a recipient.
func (s *Server) recipientPage(c *fiber.Ctx) error {
	id, err := recipientID(c)
	if err != nil {
		return err
	}
	d, err := s.recipientData(c, id)
	if err != nil {
		return err
	}
	d.Form.Saved = c.Query("saved") == "1"
	return s.renderRecipient(c, d)
}

// saveRecipient handles the edit form: a bad field is shown next to it
// (422, nothing changed); a save redirects back to the page.
func (s *Server) saveRecipient(c *fiber.Ctx) error {
	id, err := recipientID(c)
	if err != nil {
		return err
	}
	name, phone, email, notes := c.FormValue("name"), c.FormValue("phone"), c.FormValue("email"), c.FormValue("notes")
	_, changes, err := s.store.UpdateRecipient(c.UserContext(), sessionUser(c).Scope, id,
		models.RecipientInput{Name: &name, Phone: &phone, Email: &email, Notes: &notes})
	s.publishAll(changes)
	if fe := asFieldError(err); fe != nil {
		d, derr := s.recipientData(c, id)
		if derr != nil {
			return derr
		}
		d.Form = views.RecipientForm{Name: name, Phone: phone, Email: email, Notes: notes, Errors: map[string]string{fe.Field: fe.Message}}
		c.Status(fiber.StatusUnprocessableEntity)
		return s.renderRecipient(c, d)
	}
	if err != nil {
		return err
	}
	return c.Redirect("/recipients/"+strconv.FormatInt(id, 10)+"?saved=1", fiber.StatusSeeOther)
}

// recipientConsent opts a recipient out of a channel or back in (admins;
// the route checks PermRecipientConsent and the store again).
func (s *Server) recipientConsent(c *fiber.Ctx) error {
	id, err := recipientID(c)
	if err != nil {
		return err
	}
	optOut := c.FormValue("action") == models.ConsentOptOut
	changes, err := s.store.SetConsent(c.UserContext(), sessionUser(c).Scope, id, c.FormValue("channel"), optOut, c.FormValue("reason"))
	if fe := asFieldError(err); fe != nil {
		d, derr := s.recipientData(c, id)
		if derr != nil {
			return derr
		}
		d.ConsentError = fe.Message
		c.Status(fiber.StatusUnprocessableEntity)
		return s.renderRecipient(c, d)
	}
	if err != nil {
		return err
	}
	s.publishAll(changes)
	return c.Redirect("/recipients/"+strconv.FormatInt(id, 10), fiber.StatusSeeOther)
}

// renameFromThread names the conversation's recipient from the thread
// header and answers with the header as re-rendered. Other screens show
// the new name on their next change of the conversation (a rename has no
// timeline event for the live feed to carry).
func (s *Server) renameFromThread(c *fiber.Ctx) error {
	su := sessionUser(c)
	id, err := convID(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	conv, err := s.store.ConversationByID(ctx, su.Scope, id)
	if err != nil {
		return err
	}
	name := c.FormValue("name")
	_, changes, err := s.store.UpdateRecipient(ctx, su.Scope, conv.RecipientID, models.RecipientInput{Name: &name})
	if err != nil {
		if fe := asFieldError(err); fe != nil {
			return fiber.NewError(fiber.StatusUnprocessableEntity, fe.Message)
		}
		return err
	}
	s.publishAll(changes)
	if conv, err = s.store.ConversationByID(ctx, su.Scope, id); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	_, err = c.Write(s.frames(&models.Change{Conversation: *conv}).thread)
	return err
}
