package models

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/uptrace/bun"
)

// Running an import (the import:run job). Nothing is half-imported:
//
//  1. Stage: every row is checked and the rows that name one person merged
//     (import_merge.go); the row errors and the people go into
//     import_errors and import_rows in batches, each batch a transaction
//     that first bumps the import's progress, so a cancel (which locks the
//     same row) lands between batches and discards what was staged.
//  2. Apply: one transaction matches the people to existing recipients by
//     phone or email, merges and inserts them set-based, records import
//     opt-outs, adds the group's members, and marks the import done.
//
// A run killed while staging starts staging again (staged is still
// false); one killed while applying rolled back and applies again; one
// retried after the apply committed finds the import done and does
// nothing, so it is never applied twice.

// importBatch is how many staged rows one staging transaction writes.
const importBatch = 5000

// ErrImportCancelled: the import was cancelled while it ran.
var ErrImportCancelled = errors.New("import cancelled")

// RunImport runs import id (the worker's import:run). It returns nil when
// the import is done, was cancelled, or had already ended; progress, when
// set, is called after each staged batch and at the end.
func (s *Store) RunImport(ctx context.Context, id int64, progress func(*Import)) error {
	im := new(Import)
	if err := s.db.NewSelect().Model(im).Where("id = ?", id).Scan(ctx); err != nil {
		if err := notFound("import", err); errors.Is(err, ErrNotFound) {
			return nil // deleted with its organization
		}
		return fmt.Errorf("store: run import %d: %w", id, err)
	}
	if im.Status != ImportRunning {
		return nil
	}
	if !im.Staged {
		err := s.stageImport(ctx, im, progress)
		if errors.Is(err, ErrImportCancelled) {
			return nil
		}
		if err != nil {
			return err
		}
	}
	done, err := s.applyImport(ctx, id)
	if err != nil {
		return err
	}
	if progress != nil && done != nil {
		progress(done)
	}
	return nil
}

// FailImport ends a running import as failed, with the reason, and
// discards what it staged (the worker, after its last attempt).
func (s *Store) FailImport(ctx context.Context, id int64, reason string) (*Import, error) {
	im := new(Import)
	err := s.inTx(ctx, func(tx bun.Tx) error {
		res, err := tx.NewUpdate().Model(im).Set("status = ?, status_reason = ?, finished_at = now(), updated_at = now()", ImportFailed, clip(reason, 500)).
			Where("id = ? AND status = ?", id, ImportRunning).Returning(joinColumns(importColumns)).Exec(ctx)
		if err != nil {
			return fmt.Errorf("store: fail import: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			im = nil
			return nil
		}
		return discardImport(ctx, tx, Scope{OrgID: im.OrgID, Via: ViaSystem, Name: "Import"}, id)
	})
	return im, err
}

func joinColumns(cols []string) string { return strings.Join(cols, ", ") }

// stageImport checks the file and writes its errors and people in batches.
func (s *Store) stageImport(ctx context.Context, im *Import, progress func(*Import)) error {
	// A fresh start: a run killed while staging left some batches.
	err := s.inTx(ctx, func(tx bun.Tx) error {
		if err := importStep(ctx, tx, im, "processed = 0, failed = 0"); err != nil {
			return err
		}
		if _, err := tx.NewDelete().Table("import_errors").Where("import_id = ?", im.ID).Exec(ctx); err != nil {
			return fmt.Errorf("store: reset import errors: %w", err)
		}
		return discardStaged(ctx, tx, im.ID)
	})
	if err != nil {
		return err
	}
	f, err := ParseImportFile(im.Data)
	if err != nil {
		return fmt.Errorf("store: import %d: stored file: %w", im.ID, err)
	}
	var country string
	if err := s.db.NewSelect().Table("organizations").Column("default_country").Where("id = ?", im.OrgID).Scan(ctx, &country); err != nil {
		return fmt.Errorf("store: import %d: organization: %w", im.ID, err)
	}
	mapping, err := CheckMapping(im.Mapping, len(f.Header))
	if err != nil {
		return fmt.Errorf("store: import %d: %w", im.ID, err)
	}
	chk := CheckImportFile(f, mapping, country)

	// Errors first: their rows count towards progress as they are written.
	for start := 0; start < len(chk.Errors); start += importBatch {
		batch := chk.Errors[min(start, len(chk.Errors)):min(start+importBatch, len(chk.Errors))]
		rows := distinctRows(batch)
		err := s.inTx(ctx, func(tx bun.Tx) error {
			if err := importStep(ctx, tx, im, "processed = processed + ?, failed = failed + ?", rows, rows); err != nil {
				return err
			}
			return insertImportErrors(ctx, tx, im.ID, batch)
		})
		if err != nil {
			return err
		}
		if progress != nil {
			progress(im)
		}
	}
	for start := 0; start < len(chk.People); start += importBatch {
		end := min(start+importBatch, len(chk.People))
		rows := 0
		for _, n := range chk.Rows[start:end] {
			rows += n
		}
		err := s.inTx(ctx, func(tx bun.Tx) error {
			if err := importStep(ctx, tx, im, "processed = processed + ?", rows); err != nil {
				return err
			}
			return insertImportRows(ctx, tx, im.ID, chk.People[start:end], chk.Rows[start:end])
		})
		if err != nil {
			return err
		}
		if progress != nil {
			progress(im)
		}
	}
	return s.inTx(ctx, func(tx bun.Tx) error { return importStep(ctx, tx, im, "staged = true") })
}

// distinctRows counts the rows a batch of errors is about; errors of one
// row are adjacent.
func distinctRows(errs []ImportRowError) int {
	n, last := 0, -1
	for _, e := range errs {
		if e.Row != last {
			n, last = n+1, e.Row
		}
	}
	return n
}

// importStep updates a running import's row (locking it: a cancel waits
// for the step's transaction) and reads its progress into im; a cancelled
// or ended import is ErrImportCancelled.
func importStep(ctx context.Context, tx bun.Tx, im *Import, set string, args ...any) error {
	res, err := tx.NewUpdate().Model(im).Set(set, args...).Set("updated_at = now()").
		Where("id = ? AND status = ?", im.ID, ImportRunning).Returning(joinColumns(importColumns)).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: import %d progress: %w", im.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrImportCancelled
	}
	return nil
}

const insertImportErrorsQuery = `INSERT INTO import_errors (import_id, row_no, field, message)
	SELECT $1, * FROM unnest($2::int[], $3::text[], $4::text[])`

func insertImportErrors(ctx context.Context, tx bun.Tx, id int64, errs []ImportRowError) error {
	rows, fields, msgs := make([]int32, len(errs)), make([]string, len(errs)), make([]string, len(errs))
	for i, e := range errs {
		rows[i], fields[i], msgs[i] = int32(e.Row), e.Field, e.Message
	}
	if _, err := execCached(ctx, tx.Tx, insertImportErrorsQuery, id, rows, fields, msgs); err != nil {
		return fmt.Errorf("store: stage import errors: %w", err)
	}
	return nil
}

const insertImportRowsQuery = `INSERT INTO import_rows
	(import_id, row_no, name, phone, email, timezone, sms_opt_out, email_opt_out, rows_count)
	SELECT $1, r, n, NULLIF(p, ''), NULLIF(e, ''), tz, so, eo, c
	FROM unnest($2::int[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bool[], $8::bool[], $9::int[])
	AS u (r, n, p, e, tz, so, eo, c)`

func insertImportRows(ctx context.Context, tx bun.Tx, id int64, people []ImportRow, counts []int) error {
	n := len(people)
	rows, cs := make([]int32, n), make([]int32, n)
	names, phones, emails, zones := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	smsOut, emailOut := make([]bool, n), make([]bool, n)
	for i, p := range people {
		rows[i], names[i], phones[i], emails[i], zones[i] = int32(p.Row), p.Name, p.Phone, p.Email, p.Timezone
		smsOut[i], emailOut[i], cs[i] = p.SMSOptOut, p.EmailOptOut, int32(counts[i])
	}
	if _, err := execCached(ctx, tx.Tx, insertImportRowsQuery, id, rows, names, phones, emails, zones, smsOut, emailOut, cs); err != nil {
		return fmt.Errorf("store: stage import rows: %w", err)
	}
	return nil
}
