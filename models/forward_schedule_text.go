package models

import (
	"fmt"
	"strings"
	"time"
)

// Schedules as the settings page types and shows them: a weekly window a
// line ("fri 18:00-08:00"), a date range a line ("2026-12-24 18:00 to
// 2026-12-26, Christmas").

// ParseWeeklyWindows reads weekly windows, one a line: a weekday (mon to
// sun, or its whole name) and two times, "fri 18:00-08:00" (a window
// ending at or before its start ends the next day). Blank lines are
// skipped; the error names the line.
func ParseWeeklyWindows(text string) ([]WeeklyWindow, error) {
	var out []WeeklyWindow
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		f := strings.Fields(line)
		var key string
		var ivs [][2]string
		var err error
		if len(f) > 1 {
			key = weekdayKeyOf(f[0])
			ivs, err = ParseDayHours(strings.Join(f[1:], " ")) // the form only: a window may end the next day
		}
		if len(f) < 2 || key == "" || err != nil || len(ivs) != 1 {
			return nil, fmt.Errorf("line %d: write a weekday and two times, like fri 18:00-08:00", i+1)
		}
		out = append(out, WeeklyWindow{Day: key, From: ivs[0][0], To: ivs[0][1]})
	}
	return out, nil
}

// weekdayKeyOf is the key (mon…sun) of a weekday written as its key or
// its name, in any case; "" for anything else.
func weekdayKeyOf(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	for _, wd := range Weekdays() {
		if s == wd[0] || s == strings.ToLower(wd[1]) {
			return wd[0]
		}
	}
	return ""
}

// FormatWeeklyWindows writes windows as ParseWeeklyWindows reads them.
func FormatWeeklyWindows(ws []WeeklyWindow) string {
	lines := make([]string, len(ws))
	for i, w := range ws {
		lines[i] = w.Day + " " + w.From + "-" + w.To
	}
	return strings.Join(lines, "\n")
}

// ParseDateRanges reads date ranges, one a line: "FROM to TO", each a
// day (YYYY-MM-DD) or a day and a time (YYYY-MM-DD HH:MM), then
// optionally a comma and the reason. Blank lines are skipped; the error
// names the line.
func ParseDateRanges(text string) ([]DateRange, error) {
	var out []DateRange
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		span, reason, _ := strings.Cut(line, ",")
		from, to, ok := strings.Cut(span, " to ")
		if !ok {
			return nil, fmt.Errorf("line %d: write FROM to TO, like 2026-12-24 18:00 to 2026-12-26", i+1)
		}
		r := DateRange{From: rangeTyped(from), To: rangeTyped(to), Reason: strings.TrimSpace(reason)}
		for _, edge := range []string{r.From, r.To} {
			if _, err := rangeEdge(edge, false, time.UTC); err != nil {
				return nil, fmt.Errorf("line %d: %q is not a day (YYYY-MM-DD) or a day and a time (YYYY-MM-DD HH:MM)", i+1, strings.Replace(edge, "T", " ", 1))
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// rangeTyped turns a typed "YYYY-MM-DD HH:MM" into the stored form
// "YYYY-MM-DDTHH:MM".
func rangeTyped(s string) string {
	return strings.Replace(strings.Join(strings.Fields(s), " "), " ", "T", 1)
}

// FormatDateRanges writes ranges as ParseDateRanges reads them.
func FormatDateRanges(rs []DateRange) string {
	lines := make([]string, len(rs))
	for i, r := range rs {
		lines[i] = strings.Replace(r.From, "T", " ", 1) + " to " + strings.Replace(r.To, "T", " ", 1)
		if r.Reason != "" {
			lines[i] += ", " + r.Reason
		}
	}
	return strings.Join(lines, "\n")
}

// Summary says when the schedule applies, in a few words.
func (s *Schedule) Summary() string {
	switch s.Kind {
	case ScheduleAlways:
		return "Always"
	case ScheduleBusinessHours:
		return "During business hours"
	case ScheduleAfterHours:
		return "Outside business hours and on closures"
	case ScheduleWeekly:
		parts := make([]string, len(s.Windows))
		for i, w := range s.Windows {
			name := w.Day
			for _, wd := range Weekdays() {
				if wd[0] == w.Day {
					name = wd[1][:3]
				}
			}
			parts[i] = name + " " + w.From + "–" + w.To
		}
		return "Every week: " + strings.Join(parts, ", ")
	case ScheduleDates:
		parts := make([]string, len(s.Ranges))
		for i, r := range s.Ranges {
			parts[i] = strings.Replace(r.From, "T", " ", 1) + " to " + strings.Replace(r.To, "T", " ", 1)
			if r.Reason != "" {
				parts[i] += " (" + r.Reason + ")"
			}
		}
		return strings.Join(parts, "; ")
	}
	return s.Kind
}
