package web

import (
	"context"
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/parley-chat/parley/models"
)

// The Chat plan's API (issue 12): locations' balances, purchases of
// credits and the rate card. The same store methods as the settings pages
// (settings_plan.go, settings_rate_card.go), which check the role and
// write the audit log.

// apiPurchaseIn is POST /locations/{id}/credit-purchases.
type apiPurchaseIn struct {
	Credits int64  `json:"credits" jsonschema:"minimum=1,maximum=10000000"`
	Note    string `json:"note,omitempty" jsonschema:"maxLength=200"`
}

// apiPurchaseOut is a purchase's ledger entry and the balance after it.
type apiPurchaseOut struct {
	ID         int64  `json:"id"`
	LocationID int64  `json:"location_id"`
	Credits    int64  `json:"credits"`
	Note       string `json:"note"`
	CreatedAt  string `json:"created_at" jsonschema:"format=date-time"`
	Balance    int64  `json:"balance" jsonschema:"description=the location's balance after the purchase"`
}

// apiRatesIn is one channel's rates; all three are required.
type apiRatesIn struct {
	Outbound  *int `json:"outbound" jsonschema:"minimum=0,maximum=1000"`
	Inbound   *int `json:"inbound" jsonschema:"minimum=0,maximum=1000"`
	Forwarded *int `json:"forwarded" jsonschema:"minimum=0,maximum=1000"`
}

// apiRateCardIn is PUT /rate-card: the whole card.
type apiRateCardIn struct {
	SMS   *apiRatesIn `json:"sms" jsonschema:"description=credits per SMS segment"`
	MMS   *apiRatesIn `json:"mms" jsonschema:"description=credits per MMS"`
	Email *apiRatesIn `json:"email" jsonschema:"description=credits per email"`
}

// apiRateCardOut is the organization's rate card.
type apiRateCardOut struct {
	SMS       models.Rates `json:"sms" jsonschema:"description=credits per SMS segment"`
	MMS       models.Rates `json:"mms" jsonschema:"description=credits per MMS"`
	Email     models.Rates `json:"email" jsonschema:"description=credits per email"`
	UpdatedAt *string      `json:"updated_at" jsonschema:"format=date-time,description=null while the defaults apply"`
}

func apiRateCard(rc models.RateCard) apiRateCardOut {
	return apiRateCardOut{SMS: rc.SMS, MMS: rc.MMS, Email: rc.Email, UpdatedAt: timePtr(rc.UpdatedAt)}
}

// apiPlanRoutes registers purchases of credits and the rate card.
func (s *Server) apiPlanRoutes(api fiber.Router) {
	view, manage := requirePerm(models.PermViewCredits), requirePerm(models.PermManageCredits)
	s.apiHandle(api, apiOp{Method: fiber.MethodPost, Path: "/locations/:id<int>/credit-purchases", Tag: "credits",
		Summary: "Add purchased credits to a location (they never expire, are spent after the plan's and pay overage first)",
		Body:    apiPurchaseIn{}, Out: apiPurchaseOut{}, Status: http.StatusCreated, Idempotent: true}, manage, s.apiPurchase)
	s.apiHandle(api, apiOp{Method: fiber.MethodGet, Path: "/rate-card", Tag: "credits",
		Summary: "The organization's rate card: credits per message by channel and kind", Out: apiRateCardOut{}}, view, s.apiGetRateCard)
	s.apiHandle(api, apiOp{Method: fiber.MethodPut, Path: "/rate-card", Tag: "credits",
		Summary: "Replace the rate card (applies to messages stored from now on)", Body: apiRateCardIn{}, Out: apiRateCardOut{}},
		manage, s.apiPutRateCard)
}

// sendLocation answers with a location and its balance.
func (s *Server) sendLocation(c *fiber.Ctx, l *models.Location) error {
	out := []apiLocationOut{apiLocation(l)}
	if err := s.withBalances(c, out); err != nil {
		return err
	}
	return c.JSON(out[0])
}

// withBalances sets the balance of each location for those who may see
// credits (null for others).
func (s *Server) withBalances(c *fiber.Ctx, locs []apiLocationOut) error {
	sc := sessionUser(c).Scope
	if len(locs) == 0 || !sc.Can(models.PermViewCredits) {
		return nil
	}
	ids := make([]int64, len(locs))
	for i := range locs {
		ids[i] = locs[i].ID
	}
	bal, err := s.store.LocationBalances(c.UserContext(), sc, ids)
	if err != nil {
		return err
	}
	for i := range locs {
		if b, ok := bal[locs[i].ID]; ok {
			locs[i].Balance = &b
		}
	}
	return nil
}

func (s *Server) apiPurchase(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var in apiPurchaseIn
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	sc := sessionUser(c).Scope
	return s.apiIdempotent(c, http.StatusCreated, func(ctx context.Context) (any, func(), error) {
		e, err := s.store.PurchaseCredits(ctx, sc, id, in.Credits, in.Note)
		if err != nil {
			return nil, nil, err
		}
		a, err := s.store.LocationAccount(ctx, sc, id)
		if err != nil {
			return nil, nil, err
		}
		return apiPurchaseOut{ID: e.ID, LocationID: e.LocationID, Credits: e.Credits(), Note: e.Note,
			CreatedAt: rfc3339(e.CreatedAt), Balance: a.Balance()}, func() {}, nil
	})
}

func (s *Server) apiGetRateCard(c *fiber.Ctx) error {
	rc, err := s.store.RateCardOf(c.UserContext(), sessionUser(c).Scope)
	if err != nil {
		return err
	}
	return c.JSON(apiRateCard(rc))
}

func (s *Server) apiPutRateCard(c *fiber.Ctx) error {
	var in apiRateCardIn
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	var rc models.RateCard
	for _, ch := range []struct {
		name string
		in   *apiRatesIn
		out  *models.Rates
	}{{"sms", in.SMS, &rc.SMS}, {"mms", in.MMS, &rc.MMS}, {"email", in.Email, &rc.Email}} {
		if ch.in == nil {
			return validation(ch.name, "Give the channel's outbound, inbound and forwarded rates.")
		}
		for _, k := range []struct {
			name string
			in   *int
			out  *int
		}{{"outbound", ch.in.Outbound, &ch.out.Outbound}, {"inbound", ch.in.Inbound, &ch.out.Inbound},
			{"forwarded", ch.in.Forwarded, &ch.out.Forwarded}} {
			if k.in == nil {
				return validation(ch.name+"."+k.name, "Required: a whole number of credits from 0 to 1000.")
			}
			*k.out = *k.in
		}
	}
	out, err := s.store.UpdateRateCard(c.UserContext(), sessionUser(c).Scope, rc)
	if fe := asFieldError(err); fe != nil {
		// The store names a cell "sms_outbound"; the API's body nests it.
		return validation(strings.Replace(fe.Field, "_", ".", 1), fe.Message)
	}
	if err != nil {
		return err
	}
	return c.JSON(apiRateCard(out))
}
