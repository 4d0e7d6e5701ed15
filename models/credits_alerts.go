package models

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/uptrace/bun/dialect/pgdialect"
)

// Usage alerts (product.md, "Chat credits"): when a location's usage
// crosses 80, 95 or 100 % of its plan's credits, the charge task queues
// credits:alert (checkAlerts); its handler records the alert here, emails
// every active admin once, and shows a live notice. The in-app banner
// (CreditWarnings) is read from the accounts themselves.

// CreditAlert is one usage alert: a location's threshold in one plan
// period, with what the email says about it.
type CreditAlert struct {
	ID           int64
	OrgID        int64
	LocationID   int64
	LocationName string
	Level        int
	PeriodStart  time.Time
	// PeriodEnd is when the plan's credits renew (nil: no period yet).
	PeriodEnd   *time.Time
	Balance     int64
	PlanCredits int64
	Used        int64
	// Emailed lists the admins already sent this alert.
	Emailed []int64
	// Sent: every admin has it and the live notice went out.
	Sent bool
	// Current: the alert's period is still the account's (an alert
	// handled after its period renewed is stale and says nothing).
	Current bool
}

// Percent is this period's usage, in percent of the plan's credits.
func (a *CreditAlert) Percent() int { return usagePercent(a.Used, a.PlanCredits) }

// WasEmailed reports whether admin userID has had this alert.
func (a *CreditAlert) WasEmailed(userID int64) bool {
	for _, id := range a.Emailed {
		if id == userID {
			return true
		}
	}
	return false
}

// AlertRecipient is an admin an alert is emailed to.
type AlertRecipient struct {
	UserID int64  `bun:"id"`
	Name   string `bun:"name"`
	Email  string `bun:"email"`
}

// usagePercent is used in whole percent of plan (0 without a plan).
func usagePercent(used, plan int64) int {
	if plan <= 0 {
		return 0
	}
	return int(used * 100 / plan)
}

// OpenCreditAlert records the alert of a location's level in the period
// starting at periodStart (the zero time when the location had no period)
// unless it is recorded already, and returns it with the organization's
// active admins. Running it again returns the same alert, with the admins
// already emailed: the caller emails the others (CreditAlertEmailed) and
// then closes it (CreditAlertSent).
func (s *Store) OpenCreditAlert(ctx context.Context, locationID int64, level int, periodStart time.Time) (*CreditAlert, []AlertRecipient, error) {
	if periodStart.IsZero() {
		periodStart = time.Unix(0, 0)
	}
	a := &CreditAlert{LocationID: locationID, Level: level, PeriodStart: periodStart}
	var sentAt *time.Time
	var acctStart *time.Time
	var emailed []int64
	err := s.db.NewRaw(`WITH ins AS (
			INSERT INTO credit_alerts (org_id, location_id, period_start, level)
			SELECT org_id, id, ?1, ?2 FROM locations WHERE id = ?0
			ON CONFLICT (location_id, period_start, level) DO NOTHING RETURNING id, emailed, sent_at)
		SELECT x.id, x.emailed, x.sent_at, l.org_id, l.name, l.plan_credits,
			ac.plan_balance + ac.purchased_balance, ac.used_outbound + ac.used_inbound + ac.used_forwarded,
			ac.period_start, ac.period_end
		FROM (SELECT id, emailed, sent_at FROM ins
			UNION ALL SELECT id, emailed, sent_at FROM credit_alerts WHERE location_id = ?0 AND period_start = ?1 AND level = ?2) AS x,
			locations AS l JOIN credit_accounts AS ac ON ac.location_id = l.id
		WHERE l.id = ?0 LIMIT 1`, locationID, periodStart, level).
		Scan(ctx, &a.ID, pgdialect.Array(&emailed), &sentAt, &a.OrgID, &a.LocationName, &a.PlanCredits,
			&a.Balance, &a.Used, &acctStart, &a.PeriodEnd)
	if err != nil {
		return nil, nil, notFound("open credit alert", err)
	}
	a.Emailed, a.Sent = emailed, sentAt != nil
	a.Current = (acctStart == nil && periodStart.Equal(time.Unix(0, 0))) || (acctStart != nil && acctStart.Unix() == periodStart.Unix())
	var admins []AlertRecipient
	if err := s.db.NewRaw(`SELECT id, name, email FROM users WHERE org_id = ? AND role = ? AND disabled_at IS NULL ORDER BY id`,
		a.OrgID, RoleAdmin).Scan(ctx, &admins); err != nil {
		return nil, nil, fmt.Errorf("store: alert recipients: %w", err)
	}
	return a, admins, nil
}

// CreditAlertEmailed records that admin userID was emailed alert id.
func (s *Store) CreditAlertEmailed(ctx context.Context, id, userID int64) error {
	if _, err := s.db.NewRaw(`UPDATE credit_alerts SET emailed = array_append(emailed, ?::bigint)
		WHERE id = ? AND NOT (? = ANY(emailed))`, userID, id, userID).Exec(ctx); err != nil {
		return fmt.Errorf("store: credit alert emailed: %w", err)
	}
	return nil
}

// CreditAlertSent closes alert id: every admin has it. It reports whether
// this call closed it (false: it was closed already).
func (s *Store) CreditAlertSent(ctx context.Context, id int64) (bool, error) {
	res, err := s.db.NewRaw(`UPDATE credit_alerts SET sent_at = now() WHERE id = ? AND sent_at IS NULL`, id).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("store: credit alert sent: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: credit alert sent: %w", err)
	}
	return n == 1, nil
}

// CreditWarning is a location whose credits run low this period, for the
// banner every page shows those who may view credits.
type CreditWarning struct {
	LocationID   int64  `bun:"location_id"`
	LocationName string `bun:"name"`
	Balance      int64  `bun:"balance"`
	PlanCredits  int64  `bun:"plan_credits"`
	Used         int64  `bun:"used"`
}

// Percent is this period's usage in percent of the plan's credits.
func (w CreditWarning) Percent() int { return usagePercent(w.Used, w.PlanCredits) }

// Text is the banner's sentence.
func (w CreditWarning) Text() string {
	if w.Balance <= 0 {
		return w.LocationName + " has no Chat credits left (balance " + strconv.FormatInt(w.Balance, 10) + "): texts and emails cannot be sent."
	}
	return w.LocationName + " has used " + strconv.Itoa(w.Percent()) + "% of its plan's credits — " + strconv.FormatInt(w.Balance, 10) + " left."
}

// warnPercent is the usage from which the banner shows: the first alert.
const warnPercent = 80

// CreditWarnings lists the scope's organization's locations with an
// active plan whose usage this period reached 80 % of the plan's credits,
// or whose balance is spent. It needs PermViewCredits; one query over the
// organization's accounts.
func (s *Store) CreditWarnings(ctx context.Context, sc Scope) ([]CreditWarning, error) {
	if err := require(sc, PermViewCredits); err != nil {
		return nil, err
	}
	var ws []CreditWarning
	if err := s.db.NewRaw(`SELECT a.location_id, l.name, a.plan_balance + a.purchased_balance AS balance, l.plan_credits,
			a.used_outbound + a.used_inbound + a.used_forwarded AS used
		FROM credit_accounts AS a JOIN locations AS l ON l.id = a.location_id
		WHERE a.org_id = ? AND l.archived_at IS NULL AND l.plan_status = ?
			AND (a.plan_balance + a.purchased_balance <= 0
				OR (l.plan_credits > 0 AND (a.used_outbound + a.used_inbound + a.used_forwarded) * 100 >= ? * l.plan_credits))
		ORDER BY l.name, a.location_id`, sc.OrgID, PlanActive, warnPercent).Scan(ctx, &ws); err != nil {
		return nil, fmt.Errorf("store: credit warnings: %w", err)
	}
	return ws, nil
}

// ComposeCredits is what an agent composing at a location may spend: the
// plan's state, the credits available (the balance less outbound charges
// still pending, as composing checks them) and the outbound rates.
type ComposeCredits struct {
	LocationID   int64
	LocationName string
	PlanActive   bool
	Available    int64
	Card         RateCard
}

// Price is what an outbound message of channel with segments costs.
func (cc ComposeCredits) Price(channel string, segments int) int {
	return cc.Card.Price(channel, ChargeOutbound, segments, false)
}

// Blocked says why nothing can be sent from the location before anything
// is typed (the plan is not active, or the credits do not cover the
// cheapest message on channel), or "" when something can.
func (cc ComposeCredits) Blocked(channel string) string {
	if !cc.PlanActive {
		return "The Chat plan at " + cc.LocationName + " is not active, so messages cannot be sent. An admin can activate it in Settings."
	}
	price := int64(cc.Price(channel, 1))
	if cc.Available >= price {
		return ""
	}
	what := "a text"
	if channel == ChannelEmail {
		what = "an email"
	}
	lead := "No credits left at "
	if cc.Available > 0 {
		lead = "Not enough credits left at "
	}
	return lead + cc.LocationName + ": the balance is " + strconv.FormatInt(cc.Available, 10) +
		" and " + what + " costs " + strconv.FormatInt(price, 10) + ". An admin can buy credits."
}

// ComposeCreditsAt reads ComposeCredits for locations of the scope's
// organization, by location id (one query; an id of another organization
// is left out).
func (s *Store) ComposeCreditsAt(ctx context.Context, sc Scope, locationIDs ...int64) (map[int64]ComposeCredits, error) {
	out := map[int64]ComposeCredits{}
	if len(locationIDs) == 0 {
		return out, nil
	}
	var rows []struct {
		ID        int64  `bun:"id"`
		Name      string `bun:"name"`
		Active    bool   `bun:"active"`
		Available int64  `bun:"available"`
		SMSRate   int    `bun:"sms"`
		MMSRate   int    `bun:"mms"`
		EmailRate int    `bun:"email"`
	}
	if err := s.db.NewRaw(`SELECT l.id, l.name, l.plan_status = ? AS active, `+availableSQL+` AS available, `+outboundRatesSQL+`
		FROM locations AS l JOIN credit_accounts AS a ON a.location_id = l.id LEFT JOIN rate_cards AS rc ON rc.org_id = l.org_id
		WHERE l.org_id = ? AND l.id = ANY(?)`, PlanActive, sc.OrgID, pgdialect.Array(locationIDs)).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("store: compose credits: %w", err)
	}
	for _, r := range rows {
		cc := ComposeCredits{LocationID: r.ID, LocationName: r.Name, PlanActive: r.Active, Available: r.Available}
		cc.Card.SMS.Outbound, cc.Card.MMS.Outbound, cc.Card.Email.Outbound = r.SMSRate, r.MMSRate, r.EmailRate
		out[cc.LocationID] = cc
	}
	return out, nil
}
