package models

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// Reading credit usage (the Credits page and GET /api/v1/credits): each
// location's account and burn rate, daily usage by kind, usage per inbox
// and per conversation, and one conversation's cost. All of it is read
// from credit_accounts and the ledger (its (location_id, created_at) and
// conversation_id indexes); nothing here writes.
//
// "Used" is charges net of refunds: -(plan_delta + purchased_delta) over
// the outbound, inbound, forwarded and refund entries. A refund undoes an
// outbound charge, so it counts against outbound.

// usageKinds are the ledger kinds that make up usage.
const usageKindsSQL = `('` + ChargeOutbound + `', '` + ChargeInbound + `', '` + ChargeForwarded + `', '` + LedgerRefund + `')`

// BurnWindow is how far back the burn rate looks (or to the period's
// start, when that is nearer).
const BurnWindow = 7 * 24 * time.Hour

// minBurnDays keeps a period a few minutes old from extrapolating its
// first message into a day's rate: the rate divides by at least one day.
const minBurnDays = 1.0

// CreditSummary is one location's credits: its plan, balance, this
// period's usage by kind, the burn rate and when the balance runs out at
// that rate.
type CreditSummary struct {
	LocationID       int64      `bun:"location_id"`
	LocationName     string     `bun:"location_name"`
	Timezone         string     `bun:"timezone"`
	PlanStatus       string     `bun:"plan_status"`
	PlanName         string     `bun:"plan_name"`
	PlanCredits      int64      `bun:"plan_credits"`
	PlanBalance      int64      `bun:"plan_balance"`
	PurchasedBalance int64      `bun:"purchased_balance"`
	UsedOutbound     int64      `bun:"used_outbound"`
	UsedInbound      int64      `bun:"used_inbound"`
	UsedForwarded    int64      `bun:"used_forwarded"`
	PeriodStart      *time.Time `bun:"period_start"`
	PeriodEnd        *time.Time `bun:"period_end"`
	// BurnUsed is the credits used over the burn window, BurnDays its
	// length in days (at least minBurnDays).
	BurnUsed int64   `bun:"burn_used"`
	BurnDays float64 `bun:"burn_days"`
	// BurnPerDay is BurnUsed / BurnDays (0 when nothing was used).
	BurnPerDay float64 `bun:"-"`
	// ForecastExhaustedAt is when the balance reaches zero at the burn
	// rate: nil when nothing burns or the balance is already used up
	// (Exhausted).
	ForecastExhaustedAt *time.Time `bun:"-"`
}

// Balance is plan and purchased credits together (negative in overage).
func (c CreditSummary) Balance() int64 { return c.PlanBalance + c.PurchasedBalance }

// Used is this period's usage, all kinds.
func (c CreditSummary) Used() int64 { return c.UsedOutbound + c.UsedInbound + c.UsedForwarded }

// Overage reports whether the balance is below zero (inbound and forwarded
// messages charged past it).
func (c CreditSummary) Overage() bool { return c.Balance() < 0 }

// Exhausted reports whether nothing is left to spend.
func (c CreditSummary) Exhausted() bool { return c.Balance() <= 0 }

// Active reports whether the location's plan is active.
func (c CreditSummary) Active() bool { return c.PlanStatus == PlanActive }

// forecast fills the burn rate and the day the balance runs out.
func (c *CreditSummary) forecast(now time.Time) {
	if c.BurnDays > 0 && c.BurnUsed > 0 {
		c.BurnPerDay = float64(c.BurnUsed) / c.BurnDays
	}
	if c.BurnPerDay <= 0 || c.Exhausted() {
		return
	}
	days := float64(c.Balance()) / c.BurnPerDay
	at := now.Add(time.Duration(days * float64(24*time.Hour))).UTC().Truncate(time.Second)
	c.ForecastExhaustedAt = &at
}

// CreditSummaries lists every unarchived location's credits, by name
// (managers and admins).
func (s *Store) CreditSummaries(ctx context.Context, sc Scope) ([]CreditSummary, error) {
	return s.creditSummaries(ctx, sc, 0, time.Now())
}

// CreditSummaryOf is one location's credits; another organization's (or
// an archived) location is ErrNotFound.
func (s *Store) CreditSummaryOf(ctx context.Context, sc Scope, locationID int64) (*CreditSummary, error) {
	rows, err := s.creditSummaries(ctx, sc, locationID, time.Now())
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("store: credits of location %d: %w", locationID, ErrNotFound)
	}
	return &rows[0], nil
}

func (s *Store) creditSummaries(ctx context.Context, sc Scope, locationID int64, now time.Time) ([]CreditSummary, error) {
	if err := require(sc, PermViewCredits); err != nil {
		return nil, err
	}
	// The burn window starts 7 days ago or at the period's start, whichever
	// is later; the lateral sum reads the (location_id, created_at) index.
	var rows []CreditSummary
	q := `SELECT l.id AS location_id, l.name AS location_name, l.timezone, l.plan_status, l.plan_name, l.plan_credits,
			a.plan_balance, a.purchased_balance, a.used_outbound, a.used_inbound, a.used_forwarded,
			a.period_start, a.period_end, coalesce(b.used, 0) AS burn_used,
			greatest(extract(epoch FROM ?0::timestamptz - w.start) / 86400, ?1) AS burn_days
		FROM locations l
		JOIN credit_accounts a ON a.location_id = l.id
		CROSS JOIN LATERAL (SELECT greatest(?0::timestamptz - ?2::interval, coalesce(a.period_start, '-infinity')) AS start) w
		LEFT JOIN LATERAL (SELECT -sum(e.plan_delta + e.purchased_delta) AS used FROM credit_ledger e
			WHERE e.location_id = l.id AND e.created_at >= w.start AND e.created_at <= ?0 AND e.kind IN ` + usageKindsSQL + `) b ON true
		WHERE l.org_id = ?3 AND l.archived_at IS NULL AND (?4 = 0 OR l.id = ?4)
		ORDER BY l.name, l.id`
	if err := s.db.NewRaw(q, now, minBurnDays, fmt.Sprintf("%d seconds", int64(BurnWindow/time.Second)), sc.OrgID, locationID).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("store: credit summaries: %w", err)
	}
	for i := range rows {
		rows[i].forecast(now)
	}
	return rows, nil
}

// DayUsage is one day's usage at a location, by kind (days in the
// location's timezone).
type DayUsage struct {
	Day       string `bun:"day"` // YYYY-MM-DD
	Outbound  int64  `bun:"outbound"`
	Inbound   int64  `bun:"inbound"`
	Forwarded int64  `bun:"forwarded"`
}

// Total is the day's usage, all kinds.
func (d DayUsage) Total() int64 { return d.Outbound + d.Inbound + d.Forwarded }

// MaxUsageDays bounds DailyUsage's range.
const MaxUsageDays = 366

// UsageLocation loads a location of the scope's organization for a usage
// read (PermViewCredits); another organization's is ErrNotFound.
func (s *Store) UsageLocation(ctx context.Context, sc Scope, locationID int64) (*Location, error) {
	if err := require(sc, PermViewCredits); err != nil {
		return nil, err
	}
	l := new(Location)
	if err := s.db.NewSelect().Model(l).Where("id = ? AND org_id = ?", locationID, sc.OrgID).Scan(ctx); err != nil {
		return nil, notFound("location", err)
	}
	return l, nil
}

// DailyUsage is a location's usage per day and kind, from the day of from
// to the day of to (both included, in the location's timezone), every
// day present (zero when nothing was used).
func (s *Store) DailyUsage(ctx context.Context, sc Scope, locationID int64, from, to time.Time) ([]DayUsage, error) {
	l, err := s.UsageLocation(ctx, sc, locationID)
	if err != nil {
		return nil, err
	}
	tz := l.TimeLocation()
	first := dayStart(from, tz)
	last := dayStart(to, tz)
	if last.Before(first) {
		return nil, fieldErr("to", "The end must not come before the start.")
	}
	end := last.AddDate(0, 0, 1)
	n := 0
	for d := first; d.Before(end); d = d.AddDate(0, 0, 1) {
		n++
	}
	if n > MaxUsageDays {
		return nil, fieldErr("from", "At most %d days at a time.", MaxUsageDays)
	}
	var rows []DayUsage
	err = s.db.NewRaw(`SELECT to_char(e.created_at AT TIME ZONE ?0, 'YYYY-MM-DD') AS day,
			coalesce(-sum(e.plan_delta + e.purchased_delta) FILTER (WHERE e.kind IN (?1, ?4)), 0) AS outbound,
			coalesce(-sum(e.plan_delta + e.purchased_delta) FILTER (WHERE e.kind = ?2), 0) AS inbound,
			coalesce(-sum(e.plan_delta + e.purchased_delta) FILTER (WHERE e.kind = ?3), 0) AS forwarded
		FROM credit_ledger e
		WHERE e.location_id = ?5 AND e.created_at >= ?6 AND e.created_at < ?7 AND e.kind IN `+usageKindsSQL+`
		GROUP BY 1 ORDER BY 1`,
		tz.String(), ChargeOutbound, ChargeInbound, ChargeForwarded, LedgerRefund, l.ID, first, end).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("store: daily usage: %w", err)
	}
	byDay := make(map[string]DayUsage, len(rows))
	for _, r := range rows {
		byDay[r.Day] = r
	}
	out := make([]DayUsage, 0, n)
	for d := first; d.Before(end); d = d.AddDate(0, 0, 1) {
		key := d.Format(time.DateOnly)
		u := byDay[key]
		u.Day = key
		out = append(out, u)
	}
	return out, nil
}

// dayStart is the midnight that starts t's day in tz.
func dayStart(t time.Time, tz *time.Location) time.Time {
	y, m, d := t.In(tz).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, tz)
}

// InboxUsage is a location's usage through one inbox over a range.
type InboxUsage struct {
	InboxID   *int64 `bun:"inbox_id"` // nil: charges whose message had no inbox
	InboxName string `bun:"inbox_name"`
	Outbound  int64  `bun:"outbound"`
	Inbound   int64  `bun:"inbound"`
	Forwarded int64  `bun:"forwarded"`
	Messages  int64  `bun:"messages"`
}

// Total is the inbox's usage, all kinds.
func (u InboxUsage) Total() int64 { return u.Outbound + u.Inbound + u.Forwarded }

// UsageByInbox is a location's usage per inbox in [from, to), most used
// first.
func (s *Store) UsageByInbox(ctx context.Context, sc Scope, locationID int64, from, to time.Time) ([]InboxUsage, error) {
	l, err := s.UsageLocation(ctx, sc, locationID)
	if err != nil {
		return nil, err
	}
	var rows []InboxUsage
	err = s.db.NewRaw(`SELECT e.inbox_id, coalesce(max(i.name), '') AS inbox_name,
			coalesce(-sum(e.plan_delta + e.purchased_delta) FILTER (WHERE e.kind IN (?0, ?3)), 0) AS outbound,
			coalesce(-sum(e.plan_delta + e.purchased_delta) FILTER (WHERE e.kind = ?1), 0) AS inbound,
			coalesce(-sum(e.plan_delta + e.purchased_delta) FILTER (WHERE e.kind = ?2), 0) AS forwarded,
			count(*) FILTER (WHERE e.kind <> ?3) AS messages
		FROM credit_ledger e LEFT JOIN inboxes i ON i.id = e.inbox_id AND i.org_id = e.org_id
		WHERE e.location_id = ?4 AND e.created_at >= ?5 AND e.created_at < ?6 AND e.kind IN `+usageKindsSQL+`
		GROUP BY e.inbox_id ORDER BY -sum(e.plan_delta + e.purchased_delta) DESC, e.inbox_id`,
		ChargeOutbound, ChargeInbound, ChargeForwarded, LedgerRefund, l.ID, from, to).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("store: usage by inbox: %w", err)
	}
	return rows, nil
}

// ConversationUsage is what one conversation used over a range.
type ConversationUsage struct {
	ConversationID int64   `bun:"conversation_id"`
	RecipientName  string  `bun:"recipient_name"`
	RecipientPhone *string `bun:"recipient_phone"`
	RecipientEmail *string `bun:"recipient_email"`
	Channel        string  `bun:"channel"`
	InboxName      string  `bun:"inbox_name"`
	Credits        int64   `bun:"credits"`
	Messages       int64   `bun:"messages"`
}

// DisplayName is the recipient's name, else their address.
func (u ConversationUsage) DisplayName() string {
	switch {
	case u.RecipientName != "":
		return u.RecipientName
	case u.Channel == ChannelEmail && u.RecipientEmail != nil:
		return *u.RecipientEmail
	case u.RecipientPhone != nil:
		return *u.RecipientPhone
	case u.RecipientEmail != nil:
		return *u.RecipientEmail
	}
	return "Unknown"
}

// MaxTopConversations bounds TopConversations' n.
const MaxTopConversations = 100

// TopConversations is the n conversations of a location that used the
// most credits in [from, to), with their recipients.
func (s *Store) TopConversations(ctx context.Context, sc Scope, locationID int64, from, to time.Time, n int) ([]ConversationUsage, error) {
	l, err := s.UsageLocation(ctx, sc, locationID)
	if err != nil {
		return nil, err
	}
	if n < 1 || n > MaxTopConversations {
		return nil, fieldErr("limit", "From 1 to %d.", MaxTopConversations)
	}
	var rows []ConversationUsage
	err = s.db.NewRaw(`SELECT t.conversation_id, r.name AS recipient_name, r.phone AS recipient_phone, r.email AS recipient_email,
			c.channel, i.name AS inbox_name, t.credits, t.messages
		FROM (SELECT e.conversation_id, -sum(e.plan_delta + e.purchased_delta) AS credits,
				count(*) FILTER (WHERE e.kind <> ?0) AS messages
			FROM credit_ledger e
			WHERE e.location_id = ?1 AND e.created_at >= ?2 AND e.created_at < ?3 AND e.conversation_id IS NOT NULL
				AND e.kind IN `+usageKindsSQL+`
			GROUP BY e.conversation_id ORDER BY 2 DESC, 1 LIMIT ?4) t
		JOIN conversations c ON c.id = t.conversation_id AND c.org_id = ?5
		JOIN recipients r ON r.id = c.recipient_id AND r.org_id = c.org_id
		JOIN inboxes i ON i.id = c.inbox_id AND i.org_id = c.org_id
		ORDER BY t.credits DESC, t.conversation_id`,
		LedgerRefund, l.ID, from, to, n, sc.OrgID).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("store: top conversations: %w", err)
	}
	return rows, nil
}

// ConversationCost is what a conversation has cost so far: its charges
// less refunds (positive). Whoever may see the conversation may see its
// cost, as they see each message's; another's is ErrNotFound.
func (s *Store) ConversationCost(ctx context.Context, sc Scope, convID int64) (int64, error) {
	var inboxID int64
	if err := s.db.NewRaw("SELECT inbox_id FROM conversations WHERE id = ? AND org_id = ?", convID, sc.OrgID).Scan(ctx, &inboxID); err != nil {
		return 0, notFound("conversation", err)
	}
	if !sc.CanSeeInbox(inboxID) {
		return 0, fmt.Errorf("store: conversation %d: %w", convID, ErrNotFound)
	}
	costs, err := conversationCosts(ctx, s.db, sc.OrgID, []int64{convID})
	if err != nil {
		return 0, err
	}
	return costs[convID], nil
}

// ConversationCosts is the cost of each of ids (conversations the caller
// already read through sc), in one query on the ledger's conversation
// index; conversations of other organizations count nothing.
func (s *Store) ConversationCosts(ctx context.Context, sc Scope, ids []int64) (map[int64]int64, error) {
	return conversationCosts(ctx, s.db, sc.OrgID, ids)
}

func conversationCosts(ctx context.Context, db bun.IDB, orgID int64, ids []int64) (map[int64]int64, error) {
	out := make(map[int64]int64, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var rows []struct {
		ConversationID int64 `bun:"conversation_id"`
		Credits        int64 `bun:"credits"`
	}
	if err := db.NewRaw(`SELECT conversation_id, -sum(plan_delta + purchased_delta) AS credits FROM credit_ledger
		WHERE conversation_id = ANY(?) AND org_id = ? AND kind IN `+usageKindsSQL+` GROUP BY conversation_id`,
		pgdialect.Array(ids), orgID).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("store: conversation costs: %w", err)
	}
	for _, r := range rows {
		out[r.ConversationID] = r.Credits
	}
	return out, nil
}

// BroadcastUsage is what one broadcast used over a range: its messages
// and the chats its replies opened (conversations marked with it).
type BroadcastUsage struct {
	BroadcastID int64  `bun:"broadcast_id"`
	Name        string `bun:"name"`
	Credits     int64  `bun:"credits"`
	Messages    int64  `bun:"messages"`
}

// UsageByBroadcast is a location's usage per broadcast in [from, to), the
// n that used the most first.
func (s *Store) UsageByBroadcast(ctx context.Context, sc Scope, locationID int64, from, to time.Time, n int) ([]BroadcastUsage, error) {
	l, err := s.UsageLocation(ctx, sc, locationID)
	if err != nil {
		return nil, err
	}
	if n < 1 || n > MaxTopConversations {
		return nil, fieldErr("limit", "From 1 to %d.", MaxTopConversations)
	}
	var rows []BroadcastUsage
	err = s.db.NewRaw(`SELECT t.broadcast_id, b.name, t.credits, t.messages
		FROM (SELECT c.broadcast_id, -sum(e.plan_delta + e.purchased_delta) AS credits,
				count(*) FILTER (WHERE e.kind <> ?0) AS messages
			FROM credit_ledger e JOIN conversations c ON c.id = e.conversation_id
			WHERE e.location_id = ?1 AND e.created_at >= ?2 AND e.created_at < ?3 AND c.broadcast_id IS NOT NULL
				AND e.kind IN `+usageKindsSQL+`
			GROUP BY c.broadcast_id ORDER BY 2 DESC, 1 LIMIT ?4) t
		JOIN broadcasts b ON b.id = t.broadcast_id AND b.org_id = ?5
		ORDER BY t.credits DESC, t.broadcast_id`,
		LedgerRefund, l.ID, from, to, n, sc.OrgID).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("store: usage by broadcast: %w", err)
	}
	return rows, nil
}
