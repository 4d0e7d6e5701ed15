package web_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley/models"
)

// creditsSeq makes the credit tests' locations and numbers unique.
var creditsSeq atomic.Int64

// creditsLocation adds to the demo organization a location with an
// active plan of credits and an inbox texting from a fresh number, so a
// test can spend its credits without touching the demo location's. Both
// are archived when the test ends.
func creditsLocation(t *testing.T, f *fixture, name string, credits int) (*models.Location, *models.Inbox) {
	t.Helper()
	ctx := context.Background()
	n := creditsSeq.Add(1)
	admin := models.Scope{OrgID: f.Demo.Org.ID, UserID: f.Demo.Admin.ID, Role: models.RoleAdmin}
	// The demo location's zone: pages that read the organization's one
	// (the audit log) expect it shared.
	active, now, tz := models.PlanActive, time.Now(), "America/New_York"
	name = fmt.Sprintf("%s %d", name, n)
	loc, err := f.Store.CreateLocation(ctx, admin, models.LocationInput{Name: &name, Timezone: &tz, PlanStatus: &active,
		PlanCredits: &credits, PlanPeriodStart: &now})
	if err != nil {
		t.Fatal(err)
	}
	number, inboxName := fmt.Sprintf("+1555030%04d", n), name+" desk"
	inbox, err := f.Store.CreateInbox(ctx, admin, models.InboxInput{Name: &inboxName, LocationID: &loc.ID, SMSNumber: &number})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		db := f.Store.DB()
		db.NewRaw("UPDATE inboxes SET archived_at = now() WHERE id = ?", inbox.ID).Exec(ctx)
		db.NewRaw("UPDATE locations SET archived_at = now() WHERE id = ?", loc.ID).Exec(ctx)
	})
	return loc, inbox
}
