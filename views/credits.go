package views

import (
	"fmt"
	"math"
	"time"

	"github.com/parley-chat/parley/models"
)

// The Credits page: a card per location (balance, plan, usage, forecast,
// a daily chart drawn as SVG here on the server, breakdowns), and the
// ledger's CSV download form.

// CreditsData is the Credits page.
type CreditsData struct {
	Cards []CreditCard
	// CanManage: admins, who get a "Manage plan" link per location.
	CanManage bool
	// The CSV form: its values and the errors next to its fields.
	CSV    CSVForm
	Errors map[string]string
}

// CSVForm is the ledger download form's values.
type CSVForm struct {
	LocationID int64
	From, To   string // YYYY-MM-DD
}

// CreditCard is one location's credits.
type CreditCard struct {
	models.CreditSummary
	Chart         UsageChart
	Inboxes       []models.InboxUsage
	Conversations []models.ConversationUsage
	// Broadcasts: the broadcasts that used the most, with the chats their
	// replies opened.
	Broadcasts []models.BroadcastUsage
	// RangeLabel says what the breakdowns cover ("last 30 days").
	RangeLabel string
	// Manage: the viewer may change the plan (a "Manage plan" link).
	Manage bool
	tz     *time.Location
}

// NewCreditCard builds a location's card; days are its daily usage.
func NewCreditCard(s models.CreditSummary, days []models.DayUsage, inboxes []models.InboxUsage, convs []models.ConversationUsage, rangeLabel string) CreditCard {
	tz, err := time.LoadLocation(s.Timezone)
	if err != nil {
		tz = time.UTC
	}
	return CreditCard{CreditSummary: s, Chart: NewUsageChart(s.LocationID, days), Inboxes: inboxes, Conversations: convs,
		RangeLabel: rangeLabel, tz: tz}
}

// Day formats a time as a date in the location's timezone ("5 Jan 2027").
func (c CreditCard) Day(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.In(c.tz).Format("2 Jan 2006")
}

// LastDay is the period's last day (its end is the next period's first
// instant).
func (c CreditCard) LastDay() string {
	if c.PeriodEnd == nil {
		return ""
	}
	end := c.PeriodEnd.Add(-time.Second)
	return c.Day(&end)
}

// Burn is the burn rate for people: "12.5 credits a day".
func (c CreditCard) Burn() string {
	r := c.BurnPerDay
	switch {
	case r == 0:
		return "nothing used in the last 7 days"
	case r < 10:
		return fmt.Sprintf("%.1f credits a day", r)
	}
	return fmt.Sprintf("%.0f credits a day", r)
}

// UsedPercent is this period's usage as a share of the plan's credits
// (0 to 100, for the meter), and -1 without plan credits.
func (c CreditCard) UsedPercent() int {
	if c.PlanCredits <= 0 {
		return -1
	}
	return int(min(100, max(0, math.Round(float64(c.Used())*100/float64(c.PlanCredits)))))
}

// UsageChart is a daily stacked-bar chart of usage by kind, laid out for
// an SVG of ChartWidth × ChartHeight user units.
type UsageChart struct {
	ID     string // unique within the page (for aria references)
	Days   []models.DayUsage
	Bars   []ChartBar
	YTicks []ChartTick
	XTicks []ChartTick
	Max    int64
	Total  int64
	// Plot area, and where the y axis' labels end.
	Left, Top, Right, Bottom, AxisX float64
}

// ChartBar is one day's stacked bar (segments bottom up).
type ChartBar struct {
	X, W     float64
	Label    string // for its <title>: "5 Jan: 12 credits"
	Segments []ChartSegment
}

// ChartSegment is one kind's part of a bar.
type ChartSegment struct {
	Kind    string // outbound, inbound, forwarded (its CSS class)
	Y, H    float64
	Credits int64
}

// ChartTick is an axis label and where it goes.
type ChartTick struct {
	Pos   float64
	Label string
}

// Chart geometry, in SVG user units.
const (
	ChartWidth  = 640
	ChartHeight = 220
)

// NewUsageChart lays days out as stacked bars with a "nice" y axis (a
// round maximum and four ticks) and a date label every week.
func NewUsageChart(locationID int64, days []models.DayUsage) UsageChart {
	c := UsageChart{ID: fmt.Sprintf("chart-%d", locationID), Days: days, Left: 44, Top: 10, Right: ChartWidth - 22, Bottom: ChartHeight - 28, AxisX: 38}
	for _, d := range days {
		c.Max = max(c.Max, d.Total())
		c.Total += d.Total()
	}
	top := niceCeil(c.Max)
	h := c.Bottom - c.Top
	for i := 0; i <= 4; i++ {
		v := top * int64(i) / 4
		c.YTicks = append(c.YTicks, ChartTick{Pos: c.Bottom - h*float64(v)/float64(top), Label: fmt.Sprint(v)})
	}
	if len(days) == 0 {
		return c
	}
	step := (c.Right - c.Left) / float64(len(days))
	w := math.Max(1, step*0.7)
	for i, d := range days {
		x := c.Left + step*float64(i) + (step-w)/2
		b := ChartBar{X: round1(x), W: round1(w), Label: fmt.Sprintf("%s: %d credits (outbound %d, inbound %d, forwarded %d)",
			dayLabel(d.Day), d.Total(), d.Outbound, d.Inbound, d.Forwarded)}
		y := c.Bottom
		for _, s := range []ChartSegment{{Kind: models.ChargeOutbound, Credits: d.Outbound}, {Kind: models.ChargeInbound, Credits: d.Inbound},
			{Kind: models.ChargeForwarded, Credits: d.Forwarded}} {
			if s.Credits <= 0 {
				continue
			}
			s.H = h * float64(s.Credits) / float64(top)
			y -= s.H
			s.Y, s.H = round1(y), round1(s.H)
			b.Segments = append(b.Segments, s)
		}
		c.Bars = append(c.Bars, b)
		if (len(days)-1-i)%7 == 0 {
			c.XTicks = append(c.XTicks, ChartTick{Pos: round1(x + w/2), Label: dayLabel(d.Day)})
		}
	}
	return c
}

// niceCeil is the smallest of 1, 2, 2.5, 5 × 10^k at or above n (at
// least 4, so four ticks are whole numbers).
func niceCeil(n int64) int64 {
	if n <= 4 {
		return 4
	}
	p := int64(1)
	for p*10 <= n {
		p *= 10
	}
	for _, m := range []int64{1, 2, 5, 10} {
		if v := m * p; v >= n && v%4 == 0 {
			return v
		}
	}
	return ((n + 3) / 4) * 4
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }

// dayLabel turns "2027-01-05" into "5 Jan".
func dayLabel(day string) string {
	t, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return day
	}
	return t.Format("2 Jan")
}

// DayLabel is dayLabel for templates.
func (UsageChart) DayLabel(day string) string { return dayLabel(day) }

// CreditsLabel is the thread head's cost ("12 credits"), "" when not loaded.
func (d ThreadData) CreditsLabel() string {
	if d.Credits == nil {
		return ""
	}
	if *d.Credits == 1 {
		return "1 credit"
	}
	return fmt.Sprintf("%d credits", *d.Credits)
}
