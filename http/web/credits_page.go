package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/views"
)

// The Credits page (managers and admins): a card per location with its
// balance, usage, forecast, a daily chart and breakdowns, and the ledger's
// CSV download.

// creditsChartDays is how many days the chart shows (today included);
// the breakdowns cover the same days.
const creditsChartDays = 30

// creditsTopConversations is how many conversations the breakdown lists.
const creditsTopConversations = 10

func (s *Server) credits(c *fiber.Ctx) error {
	return s.renderCredits(c, http.StatusOK, views.CSVForm{}, nil)
}

// renderCredits renders the page with the CSV form's values and errors.
func (s *Server) renderCredits(c *fiber.Ctx, status int, form views.CSVForm, errs map[string]string) error {
	ctx := c.UserContext()
	sc := sessionUser(c).Scope
	sums, err := s.store.CreditSummaries(ctx, sc)
	if err != nil {
		return err
	}
	d := views.CreditsData{CanManage: sc.Can(models.PermManageCredits), CSV: form, Errors: errs}
	now := time.Now()
	for _, sum := range sums {
		tz, err := time.LoadLocation(sum.Timezone)
		if err != nil {
			tz = time.UTC
		}
		y, m, dd := now.In(tz).Date()
		first := time.Date(y, m, dd-(creditsChartDays-1), 0, 0, 0, 0, tz)
		end := time.Date(y, m, dd+1, 0, 0, 0, 0, tz)
		days, err := s.store.DailyUsage(ctx, sc, sum.LocationID, first, now)
		if err != nil {
			return err
		}
		inboxes, err := s.store.UsageByInbox(ctx, sc, sum.LocationID, first, end)
		if err != nil {
			return err
		}
		convs, err := s.store.TopConversations(ctx, sc, sum.LocationID, first, end, creditsTopConversations)
		if err != nil {
			return err
		}
		bcasts, err := s.store.UsageByBroadcast(ctx, sc, sum.LocationID, first, end, creditsTopConversations)
		if err != nil {
			return err
		}
		card := views.NewCreditCard(sum, days, inboxes, convs, "last "+strconv.Itoa(creditsChartDays)+" days")
		card.Broadcasts = bcasts
		card.Manage = d.CanManage
		d.Cards = append(d.Cards, card)
		if form.LocationID == 0 && form.From == "" {
			d.CSV = views.CSVForm{LocationID: sum.LocationID, From: first.Format(time.DateOnly), To: now.In(tz).Format(time.DateOnly)}
		}
	}
	c.Status(status)
	return s.render(c, "credits", views.Layout{Title: "Credits", Active: "credits"}, d)
}

// creditsLedgerCSV is the page's download: /credits/ledger.csv?location_id=&from=&to=
// (dates, both days included). Bad input shows the page again with the
// error next to the field; another organization's location is a 404.
func (s *Server) creditsLedgerCSV(c *fiber.Ctx) error {
	sc := sessionUser(c).Scope
	form := views.CSVForm{From: c.Query("from"), To: c.Query("to")}
	form.LocationID, _ = strconv.ParseInt(c.Query("location_id"), 10, 64)
	if c.Query("location_id") == "" {
		return s.renderCredits(c, http.StatusUnprocessableEntity, form, map[string]string{"location_id": "Choose a location."})
	}
	f, err := s.ledgerFilter(c, sc)
	if fe := asFieldError(err); fe != nil {
		return s.renderCredits(c, http.StatusUnprocessableEntity, form, map[string]string{fe.Field: fe.Message})
	}
	if err != nil {
		return err
	}
	return s.sendLedgerCSV(c, sc, f)
}
