package models

import (
	"testing"
	"time"
)

func TestQuietHoursAcrossTimeZones(t *testing.T) {
	start, end := "21:00", "08:00"
	loc := &Location{Timezone: "America/Chicago", QuietStart: &start, QuietEnd: &end}
	q := newQuietHours(loc, true)
	// 2026-12-07 15:30 UTC: 09:30 in Chicago, 10:30 in New York, 00:30 the
	// next day in Tokyo, 15:30 in London.
	now := time.Date(2026, 12, 7, 15, 30, 0, 0, time.UTC)
	tokyoPhone, nyPhone, ukPhone := "+81312345678", "+12125550123", "+442079460000"
	for _, c := range []struct {
		name, tz string
		phone    *string
		wantDue  time.Time
		wantZone string
	}{
		{"home zone, daytime", "", nil, now, "America/Chicago"},
		{"own zone, Tokyo night", "Asia/Tokyo", nil, time.Date(2026, 12, 8, 8, 0, 0, 0, mustZone(t, "Asia/Tokyo")), "Asia/Tokyo"},
		{"zone from a Tokyo number", "", &tokyoPhone, time.Date(2026, 12, 8, 8, 0, 0, 0, mustZone(t, "Asia/Tokyo")), "Asia/Tokyo"},
		{"zone from a New York number", "", &nyPhone, now, "America/New_York"},
		{"zone from a London number", "", &ukPhone, now, "Europe/London"},
		{"a set zone beats the number", "Asia/Tokyo", &nyPhone, time.Date(2026, 12, 8, 8, 0, 0, 0, mustZone(t, "Asia/Tokyo")), "Asia/Tokyo"},
		{"an unknown zone falls back home", "Mars/Olympus", nil, now, "America/Chicago"},
	} {
		due, zone := q.due(now, c.tz, c.phone)
		if !due.Equal(c.wantDue) || zone != c.wantZone {
			t.Errorf("%s: due %v in %q, want %v in %q", c.name, due, zone, c.wantDue, c.wantZone)
		}
	}
	// Late evening in the home zone: held to the next morning.
	late := time.Date(2026, 12, 8, 4, 0, 0, 0, time.UTC) // 22:00 in Chicago
	if due, _ := q.due(late, "", nil); !due.Equal(time.Date(2026, 12, 8, 8, 0, 0, 0, mustZone(t, "America/Chicago"))) {
		t.Errorf("22:00 Chicago held to %v", due.In(mustZone(t, "America/Chicago")))
	}
	// A window within one day (12:00-13:00) and off: never held.
	s2, e2 := "12:00", "13:00"
	q2 := newQuietHours(&Location{Timezone: "UTC", QuietStart: &s2, QuietEnd: &e2}, true)
	noon := time.Date(2026, 12, 7, 12, 15, 0, 0, time.UTC)
	if due, _ := q2.due(noon, "", nil); !due.Equal(time.Date(2026, 12, 7, 13, 0, 0, 0, time.UTC)) {
		t.Errorf("lunch window held to %v", due)
	}
	if due, _ := newQuietHours(loc, false).due(late, "", nil); !due.Equal(late) {
		t.Errorf("quiet hours off held to %v", due)
	}
}

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	z, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return z
}
