package models

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// weekdayKeys are BusinessHours' keys, Monday first.
func weekdayKeys() [7]string { return [7]string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"} }

// Weekdays lists BusinessHours' keys, Monday first, with their names.
func Weekdays() [][2]string {
	return [][2]string{{"mon", "Monday"}, {"tue", "Tuesday"}, {"wed", "Wednesday"}, {"thu", "Thursday"},
		{"fri", "Friday"}, {"sat", "Saturday"}, {"sun", "Sunday"}}
}

// dayKey is BusinessHours' key of a weekday.
func dayKey(d time.Weekday) string { return weekdayKeys()[(int(d)+6)%7] }

// clockMinutes reads "HH:MM" (00:00 to 23:59, or 24:00 to end a day) as
// minutes since midnight.
func clockMinutes(s string) (int, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	var h, m int
	for i, c := range s {
		if i == 2 {
			continue
		}
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	h = int(s[0]-'0')*10 + int(s[1]-'0')
	m = int(s[3]-'0')*10 + int(s[4]-'0')
	if m > 59 || h > 24 || (h == 24 && m != 0) {
		return 0, false
	}
	return h*60 + m, true
}

// Validate checks every day's intervals: a known weekday, "HH:MM" times,
// start before end, and no two intervals of a day overlapping. It sorts
// each day's intervals by start and drops days with none, so a valid value
// is stored in one form. The FieldError names "business_hours.<day>".
func (bh BusinessHours) Validate() error {
	for day, ivs := range bh {
		known := false
		for _, k := range weekdayKeys() {
			known = known || k == day
		}
		if !known {
			return fieldErr("business_hours", "%q is not a weekday; use mon, tue, wed, thu, fri, sat or sun.", day)
		}
		field := "business_hours." + day
		if len(ivs) == 0 {
			delete(bh, day)
			continue
		}
		if len(ivs) > 12 {
			return fieldErr(field, "At most 12 opening intervals a day.")
		}
		for _, iv := range ivs {
			start, ok1 := clockMinutes(iv[0])
			end, ok2 := clockMinutes(iv[1])
			if !ok1 || !ok2 || start == 24*60 {
				return fieldErr(field, "Write times as HH:MM, from 00:00 to 24:00 (e.g. 09:00-17:00).")
			}
			if start >= end {
				return fieldErr(field, "Each interval must start before it ends (%s-%s).", iv[0], iv[1])
			}
		}
		sort.Slice(ivs, func(i, j int) bool { return ivs[i][0] < ivs[j][0] })
		for i := 1; i < len(ivs); i++ {
			if ivs[i][0] < ivs[i-1][1] {
				return fieldErr(field, "The intervals %s-%s and %s-%s overlap.", ivs[i-1][0], ivs[i-1][1], ivs[i][0], ivs[i][1])
			}
		}
	}
	return nil
}

// ParseDayHours reads one day's hours as typed in the settings form:
// intervals "09:00-12:00, 13:00-17:00" (a dash or en dash between the
// times, commas between the intervals; "9:00" is read as "09:00"). Empty
// text is a closed day. It checks the times' form; Validate checks the rest.
func ParseDayHours(s string) ([][2]string, error) {
	var out [][2]string
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		part = strings.NewReplacer("–", "-", "—", "-", " to ", "-").Replace(part)
		a, b, ok := strings.Cut(part, "-")
		if !ok {
			return nil, fmt.Errorf("%q is not an interval like 09:00-17:00", part)
		}
		iv := [2]string{padClock(strings.TrimSpace(a)), padClock(strings.TrimSpace(b))}
		for _, c := range iv {
			if _, ok := clockMinutes(c); !ok {
				return nil, fmt.Errorf("%q is not a time like 09:00", c)
			}
		}
		out = append(out, iv)
	}
	return out, nil
}

func padClock(s string) string {
	if len(s) == 4 && s[1] == ':' {
		return "0" + s
	}
	return s
}

// FormatDayHours writes one day's intervals as ParseDayHours reads them.
func FormatDayHours(ivs [][2]string) string {
	parts := make([]string, len(ivs))
	for i, iv := range ivs {
		parts[i] = iv[0] + "-" + iv[1]
	}
	return strings.Join(parts, ", ")
}

// Closure is a holiday or other closure of an inbox: whole days in the
// location's timezone, from StartsOn to EndsOn inclusive.
type Closure struct {
	bun.BaseModel `bun:"table:inbox_closures"`

	ID       int64     `bun:"id,pk,autoincrement"`
	OrgID    int64     `bun:"org_id"`
	InboxID  int64     `bun:"inbox_id"`
	Name     string    `bun:"name"`
	StartsOn time.Time `bun:"starts_on,type:date"`
	EndsOn   time.Time `bun:"ends_on,type:date"`
	// CreatedAt is when it was added.
	CreatedAt time.Time `bun:"created_at,nullzero,default:now()"`
}

// covers reports whether the closure includes the calendar day y-m-d.
func (c Closure) covers(y int, m time.Month, d int) bool {
	day := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	start := time.Date(c.StartsOn.Year(), c.StartsOn.Month(), c.StartsOn.Day(), 0, 0, 0, 0, time.UTC)
	end := time.Date(c.EndsOn.Year(), c.EndsOn.Month(), c.EndsOn.Day(), 0, 0, 0, 0, time.UTC)
	return !day.Before(start) && !day.After(end)
}

// OpenAt reports whether the inbox is open at t: not within a closure, and
// within one of the day's business hours, both read in loc (the
// location's timezone). An inbox with no business hours set is open
// whenever it is not closed. Auto-responses and forwarding ask it.
func (ib *Inbox) OpenAt(t time.Time, loc *time.Location, closures []Closure) bool {
	if loc == nil {
		loc = time.UTC
	}
	lt := t.In(loc)
	y, m, d := lt.Date()
	for _, c := range closures {
		if c.covers(y, m, d) {
			return false
		}
	}
	if len(ib.BusinessHours) == 0 {
		return true
	}
	now := lt.Hour()*60 + lt.Minute()
	for _, iv := range ib.BusinessHours[dayKey(lt.Weekday())] {
		start, ok1 := clockMinutes(iv[0])
		end, ok2 := clockMinutes(iv[1])
		if ok1 && ok2 && now >= start && now < end {
			return true
		}
	}
	return false
}
