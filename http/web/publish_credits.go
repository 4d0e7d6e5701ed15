package web

import (
	"bytes"
	"context"
	"strconv"

	"github.com/gofiber/fiber/v2"
	"github.com/parley-chat/parley/models"
)

// creditsTopic is an organization's credits notices: the sockets of its
// users who may view credits join it (ws.go), so a usage alert reaches
// them live on whichever node they are connected to.
func creditsTopic(orgID int64) string { return "credits:" + strconv.FormatInt(orgID, 10) }

// NotifyCreditAlert shows a usage alert live: the location's warning is
// added to the credits banner of every connected screen that may view
// credits (jobs.CreditsNotifier). The alert is recorded either way; a
// screen that misses it shows the banner on its next page.
func (p *Publisher) NotifyCreditAlert(a *models.CreditAlert) {
	w := models.CreditWarning{LocationID: a.LocationID, LocationName: a.LocationName, Balance: a.Balance,
		PlanCredits: a.PlanCredits, Used: a.Used}
	var buf bytes.Buffer
	if err := p.views.Fragment(&buf, "chats", "frame-credit-warning", w); err != nil {
		p.log.Warn("render credit alert", "location_id", a.LocationID, "err", err)
		return
	}
	p.send(creditsTopic(a.OrgID), 0, buf.Bytes())
}

// joinCredits subscribes a socket whose user may view credits to its
// organization's credits notices.
func (k *socket) joinCredits(ctx context.Context) error {
	if !k.su.Scope.Can(models.PermViewCredits) {
		return nil
	}
	return k.s.hub.Join(ctx, creditsTopic(k.su.Scope.OrgID), k.sub)
}

// creditBanner answers the layout's banner request: the warnings of the
// organization's locations that used 80 % of their plan's credits this
// period or have none left (empty when none do).
func (s *Server) creditBanner(c *fiber.Ctx) error {
	ws, err := s.store.CreditWarnings(c.UserContext(), sessionUser(c).Scope)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return s.fragment(c, "credit-banner", ws)
}
