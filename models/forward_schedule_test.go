package models_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/models"
)

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("time zone %s: %v", name, err)
	}
	return loc
}

// TestScheduleActiveAt evaluates schedules at fixed instants (the clock is
// the test's): windows spanning midnight and the week's end, business and
// after hours with a holiday, date ranges, and the nights the clocks
// change in New York (2026-03-08 spring forward, 2026-11-01 fall back) and
// Auckland (2026-04-05 back, 2026-09-27 forward).
func TestScheduleActiveAt(t *testing.T) {
	ny := mustZone(t, "America/New_York")
	akl := mustZone(t, "Pacific/Auckland")
	kol := mustZone(t, "Asia/Kolkata")
	// Office hours Monday to Friday 09:00-17:00, closed on 2026-12-25.
	ib := &models.Inbox{BusinessHours: models.BusinessHours{
		"mon": {{"09:00", "17:00"}}, "tue": {{"09:00", "17:00"}}, "wed": {{"09:00", "17:00"}},
		"thu": {{"09:00", "17:00"}}, "fri": {{"09:00", "17:00"}},
	}}
	day := func(s string) time.Time {
		d, err := time.Parse("2006-01-02", s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	closures := []models.Closure{{Name: "Christmas", StartsOn: day("2026-12-25"), EndsOn: day("2026-12-25")}}
	nights := models.Schedule{Kind: models.ScheduleWeekly, Windows: []models.WeeklyWindow{
		{Day: "fri", From: "18:00", To: "08:00"}, // into Saturday
		{Day: "sun", From: "22:00", To: "06:00"}, // into Monday: across the week's end
		{Day: "wed", From: "12:00", To: "12:00"}, // a whole day, to Thursday noon
	}}
	holidays := models.Schedule{Kind: models.ScheduleDates, Ranges: []models.DateRange{
		{From: "2026-12-24T18:00", To: "2026-12-26", Reason: "Christmas"}, // through the 26th
		{From: "2026-07-04", To: "2026-07-04"},                            // one whole day
	}}
	scl := mustZone(t, "America/Santiago")
	sepFive := models.Schedule{Kind: models.ScheduleDates, Ranges: []models.DateRange{{From: "2026-09-05", To: "2026-09-05"}}}
	sepSix := models.Schedule{Kind: models.ScheduleDates, Ranges: []models.DateRange{{From: "2026-09-06", To: "2026-09-06"}}}
	nyGap := models.Schedule{Kind: models.ScheduleDates, Ranges: []models.DateRange{{From: "2026-03-08T02:30", To: "2026-03-08T05:00"}}}
	always := models.Schedule{Kind: models.ScheduleAlways}
	business := models.Schedule{Kind: models.ScheduleBusinessHours}
	after := models.Schedule{Kind: models.ScheduleAfterHours}
	at := func(loc *time.Location, s string) time.Time {
		tm, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	for _, tc := range []struct {
		name string
		s    models.Schedule
		loc  *time.Location
		t    time.Time
		want bool
	}{
		{"always", always, ny, at(ny, "2026-12-25 03:00"), true},
		{"business: Tuesday 10:00", business, ny, at(ny, "2026-12-08 10:00"), true},
		{"business: Tuesday 17:00 is closed", business, ny, at(ny, "2026-12-08 17:00"), false},
		{"business: Christmas is a Friday, closed", business, ny, at(ny, "2026-12-25 10:00"), false},
		{"after hours: Christmas morning", after, ny, at(ny, "2026-12-25 10:00"), true},
		{"after hours: Tuesday 10:00 is open", after, ny, at(ny, "2026-12-08 10:00"), false},
		{"after hours: read in the location's zone", after, ny, time.Date(2026, 12, 8, 15, 0, 0, 0, time.UTC), false}, // 10:00 in New York
		{"after hours: 02:00 UTC is 21:00 in New York", after, ny, time.Date(2026, 12, 9, 2, 0, 0, 0, time.UTC), true},
		{"weekly: Friday 17:59", nights, ny, at(ny, "2026-12-11 17:59"), false},
		{"weekly: Friday 18:00", nights, ny, at(ny, "2026-12-11 18:00"), true},
		{"weekly: Saturday 03:00, past midnight", nights, ny, at(ny, "2026-12-12 03:00"), true},
		{"weekly: Saturday 08:00, the end", nights, ny, at(ny, "2026-12-12 08:00"), false},
		{"weekly: Sunday 23:30", nights, ny, at(ny, "2026-12-13 23:30"), true},
		{"weekly: Monday 05:59, across the week's end", nights, ny, at(ny, "2026-12-14 05:59"), true},
		{"weekly: Monday 06:00", nights, ny, at(ny, "2026-12-14 06:00"), false},
		{"weekly: a whole day, Thursday 11:59", nights, ny, at(ny, "2026-12-10 11:59"), true},
		{"weekly: a whole day ends Thursday 12:00", nights, ny, at(ny, "2026-12-10 12:00"), false},
		{"weekly: Kolkata's half-hour offset", nights, kol, time.Date(2026, 12, 11, 12, 30, 0, 0, time.UTC), true}, // Friday 18:00 there
		{"weekly: Kolkata a minute before", nights, kol, time.Date(2026, 12, 11, 12, 29, 0, 0, time.UTC), false},
		// New York springs forward at 02:00 on Sunday 2026-03-08: the
		// window still starts at 22:00 on the wall clock and ends at 06:00
		// (7 hours that night).
		{"DST forward: Sunday 22:00 EDT", nights, ny, at(ny, "2026-03-08 22:00"), true},
		{"DST forward: Saturday 07:59 after a Friday window", nights, ny, at(ny, "2026-03-07 07:59"), true},
		{"DST forward: Sunday 03:00 EDT, in no window", nights, ny, time.Date(2026, 3, 8, 7, 0, 0, 0, time.UTC), false}, // 03:00 EDT
		{"DST forward: Monday 05:59 EDT", nights, ny, at(ny, "2026-03-09 05:59"), true},
		// Falls back at 02:00 on Sunday 2026-11-01: 01:30 happens twice;
		// a window holding it holds both.
		{"DST back: first 01:30 (EDT)", models.Schedule{Kind: models.ScheduleWeekly, Windows: []models.WeeklyWindow{{Day: "sun", From: "01:00", To: "02:00"}}},
			ny, time.Date(2026, 11, 1, 5, 30, 0, 0, time.UTC), true},
		{"DST back: second 01:30 (EST)", models.Schedule{Kind: models.ScheduleWeekly, Windows: []models.WeeklyWindow{{Day: "sun", From: "01:00", To: "02:00"}}},
			ny, time.Date(2026, 11, 1, 6, 30, 0, 0, time.UTC), true},
		{"DST back: 02:00 EST", models.Schedule{Kind: models.ScheduleWeekly, Windows: []models.WeeklyWindow{{Day: "sun", From: "01:00", To: "02:00"}}},
			ny, time.Date(2026, 11, 1, 7, 0, 0, 0, time.UTC), false},
		// Auckland falls back at 03:00 on 2026-04-05 (the southern
		// hemisphere's autumn) and springs forward at 02:00 on 2026-09-27.
		{"Auckland back: business hours on Monday 09:00 NZST", business, akl, at(akl, "2026-04-06 09:00"), true},
		{"Auckland back: 08:59 NZST is not yet open", business, akl, time.Date(2026, 4, 5, 20, 59, 0, 0, time.UTC), false},
		{"Auckland forward: Sunday 23:00 NZDT", nights, akl, at(akl, "2026-09-27 23:00"), true},
		{"dates: 24th 17:59", holidays, ny, at(ny, "2026-12-24 17:59"), false},
		{"dates: 24th 18:00", holidays, ny, at(ny, "2026-12-24 18:00"), true},
		{"dates: 26th 23:59, through the day", holidays, ny, at(ny, "2026-12-26 23:59"), true},
		{"dates: 27th 00:00", holidays, ny, at(ny, "2026-12-27 00:00"), false},
		{"dates: a one-day range, 4 July 12:00", holidays, ny, at(ny, "2026-07-04 12:00"), true},
		{"dates: read in the location's zone", holidays, akl, time.Date(2026, 7, 3, 12, 0, 0, 0, time.UTC), true}, // 4 July 00:00 NZST
		{"dates: 5 July in Auckland", holidays, akl, time.Date(2026, 7, 4, 12, 0, 0, 0, time.UTC), false},
		// Santiago's clocks jump from 24:00 to 01:00 on 2026-09-06: a day's
		// range ends when the next day begins (01:00), not an hour early,
		// and the next day's starts then too.
		{"Santiago: a day's range at its 23:30", sepFive, scl, time.Date(2026, 9, 6, 3, 30, 0, 0, time.UTC), true},                // Sat 23:30 -04
		{"Santiago: a day's range ends as the next day begins", sepFive, scl, time.Date(2026, 9, 6, 4, 0, 0, 0, time.UTC), false}, // Sun 01:00 -03
		{"Santiago: the next day's range not before it", sepSix, scl, time.Date(2026, 9, 6, 3, 30, 0, 0, time.UTC), false},
		{"Santiago: the next day's range from its first instant", sepSix, scl, time.Date(2026, 9, 6, 4, 0, 0, 0, time.UTC), true},
		// New York skips 02:00-03:00 on 2026-03-08: a range from 02:30
		// starts at 03:00 EDT, one to 02:15 ends then too.
		{"New York: from a skipped time, not at 01:30 EST", nyGap, ny, time.Date(2026, 3, 8, 6, 30, 0, 0, time.UTC), false},
		{"New York: from a skipped time, at 03:00 EDT", nyGap, ny, time.Date(2026, 3, 8, 7, 0, 0, 0, time.UTC), true},
	} {
		if got := tc.s.ActiveAt(tc.t, tc.loc, ib, closures); got != tc.want {
			t.Errorf("%s: ActiveAt(%s) = %v, want %v", tc.name, tc.t.In(tc.loc).Format("Mon 2006-01-02 15:04 MST"), got, tc.want)
		}
	}
}

func TestScheduleValidate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		s     models.Schedule
		field string // "" when valid
	}{
		{"always", models.Schedule{Kind: "always"}, ""},
		{"after hours", models.Schedule{Kind: "after_hours"}, ""},
		{"unknown kind", models.Schedule{Kind: "sometimes"}, "schedule.kind"},
		{"always with windows", models.Schedule{Kind: "always", Windows: []models.WeeklyWindow{{Day: "mon", From: "09:00", To: "10:00"}}}, "schedule"},
		{"weekly", models.Schedule{Kind: "weekly", Windows: []models.WeeklyWindow{{Day: "fri", From: "18:00", To: "08:00"}}}, ""},
		{"weekly without windows", models.Schedule{Kind: "weekly"}, "schedule.windows"},
		{"weekly, bad day", models.Schedule{Kind: "weekly", Windows: []models.WeeklyWindow{{Day: "friday", From: "18:00", To: "08:00"}}}, "schedule.windows.0.day"},
		{"weekly, bad time", models.Schedule{Kind: "weekly", Windows: []models.WeeklyWindow{
			{Day: "mon", From: "09:00", To: "10:00"}, {Day: "tue", From: "9am", To: "10:00"}}}, "schedule.windows.1.from"},
		{"weekly, 24:00", models.Schedule{Kind: "weekly", Windows: []models.WeeklyWindow{{Day: "mon", From: "09:00", To: "24:00"}}}, "schedule.windows.0.to"},
		{"dates", models.Schedule{Kind: "dates", Ranges: []models.DateRange{{From: "2026-12-24", To: "2026-12-26"}}}, ""},
		{"dates, one day", models.Schedule{Kind: "dates", Ranges: []models.DateRange{{From: "2026-12-24", To: "2026-12-24"}}}, ""},
		{"dates, backwards", models.Schedule{Kind: "dates", Ranges: []models.DateRange{{From: "2026-12-24T18:00", To: "2026-12-24T09:00"}}}, "schedule.ranges.0.to"},
		{"dates, bad day", models.Schedule{Kind: "dates", Ranges: []models.DateRange{{From: "24/12/2026", To: "2026-12-26"}}}, "schedule.ranges.0.from"},
		{"dates without ranges", models.Schedule{Kind: "dates"}, "schedule.ranges"},
	} {
		err := tc.s.Validate()
		var fe *models.FieldError
		switch {
		case tc.field == "" && err != nil:
			t.Errorf("%s: %v, want valid", tc.name, err)
		case tc.field != "" && (!errors.As(err, &fe) || fe.Field != tc.field):
			t.Errorf("%s: %v, want an error on %s", tc.name, err, tc.field)
		}
	}
}

func TestScheduleText(t *testing.T) {
	ws, err := models.ParseWeeklyWindows("fri\t18:00-08:00\n\n  Sunday 22:00 - 6:00 \n")
	if err != nil || len(ws) != 2 || ws[1] != (models.WeeklyWindow{Day: "sun", From: "22:00", To: "06:00"}) {
		t.Fatalf("windows: %+v %v", ws, err)
	}
	if got := models.FormatWeeklyWindows(ws); got != "fri 18:00-08:00\nsun 22:00-06:00" {
		t.Errorf("format windows: %q", got)
	}
	for _, bad := range []string{"friday", "fri 18:00", "someday 09:00-10:00", "mon 09:00-10:00, 11:00-12:00"} {
		if _, err := models.ParseWeeklyWindows("mon 09:00-17:00\n" + bad); err == nil || !strings.Contains(err.Error(), "line 2") {
			t.Errorf("windows %q: %v, want an error on line 2", bad, err)
		}
	}
	rs, err := models.ParseDateRanges("2026-12-24 18:00 to 2026-12-26, Christmas\n2026-07-04 to 2026-07-04")
	if err != nil || len(rs) != 2 || rs[0] != (models.DateRange{From: "2026-12-24T18:00", To: "2026-12-26", Reason: "Christmas"}) {
		t.Fatalf("ranges: %+v %v", rs, err)
	}
	if got := models.FormatDateRanges(rs); got != "2026-12-24 18:00 to 2026-12-26, Christmas\n2026-07-04 to 2026-07-04" {
		t.Errorf("format ranges: %q", got)
	}
	for _, bad := range []string{"2026-12-24", "24/12/2026 to 2026-12-26", "2026-12-24 to tomorrow"} {
		if _, err := models.ParseDateRanges(bad); err == nil || !strings.Contains(err.Error(), "line 1") {
			t.Errorf("ranges %q: %v, want an error on line 1", bad, err)
		}
	}
	s := models.Schedule{Kind: models.ScheduleWeekly, Windows: ws}
	if got := s.Summary(); got != "Every week: Fri 18:00–08:00, Sun 22:00–06:00" {
		t.Errorf("summary: %q", got)
	}
}
