package models

import (
	"context"
	"time"

	"github.com/uptrace/bun"
)

// Organization is a tenant: every other row belongs to exactly one.
type Organization struct {
	bun.BaseModel `bun:"table:organizations"`

	ID   int64  `bun:"id,pk,autoincrement"`
	Name string `bun:"name"`
	Slug string `bun:"slug"`
	// DefaultCountry (ISO 3166-1 alpha-2) reads local phone formats.
	DefaultCountry string    `bun:"default_country,nullzero,default:'US'"`
	CreatedAt      time.Time `bun:"created_at,nullzero,default:now()"`
}

// Plan states of a location's Chat plan.
const (
	PlanActive    = "active"
	PlanInactive  = "inactive"
	PlanSuspended = "suspended"
)

// Location has a timezone and a Chat plan; chat works only while the plan is active.
type Location struct {
	bun.BaseModel `bun:"table:locations"`

	ID              int64      `bun:"id,pk,autoincrement"`
	OrgID           int64      `bun:"org_id"`
	Name            string     `bun:"name"`
	Timezone        string     `bun:"timezone"`
	PlanStatus      string     `bun:"plan_status"`
	PlanName        string     `bun:"plan_name"`
	PlanCredits     int        `bun:"plan_credits"`
	PlanPeriodStart *time.Time `bun:"plan_period_start"`
	// PlanPeriodMonths is how long each plan period lasts (1 to 36).
	PlanPeriodMonths int        `bun:"plan_period_months,nullzero,default:1"`
	QuietStart       *string    `bun:"quiet_start"`
	QuietEnd         *string    `bun:"quiet_end"`
	ArchivedAt       *time.Time `bun:"archived_at"`
	CreatedAt        time.Time  `bun:"created_at,nullzero,default:now()"`
}

// ChatEnabled reports whether conversations may run at this location.
func (l *Location) ChatEnabled() bool { return l.PlanStatus == PlanActive }

// Inbox is an address conversations arrive on: an SMS number and/or an email address.
type Inbox struct {
	bun.BaseModel `bun:"table:inboxes"`

	ID           int64   `bun:"id,pk,autoincrement"`
	OrgID        int64   `bun:"org_id"`
	LocationID   int64   `bun:"location_id"`
	Name         string  `bun:"name"`
	SMSNumber    *string `bun:"sms_number"`
	EmailAddress *string `bun:"email_address"`
	HelpText     string  `bun:"help_text"`
	// BusinessHours per weekday in the location's timezone (empty: none set).
	BusinessHours BusinessHours `bun:"business_hours,type:jsonb,nullzero,default:'{}'"`
	ArchivedAt    *time.Time    `bun:"archived_at"`
	CreatedAt     time.Time     `bun:"created_at,nullzero,default:now()"`

	Location *Location `bun:"rel:belongs-to,join:location_id=id"`
}

// inboxInScope loads an inbox of the scope's organization.
func inboxInScope(ctx context.Context, tx bun.Tx, sc Scope, inboxID int64) (*Inbox, error) {
	inbox := new(Inbox)
	if err := tx.NewSelect().Model(inbox).Where("id = ? AND org_id = ?", inboxID, sc.OrgID).Scan(ctx); err != nil {
		return nil, notFound("inbox", err)
	}
	return inbox, nil
}

// BusinessHours maps a weekday ("mon" … "sun") to its open intervals as
// "HH:MM" pairs in the location's timezone. An empty map means no hours
// are set (always open); a day missing from a non-empty map is closed.
type BusinessHours map[string][][2]string
