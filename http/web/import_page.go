package web

import (
	"errors"
	"io"
	"strconv"

	"github.com/gofiber/fiber/v2"
	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/views"
)

// The import page (/recipients/import): upload a CSV, map its columns on
// a preview of the first rows, then watch it run (the progress card polls
// every second) and download the error report. The same store methods as
// the imports API.

// importPreviewRows is how many rows the preview shows.
const importPreviewRows = 10

// importPageErrors is how many refused rows the page lists.
const importPageErrors = 20

func (s *Server) renderImport(c *fiber.Ctx, d *views.ImportData) error {
	d.CSRF = s.csrfToken(c)
	d.Fields = models.ImportFields()
	return s.render(c, "import", views.Layout{Title: "Import · Recipients", Active: "recipients"}, d)
}

// importPage shows the upload form.
func (s *Server) importPage(c *fiber.Ctx) error {
	if err := requireImport(c); err != nil {
		return err
	}
	return s.renderImport(c, &views.ImportData{})
}

// requireImport refuses (404, R9) a user who may not import.
func requireImport(c *fiber.Ctx) error {
	sc := sessionUser(c).Scope
	if !sc.Can(models.PermEditRecipients) || !sc.AllInboxes() {
		return fiber.ErrNotFound
	}
	return nil
}

// uploadImport stores the uploaded file and shows its preview.
func (s *Server) uploadImport(c *fiber.Ctx) error {
	if err := requireImport(c); err != nil {
		return err
	}
	fh, err := c.FormFile("file")
	var data []byte
	name := ""
	if err == nil {
		name = fh.Filename
		f, ferr := fh.Open()
		if ferr == nil {
			data, ferr = io.ReadAll(io.LimitReader(f, models.ImportMaxBytes+1))
			_ = f.Close()
		}
		err = ferr
	}
	if err != nil {
		c.Status(fiber.StatusUnprocessableEntity)
		return s.renderImport(c, &views.ImportData{Error: "Choose a CSV file.", ErrorField: "file"})
	}
	im, err := s.store.CreateImport(c.UserContext(), sessionUser(c).Scope, models.ImportInput{Filename: name, Data: data})
	if fe := asFieldError(err); fe != nil {
		c.Status(fiber.StatusUnprocessableEntity)
		return s.renderImport(c, &views.ImportData{Error: fe.Message, ErrorField: fe.Field})
	}
	if err != nil {
		return err
	}
	return c.Redirect("/recipients/import/"+strconv.FormatInt(im.ID, 10), fiber.StatusSeeOther)
}

// importData loads the page of one import: its preview while it waits
// for its mapping, else its progress.
func (s *Server) importData(c *fiber.Ctx, id int64) (*views.ImportData, error) {
	ctx, sc := c.UserContext(), sessionUser(c).Scope
	im, err := s.store.ImportByID(ctx, sc, id)
	if err != nil {
		return nil, err
	}
	d := &views.ImportData{}
	if im.Status == models.ImportPreview {
		if d.Sample, err = s.store.PreviewImport(ctx, sc, id, importPreviewRows); err != nil {
			return nil, err
		}
		d.Groups, d.Locations, err = s.store.ImportTargets(ctx, sc)
		return d, err
	}
	d.Import = im
	if d.GroupName, err = s.store.ImportGroup(ctx, sc, im); err != nil {
		return nil, err
	}
	if im.Finished() {
		d.Errors, err = s.store.ImportErrors(ctx, sc, id, importPageErrors)
	}
	return d, err
}

// importShow shows one import.
func (s *Server) importShow(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	d, err := s.importData(c, id)
	if err != nil {
		return err
	}
	return s.renderImport(c, d)
}

// importProgress answers the progress card's poll.
func (s *Server) importProgress(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	d, err := s.importData(c, id)
	if err != nil {
		return err
	}
	if d.Import == nil {
		return c.SendStatus(fiber.StatusNoContent)
	}
	d.CSRF = s.csrfToken(c)
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return s.views.Fragment(c, "import", "import-progress", d)
}

// startImport confirms the mapping (one "col" value per column) and
// starts the import.
func (s *Server) startImport(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	in := models.ImportStart{}
	for _, v := range c.Request().PostArgs().PeekMulti("col") {
		in.Mapping = append(in.Mapping, string(v))
	}
	group, newGroup, location := c.FormValue("group"), c.FormValue("new_group"), c.FormValue("location")
	var fe *models.FieldError
	switch {
	case group == "new":
		in.NewGroup = &newGroup
	case group != "":
		in.GroupID, fe = formTargetID(group, "group")
	}
	if location != "" && fe == nil {
		in.LocationID, fe = formTargetID(location, "location")
	}
	if fe == nil {
		_, err = s.store.StartImport(c.UserContext(), sessionUser(c).Scope, id, in)
		fe = asFieldError(err)
	}
	if fe != nil {
		d, derr := s.importData(c, id)
		if derr != nil {
			return derr
		}
		if d.Sample != nil {
			d.Sample.Mapping = in.Mapping
		}
		d.Group, d.NewGroup, d.Location = group, newGroup, location
		d.Error, d.ErrorField = fe.Message, fe.Field
		c.Status(fiber.StatusUnprocessableEntity)
		return s.renderImport(c, d)
	}
	if err != nil && !errors.Is(err, models.ErrConflict) {
		return err
	}
	return c.Redirect("/recipients/import/"+strconv.FormatInt(id, 10), fiber.StatusSeeOther)
}

// formTargetID reads a picker's id; anything else is a FieldError on field.
func formTargetID(v, field string) (*int64, *models.FieldError) {
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return nil, &models.FieldError{Field: field, Message: "Choose one from the list."}
	}
	return &id, nil
}

// cancelImport cancels an import that has not been applied.
func (s *Server) cancelImport(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if _, err := s.store.CancelImport(c.UserContext(), sessionUser(c).Scope, id); err != nil && !errors.Is(err, models.ErrConflict) {
		return err
	}
	return c.Redirect("/recipients/import/"+strconv.FormatInt(id, 10), fiber.StatusSeeOther)
}

// importRoutes registers the import page's routes.
func (s *Server) importRoutes(app *fiber.App) {
	edit := requirePerm(models.PermEditRecipients)
	app.Get("/recipients/import", s.requireUser, edit, s.importPage)
	app.Post("/recipients/import", s.requireUser, edit, s.uploadImport)
	app.Get("/recipients/import/:id<int>", s.requireUser, edit, s.importShow)
	app.Get("/recipients/import/:id<int>/progress", s.requireUser, edit, s.importProgress)
	app.Get("/recipients/import/:id<int>/errors.csv", s.requireUser, edit, s.apiImportErrorsCSV)
	app.Post("/recipients/import/:id<int>/start", s.requireUser, edit, s.startImport)
	app.Post("/recipients/import/:id<int>/cancel", s.requireUser, edit, s.cancelImport)
}
