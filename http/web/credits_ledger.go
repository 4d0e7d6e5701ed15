package web

import (
	"bufio"
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/parley-chat/parley/models"
)

// The ledger's filter (?location_id=&from=&to=) as the Credits page's CSV
// download and GET /api/v1/credits/ledger read it, and the CSV stream
// both send.

// ledgerCSVTimeout bounds one CSV download.
const ledgerCSVTimeout = 10 * time.Minute

// ledgerFilter reads ?location_id=&from=&to=. from and to are RFC 3339
// times or dates (YYYY-MM-DD, days in the location's timezone, UTC without
// a location); from is inclusive, a time to exclusive, a date to includes
// its day. A bad value is a *models.FieldError naming the parameter; a
// location the scope may not see is models.ErrNotFound.
func (s *Server) ledgerFilter(c *fiber.Ctx, sc models.Scope) (models.LedgerFilter, error) {
	var f models.LedgerFilter
	tz := time.UTC
	if v := c.Query("location_id"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return f, &models.FieldError{Field: "location_id", Message: "Choose a location (a location id)."}
		}
		l, err := s.store.UsageLocation(c.UserContext(), sc, id)
		if err != nil {
			return f, err
		}
		f.LocationID, tz = id, l.TimeLocation()
	}
	var err error
	if f.From, err = rangeBound(c.Query("from"), "from", tz, false); err != nil {
		return f, err
	}
	if f.To, err = rangeBound(c.Query("to"), "to", tz, true); err != nil {
		return f, err
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.To.After(f.From) {
		return f, &models.FieldError{Field: "to", Message: "The end must come after the start."}
	}
	return f, nil
}

// rangeBound reads one end of a range: "" (open), an RFC 3339 time, or a
// date in tz (an end date: the midnight after it).
func rangeBound(v, field string, tz *time.Location, end bool) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	d, err := time.ParseInLocation(time.DateOnly, v, tz)
	if err != nil || d.Year() < 2000 || d.Year() > 9999 {
		return time.Time{}, &models.FieldError{Field: field, Message: "A date (2026-01-31) or a time in RFC 3339 (2026-01-31T00:00:00Z)."}
	}
	if end {
		d = d.AddDate(0, 0, 1)
	}
	return d, nil
}

// sendLedgerCSV answers with the ledger's entries matching f as a CSV
// file, streamed: the store writes batch by batch as the client reads. f
// was checked first, so a refusal is still an ordinary error response.
func (s *Server) sendLedgerCSV(c *fiber.Ctx, sc models.Scope, f models.LedgerFilter) error {
	if err := s.store.CheckLedger(c.UserContext(), sc, f); err != nil {
		return err
	}
	name := "parley-ledger"
	if f.LocationID != 0 {
		name += "-location-" + strconv.FormatInt(f.LocationID, 10)
	}
	if !f.From.IsZero() {
		name += "-from-" + f.From.UTC().Format("20060102T150405Z")
	}
	if !f.To.IsZero() {
		name += "-to-" + f.To.UTC().Format("20060102T150405Z")
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, contentDisposition("attachment", name+".csv"))
	c.Set(fiber.HeaderCacheControl, "no-store")
	// The writer runs after this handler returns, when c is no longer
	// ours: it gets copies of what it needs.
	store, log := s.store, s.log
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		ctx, cancel := context.WithTimeout(context.Background(), ledgerCSVTimeout)
		defer cancel()
		n, err := store.WriteLedgerCSV(ctx, sc, f, w)
		if err == nil {
			err = w.Flush()
		}
		if err != nil {
			// The status is sent: a client sees a short file (no final newline
			// record is missing its fields); the log says why.
			log.Error("ledger csv", "org", sc.OrgID, "location", f.LocationID, "rows", n, "err", fmt.Errorf("web: ledger csv: %w", err))
		}
	})
	return nil
}
