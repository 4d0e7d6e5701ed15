package web

import (
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/views"
)

// teamRoutes adds the team pages (Settings → Team), the profile and the
// one-time password links. Managers see the team read only; admins
// change it; agents get 404 (the role matrix, models/policy.go).
func (s *Server) teamRoutes(app fiber.Router) {
	view, manage := requirePerm(models.PermViewSettings), requirePerm(models.PermManageTeam)
	app.Get("/settings/team", s.requireUser, view, s.team)
	app.Get("/settings/team/new", s.requireUser, manage, s.newTeamUser)
	app.Post("/settings/team", s.requireUser, manage, s.createTeamUser)
	app.Get("/settings/team/:id<int>", s.requireUser, view, s.teamUserPage)
	app.Post("/settings/team/:id<int>", s.requireUser, manage, s.updateTeamUser)
	app.Post("/settings/team/:id<int>/disable", s.requireUser, manage, s.setTeamUserDisabled(true))
	app.Post("/settings/team/:id<int>/enable", s.requireUser, manage, s.setTeamUserDisabled(false))
	app.Post("/settings/team/:id<int>/reset", s.requireUser, manage, s.resetTeamUserPassword)
	app.Get("/profile", s.requireUser, s.profile)
	app.Post("/profile", s.requireUser, s.saveProfile)
	app.Post("/profile/password", s.requireUser, s.changePassword)
	app.Post("/profile/tokens", s.requireUser, s.createToken)
	app.Post("/profile/tokens/:id<int>/revoke", s.requireUser, s.revokeToken)
	app.Get("/password/:token", s.passwordLinkPage)
	app.Post("/password/:token", s.usePasswordLink)
}

func teamLayout(title string) views.Layout {
	return views.Layout{Title: title, Active: "settings", Sub: "team"}
}

// team lists the organization's users by name.
func (s *Server) team(c *fiber.Ctx) error {
	su := sessionUser(c)
	ctx := c.UserContext()
	users, err := s.store.TeamUsers(ctx, su.Scope, 0, 0)
	if err != nil {
		return err
	}
	slices.SortStableFunc(users, func(a, b models.TeamUser) int {
		return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
	})
	locs, err := s.store.Locations(ctx, su.Scope)
	if err != nil {
		return err
	}
	names := map[int64]string{}
	for _, l := range locs {
		for _, in := range l.Inboxes {
			names[in.ID] = in.Name
		}
	}
	return s.render(c, "team", teamLayout("Team"), views.TeamData{Users: users,
		CanManage: su.Scope.Can(models.PermManageTeam), InboxNames: names})
}

// teamPage renders the new-user form (u nil) or a user's page.
func (s *Server) teamPage(c *fiber.Ctx, status int, d views.TeamUserData) error {
	su := sessionUser(c)
	locs, err := s.store.Locations(c.UserContext(), su.Scope)
	if err != nil {
		return err
	}
	d.Locations, d.CanManage = locs, su.Scope.Can(models.PermManageTeam)
	if d.Errors == nil {
		d.Errors = map[string]string{}
	}
	title := "Add someone"
	if d.User != nil {
		title, d.Self = d.User.Name, d.User.ID == su.User.ID
	}
	c.Status(status)
	return s.render(c, "team_user", teamLayout(title), d)
}

func formOf(u *models.TeamUser) views.TeamForm {
	return views.TeamForm{Name: u.Name, Email: u.Email, Role: u.Role, AllInboxes: u.SeesAllInboxes(), InboxIDs: u.InboxIDs}
}

// readTeamForm reads the add/edit form as typed.
func readTeamForm(c *fiber.Ctx) views.TeamForm {
	f := views.TeamForm{Name: c.FormValue("name"), Email: c.FormValue("email"), Role: c.FormValue("role"),
		AllInboxes: c.FormValue("access") != "chosen", Invite: c.FormValue("invite") != "0"}
	args := c.Request().PostArgs()
	for _, v := range args.PeekMulti("inbox_ids") {
		if id, err := strconv.ParseInt(string(v), 10, 64); err == nil {
			f.InboxIDs = append(f.InboxIDs, id)
		}
	}
	return f
}

// formFailed shows the form again with the error next to its field, or
// returns the error when it is not about the input.
func formFailed(err error, errs map[string]string) bool {
	if fe := asFieldError(err); fe != nil {
		errs[fe.Field] = fe.Message
		return true
	}
	return false
}

func (s *Server) newTeamUser(c *fiber.Ctx) error {
	return s.teamPage(c, fiber.StatusOK, views.TeamUserData{Form: views.TeamForm{Role: models.RoleAgent, AllInboxes: true, Invite: true}})
}

func (s *Server) createTeamUser(c *fiber.Ctx) error {
	su := sessionUser(c)
	f := readTeamForm(c)
	u, token, err := s.store.CreateUser(c.UserContext(), su.Scope, models.NewUser{Name: f.Name, Email: f.Email,
		Role: f.Role, AllInboxes: f.AllInboxes, InboxIDs: f.InboxIDs, Invite: f.Invite, Password: c.FormValue("password")})
	if err != nil {
		d := views.TeamUserData{Form: f, Errors: map[string]string{}}
		if !formFailed(err, d.Errors) {
			return err
		}
		return s.teamPage(c, fiber.StatusUnprocessableEntity, d)
	}
	s.log.Info("team: user added", "user_id", u.ID, "by", su.User.ID, "invited", f.Invite)
	if token == "" {
		return c.Redirect("/settings/team/"+strconv.FormatInt(u.ID, 10)+"?done=created", fiber.StatusSeeOther)
	}
	return s.teamPage(c, fiber.StatusCreated, views.TeamUserData{User: u, Form: formOf(u),
		Notice: u.Name + " was added.", Link: s.passwordLinkURL(token), LinkPurpose: models.PurposeInvite})
}

// teamNotices confirm a change after the redirect that follows it.
var teamNotices = map[string]string{
	"created":  "Added to the team.",
	"saved":    "Changes saved.",
	"signout":  "Changes saved. Access was taken away, so they were signed out everywhere.",
	"disabled": "Disabled: signed out everywhere, and their API tokens no longer work.",
	"enabled":  "Enabled: they can sign in again.",
}

func (s *Server) teamUserPage(c *fiber.Ctx) error {
	su := sessionUser(c)
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	u, err := s.store.TeamUser(c.UserContext(), su.Scope, id)
	if err != nil {
		return err
	}
	return s.teamPage(c, fiber.StatusOK, views.TeamUserData{User: u, Form: formOf(u), Notice: teamNotices[c.Query("done")]})
}

func (s *Server) updateTeamUser(c *fiber.Ctx) error {
	f := readTeamForm(c)
	return s.changeTeamUser(c, models.UserChange{Name: &f.Name, Email: &f.Email, Role: &f.Role,
		AllInboxes: &f.AllInboxes, InboxIDs: append([]int64{}, f.InboxIDs...)}, &f, "saved")
}

func (s *Server) setTeamUserDisabled(disabled bool) fiber.Handler {
	done := map[bool]string{true: "disabled", false: "enabled"}[disabled]
	return func(c *fiber.Ctx) error {
		return s.changeTeamUser(c, models.UserChange{Disabled: &disabled}, nil, done)
	}
}

// changeTeamUser applies a change and redirects to the user's page, or
// shows the page again with the error next to its field (f: the form as
// typed, nil for the disable and enable buttons).
func (s *Server) changeTeamUser(c *fiber.Ctx, ch models.UserChange, f *views.TeamForm, done string) error {
	su := sessionUser(c)
	ctx := c.UserContext()
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	res, err := s.store.UpdateUser(ctx, su.Scope, id, ch)
	if err != nil {
		d := views.TeamUserData{Errors: map[string]string{}}
		if !formFailed(err, d.Errors) {
			return err
		}
		if d.User, err = s.store.TeamUser(ctx, su.Scope, id); err != nil {
			return err
		}
		d.Form = formOf(d.User)
		if f != nil {
			d.Form = *f
		}
		return s.teamPage(c, fiber.StatusUnprocessableEntity, d)
	}
	if res.AccessReduced && done == "saved" {
		done = "signout"
	}
	target := "/settings/team/" + strconv.FormatInt(id, 10) + "?done=" + done
	if res.AccessReduced && id == su.User.ID {
		target = "/login" // they took their own access away: signed out
	}
	return c.Redirect(target, fiber.StatusSeeOther)
}

func (s *Server) resetTeamUserPassword(c *fiber.Ctx) error {
	su := sessionUser(c)
	ctx := c.UserContext()
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	token, err := s.store.ResetPasswordLink(ctx, su.Scope, id)
	u, uerr := s.store.TeamUser(ctx, su.Scope, id)
	if uerr != nil {
		return uerr
	}
	d := views.TeamUserData{User: u, Form: formOf(u), Errors: map[string]string{}}
	if err != nil {
		if !formFailed(err, d.Errors) {
			return err
		}
		return s.teamPage(c, fiber.StatusUnprocessableEntity, d)
	}
	d.Link, d.LinkPurpose = s.passwordLinkURL(token), models.PurposeReset
	if u.Invited {
		d.LinkPurpose = models.PurposeInvite
	}
	return s.teamPage(c, fiber.StatusOK, d)
}

// passwordLinkURL is a one-time link's address, to pass on.
func (s *Server) passwordLinkURL(token string) string {
	return strings.TrimRight(s.cfg.BaseURL, "/") + "/password/" + token
}

// errLinkStatus answers a used or expired link 410 and an unknown one 404.
func errLinkStatus(err error) (int, views.PasswordLinkData, bool) {
	switch {
	case errors.Is(err, models.ErrLinkGone):
		return fiber.StatusGone, views.PasswordLinkData{Gone: true}, true
	case errors.Is(err, models.ErrNotFound):
		return fiber.StatusNotFound, views.PasswordLinkData{Missing: true}, true
	}
	return 0, views.PasswordLinkData{}, false
}
