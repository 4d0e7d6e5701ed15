package web

import (
	"errors"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/views"
)

// profileNotices confirm a change after its redirect.
var profileNotices = map[string]string{
	"saved":    "Saved.",
	"password": "Password changed. Your other browsers were signed out.",
	"revoked":  "Token revoked: programs using it get 401 from now on.",
}

// profilePage renders the profile with d's form state and the user's tokens.
func (s *Server) profilePage(c *fiber.Ctx, status int, d views.ProfileData) error {
	su := sessionUser(c)
	tokens, err := s.store.APITokens(c.UserContext(), su.Scope)
	if err != nil {
		return err
	}
	d.Tokens, d.Email = tokens, su.User.Email
	if d.Errors == nil {
		d.Errors = map[string]string{}
	}
	if d.Profile.Name == "" && d.Errors["name"] == "" {
		u := su.User
		d.Profile = models.Profile{Name: u.Name, Timezone: u.Timezone, Clock: u.Clock,
			NotifySound: u.NotifySound, NotifyDesktop: u.NotifyDesktop}
	}
	c.Status(status)
	return s.render(c, "profile", views.Layout{Title: "Your profile", Active: "profile"}, d)
}

func (s *Server) profile(c *fiber.Ctx) error {
	return s.profilePage(c, fiber.StatusOK, views.ProfileData{Notice: profileNotices[c.Query("done")]})
}

func (s *Server) saveProfile(c *fiber.Ctx) error {
	su := sessionUser(c)
	p := models.Profile{Name: c.FormValue("name"), Timezone: c.FormValue("timezone"), Clock: c.FormValue("clock"),
		NotifySound: c.FormValue("notify_sound") == "on", NotifyDesktop: c.FormValue("notify_desktop") == "on"}
	if _, err := s.store.UpdateProfile(c.UserContext(), su.Scope, p); err != nil {
		d := views.ProfileData{Profile: p, Errors: map[string]string{}}
		if !formFailed(err, d.Errors) {
			return err
		}
		return s.profilePage(c, fiber.StatusUnprocessableEntity, d)
	}
	return c.Redirect("/profile?done=saved", fiber.StatusSeeOther)
}

// changePassword needs the current password; the user's other sessions
// (and their sockets) end, this one stays.
func (s *Server) changePassword(c *fiber.Ctx) error {
	su := sessionUser(c)
	err := s.store.ChangePassword(c.UserContext(), su.Scope, su.SessionID, c.FormValue("current_password"), c.FormValue("new_password"))
	if err != nil {
		d := views.ProfileData{Errors: map[string]string{}}
		if !formFailed(err, d.Errors) {
			return err
		}
		return s.profilePage(c, fiber.StatusUnprocessableEntity, d)
	}
	return c.Redirect("/profile?done=password", fiber.StatusSeeOther)
}

// createToken makes an API token and shows it this once.
func (s *Server) createToken(c *fiber.Ctx) error {
	su := sessionUser(c)
	name := c.FormValue("name")
	token, t, err := s.store.CreateAPIToken(c.UserContext(), su.Scope, name)
	if err != nil {
		d := views.ProfileData{Errors: map[string]string{}, TokenName: name}
		if fe := asFieldError(err); fe != nil {
			d.Errors["token_name"] = fe.Message
			return s.profilePage(c, fiber.StatusUnprocessableEntity, d)
		}
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return s.profilePage(c, fiber.StatusCreated, views.ProfileData{NewToken: token, NewTokenName: strings.TrimSpace(t.Name)})
}

func (s *Server) revokeToken(c *fiber.Ctx) error {
	su := sessionUser(c)
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if err := s.store.RevokeAPIToken(c.UserContext(), su.Scope, id); err != nil && !errors.Is(err, models.ErrNotFound) {
		return err
	} else if err != nil {
		return fiber.ErrNotFound
	}
	return c.Redirect("/profile?done=revoked", fiber.StatusSeeOther)
}
