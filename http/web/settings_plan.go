package web

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/views"
)

// A location's Chat plan on its settings page: the plan's fields in the
// location form (admins change them; managers read them), the account
// (balance and current period), and the "Buy credits" form with the
// latest purchases.

// recentPurchases is how many purchases the location page lists.
const recentPurchases = 10

// dateForm is how the page writes and reads a plan's anchor date.
const dateForm = "2006-01-02"

// planFields puts a location's plan into the form's strings.
func planFields(d *views.SettingsLocationData, l *models.Location) {
	d.PlanCredits = strconv.Itoa(l.PlanCredits)
	d.PlanPeriodMonths = strconv.Itoa(l.PlanPeriodMonths)
	d.PlanPeriodStart = ""
	if l.PlanPeriodStart != nil {
		d.PlanPeriodStart = l.PlanPeriodStart.In(l.TimeLocation()).Format(dateForm)
	}
}

// readPlan reads the plan's fields of the location form into in (cur is
// the location as saved, nil for a new one). An empty number leaves it as
// it is; the anchor date is read at 00:00 in the location's time zone (the
// one submitted, if it is one), and only when it differs from the date
// shown, so saving the form unchanged never moves a plan's anchor.
func readPlan(c *fiber.Ctx, in *models.LocationInput, d *views.SettingsLocationData, cur *models.Location) *models.FieldError {
	d.PlanCredits = strings.TrimSpace(c.FormValue("plan_credits"))
	d.PlanPeriodStart = strings.TrimSpace(c.FormValue("plan_period_start"))
	d.PlanPeriodMonths = strings.TrimSpace(c.FormValue("plan_period_months"))
	in.PlanStatus, in.PlanName = &d.PlanStatus, &d.PlanName
	if d.PlanCredits != "" {
		n, err := strconv.Atoi(d.PlanCredits)
		if err != nil {
			return &models.FieldError{Field: "plan_credits",
				Message: "Enter a whole number of credits from 0 to " + strconv.Itoa(models.MaxPlanCredits) + "."}
		}
		in.PlanCredits = &n
	}
	if d.PlanPeriodMonths != "" {
		n, err := strconv.Atoi(d.PlanPeriodMonths)
		if err != nil {
			return &models.FieldError{Field: "plan_period_months", Message: "Choose a period from 1 to 36 months."}
		}
		in.PlanPeriodMonths = &n
	}
	tz := time.UTC
	if cur != nil {
		tz = cur.TimeLocation()
	}
	if models.ValidTimezone("timezone", d.Timezone) == nil {
		tz, _ = time.LoadLocation(d.Timezone)
	}
	shown := ""
	if cur != nil && cur.PlanPeriodStart != nil {
		shown = cur.PlanPeriodStart.In(cur.TimeLocation()).Format(dateForm)
	}
	if d.PlanPeriodStart != "" && d.PlanPeriodStart != shown {
		start, err := time.ParseInLocation(dateForm, d.PlanPeriodStart, tz)
		if err != nil {
			return &models.FieldError{Field: "plan_period_start", Message: "Choose a date (YYYY-MM-DD)."}
		}
		in.PlanPeriodStart = &start
	}
	return nil
}

// planAccount loads what the location page shows of a location's credits.
func (s *Server) planAccount(ctx context.Context, su *models.SessionUser, l *models.Location) (*views.PlanAccount, error) {
	a, err := s.store.LocationAccount(ctx, su.Scope, l.ID)
	if err != nil {
		return nil, err
	}
	ps, err := s.store.RecentPurchases(ctx, su.Scope, l.ID, recentPurchases)
	if err != nil {
		return nil, err
	}
	tz := l.TimeLocation()
	out := &views.PlanAccount{Balance: a.Balance(), PlanBalance: a.PlanBalance, PurchasedBalance: a.PurchasedBalance,
		CanBuy: su.Scope.Can(models.PermManageCredits)}
	if a.PeriodStart != nil && a.PeriodEnd != nil {
		out.PeriodFirst = a.PeriodStart.In(tz).Format("Jan 2, 2006")
		out.PeriodLast = a.PeriodEnd.In(tz).Add(-time.Second).Format("Jan 2, 2006")
		out.Renews = a.PeriodEnd.In(tz).Format("Jan 2, 2006")
	}
	for _, p := range ps {
		who := "System"
		if p.UserName != nil {
			who = *p.UserName
		}
		out.Purchases = append(out.Purchases, views.PurchaseRow{Date: p.CreatedAt.In(tz).Format("Jan 2, 2006 15:04"),
			Credits: p.Credits, Note: p.Note, Who: who})
	}
	return out, nil
}

// buyCredits handles the "Buy credits" form (admins).
func (s *Server) buyCredits(c *fiber.Ctx) error {
	su := sessionUser(c)
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	l, err := s.store.LocationByID(ctx, su.Scope, id)
	if err != nil {
		return err
	}
	text, note := strings.TrimSpace(c.FormValue("credits")), strings.TrimSpace(c.FormValue("note"))
	credits, perr := strconv.ParseInt(text, 10, 64)
	if perr == nil {
		_, err = s.store.PurchaseCredits(ctx, su.Scope, id, credits, note)
	} else {
		err = &models.FieldError{Field: "credits", Message: "Enter a whole number of credits from 1 to " + strconv.Itoa(models.MaxPurchase) + "."}
	}
	if fe := asFieldError(err); fe != nil {
		d := locationData(l)
		if err := s.fillAccount(c, &d, l); err != nil {
			return err
		}
		d.Account.BuyCredits, d.Account.BuyNote = text, note
		d.Account.BuyErrors = map[string]string{fe.Field: fe.Message}
		return s.locationForm(c, &d, fiber.StatusUnprocessableEntity)
	}
	if err != nil {
		return err
	}
	return c.Redirect("/settings/locations/"+strconv.FormatInt(id, 10)+"?bought=1#credits", fiber.StatusSeeOther)
}

// locationData is the location form filled from a saved location.
func locationData(l *models.Location) views.SettingsLocationData {
	d := views.SettingsLocationData{ID: l.ID, Archived: l.ArchivedAt != nil, Name: l.Name, Timezone: l.Timezone,
		QuietStart: deref(l.QuietStart), QuietEnd: deref(l.QuietEnd), PlanStatus: l.PlanStatus, PlanName: l.PlanName}
	planFields(&d, l)
	return d
}

// fillAccount adds the location's credits to the page for those who may
// see them.
func (s *Server) fillAccount(c *fiber.Ctx, d *views.SettingsLocationData, l *models.Location) error {
	su := sessionUser(c)
	if !su.Scope.Can(models.PermViewCredits) {
		return nil
	}
	a, err := s.planAccount(c.UserContext(), su, l)
	if err != nil {
		return err
	}
	a.Bought = c.Query("bought") != ""
	d.Account = a
	return nil
}
