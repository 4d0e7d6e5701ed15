package web

import (
	"context"
	"math"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/parley-chat/parley/models"
)

// The credits API (spec/api.md): each location's balance and usage, and
// the ledger, as JSON pages or as CSV. Managers and admins; agents get a
// 404, as for the Credits page.

// apiUsedOut is this period's usage by kind.
type apiUsedOut struct {
	Outbound  int64 `json:"outbound"`
	Inbound   int64 `json:"inbound"`
	Forwarded int64 `json:"forwarded"`
}

// apiCreditsOut is one location's credits.
type apiCreditsOut struct {
	LocationID          int64      `json:"location_id"`
	LocationName        string     `json:"location_name"`
	Balance             int64      `json:"balance" jsonschema:"description=plan_balance + purchased_balance; negative in overage"`
	PlanBalance         int64      `json:"plan_balance"`
	PurchasedBalance    int64      `json:"purchased_balance" jsonschema:"description=purchased credits left (they never expire)"`
	PlanCredits         int64      `json:"plan_credits" jsonschema:"description=the plan's credits per period"`
	PlanName            string     `json:"plan_name"`
	PlanStatus          string     `json:"plan_status" jsonschema:"enum=active,enum=inactive,enum=suspended"`
	Used                apiUsedOut `json:"used" jsonschema:"description=this period's charges by kind, net of refunds"`
	PeriodStart         *string    `json:"period_start" jsonschema:"format=date-time"`
	PeriodEnd           *string    `json:"period_end" jsonschema:"format=date-time"`
	BurnPerDay          float64    `json:"burn_per_day" jsonschema:"description=credits used per day over the last 7 days (or since the period started)"`
	ForecastExhaustedAt *string    `json:"forecast_exhausted_at" jsonschema:"format=date-time,description=when the balance runs out at burn_per_day; null when nothing burns or it is already used up"`
	Overage             bool       `json:"overage" jsonschema:"description=the balance is below zero"`
}

// apiCreditsList is GET /credits: every unarchived location.
type apiCreditsList struct {
	Data []apiCreditsOut `json:"data"`
}

// apiLedgerOut is one ledger entry.
type apiLedgerOut struct {
	ID             int64   `json:"id"`
	CreatedAt      string  `json:"created_at" jsonschema:"format=date-time"`
	LocationID     int64   `json:"location_id"`
	Kind           string  `json:"kind" jsonschema:"enum=outbound,enum=inbound,enum=forwarded,enum=refund,enum=purchase,enum=period,enum=plan_change"`
	Credits        int64   `json:"credits" jsonschema:"description=the entry's effect on the balance: negative for a charge"`
	PlanDelta      int64   `json:"plan_delta"`
	PurchasedDelta int64   `json:"purchased_delta"`
	MessageID      *int64  `json:"message_id"`
	ConversationID *int64  `json:"conversation_id"`
	InboxID        *int64  `json:"inbox_id"`
	Channel        *string `json:"channel"`
	UserID         *int64  `json:"user_id"`
	Note           string  `json:"note"`
}

func (s *Server) apiCreditsRoutes(api fiber.Router) {
	view := requirePerm(models.PermViewCredits)
	s.apiHandle(api, apiOp{Method: fiber.MethodGet, Path: "/credits", Tag: "credits",
		Summary: "Each location's balance, plan, usage this period by kind, burn rate and forecast (managers and admins)",
		Out:     apiCreditsList{}}, view, s.apiCredits)
	s.apiHandle(api, apiOp{Method: fiber.MethodGet, Path: "/credits/ledger", Tag: "credits", List: true,
		Summary: "The credit ledger, oldest first; with Accept: text/csv the whole range as CSV (managers and admins)",
		Out:     apiLedgerOut{}, AlsoProduces: "text/csv", Query: []apiParam{
			{Name: "location_id", Type: "integer", Description: "one location (default: all)"},
			{Name: "from", Description: "entries at or after: an RFC 3339 time, or a date (the day's start in the location's timezone)"},
			{Name: "to", Description: "entries before an RFC 3339 time, or up to and including a date"},
		}}, view, s.apiLedger)
}

func (s *Server) apiCredits(c *fiber.Ctx) error {
	sums, err := s.store.CreditSummaries(c.UserContext(), sessionUser(c).Scope)
	if err != nil {
		return err
	}
	out := apiCreditsList{Data: make([]apiCreditsOut, 0, len(sums))}
	for i := range sums {
		x := &sums[i]
		out.Data = append(out.Data, apiCreditsOut{LocationID: x.LocationID, LocationName: x.LocationName, Balance: x.Balance(),
			PlanBalance: x.PlanBalance, PurchasedBalance: x.PurchasedBalance, PlanCredits: x.PlanCredits, PlanName: x.PlanName,
			PlanStatus: x.PlanStatus, Used: apiUsedOut{x.UsedOutbound, x.UsedInbound, x.UsedForwarded},
			PeriodStart: timePtr(x.PeriodStart), PeriodEnd: timePtr(x.PeriodEnd), BurnPerDay: math.Round(x.BurnPerDay*100) / 100,
			ForecastExhaustedAt: timePtr(x.ForecastExhaustedAt), Overage: x.Overage()})
	}
	return c.JSON(out)
}

func (s *Server) apiLedger(c *fiber.Ctx) error {
	sc := sessionUser(c).Scope
	f, err := s.ledgerFilter(c, sc)
	if err != nil {
		return err
	}
	if wantsCSV(c) {
		return s.sendLedgerCSV(c, sc, f)
	}
	var cur models.LedgerCursor
	limit, err := pageParams(c, &cur)
	if err != nil {
		return err
	}
	var after *models.LedgerCursor
	if cur.ID != 0 {
		after = &cur
	}
	rows, next, err := s.store.Ledger(c.UserContext(), sc, f, after, limit)
	if err != nil {
		return err
	}
	out := apiList[apiLedgerOut]{Data: make([]apiLedgerOut, 0, len(rows))}
	for i := range rows {
		e := &rows[i]
		out.Data = append(out.Data, apiLedgerOut{ID: e.ID, CreatedAt: rfc3339(e.CreatedAt), LocationID: e.LocationID, Kind: e.Kind,
			Credits: e.Credits(), PlanDelta: e.PlanDelta, PurchasedDelta: e.PurchasedDelta, MessageID: e.MessageID,
			ConversationID: e.ConversationID, InboxID: e.InboxID, Channel: e.Channel, UserID: e.UserID, Note: e.Note})
	}
	if next != nil {
		out.NextCursor = makeCursor(next)
	}
	return c.JSON(out)
}

// wantsCSV reports whether the request asks for CSV (Accept: text/csv,
// and not JSON first).
func wantsCSV(c *fiber.Ctx) bool {
	accept := strings.ToLower(c.Get(fiber.HeaderAccept))
	return strings.Contains(accept, "text/csv") && c.Accepts("text/csv", fiber.MIMEApplicationJSON) == "text/csv"
}

// withCosts fills each conversation's credits: one query on the ledger's
// conversation index for the whole page.
func (s *Server) withCosts(ctx context.Context, sc models.Scope, outs ...*apiConversationOut) error {
	ids := make([]int64, len(outs))
	for i, o := range outs {
		ids[i] = o.ID
	}
	costs, err := s.store.ConversationCosts(ctx, sc, ids)
	if err != nil {
		return err
	}
	for _, o := range outs {
		o.Credits = costs[o.ID]
	}
	return nil
}

// sendConversation answers with one conversation, its cost filled.
func (s *Server) sendConversation(c *fiber.Ctx, out apiConversationOut) error {
	if err := s.withCosts(c.UserContext(), sessionUser(c).Scope, &out); err != nil {
		return err
	}
	return c.JSON(out)
}
