package models

import "time"

// PeriodAt exposes the plan period arithmetic.
func PeriodAt(anchor time.Time, months int, tz *time.Location, now time.Time) (start, end time.Time, ok bool) {
	p, ok := periodAt(anchor, months, tz, now)
	return p.Start, p.End, ok
}
