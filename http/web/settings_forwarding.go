package web

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/views"
)

// An inbox's forwarding rules on its settings page (issue 14): the list
// with a preview of who would be notified at a time picked, a form to add
// one, and each one's Remove button. The same store methods as the API.

// forwardAtLayout is the preview's time as a datetime-local field holds it.
const forwardAtLayout = "2006-01-02T15:04"

// fillForwarding adds the inbox's rules, evaluated at the preview's time
// (forward_at, the location's wall clock; now when absent or unreadable),
// and the users who may be notified.
func (s *Server) fillForwarding(ctx context.Context, sc models.Scope, d *views.SettingsInboxData, forwardAt string) error {
	loc, err := time.LoadLocation(d.Timezone)
	if err != nil {
		loc = time.UTC
	}
	at := time.Now()
	d.ForwardAtText = "now"
	if w, err := time.Parse(forwardAtLayout, forwardAt); err == nil {
		t := models.WallClock(w, loc)
		at, d.ForwardAt = t, forwardAt
		d.ForwardAtText = t.In(loc).Format("Mon 2 Jan 2006 15:04") + " (" + d.Timezone + ")"
	}
	users, err := s.store.Assignees(ctx, sc, d.ID)
	if err != nil {
		return err
	}
	names := map[int64]string{}
	d.Team = d.Team[:0]
	for _, u := range users {
		names[u.ID] = u.Name
		d.Team = append(d.Team, views.UserChoice{ID: u.ID, Name: u.Name, Email: u.Email, Checked: slices.Contains(d.Rule.Users, u.ID)})
	}
	rules, err := s.store.ForwardingAt(ctx, sc, d.ID, at)
	if err != nil {
		return err
	}
	for _, r := range rules {
		row := views.ForwardingRow{ID: r.ID, Channels: channelWords(r.Channels), When: r.Schedule.Summary(), Active: r.Active}
		for _, t := range r.Targets {
			switch {
			case t.UserID != 0 && names[t.UserID] != "":
				row.Targets = append(row.Targets, names[t.UserID])
			case t.UserID != 0:
				row.Targets = append(row.Targets, "user "+strconv.FormatInt(t.UserID, 10)+" (no longer sees this inbox: skipped)")
			case t.Phone != "":
				row.Targets = append(row.Targets, t.Phone)
			default:
				row.Targets = append(row.Targets, t.Email)
			}
		}
		var only []string
		if r.OnlyUnassigned {
			only = append(only, "only while unassigned")
		}
		if r.UnansweredMinutes > 0 {
			only = append(only, "once unanswered for "+strconv.Itoa(r.UnansweredMinutes)+" min")
		}
		row.Only = strings.Join(only, ", ")
		d.Forwarding = append(d.Forwarding, row)
	}
	return nil
}

// channelWords says a rule's channels in words.
func channelWords(chs []string) string {
	switch {
	case len(chs) == 2:
		return "SMS and email"
	case slices.Contains(chs, models.ChannelSMS):
		return "SMS"
	default:
		return "Email"
	}
}

// forwardingInput reads the add-a-rule form; a part that cannot be read is
// a field error on that part.
func forwardingInput(c *fiber.Ctx) (views.ForwardingForm, models.ForwardingRuleInput, *models.FieldError) {
	f := views.ForwardingForm{Contacts: c.FormValue("contacts"), Kind: c.FormValue("kind"),
		Windows: c.FormValue("windows"), Ranges: c.FormValue("ranges"),
		OnlyUnassigned: c.FormValue("only_unassigned") != "", Unanswered: strings.TrimSpace(c.FormValue("unanswered_minutes"))}
	in := models.ForwardingRuleInput{Schedule: models.Schedule{Kind: f.Kind}, OnlyUnassigned: f.OnlyUnassigned}
	for _, v := range c.Request().PostArgs().PeekMulti("user") {
		if id, err := strconv.ParseInt(string(v), 10, 64); err == nil {
			f.Users = append(f.Users, id)
			in.Targets = append(in.Targets, models.ForwardTarget{UserID: id})
		}
	}
	for _, line := range strings.Split(f.Contacts, "\n") {
		switch line = strings.TrimSpace(line); {
		case line == "":
		case strings.Contains(line, "@"):
			in.Targets = append(in.Targets, models.ForwardTarget{Email: line})
		default:
			in.Targets = append(in.Targets, models.ForwardTarget{Phone: line})
		}
	}
	for _, v := range c.Request().PostArgs().PeekMulti("channel") {
		switch string(v) {
		case models.ChannelSMS:
			f.SMS = true
		case models.ChannelEmail:
			f.Email = true
		}
		in.Channels = append(in.Channels, string(v))
	}
	if f.Unanswered != "" {
		n, err := strconv.Atoi(f.Unanswered)
		if err != nil || n < 1 {
			return f, in, &models.FieldError{Field: "unanswered_minutes", Message: "Write a number of minutes, 1 or more, or leave it empty."}
		}
		in.UnansweredMinutes = n
	}
	var err error
	switch f.Kind {
	case models.ScheduleWeekly:
		if in.Schedule.Windows, err = models.ParseWeeklyWindows(f.Windows); err != nil {
			return f, in, &models.FieldError{Field: "windows", Message: capitalize(err.Error()) + "."}
		}
	case models.ScheduleDates:
		if in.Schedule.Ranges, err = models.ParseDateRanges(f.Ranges); err != nil {
			return f, in, &models.FieldError{Field: "ranges", Message: capitalize(err.Error()) + "."}
		}
	}
	return f, in, nil
}

// capitalize makes a message's first letter a capital.
func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// forwardingField is the form's field for a store error's field: the
// targets, channels, schedule parts and minutes each have one.
func forwardingField(field string) string {
	switch {
	case strings.HasPrefix(field, "targets"):
		return "targets"
	case strings.HasPrefix(field, "schedule.windows"):
		return "windows"
	case strings.HasPrefix(field, "schedule.ranges"):
		return "ranges"
	case strings.HasPrefix(field, "schedule"):
		return "kind"
	}
	return field
}

// addForwarding handles the add-a-forwarding-rule form.
func (s *Server) addForwarding(c *fiber.Ctx) error {
	su := sessionUser(c)
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	form, in, fe := forwardingInput(c)
	if fe == nil {
		_, err = s.store.AddForwardingRule(c.UserContext(), su.Scope, id, in)
		if fe = asFieldError(err); fe == nil && err != nil {
			return err
		}
	}
	if fe != nil {
		return s.inboxSectionError(c, id, &models.FieldError{Field: forwardingField(fe.Field), Message: fe.Message},
			func(d *views.SettingsInboxData) { d.Rule = form })
	}
	return c.Redirect(inboxPath(id)+"?saved=forwarding#forwarding", fiber.StatusSeeOther)
}

// removeForwarding handles a rule's Remove button.
func (s *Server) removeForwarding(c *fiber.Ctx) error {
	su := sessionUser(c)
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	rid, err := pathID(c, "rid")
	if err != nil {
		return err
	}
	if err := s.store.RemoveForwardingRule(c.UserContext(), su.Scope, id, rid); err != nil {
		return err
	}
	return c.Redirect(inboxPath(id)+"?saved=forwarding#forwarding", fiber.StatusSeeOther)
}
