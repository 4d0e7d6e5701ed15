package models

import (
	"fmt"
	"strings"
	"time"
)

// When a forwarding rule applies (issue 14). Every time in a schedule is
// a wall-clock time in the inbox's location's timezone, so a window means
// what the clock on the office wall says: across a DST change, "18:00 to
// 08:00" still starts at six and ends at eight, and is an hour shorter or
// longer that night. A wall time the clock skips (02:30 on a spring-forward
// night) is never reached; one it repeats (01:30 on a fall-back night) is
// inside a window both times.

// Schedule kinds.
const (
	ScheduleAlways        = "always"
	ScheduleBusinessHours = "business_hours" // while the inbox is open (BusinessHours, closures)
	ScheduleAfterHours    = "after_hours"    // while it is not
	ScheduleWeekly        = "weekly"         // within Windows, every week
	ScheduleDates         = "dates"          // within Ranges
)

// A Schedule says when a forwarding rule applies.
type Schedule struct {
	Kind string `json:"kind" jsonschema:"enum=always,enum=business_hours,enum=after_hours,enum=weekly,enum=dates"`
	// Windows are the weekly windows of kind "weekly".
	Windows []WeeklyWindow `json:"windows,omitempty"`
	// Ranges are the periods of kind "dates" (holidays, an emergency).
	Ranges []DateRange `json:"ranges,omitempty"`
}

// A WeeklyWindow starts on Day at From and ends at To: on the same day when
// To is later than From, else on the next day (a window spanning midnight:
// fri 18:00 to 08:00 ends on Saturday at 08:00). From equal to To is a
// whole day, 24 hours.
type WeeklyWindow struct {
	Day  string `json:"day" jsonschema:"enum=mon,enum=tue,enum=wed,enum=thu,enum=fri,enum=sat,enum=sun"`
	From string `json:"from" jsonschema:"description=HH:MM"`
	To   string `json:"to" jsonschema:"description=HH:MM; at or before from: the next day"`
}

// A DateRange is a period from From to To, each a day ("2026-12-24": its
// start for From, its end for To, so a one-day range names the day twice)
// or a day and a time ("2026-12-24T18:00").
type DateRange struct {
	From   string `json:"from" jsonschema:"description=YYYY-MM-DD or YYYY-MM-DDTHH:MM"`
	To     string `json:"to" jsonschema:"description=YYYY-MM-DD (through that day) or YYYY-MM-DDTHH:MM"`
	Reason string `json:"reason,omitempty"`
}

const (
	minutesPerDay  = 24 * 60
	minutesPerWeek = 7 * minutesPerDay
	// maxWindows and maxRanges bound what one rule holds.
	maxWindows = 50
	maxRanges  = 50
)

// Validate checks the schedule, naming the field at fault
// ("schedule.windows.2.to"). A valid schedule holds only what its kind
// uses.
func (s *Schedule) Validate() error {
	switch s.Kind {
	case ScheduleAlways, ScheduleBusinessHours, ScheduleAfterHours:
		if len(s.Windows) > 0 || len(s.Ranges) > 0 {
			return fieldErr("schedule", "A schedule of kind %q has no windows or ranges.", s.Kind)
		}
	case ScheduleWeekly:
		if len(s.Ranges) > 0 {
			return fieldErr("schedule.ranges", "A weekly schedule has windows, not date ranges.")
		}
		if len(s.Windows) == 0 || len(s.Windows) > maxWindows {
			return fieldErr("schedule.windows", "A weekly schedule needs 1 to %d windows.", maxWindows)
		}
		for i, w := range s.Windows {
			field := fmt.Sprintf("schedule.windows.%d", i)
			if weekdayIndex(w.Day) < 0 {
				return fieldErr(field+".day", "%q is not a weekday; use mon, tue, wed, thu, fri, sat or sun.", w.Day)
			}
			for _, c := range [][2]string{{"from", w.From}, {"to", w.To}} {
				if m, ok := clockMinutes(c[1]); !ok || m == minutesPerDay {
					return fieldErr(field+"."+c[0], "Write the time as HH:MM, 00:00 to 23:59 (a window ending at or before its start ends the next day).")
				}
			}
		}
	case ScheduleDates:
		if len(s.Windows) > 0 {
			return fieldErr("schedule.windows", "A dates schedule has date ranges, not weekly windows.")
		}
		if len(s.Ranges) == 0 || len(s.Ranges) > maxRanges {
			return fieldErr("schedule.ranges", "A dates schedule needs 1 to %d ranges.", maxRanges)
		}
		for i, r := range s.Ranges {
			field := fmt.Sprintf("schedule.ranges.%d", i)
			const form = "Write a day as YYYY-MM-DD, or a day and a time as YYYY-MM-DDTHH:MM."
			from, err := rangeEdge(r.From, false, time.UTC)
			if err != nil {
				return fieldErr(field+".from", form)
			}
			to, err := rangeEdge(r.To, true, time.UTC)
			if err != nil {
				return fieldErr(field+".to", form)
			}
			if !from.Before(to) {
				return fieldErr(field+".to", "The range must end after it starts.")
			}
			if len([]rune(r.Reason)) > 200 {
				return fieldErr(field+".reason", "At most 200 characters.")
			}
		}
	default:
		return fieldErr("schedule.kind", "Choose always, business_hours, after_hours, weekly or dates.")
	}
	return nil
}

// ActiveAt reports whether the schedule applies at t, read in loc (the
// inbox's location's timezone); ib and closures decide business hours.
// It expects a valid schedule; anything it cannot read does not apply.
func (s *Schedule) ActiveAt(t time.Time, loc *time.Location, ib *Inbox, closures []Closure) bool {
	if loc == nil {
		loc = time.UTC
	}
	switch s.Kind {
	case ScheduleAlways:
		return true
	case ScheduleBusinessHours:
		return ib.OpenAt(t, loc, closures)
	case ScheduleAfterHours:
		return !ib.OpenAt(t, loc, closures)
	case ScheduleWeekly:
		lt := t.In(loc)
		now := weekdayIndex(dayKey(lt.Weekday()))*minutesPerDay + lt.Hour()*60 + lt.Minute()
		for _, w := range s.Windows {
			if w.covers(now) {
				return true
			}
		}
	case ScheduleDates:
		for _, r := range s.Ranges {
			from, err1 := rangeEdge(r.From, false, loc)
			to, err2 := rangeEdge(r.To, true, loc)
			if err1 == nil && err2 == nil && !t.Before(from) && t.Before(to) {
				return true
			}
		}
	}
	return false
}

// covers reports whether the window holds the minute of the week now
// (Monday 00:00 is 0), the week wrapping from Sunday into Monday.
func (w WeeklyWindow) covers(now int) bool {
	day := weekdayIndex(w.Day)
	from, ok1 := clockMinutes(w.From)
	to, ok2 := clockMinutes(w.To)
	if day < 0 || !ok1 || !ok2 {
		return false
	}
	start := day*minutesPerDay + from
	length := (to - from + minutesPerDay) % minutesPerDay
	if length == 0 {
		length = minutesPerDay
	}
	since := (now - start + minutesPerWeek) % minutesPerWeek
	return since < length
}

// weekdayIndex is a weekday key's place, Monday 0; -1 for anything else.
func weekdayIndex(day string) int {
	for i, k := range weekdayKeys() {
		if k == day {
			return i
		}
	}
	return -1
}

// rangeEdge reads a DateRange edge in loc: a day alone is its start, or
// for the end of a range (end set) the start of the next day.
func rangeEdge(s string, end bool, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	w, err := time.Parse("2006-01-02T15:04", s)
	if err != nil {
		if w, err = time.Parse("2006-01-02", s); err != nil {
			return time.Time{}, fmt.Errorf("range edge %q: %w", s, err)
		}
		if end {
			w = w.AddDate(0, 0, 1)
		}
	}
	return WallClock(w, loc), nil
}

// WallClock is the instant a wall clock in loc shows w's date and time (w
// read as written, its own zone ignored). A time the clock skips (02:30 on
// a spring-forward night; midnight where the clocks jump at midnight, as
// in Santiago) is the instant the clock jumps, not an hour before it as
// time.Date has it: a range from that time starts when the day's clock
// gets there, and a day's end stays at the next day's first instant.
func WallClock(w time.Time, loc *time.Location) time.Time {
	t := time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), 0, 0, loc)
	if t.Hour() != w.Hour() || t.Minute() != w.Minute() {
		if _, jump := t.ZoneBounds(); !jump.IsZero() {
			return jump
		}
	}
	return t
}
