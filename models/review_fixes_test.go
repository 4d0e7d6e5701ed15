package models_test

import (
	"context"
	"errors"
	"testing"

	"github.com/parley-chat/parley/models"
)

// TestOperatorAccountNeedsAnOperator: an admin who is not an operator can
// neither hand out a reset link for an operator of the same organization
// (it would open the whole instance) nor change the operator's account; an
// operator can. Nobody makes a reset link for themselves.
func TestOperatorAccountNeedsAnOperator(t *testing.T) {
	s, ctx := openStore(t), context.Background()
	o := newTeamOrg(t, s, 2)
	op, plain := o.admins[0], o.admins[1]
	if _, err := s.DB().NewRaw(`UPDATE users SET is_operator = true WHERE id = ?`, op.UserID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ResetPasswordLink(ctx, plain, op.UserID); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("a plain admin's reset link for an operator: %v", err)
	}
	email := o.emailFor("taken-over")
	if _, err := s.UpdateUser(ctx, plain, op.UserID, models.UserChange{Email: &email}); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("a plain admin changing an operator's email: %v", err)
	}
	if _, err := s.ResetPasswordLink(ctx, op, plain.UserID); err != nil {
		t.Fatalf("an operator's reset link for a plain admin: %v", err)
	}
	if _, err := s.ResetPasswordLink(ctx, op, op.UserID); err == nil {
		t.Fatal("a reset link for oneself was made")
	}
}

// TestPasswordLinksEndWithNewerOnesAndChanges: a newer link, a password
// change and a disabled account each spend the links a user still holds.
func TestPasswordLinksEndWithNewerOnesAndChanges(t *testing.T) {
	s, ctx := openStore(t), context.Background()
	o := newTeamOrg(t, s, 1)
	a := o.admins[0]
	u, _, err := s.CreateUser(ctx, a, models.NewUser{Name: "Lin", Email: o.emailFor("lin"), Role: models.RoleManager, Password: "lin password 1"})
	if err != nil {
		t.Fatal(err)
	}
	first, err := s.ResetPasswordLink(ctx, a, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	second, err := s.ResetPasswordLink(ctx, a, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.UsePasswordLink(ctx, first, "lin password 2", ""); !errors.Is(err, models.ErrLinkGone) {
		t.Fatalf("the older link after a newer one: %v", err)
	}
	yes := true
	if _, err := s.UpdateUser(ctx, a, u.ID, models.UserChange{Disabled: &yes}); err != nil {
		t.Fatal(err)
	}
	no := false
	if _, err := s.UpdateUser(ctx, a, u.ID, models.UserChange{Disabled: &no}); err != nil {
		t.Fatal(err)
	}
	if err := s.UsePasswordLink(ctx, second, "lin password 3", ""); !errors.Is(err, models.ErrLinkGone) {
		t.Fatalf("a link from before the account was disabled: %v", err)
	}
}

// TestOptedOutAddressStaysPut: a recipient who opted out of texts keeps
// that number (moved away, it would come back as a new recipient with no
// opt-out), and cannot be deleted; a bad search text is a field error, not
// a database error.
func TestOptedOutAddressStaysPut(t *testing.T) {
	ctx := context.Background()
	st, demo, admin, agent := chatFixture(t)
	forgetNewRecipients(t, st)
	r, err := st.CreateRecipient(ctx, agent, models.RecipientInput{Name: strp("Opal"), Phone: strp("+15550104411")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.SetConsent(ctx, admin, r.ID, models.ChannelSMS, true, "asked by phone"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.UpdateRecipient(ctx, agent, r.ID, models.RecipientInput{Phone: strp("+15550104412")}); fieldOf(t, err) != "phone" {
		t.Fatalf("moving an opted-out number: %v", err)
	}
	if _, _, err := st.UpdateRecipient(ctx, agent, r.ID, models.RecipientInput{Name: strp("Opal B"), Phone: strp("(555) 010-4411")}); err != nil {
		t.Fatalf("the same number typed another way, with a new name: %v", err)
	}
	if err := st.DeleteRecipient(ctx, agent, r.ID); !errors.Is(err, models.ErrConflict) {
		t.Fatalf("deleting an opted-out recipient: %v", err)
	}
	if _, err := st.Recipients(ctx, agent, "a\x00b", 0, 10); fieldOf(t, err) != "q" {
		t.Fatalf("recipients search with a NUL: %v", err)
	}
	if _, err := st.Conversations(ctx, agent, models.ConversationFilter{Query: "a\x00b"}); fieldOf(t, err) != "q" {
		t.Fatalf("chats search with a NUL: %v", err)
	}
	if _, err := st.AddClosure(ctx, admin, demo.Inbox.ID, models.ClosureInput{Name: "Year zero", StartsOn: "0000-01-01"}); fieldOf(t, err) != "starts_on" {
		t.Fatalf("a closure in year 0: %v", err)
	}
}

// TestDashboardLeavesOutArchived: an archived inbox, and an archived
// location with its inboxes, leave the dashboard (and Credits, which
// filters the same way); Settings still lists them.
func TestDashboardLeavesOutArchived(t *testing.T) {
	s, ctx := openStore(t), context.Background()
	o := newTeamOrg(t, s, 1)
	a := o.admins[0]
	name, tz := "Old branch", "Europe/Paris"
	loc, err := s.CreateLocation(ctx, a, models.LocationInput{Name: &name, Timezone: &tz})
	if err != nil {
		t.Fatal(err)
	}
	ibName := "Old desk"
	ib, err := s.CreateInbox(ctx, a, models.InboxInput{Name: &ibName, LocationID: &loc.ID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ArchiveInbox(ctx, a, o.inboxes[1], true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ArchiveInbox(ctx, a, ib.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ArchiveLocation(ctx, a, loc.ID, true); err != nil {
		t.Fatal(err)
	}
	d, err := s.Dashboard(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Locations) != 1 || len(d.Locations[0].Inboxes) != 1 || d.Locations[0].Inboxes[0].ID != o.inboxes[0] {
		t.Fatalf("dashboard locations: %+v", d.Locations)
	}
	all, err := s.Locations(ctx, a)
	if err != nil || len(all) != 2 {
		t.Fatalf("settings' list: %d locations, %v", len(all), err)
	}
}
