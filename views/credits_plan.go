package views

// The Chat plan section of a location's settings page and the rate card
// page (issue 12). Values are the strings the forms show, so a refused
// form keeps what was typed; Errors are keyed by field name.

// PlanAccount is a location's credit account as its settings page shows it.
type PlanAccount struct {
	Balance, PlanBalance, PurchasedBalance int64
	// Period is the current period's dates in the location's time zone
	// ("" before the plan's first period).
	PeriodFirst, PeriodLast, Renews string
	Purchases                       []PurchaseRow
	// CanBuy: the viewer may buy credits (admins); Buy* is their form.
	CanBuy              bool
	Bought              bool
	BuyCredits, BuyNote string
	BuyErrors           map[string]string
}

// Overage: the balance is below zero (inbound and forwarded messages were
// charged past it).
func (a *PlanAccount) Overage() bool { return a.Balance < 0 }

// PurchaseRow is one purchase of credits.
type PurchaseRow struct {
	Date    string
	Credits int64
	Note    string
	Who     string
}

// RateCardData is the rate card page: one row per channel, one cell per
// kind (outbound, inbound, forwarded).
type RateCardData struct {
	ReadOnly bool
	Saved    bool
	Rows     []RateRow
	// Example is a worked price ("A 2-segment SMS reply costs 4 credits.").
	Example   string
	UpdatedAt string
	// Error is a message for the form as a whole ("" none).
	Error string
}

// RateRow is a channel's rates.
type RateRow struct {
	Label, Unit string
	Cells       []RateCell
}

// RateCell is one rate's input.
type RateCell struct {
	Name    string // the form field, e.g. "sms_outbound"
	Kind    string // "Outbound", "Inbound", "Forwarded"
	Value   string
	Default int
	Error   string
}
