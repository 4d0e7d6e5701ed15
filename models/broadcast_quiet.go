package models

import (
	"time"

	"github.com/nyaruka/phonenumbers"
)

// Quiet hours for broadcasts: a location may set a daily window
// (quiet_start to quiet_end, "HH:MM", which may wrap past midnight) when
// no broadcast SMS should reach its recipients. It is judged in each
// recipient's own time: their time zone if set, else the one their phone
// number belongs to (when the numbering plan says only one), else the
// location's. An SMS row due inside the window is held until it ends;
// email is never held, nor is an emergency broadcast.

// quietHours computes when a row may go out.
type quietHours struct {
	on         bool
	start, end int // minutes after midnight
	home       *time.Location
	zones      map[string]*time.Location
}

// newQuietHours reads loc's window; on is false when the broadcast does
// not keep quiet hours or the location has none.
func newQuietHours(loc *Location, keep bool) *quietHours {
	q := &quietHours{home: loc.TimeLocation(), zones: map[string]*time.Location{}}
	if !keep || loc.QuietStart == nil || loc.QuietEnd == nil {
		return q
	}
	s, okS := clockMinutes(*clockOf(loc.QuietStart))
	e, okE := clockMinutes(*clockOf(loc.QuietEnd))
	q.on = okS && okE && s != e
	q.start, q.end = s, e
	return q
}

// due is when a row for a recipient (with time zone tz, maybe "", and
// phone) may go out, at the earliest now, and the zone it was judged in.
func (q *quietHours) due(now time.Time, tz string, phone *string) (time.Time, string) {
	if !q.on {
		return now, ""
	}
	zone := q.zoneOf(tz, phone)
	local := now.In(zone)
	at := local.Hour()*60 + local.Minute()
	var quiet bool
	if q.start < q.end {
		quiet = at >= q.start && at < q.end
	} else {
		quiet = at >= q.start || at < q.end
	}
	if !quiet {
		return now, zone.String()
	}
	day := local
	if q.start > q.end && at >= q.start {
		day = local.AddDate(0, 0, 1)
	}
	end := time.Date(day.Year(), day.Month(), day.Day(), q.end/60, q.end%60, 0, 0, zone)
	return end, zone.String()
}

// zoneOf is the recipient's time zone.
func (q *quietHours) zoneOf(tz string, phone *string) *time.Location {
	if tz == "" && phone != nil {
		if n, err := phonenumbers.Parse(*phone, ""); err == nil {
			if zs, err := phonenumbers.GetTimezonesForNumber(n); err == nil && len(zs) == 1 && zs[0] != phonenumbers.UNKNOWN_TIMEZONE {
				tz = zs[0]
			}
		}
	}
	if tz == "" {
		return q.home
	}
	if z, ok := q.zones[tz]; ok {
		return z
	}
	z, err := time.LoadLocation(tz)
	if err != nil {
		z = q.home
	}
	q.zones[tz] = z
	return z
}
