package models_test

import (
	"context"
	"errors"
	"testing"

	"github.com/parley-chat/parley/models"
)

// TestRecipientTimeline: conversations and consent changes newest first,
// a search finds this recipient's messages by a word only, and another
// organization's recipient is not found.
func TestRecipientTimeline(t *testing.T) {
	ctx := context.Background()
	st, demo, _, agent := chatFixture(t)
	forgetNewRecipients(t, st)
	text, rid := texter(t, st, "+15550108401")
	text("my bicycle has a flat tyre")
	text("STOP")
	other, _ := texter(t, st, "+15550108402")
	other("another bicycle")
	tl, err := st.RecipientTimeline(ctx, agent, rid, "", 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(tl.Items) != 2 || tl.Items[0].Kind != models.TimelineConsent || tl.Items[0].Title != models.ConsentOptOut ||
		tl.Items[0].State != models.ConsentByKeyword || tl.Items[1].Kind != models.TimelineConversation || tl.Next != 0 {
		t.Fatalf("timeline: %+v", tl)
	}
	hits, err := st.RecipientTimeline(ctx, agent, rid, "bicycle", 1)
	if err != nil || len(hits.Items) != 1 || hits.Items[0].Kind != models.TimelineMessage || hits.Items[0].Detail != "my bicycle has a flat tyre" {
		t.Fatalf("search: %+v %v", hits, err)
	}
	// As in Chats: a word's start finds it, a phrase must be whole, and
	// text with no word in it finds nothing (and is no error).
	for q, want := range map[string]int{"bicyc fla": 1, `"flat tyre"`: 1, `"tyre flat"`: 0, "?!": 0} {
		got, err := st.RecipientTimeline(ctx, agent, rid, q, 1)
		if err != nil {
			t.Errorf("search %q: %v", q, err)
		} else if len(got.Items) != want {
			t.Errorf("search %q: %d items, want %d", q, len(got.Items), want)
		}
	}
	if miss, err := st.RecipientTimeline(ctx, agent, rid, "unicycle", 1); err != nil || len(miss.Items) != 0 {
		t.Fatalf("search for a word not there: %+v %v", miss, err)
	}
	if _, err := st.RecipientTimeline(ctx, otherOrgScope(t, st, "timeline-rcpt"), rid, "", 1); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("another org: %v", err)
	}

	// Home location and time zone.
	if _, err := st.SetRecipientPlace(ctx, agent, rid, models.RecipientPlace{Timezone: "Mars/Olympus"}); fieldOf(t, err) != "timezone" {
		t.Fatalf("bad zone: %v", err)
	}
	if _, err := st.SetRecipientPlace(ctx, agent, rid, models.RecipientPlace{LocationID: 99999999}); fieldOf(t, err) != "location_id" {
		t.Fatalf("bad location: %v", err)
	}
	r, err := st.SetRecipientPlace(ctx, agent, rid, models.RecipientPlace{LocationID: demo.Location.ID, Timezone: "Europe/Paris"})
	if err != nil || r.LocationID == nil || *r.LocationID != demo.Location.ID || r.Timezone != "Europe/Paris" {
		t.Fatalf("place: %+v %v", r, err)
	}
}
