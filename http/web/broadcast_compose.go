package web

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/views"
)

// The compose page (/broadcasts/new), its live estimate and its submit.
// The estimate and the send call the same store methods as the API
// (EstimateBroadcast, CreateBroadcast).

// broadcastDatetimeLayout is an <input type="datetime-local">'s value.
const broadcastDatetimeLayout = "2006-01-02T15:04"

// newBroadcast shows the empty compose form.
func (s *Server) newBroadcast(c *fiber.Ctx) error {
	f := views.BroadcastForm{Channels: "sms", AudienceKind: "groups", ChatEnabled: true,
		ReplyWindowHours: models.DefaultReplyWindowHours, GroupIDs: map[int64]bool{}}
	if g, err := strconv.ParseInt(c.Query("group"), 10, 64); err == nil && g > 0 {
		f.GroupIDs[g] = true
	}
	return s.composeForm(c, f, nil, fiber.StatusOK)
}

// composeForm renders the compose page with f's values and errors.
func (s *Server) composeForm(c *fiber.Ctx, f views.BroadcastForm, errs map[string]string, status int) error {
	su := sessionUser(c)
	ctx := c.UserContext()
	locs, err := s.store.Locations(ctx, su.Scope)
	if err != nil {
		return err
	}
	groups, err := s.store.BroadcastGroups(ctx, su.Scope)
	if err != nil {
		return err
	}
	d := views.BroadcastComposeData{Form: f, Errors: errs, Locations: locs, Groups: groups, Timezone: s.userZone(su).String()}
	if errs == nil {
		d.Estimate = s.estimate(c, f)
	}
	c.Status(status)
	return s.render(c, "broadcast_new", views.Layout{Title: "New broadcast", Active: "broadcasts"}, d)
}

// userZone is the zone a person types times in: their profile's, else
// UTC (a browser-only zone is not known to the server).
func (s *Server) userZone(su *models.SessionUser) *time.Location {
	if su.User.Timezone != "" {
		if z, err := time.LoadLocation(su.User.Timezone); err == nil {
			return z
		}
	}
	return time.UTC
}

// broadcastEstimate answers the form's live estimate request.
func (s *Server) broadcastEstimate(c *fiber.Ctx) error {
	f := readBroadcastForm(c)
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return s.views.Fragment(c, "broadcast_new", "broadcast-estimate", s.estimate(c, f))
}

// estimate asks the store what f would do; a field to fix is said instead.
func (s *Server) estimate(c *fiber.Ctx, f views.BroadcastForm) views.BroadcastEstimateData {
	su := sessionUser(c)
	d := views.BroadcastEstimateData{Emergency: f.Emergency}
	in, fe := broadcastInput(f, s.userZone(su))
	if fe != nil {
		d.Error = fe.Message
		return d
	}
	e, err := s.store.EstimateBroadcast(c.UserContext(), su.Scope, in)
	if err != nil {
		if fe := asFieldError(err); fe != nil {
			d.Error = fe.Message
		} else {
			s.log.Warn("broadcast estimate", "err", err)
			d.Error = "The estimate is not available right now."
		}
		return d
	}
	d.E = e
	d.CanSend = e.Reached > 0 && e.Shortfall == 0
	return d
}

// createBroadcast handles the compose form's Send.
func (s *Server) createBroadcast(c *fiber.Ctx) error {
	su := sessionUser(c)
	f := readBroadcastForm(c)
	in, fe := broadcastInput(f, s.userZone(su))
	if fe == nil {
		v, err := s.store.CreateBroadcast(c.UserContext(), su.Scope, in)
		var ic *models.InsufficientCreditsError
		switch {
		case errors.As(err, &ic):
			fe = &models.FieldError{Field: "credits", Message: "Not enough credits: this broadcast needs " +
				strconv.FormatInt(ic.Needed, 10) + " and " + strconv.FormatInt(ic.Available, 10) +
				" are available (short by " + strconv.FormatInt(ic.Needed-ic.Available, 10) + "). An admin can buy credits."}
		case asFieldError(err) != nil:
			fe = asFieldError(err)
		case err != nil:
			return err
		default:
			s.kickOutbox()
			return c.Redirect("/broadcasts/"+strconv.FormatInt(v.ID, 10), fiber.StatusSeeOther)
		}
	}
	errs := map[string]string{fe.Field: fe.Message}
	if _, known := broadcastFormFields[fe.Field]; !known {
		errs = map[string]string{"form": fe.Message}
	}
	return s.composeForm(c, f, errs, fiber.StatusUnprocessableEntity)
}

// broadcastFormFields are the fields an error can be shown next to; any
// other goes above the form.
var broadcastFormFields = map[string]struct{}{"name": {}, "inbox_id": {}, "channels": {}, "audience": {}, "body": {},
	"subject": {}, "reply_window_hours": {}, "send_at": {}, "credits": {}}

// readBroadcastForm reads the compose form as typed.
func readBroadcastForm(c *fiber.Ctx) views.BroadcastForm {
	f := views.BroadcastForm{
		Name: strings.TrimSpace(c.FormValue("name")), Channels: c.FormValue("channels"), AudienceKind: c.FormValue("audience"),
		Query: strings.TrimSpace(c.FormValue("q")), Body: c.FormValue("body"), Subject: strings.TrimSpace(c.FormValue("subject")),
		ChatEnabled: c.FormValue("chat_enabled") != "", Emergency: c.FormValue("emergency") != "",
		RespectQuietHours: c.FormValue("respect_quiet_hours") != "", SendLater: c.FormValue("send") == "later",
		SendAt: c.FormValue("send_at"), GroupIDs: map[int64]bool{},
	}
	f.InboxID, _ = strconv.ParseInt(c.FormValue("inbox_id"), 10, 64)
	f.LocationID, _ = strconv.ParseInt(c.FormValue("location_id"), 10, 64)
	f.ReplyWindowHours, _ = strconv.Atoi(c.FormValue("reply_window_hours"))
	if args := c.Request().PostArgs(); args != nil {
		for _, v := range args.PeekMulti("group_ids") {
			if id, err := strconv.ParseInt(string(v), 10, 64); err == nil && id > 0 {
				f.GroupIDs[id] = true
			}
		}
	}
	return f
}

// broadcastInput turns the form into the store's input; the form's own
// mistakes (a time that does not parse) are FieldErrors here, the rest the
// store's.
func broadcastInput(f views.BroadcastForm, zone *time.Location) (models.BroadcastInput, *models.FieldError) {
	in := models.BroadcastInput{Name: f.Name, InboxID: f.InboxID, Body: f.Body, Subject: f.Subject,
		ChatEnabled: f.ChatEnabled, ReplyWindowHours: f.ReplyWindowHours, RespectQuietHours: f.RespectQuietHours,
		Emergency: f.Emergency}
	switch f.Channels {
	case "email":
		in.Channels = []string{models.ChannelEmail}
	case "both":
		in.Channels = []string{models.ChannelSMS, models.ChannelEmail}
	default:
		in.Channels = []string{models.ChannelSMS}
	}
	switch f.AudienceKind {
	case "location":
		if f.LocationID <= 0 {
			return in, &models.FieldError{Field: "audience", Message: "Choose a location."}
		}
		in.Audience.LocationID = f.LocationID
	case "search":
		if f.Query == "" {
			return in, &models.FieldError{Field: "audience", Message: "Type what to search recipients for."}
		}
		in.Audience.Query = f.Query
	default:
		for id := range f.GroupIDs {
			in.Audience.GroupIDs = append(in.Audience.GroupIDs, id)
		}
		if len(in.Audience.GroupIDs) == 0 {
			return in, &models.FieldError{Field: "audience", Message: "Choose at least one group."}
		}
		slices.Sort(in.Audience.GroupIDs)
	}
	if f.SendLater {
		t, err := time.ParseInLocation(broadcastDatetimeLayout, f.SendAt, zone)
		if err != nil {
			return in, &models.FieldError{Field: "send_at", Message: "Choose the date and time to send at."}
		}
		in.SendAt = &t
	}
	return in, nil
}
