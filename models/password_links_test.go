package models_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/parley-chat/parley/models"
)

// An invitation: no password until the link is used, once.
func TestInviteLinkUsedOnce(t *testing.T) {
	s, ctx := openStore(t), context.Background()
	o := newTeamOrg(t, s, 1)
	u, token, err := s.CreateUser(ctx, o.admins[0], models.NewUser{Name: "Gus", Email: o.emailFor("gus"),
		Role: models.RoleAgent, AllInboxes: true, Invite: true, Password: "ignored"})
	if err != nil {
		t.Fatal(err)
	}
	if token == "" || !u.Invited {
		t.Fatalf("invite: token %q, invited %v", token, u.Invited)
	}
	for _, pw := range []string{"", "ignored", "!invited"} {
		if _, err := s.Authenticate(ctx, o.emailFor("gus"), pw); !errors.Is(err, models.ErrInvalidCredentials) {
			t.Fatalf("invited user signs in with %q: %v", pw, err)
		}
	}
	info, err := s.PasswordLinkByToken(ctx, token)
	if err != nil || info.Purpose != models.PurposeInvite || info.Email != o.emailFor("gus") {
		t.Fatalf("link: %+v %v", info, err)
	}
	if d := time.Until(info.ExpiresAt); d < 6*24*time.Hour || d > 7*24*time.Hour {
		t.Fatalf("invite valid for %v, want 7 days", d)
	}
	wantTeamField(t, s.UsePasswordLink(ctx, token, "short", ""), "password")
	if err := s.UsePasswordLink(ctx, token, "gus password 1", "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, o.emailFor("gus"), "gus password 1"); err != nil {
		t.Fatalf("sign in after the invite: %v", err)
	}
	if err := s.UsePasswordLink(ctx, token, "another password", ""); !errors.Is(err, models.ErrLinkGone) {
		t.Fatalf("second use: %v", err)
	}
	if _, err := s.PasswordLinkByToken(ctx, token); !errors.Is(err, models.ErrLinkGone) {
		t.Fatalf("lookup after use: %v", err)
	}
	if _, err := s.PasswordLinkByToken(ctx, "no-such-token"); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("unknown link: %v", err)
	}
	if err := s.UsePasswordLink(ctx, "no-such-token", "some password 1", ""); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("use unknown link: %v", err)
	}
	var actor int64
	if err := s.DB().NewRaw(`SELECT actor_user_id FROM audit_log WHERE target_id = ? AND action = 'user.password_set'`, u.ID).
		Scan(ctx, &actor); err != nil || actor != u.ID {
		t.Fatalf("password_set audit: %d %v", actor, err)
	}
}

// A reset link lasts 24 hours, ends every session when used, and expires.
func TestResetLinkExpiryAndSingleUse(t *testing.T) {
	s, ctx := openStore(t), context.Background()
	o := newTeamOrg(t, s, 1)
	a := o.admins[0]
	u, _, err := s.CreateUser(ctx, a, models.NewUser{Name: "Hal", Email: o.emailFor("hal"), Role: models.RoleManager, Password: "hal password 1"})
	if err != nil {
		t.Fatal(err)
	}
	expired, err := s.ResetPasswordLink(ctx, a, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB().NewRaw(`UPDATE password_links SET expires_at = now() - interval '1 second' WHERE user_id = ?`, u.ID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PasswordLinkByToken(ctx, expired); !errors.Is(err, models.ErrLinkGone) {
		t.Fatalf("expired lookup: %v", err)
	}
	if err := s.UsePasswordLink(ctx, expired, "hal password 2", ""); !errors.Is(err, models.ErrLinkGone) {
		t.Fatalf("expired use: %v", err)
	}
	token, err := s.ResetPasswordLink(ctx, a, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.PasswordLinkByToken(ctx, token)
	if err != nil || info.Purpose != models.PurposeReset {
		t.Fatalf("reset link: %+v %v", info, err)
	}
	if d := time.Until(info.ExpiresAt); d < 23*time.Hour || d > 24*time.Hour {
		t.Fatalf("reset valid for %v, want 24 h", d)
	}
	cookie, _ := s.CreateSession(ctx, u.ID, time.Hour, "", "")
	if err := s.UsePasswordLink(ctx, token, "hal password 3", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SessionByToken(ctx, cookie, time.Hour); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("session after reset: %v", err)
	}
	if _, err := s.Authenticate(ctx, o.emailFor("hal"), "hal password 1"); !errors.Is(err, models.ErrInvalidCredentials) {
		t.Fatal("the old password still works")
	}
	if err := s.UsePasswordLink(ctx, token, "hal password 4", ""); !errors.Is(err, models.ErrLinkGone) {
		t.Fatalf("second use: %v", err)
	}
}

// A password change keeps this session and ends the others.
func TestChangePasswordEndsOtherSessions(t *testing.T) {
	s, ctx := openStore(t), context.Background()
	o := newTeamOrg(t, s, 1)
	u, _, err := s.CreateUser(ctx, o.admins[0], models.NewUser{Name: "Ida", Email: o.emailFor("ida"), Role: models.RoleAgent, AllInboxes: true, Password: "ida password 1"})
	if err != nil {
		t.Fatal(err)
	}
	here, _ := s.CreateSession(ctx, u.ID, time.Hour, "", "")
	there, _ := s.CreateSession(ctx, u.ID, time.Hour, "", "")
	hs, err := s.SessionByToken(ctx, here, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	wantTeamField(t, s.ChangePassword(ctx, hs.Scope, hs.SessionID, "wrong password", "ida password 2"), "current_password")
	wantTeamField(t, s.ChangePassword(ctx, hs.Scope, hs.SessionID, "ida password 1", "short"), "new_password")
	if err := s.ChangePassword(ctx, hs.Scope, hs.SessionID, "ida password 1", "ida password 2"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SessionByToken(ctx, here, time.Hour); err != nil {
		t.Fatalf("this session ended: %v", err)
	}
	if _, err := s.SessionByToken(ctx, there, time.Hour); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("other session: %v", err)
	}
	if _, err := s.Authenticate(ctx, o.emailFor("ida"), "ida password 2"); err != nil {
		t.Fatal(err)
	}
	_, err = s.UpdateProfile(ctx, hs.Scope, models.Profile{Name: "Ida", Timezone: "Mars/Olympus"})
	wantTeamField(t, err, "timezone")
	_, err = s.UpdateProfile(ctx, hs.Scope, models.Profile{Name: "Ida", Clock: "13"})
	wantTeamField(t, err, "clock")
	if u, err := s.TeamUser(ctx, o.admins[0], hs.Scope.UserID); err != nil {
		t.Fatal(err)
	} else if u.Clock != "" {
		t.Fatalf("a new user's clock %q, want the browser's", u.Clock)
	}
	p, err := s.UpdateProfile(ctx, hs.Scope, models.Profile{Name: "Ida B", Timezone: "Europe/Paris", Clock: models.Clock24})
	if err != nil || p.Timezone != "Europe/Paris" || p.Clock != models.Clock24 || p.Name != "Ida B" {
		t.Fatalf("profile: %+v %v", p, err)
	}
}
