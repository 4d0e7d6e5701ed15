package web

import (
	"errors"
	"strconv"

	"github.com/gofiber/fiber/v2"
	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/views"
)

// The recipient page's actions beyond editing: delete (a confirmation
// with what goes first), merge another recipient in (search, preview,
// confirm), and the home location and time zone. The API calls the same
// store methods (api_recipient_actions.go).

func (s *Server) recipientActionRoutes(app *fiber.App) {
	edit := requirePerm(models.PermEditRecipients)
	app.Get("/recipients/:id<int>/delete", s.requireUser, edit, s.recipientDeletePage)
	app.Post("/recipients/:id<int>/delete", s.requireUser, edit, s.deleteRecipient)
	app.Get("/recipients/:id<int>/merge", s.requireUser, edit, s.recipientMergePage)
	app.Post("/recipients/:id<int>/merge", s.requireUser, edit, s.mergeRecipient)
	app.Post("/recipients/:id<int>/place", s.requireUser, edit, s.saveRecipientPlace)
}

func recipientURL(id int64) string { return "/recipients/" + strconv.FormatInt(id, 10) }

// deleteRefusal words why a recipient cannot be deleted, or "".
func deleteRefusal(err error) string {
	switch {
	case errors.Is(err, models.ErrRecipientOptedOut):
		return "This recipient opted out. Deleting them would forget that, so they cannot be deleted."
	case errors.Is(err, models.ErrRecipientElsewhere):
		return "This recipient has conversations in inboxes you cannot see, so you cannot delete them."
	}
	return ""
}

func (s *Server) deleteData(c *fiber.Ctx, id int64) (*views.RecipientDeleteData, error) {
	ctx, sc := c.UserContext(), sessionUser(c).Scope
	r, err := s.store.RecipientByID(ctx, sc, id)
	if err != nil {
		return nil, err
	}
	fp, err := s.store.RecipientDeletionPreview(ctx, sc, id)
	if err != nil {
		return nil, err
	}
	d := &views.RecipientDeleteData{Recipient: r, Footprint: fp}
	if r.SMSOptedOutAt != nil || r.EmailOptedOutAt != nil {
		d.Error = deleteRefusal(models.ErrRecipientOptedOut)
	}
	return d, nil
}

// recipientDeletePage asks to confirm a deletion, saying what goes with it.
func (s *Server) recipientDeletePage(c *fiber.Ctx) error {
	id, err := recipientID(c)
	if err != nil {
		return err
	}
	d, err := s.deleteData(c, id)
	if err != nil {
		return err
	}
	return s.render(c, "recipient_delete", views.Layout{Title: "Delete " + d.Label() + " · Recipients", Active: "recipients"}, d)
}

// deleteRecipient deletes the recipient and their conversations.
func (s *Server) deleteRecipient(c *fiber.Ctx) error {
	id, err := recipientID(c)
	if err != nil {
		return err
	}
	_, err = s.store.DeleteRecipientWithConversations(c.UserContext(), sessionUser(c).Scope, id)
	if msg := deleteRefusal(err); msg != "" {
		d, derr := s.deleteData(c, id)
		if derr != nil {
			return derr
		}
		d.Error = msg
		c.Status(fiber.StatusConflict)
		return s.render(c, "recipient_delete", views.Layout{Title: "Delete " + d.Label() + " · Recipients", Active: "recipients"}, d)
	}
	if err != nil {
		return err
	}
	return c.Redirect("/recipients?deleted=1", fiber.StatusSeeOther)
}

func (s *Server) renderMerge(c *fiber.Ctx, d *views.RecipientMergeData) error {
	return s.render(c, "recipient_merge", views.Layout{Title: "Merge into " + d.Label() + " · Recipients", Active: "recipients"}, d)
}

// mergeData loads the merge page: candidates for q (not the recipient
// itself), and the preview for other (0: none chosen).
func (s *Server) mergeData(c *fiber.Ctx, id, other int64, q string) (*views.RecipientMergeData, error) {
	ctx, sc := c.UserContext(), sessionUser(c).Scope
	r, err := s.store.RecipientByID(ctx, sc, id)
	if err != nil {
		return nil, err
	}
	d := &views.RecipientMergeData{Recipient: r, Query: q}
	if q != "" {
		page, err := s.store.Recipients(ctx, sc, q, 0, 20)
		if fe := asFieldError(err); fe != nil {
			d.Error = fe.Message
		} else if err != nil {
			return nil, err
		} else {
			for _, x := range page.Recipients {
				if x.ID != id {
					d.Candidates = append(d.Candidates, x)
				}
			}
		}
	}
	if other != 0 {
		d.Preview, err = s.store.PreviewMerge(ctx, sc, id, other)
		if fe := asFieldError(err); fe != nil {
			d.Error, d.Preview = fe.Message, nil
		} else if err != nil {
			return nil, err
		}
	}
	return d, nil
}

// recipientMergePage: search for the other recipient (?q=), then the
// preview of merging the chosen one (?other=).
func (s *Server) recipientMergePage(c *fiber.Ctx) error {
	id, err := recipientID(c)
	if err != nil {
		return err
	}
	var other int64
	if v := c.Query("other"); v != "" {
		if other, err = strconv.ParseInt(v, 10, 64); err != nil || other <= 0 {
			return fiber.ErrNotFound
		}
	}
	d, err := s.mergeData(c, id, other, c.Query("q"))
	if err != nil {
		return err
	}
	return s.renderMerge(c, d)
}

// mergeRecipient merges other_id into the recipient and shows the survivor.
func (s *Server) mergeRecipient(c *fiber.Ctx) error {
	id, err := recipientID(c)
	if err != nil {
		return err
	}
	other, _ := strconv.ParseInt(c.FormValue("other_id"), 10, 64)
	_, changes, err := s.store.MergeRecipients(c.UserContext(), sessionUser(c).Scope, id, other)
	msg := ""
	if fe := asFieldError(err); fe != nil {
		msg = fe.Message
	} else if errors.Is(err, models.ErrRecipientElsewhere) {
		msg = "One of the recipients has conversations in inboxes you cannot see, so you cannot merge them."
	}
	if msg != "" {
		d, derr := s.mergeData(c, id, 0, "")
		if derr != nil {
			return derr
		}
		d.Error = msg
		c.Status(fiber.StatusUnprocessableEntity)
		return s.renderMerge(c, d)
	}
	if err != nil {
		return err
	}
	s.publishAll(changes)
	return c.Redirect(recipientURL(id)+"?merged=1", fiber.StatusSeeOther)
}

// saveRecipientPlace sets the home location and time zone; a bad one is
// shown next to its field.
func (s *Server) saveRecipientPlace(c *fiber.Ctx) error {
	id, err := recipientID(c)
	if err != nil {
		return err
	}
	place := models.RecipientPlace{Timezone: c.FormValue("timezone")}
	if v := c.FormValue("location_id"); v != "" {
		place.LocationID, _ = strconv.ParseInt(v, 10, 64)
	}
	_, err = s.store.SetRecipientPlace(c.UserContext(), sessionUser(c).Scope, id, place)
	if fe := asFieldError(err); fe != nil {
		d, derr := s.recipientData(c, id)
		if derr != nil {
			return derr
		}
		d.Place, d.PlaceErrors = place, map[string]string{fe.Field: fe.Message}
		c.Status(fiber.StatusUnprocessableEntity)
		return s.renderRecipient(c, d)
	}
	if err != nil {
		return err
	}
	return c.Redirect(recipientURL(id)+"?place=1", fiber.StatusSeeOther)
}
