package models_test

import (
	"errors"
	"testing"
	"time"

	"github.com/parley-chat/parley/models"
)

func TestNormalizePhone(t *testing.T) {
	for _, tc := range []struct {
		raw, country, want string
	}{
		{"(555) 010-0123", "US", "+15550100123"},
		{"555.010.0123", "", "+15550100123"},
		{"020 7946 0018", "GB", "+442079460018"},
		{"+44 20 7946 0018", "US", "+442079460018"},
		{"00 44 20 7946 0018", "DE", "+442079460018"},
		{"030 123456", "DE", "+4930123456"},
		{"hello", "US", ""},
		{"12", "US", ""},
		{"", "US", ""},
	} {
		got, err := models.NormalizePhone(tc.raw, tc.country)
		if tc.want == "" {
			if !errors.Is(err, models.ErrBadPhone) {
				t.Errorf("NormalizePhone(%q, %q) = %q, %v; want ErrBadPhone", tc.raw, tc.country, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("NormalizePhone(%q, %q) = %q, %v; want %q", tc.raw, tc.country, got, err, tc.want)
		}
	}
}

func TestBusinessHoursValidate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		bh    models.BusinessHours
		field string // "" valid
	}{
		{"empty is always open", models.BusinessHours{}, ""},
		{"one day", models.BusinessHours{"mon": {{"09:00", "17:00"}}}, ""},
		{"until midnight", models.BusinessHours{"fri": {{"18:00", "24:00"}}}, ""},
		{"two intervals", models.BusinessHours{"tue": {{"13:00", "17:00"}, {"09:00", "12:00"}}}, ""},
		{"touching intervals", models.BusinessHours{"tue": {{"09:00", "12:00"}, {"12:00", "17:00"}}}, ""},
		{"unknown day", models.BusinessHours{"funday": {{"09:00", "17:00"}}}, "business_hours"},
		{"bad time", models.BusinessHours{"wed": {{"9am", "17:00"}}}, "business_hours.wed"},
		{"minutes out of range", models.BusinessHours{"wed": {{"09:60", "17:00"}}}, "business_hours.wed"},
		{"start after end", models.BusinessHours{"thu": {{"17:00", "09:00"}}}, "business_hours.thu"},
		{"empty interval", models.BusinessHours{"thu": {{"09:00", "09:00"}}}, "business_hours.thu"},
		{"overlap", models.BusinessHours{"sat": {{"09:00", "13:00"}, {"12:00", "15:00"}}}, "business_hours.sat"},
		{"starts at 24:00", models.BusinessHours{"sun": {{"24:00", "24:00"}}}, "business_hours.sun"},
	} {
		err := tc.bh.Validate()
		var fe *models.FieldError
		switch {
		case tc.field == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.field != "" && (!errors.As(err, &fe) || fe.Field != tc.field):
			t.Errorf("%s: err %v, want a FieldError on %s", tc.name, err, tc.field)
		}
	}
	bh := models.BusinessHours{"tue": {{"13:00", "17:00"}, {"09:00", "12:00"}}, "wed": {}}
	if err := bh.Validate(); err != nil {
		t.Fatal(err)
	}
	if bh["tue"][0][0] != "09:00" || len(bh) != 1 {
		t.Fatalf("validated hours not sorted and tidied: %v", bh)
	}
}

func TestParseDayHours(t *testing.T) {
	got, err := models.ParseDayHours(" 9:00-12:00, 13:00 – 17:30 ")
	if err != nil || len(got) != 2 || got[0] != [2]string{"09:00", "12:00"} || got[1] != [2]string{"13:00", "17:30"} {
		t.Fatalf("ParseDayHours: %v, %v", got, err)
	}
	if got, err := models.ParseDayHours(""); err != nil || len(got) != 0 {
		t.Fatalf("empty day: %v, %v", got, err)
	}
	if _, err := models.ParseDayHours("nine to five"); err == nil {
		t.Fatal("nonsense was read as hours")
	}
	if s := models.FormatDayHours(nil); s != "" {
		t.Fatalf("FormatDayHours(nil) = %q", s)
	}
	if s := models.FormatDayHours([][2]string{{"09:00", "12:00"}, {"13:00", "17:00"}}); s != "09:00-12:00, 13:00-17:00" {
		t.Fatalf("FormatDayHours = %q", s)
	}
}

func TestInboxOpenAt(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	day := func(s string) time.Time {
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	hours := &models.Inbox{BusinessHours: models.BusinessHours{
		"mon": {{"09:00", "12:00"}, {"13:00", "17:00"}},
		"fri": {{"20:00", "24:00"}},
	}}
	always := &models.Inbox{BusinessHours: models.BusinessHours{}}
	xmas := []models.Closure{{Name: "Holidays", StartsOn: day("2026-12-24"), EndsOn: day("2026-12-26")}}
	// 2026-12-07 is a Monday; New York is UTC-5 in December.
	at := func(local string) time.Time {
		tm, err := time.ParseInLocation("2006-01-02 15:04", local, ny)
		if err != nil {
			t.Fatal(err)
		}
		return tm.UTC() // OpenAt must read it in loc, whatever zone t is in
	}
	for _, tc := range []struct {
		name     string
		ib       *models.Inbox
		t        string
		closures []models.Closure
		want     bool
	}{
		{"Monday morning", hours, "2026-12-07 09:00", nil, true},
		{"Monday before opening", hours, "2026-12-07 08:59", nil, false},
		{"Monday lunch", hours, "2026-12-07 12:30", nil, false},
		{"Monday afternoon", hours, "2026-12-07 16:59", nil, true},
		{"Monday at closing", hours, "2026-12-07 17:00", nil, false},
		{"Tuesday (no hours: closed)", hours, "2026-12-08 10:00", nil, false},
		{"Friday late", hours, "2026-12-11 23:59", nil, true},
		{"Saturday just after midnight", hours, "2026-12-12 00:00", nil, false},
		{"always open", always, "2026-12-08 03:00", nil, true},
		{"always open but closed for a holiday", always, "2026-12-25 12:00", xmas, false},
		{"first day of a closure", hours, "2026-12-24 00:00", xmas, false},
		{"last day of a closure, late", always, "2026-12-26 23:59", xmas, false},
		{"day after a closure", always, "2026-12-27 00:00", xmas, true},
		{"Monday during a closure", hours, "2026-12-28 10:00", []models.Closure{{StartsOn: day("2026-12-28"), EndsOn: day("2026-12-28")}}, false},
	} {
		if got := tc.ib.OpenAt(at(tc.t), ny, tc.closures); got != tc.want {
			t.Errorf("%s (%s New York): OpenAt = %v, want %v", tc.name, tc.t, got, tc.want)
		}
	}
	// The same instant is Monday 16:00 in New York but Monday 21:00 in UTC.
	if !hours.OpenAt(at("2026-12-07 16:00"), ny, nil) || hours.OpenAt(at("2026-12-07 16:00"), time.UTC, nil) {
		t.Fatal("OpenAt does not read the time in the location's zone")
	}
}
