package web

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/views"
)

// Settings → Rate card (/settings/rate-card): what each message costs, by
// channel and kind. Managers read it, admins change it; the same store
// methods as GET/PUT /api/v1/rate-card.

// rateChannels are the card's rows: the form's field prefix, the label and
// what one rate is per.
var rateChannels = []struct{ key, label, unit string }{
	{"sms", "SMS", "per segment"},
	{"mms", "MMS", "per message"},
	{"email", "Email", "per message"},
}

// rateKinds are the card's columns.
var rateKinds = []struct{ key, label string }{
	{models.ChargeOutbound, "Outbound"},
	{models.ChargeInbound, "Inbound"},
	{models.ChargeForwarded, "Forwarded"},
}

// rateOf points at one rate of a card.
func rateOf(rc *models.RateCard, channel, kind string) *int {
	r := &rc.SMS
	switch channel {
	case "mms":
		r = &rc.MMS
	case "email":
		r = &rc.Email
	}
	switch kind {
	case models.ChargeInbound:
		return &r.Inbound
	case models.ChargeForwarded:
		return &r.Forwarded
	}
	return &r.Outbound
}

// rateCardData lays a card out as the page's grid; values are the typed
// strings (nil: the card's own), errs the errors by field.
func rateCardData(rc models.RateCard, values map[string]string, errs map[string]string) views.RateCardData {
	def := models.DefaultRateCard()
	var d views.RateCardData
	for _, ch := range rateChannels {
		row := views.RateRow{Label: ch.label, Unit: ch.unit}
		for _, k := range rateKinds {
			name := ch.key + "_" + k.key
			v, ok := values[name]
			if !ok {
				v = strconv.Itoa(*rateOf(&rc, ch.key, k.key))
			}
			row.Cells = append(row.Cells, views.RateCell{Name: name, Kind: k.label, Value: v,
				Default: *rateOf(&def, ch.key, k.key), Error: errs[name]})
		}
		d.Rows = append(d.Rows, row)
	}
	d.Example = fmt.Sprintf("A 2-segment SMS reply costs %s; an email in costs %s.",
		credits(2*rc.SMS.Outbound), credits(rc.Email.Inbound))
	if rc.UpdatedAt != nil {
		d.UpdatedAt = rc.UpdatedAt.UTC().Format("Jan 2, 2006")
	}
	return d
}

// credits is "1 credit" or "n credits".
func credits(n int) string {
	if n == 1 {
		return "1 credit"
	}
	return strconv.Itoa(n) + " credits"
}

// rateCardPage shows the organization's rate card.
func (s *Server) rateCardPage(c *fiber.Ctx) error {
	su := sessionUser(c)
	rc, err := s.store.RateCardOf(c.UserContext(), su.Scope)
	if err != nil {
		return err
	}
	d := rateCardData(rc, nil, nil)
	d.Saved = c.Query("saved") != ""
	return s.renderRateCard(c, d, fiber.StatusOK)
}

func (s *Server) renderRateCard(c *fiber.Ctx, d views.RateCardData, status int) error {
	d.ReadOnly = !sessionUser(c).Scope.Can(models.PermManageCredits)
	c.Status(status)
	return s.render(c, "settings_rate_card", settingsLayout("Rate card", "rate-card"), d)
}

// saveRateCard handles the rate card form (admins): every cell is checked
// and each bad one gets its message; nothing is saved unless all are good.
func (s *Server) saveRateCard(c *fiber.Ctx) error {
	su := sessionUser(c)
	ctx := c.UserContext()
	var rc models.RateCard
	values, errs := map[string]string{}, map[string]string{}
	for _, ch := range rateChannels {
		for _, k := range rateKinds {
			name := ch.key + "_" + k.key
			v := strings.TrimSpace(c.FormValue(name))
			values[name] = v
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > models.MaxRate {
				errs[name] = fmt.Sprintf("Enter a whole number from 0 to %d.", models.MaxRate)
				continue
			}
			*rateOf(&rc, ch.key, k.key) = n
		}
	}
	var err error
	if len(errs) == 0 {
		_, err = s.store.UpdateRateCard(ctx, su.Scope, rc)
		if fe := asFieldError(err); fe != nil {
			errs[fe.Field] = fe.Message
		} else if err != nil {
			return err
		}
	}
	if len(errs) > 0 {
		cur, err := s.store.RateCardOf(ctx, su.Scope)
		if err != nil {
			return err
		}
		d := rateCardData(cur, values, errs)
		d.Error = "Some rates are not valid; nothing was saved."
		return s.renderRateCard(c, d, fiber.StatusUnprocessableEntity)
	}
	return c.Redirect("/settings/rate-card?saved=1", fiber.StatusSeeOther)
}
