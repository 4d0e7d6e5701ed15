package models_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/parley-chat/parley/models"
)

// EndSession and EndUserSessions delete the logins and then tell the hook
// (the hub, which closes their sockets on every node); LiveSessions is the
// periodic re-check's one query.
func TestEndSessionsTellsSockets(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	// Users of its own: ending every session of a user touches no other test's.
	opts := demoOptions()
	opts.AdminEmail, opts.AgentEmail = "end-admin@demo.parley.test", "end-agent@demo.parley.test"
	demo, err := st.SeedDemo(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	type told struct{ user, session int64 }
	var got []told
	st.OnSessionsEnded(func(_ context.Context, userID, sessionID int64) (int, error) {
		got = append(got, told{userID, sessionID})
		return 0, nil
	})
	newSession := func(userID int64) (string, int64) {
		t.Helper()
		token, err := st.CreateSession(ctx, userID, time.Hour, "", "")
		if err != nil {
			t.Fatal(err)
		}
		su, err := st.SessionByToken(ctx, token, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return token, su.SessionID
	}
	admin, agent := demo.Admin.ID, demo.Agent.ID
	tokA1, a1 := newSession(admin)
	_, a2 := newSession(admin)
	_, g1 := newSession(agent)

	live, err := st.LiveSessions(ctx, []int64{a1, a2, g1, -1}, time.Hour)
	slices.Sort(live)
	if want := []int64{a1, a2, g1}; err != nil || !slices.Equal(live, want) {
		t.Fatalf("LiveSessions = %v, %v; want %v", live, err, want)
	}

	if err := st.EndSession(ctx, a1); err != nil {
		t.Fatal(err)
	}
	if _, err := st.SessionByToken(ctx, tokA1, time.Hour); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("ended session still resolves: %v", err)
	}
	if err := st.EndSession(ctx, a1); err != nil { // twice: nothing more to tell
		t.Fatal(err)
	}
	if err := st.EndUserSessions(ctx, admin); err != nil {
		t.Fatal(err)
	}
	if want := []told{{admin, a1}, {admin, 0}}; !slices.Equal(got, want) {
		t.Fatalf("told %v, want %v", got, want)
	}
	live, err = st.LiveSessions(ctx, []int64{a1, a2, g1}, time.Hour)
	if want := []int64{g1}; err != nil || !slices.Equal(live, want) {
		t.Fatalf("LiveSessions after ending the admin's = %v, %v; want %v", live, err, want)
	}

	// A failing hook is the caller's error: the sockets were not told.
	st.OnSessionsEnded(func(context.Context, int64, int64) (int, error) { return 0, context.DeadlineExceeded })
	if err := st.EndUserSessions(ctx, agent); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("EndUserSessions with a failing hook: %v", err)
	}
}
