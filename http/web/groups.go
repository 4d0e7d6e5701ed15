package web

import (
	"strconv"

	"github.com/gofiber/fiber/v2"
	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/views"
)

// The Groups pages (Recipients → Groups): the list with the new-group
// form, and a group's page: its members (the recipients list filtered by
// it), adding by search, renaming and deleting. Membership changes go
// through the bulk actions' handler (recipients_list.go).

// groupsPage lists the groups (GET /groups).
func (s *Server) groupsPage(c *fiber.Ctx) error {
	return s.groupsForm(c, &views.GroupsData{Deleted: c.Query("deleted")}, fiber.StatusOK)
}

// groupsForm renders the groups page with d's form state.
func (s *Server) groupsForm(c *fiber.Ctx, d *views.GroupsData, status int) error {
	sc := sessionUser(c).Scope
	gs, err := s.store.Groups(c.UserContext(), sc)
	if err != nil {
		return err
	}
	d.Groups, d.CanEdit = gs, sc.Can(models.PermEditRecipients)
	c.Status(status)
	return s.render(c, "groups", recipientsLayout("Groups", "groups"), d)
}

// createGroup handles the new-group form (POST /groups).
func (s *Server) createGroup(c *fiber.Ctx) error {
	name := c.FormValue("name")
	g, err := s.store.CreateGroup(c.UserContext(), sessionUser(c).Scope, name)
	if fe := asFieldError(err); fe != nil {
		return s.groupsForm(c, &views.GroupsData{Name: name, Errors: map[string]string{fe.Field: fe.Message}}, fiber.StatusUnprocessableEntity)
	}
	if err != nil {
		return err
	}
	return c.Redirect("/groups/"+strconv.FormatInt(g.ID, 10), fiber.StatusSeeOther)
}

// groupPage is a group's page (GET /groups/:id).
func (s *Server) groupPage(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	g, err := s.store.GroupByID(c.UserContext(), sessionUser(c).Scope, id)
	if err != nil {
		return err
	}
	return s.groupForm(c, g, &views.GroupData{Name: g.Name}, fiber.StatusOK)
}

// groupForm renders a group's page with d's form state.
func (s *Server) groupForm(c *fiber.Ctx, g *models.Group, d *views.GroupData, status int) error {
	list, err := s.recipientsList(c, g, "/groups/"+strconv.FormatInt(g.ID, 10))
	if err != nil {
		return err
	}
	d.Group, d.List = g, *list
	c.Status(status)
	return s.render(c, "group", recipientsLayout(g.Name, "groups"), d)
}

// renameGroup handles the rename form (POST /groups/:id).
func (s *Server) renameGroup(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	ctx, sc := c.UserContext(), sessionUser(c).Scope
	name := c.FormValue("name")
	_, err = s.store.RenameGroup(ctx, sc, id, name)
	if fe := asFieldError(err); fe != nil {
		g, gerr := s.store.GroupByID(ctx, sc, id)
		if gerr != nil {
			return gerr
		}
		return s.groupForm(c, g, &views.GroupData{Name: name, Errors: map[string]string{fe.Field: fe.Message}}, fiber.StatusUnprocessableEntity)
	}
	if err != nil {
		return err
	}
	return c.Redirect("/groups/"+strconv.FormatInt(id, 10), fiber.StatusSeeOther)
}

// deleteGroup handles the delete confirmation (POST /groups/:id/delete).
func (s *Server) deleteGroup(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	ctx, sc := c.UserContext(), sessionUser(c).Scope
	g, err := s.store.GroupByID(ctx, sc, id)
	if err != nil {
		return err
	}
	if err := s.store.DeleteGroup(ctx, sc, id); err != nil {
		return err
	}
	return c.Redirect(withQuery("/groups", "deleted", g.Name), fiber.StatusSeeOther)
}
