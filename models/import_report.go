package models

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
)

// ImportErrorReport writes an import's error report as CSV: row, field,
// message, then the row's original values under the file's own column
// names (read again from the stored file), one line per error.
func (s *Store) ImportErrorReport(ctx context.Context, sc Scope, id int64, w io.Writer) error {
	_, f, err := s.importFile(ctx, sc, id)
	if err != nil {
		return err
	}
	errs, err := s.importErrors(ctx, id, 0)
	if err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	head := append([]string{"row", "field", "message"}, f.Header...)
	for i := 3; i < len(head); i++ {
		head[i] = reportCell(head[i])
	}
	if err := cw.Write(head); err != nil {
		return fmt.Errorf("store: import error report: %w", err)
	}
	for _, e := range errs {
		line := []string{strconv.Itoa(e.Row), e.Field, reportCell(e.Message)}
		if i := e.Row - 2; i >= 0 && i < len(f.Rows) {
			for _, v := range f.Rows[i] {
				line = append(line, reportCell(v))
			}
		}
		if err := cw.Write(line); err != nil {
			return fmt.Errorf("store: import error report: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("store: import error report: %w", err)
	}
	return nil
}

// reportCell keeps a value from being read as a formula (CSVSafe), except
// a phone number, which a spreadsheet at worst reads as a number, so the
// corrected report can be imported again as it is.
func reportCell(v string) string {
	if phoneLike(v) {
		return v
	}
	return CSVSafe(v)
}

func phoneLike(v string) bool {
	if v == "" || len(v) > 32 {
		return false
	}
	for i, c := range v {
		switch {
		case c >= '0' && c <= '9', c == ' ', c == '(', c == ')', c == '.':
		case c == '+' && i == 0:
		case c == '-' && i > 0:
		default:
			return false
		}
	}
	return true
}
