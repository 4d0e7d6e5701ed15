package web

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/views"
)

// The Recipients page (the list with its search, group filter and bulk
// actions), the new-recipient form, and the bulk actions' handler, which
// a group's page uses too.

// recipientsLayout is the frame of the Recipients section's pages.
func recipientsLayout(title, sub string) views.Layout {
	return views.Layout{Title: title, Active: "recipients", Sub: sub}
}

// recipientsList reads the list's filter and page (?q=&group_id=&after=,
// group: the page's own group instead of ?group_id=) and loads it.
func (s *Server) recipientsList(c *fiber.Ctx, group *models.Group, back string) (*views.RecipientsListData, error) {
	ctx, sc := c.UserContext(), sessionUser(c).Scope
	f, err := recipientFilter(c)
	if err != nil {
		return nil, fiber.NewError(fiber.StatusBadRequest, err.Error())
	}
	if group != nil {
		f.GroupID = group.ID
	}
	after, _ := strconv.ParseInt(c.Query("after"), 10, 64)
	page, err := s.store.RecipientsFiltered(ctx, sc, f, after, 50)
	if err != nil {
		return nil, err
	}
	groups, err := s.store.GroupChoices(ctx, sc)
	if err != nil {
		return nil, err
	}
	d := &views.RecipientsListData{Query: f.Query, Page: page, Continued: after > 0, Groups: groups,
		CanEdit: sc.Can(models.PermEditRecipients), CanImport: sc.Can(models.PermEditRecipients) && sc.AllInboxes(), CSRF: s.csrfToken(c), Back: back, Group: group}
	for i := range groups {
		if groups[i].ID == f.GroupID && group == nil {
			d.Group = &groups[i]
		}
	}
	d.Target, _ = strconv.ParseInt(c.Query("target"), 10, 64)
	if group != nil {
		d.Target = group.ID
	}
	d.Notice, d.Problem = bulkNotice(c, groups)
	return d, nil
}

// recipients is the Recipients page.
func (s *Server) recipients(c *fiber.Ctx) error {
	d, err := s.recipientsList(c, nil, "/recipients")
	if err != nil {
		return err
	}
	return s.render(c, "recipients", recipientsLayout("Recipients", "people"), d)
}

// bulkNotice says what the last bulk action did, from the redirect's
// ?added=&removed=&to= (or ?problem=).
func bulkNotice(c *fiber.Ctx, groups []models.Group) (notice, problem string) {
	switch c.Query("problem") {
	case "":
	case "group":
		return "", "Choose a group first."
	case "none":
		return "", "Tick at least one recipient first."
	default:
		return "", "Nothing was changed."
	}
	to, _ := strconv.ParseInt(c.Query("to"), 10, 64)
	name := "the group"
	for _, g := range groups {
		if g.ID == to {
			name = "“" + g.Name + "”"
		}
	}
	people := func(v string) string {
		n, _ := strconv.Atoi(v)
		if n == 1 {
			return "1 recipient"
		}
		return strconv.Itoa(n) + " recipients"
	}
	switch {
	case c.Query("added") != "":
		return "Added " + people(c.Query("added")) + " to " + name + ".", ""
	case c.Query("removed") != "":
		return "Removed " + people(c.Query("removed")) + " from " + name + ".", ""
	}
	return "", ""
}

// localPath is back if it is a path of this site, else fallback.
func localPath(back, fallback string) string {
	if !strings.HasPrefix(back, "/") || strings.HasPrefix(back, "//") || strings.ContainsAny(back, "\\\r\n") {
		return fallback
	}
	return back
}

// withQuery appends a query parameter to a local URL.
func withQuery(u, k, v string) string {
	sep := "?"
	if strings.Contains(u, "?") {
		sep = "&"
	}
	return u + sep + url.QueryEscape(k) + "=" + url.QueryEscape(v)
}

// recipientsBulk is the bulk actions' form (POST /recipients/groups):
// action add or remove the ticked recipients (id, repeated), or add_all:
// everyone q (and in_group) matches, to or from group_id; then back to the
// list it came from (back) with a notice.
func (s *Server) recipientsBulk(c *fiber.Ctx) error {
	ctx, sc := c.UserContext(), sessionUser(c).Scope
	back := localPath(c.FormValue("back"), "/recipients")
	// Back to the list as it was filtered (a group page's add-by-search
	// text is what to add, not a filter).
	ret := back
	if c.FormValue("action") != "add_all" || back == "/recipients" {
		if q := strings.TrimSpace(c.FormValue("q")); q != "" {
			ret = withQuery(ret, "q", q)
		}
		if g := c.FormValue("in_group"); g != "" {
			ret = withQuery(ret, "group_id", g)
		}
	}
	groupID, _ := strconv.ParseInt(c.FormValue("group_id"), 10, 64)
	if groupID <= 0 {
		return c.Redirect(withQuery(ret, "problem", "group"), fiber.StatusSeeOther)
	}
	var ids []int64
	for _, v := range c.Request().PostArgs().PeekMulti("id") {
		id, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil || id <= 0 {
			return fiber.ErrNotFound
		}
		ids = append(ids, id)
	}
	var (
		n    int
		err  error
		verb = "added"
	)
	switch c.FormValue("action") {
	case "add", "remove":
		if len(ids) == 0 {
			return c.Redirect(withQuery(ret, "problem", "none"), fiber.StatusSeeOther)
		}
		if c.FormValue("action") == "add" {
			n, err = s.store.AddGroupMembers(ctx, sc, groupID, ids)
		} else {
			verb = "removed"
			n, err = s.store.RemoveGroupMembers(ctx, sc, groupID, ids)
		}
	case "add_all":
		f := models.RecipientFilter{Query: strings.TrimSpace(c.FormValue("q"))}
		if g := c.FormValue("in_group"); g != "" {
			if f.GroupID, err = strconv.ParseInt(g, 10, 64); err != nil {
				return fiber.ErrNotFound
			}
		}
		n, err = s.store.AddGroupMembersMatching(ctx, sc, groupID, f)
	default:
		return fiber.NewError(fiber.StatusBadRequest, "unknown action")
	}
	if fe := asFieldError(err); fe != nil {
		return fiber.NewError(fiber.StatusUnprocessableEntity, fe.Message)
	}
	if err != nil {
		return err
	}
	ret = withQuery(withQuery(ret, verb, strconv.Itoa(n)), "to", strconv.FormatInt(groupID, 10))
	return c.Redirect(ret, fiber.StatusSeeOther)
}

// newRecipient is the new-recipient form.
func (s *Server) newRecipient(c *fiber.Ctx) error {
	return s.render(c, "recipient_new", recipientsLayout("New recipient", "people"), &views.NewRecipientData{})
}

// createRecipient handles the new-recipient form: to the recipient's
// page, or the form again with the refusal next to its field.
func (s *Server) createRecipient(c *fiber.Ctx) error {
	d := &views.NewRecipientData{Name: c.FormValue("name"), Phone: c.FormValue("phone"), Email: c.FormValue("email"), Notes: c.FormValue("notes")}
	r, err := s.store.CreateRecipient(c.UserContext(), sessionUser(c).Scope,
		models.RecipientInput{Name: &d.Name, Phone: &d.Phone, Email: &d.Email, Notes: &d.Notes})
	if fe := asFieldError(err); fe != nil {
		d.Errors = map[string]string{fe.Field: fe.Message}
		c.Status(fiber.StatusUnprocessableEntity)
		return s.render(c, "recipient_new", recipientsLayout("New recipient", "people"), d)
	}
	if err != nil {
		if errors.Is(err, models.ErrNotFound) {
			return fiber.ErrNotFound
		}
		return fmt.Errorf("web: create recipient: %w", err)
	}
	return c.Redirect("/recipients/"+strconv.FormatInt(r.ID, 10), fiber.StatusSeeOther)
}
