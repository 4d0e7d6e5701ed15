package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parley-chat/parley/jobs/task"
	"github.com/uptrace/bun"
)

// CSV import of recipients (issue 13): an uploaded file is kept in its
// imports row; the page shows a preview and lets the user map columns, the
// API starts at once. A job (import:run, import_run.go) checks every row,
// stages the people found, and applies them in one transaction.

// Import statuses. Preview is the page's upload before its mapping is
// confirmed; the API's imports start running at once.
const (
	ImportPreview   = "preview"
	ImportRunning   = "running"
	ImportDone      = "done"
	ImportFailed    = "failed"
	ImportCancelled = "cancelled"
)

// Import is one CSV import and its progress.
type Import struct {
	bun.BaseModel `bun:"table:imports,alias:imp"`

	ID        int64    `bun:"id,pk,autoincrement"`
	OrgID     int64    `bun:"org_id"`
	CreatedBy *int64   `bun:"created_by"`
	Filename  string   `bun:"filename"`
	Data      []byte   `bun:"data,type:bytea"`
	Mapping   []string `bun:"mapping,type:jsonb"`
	GroupID   *int64   `bun:"group_id"`
	// NewGroup: the import created its group (removed again, if still
	// empty, when the import is cancelled or fails).
	NewGroup bool `bun:"new_group"`
	// LocationID is the home location given to the recipients it adds
	// (and to those it merges into that have none).
	LocationID   *int64     `bun:"location_id"`
	Status       string     `bun:"status"`
	StatusReason string     `bun:"status_reason"`
	Total        int        `bun:"total"`
	Processed    int        `bun:"processed"`
	Staged       bool       `bun:"staged"`
	Imported     int        `bun:"imported"`
	Merged       int        `bun:"merged"`
	Failed       int        `bun:"failed"`
	CreatedAt    time.Time  `bun:"created_at,nullzero,default:now()"`
	UpdatedAt    time.Time  `bun:"updated_at,nullzero,default:now()"`
	FinishedAt   *time.Time `bun:"finished_at"`
}

// Finished reports whether the import ended (done, failed or cancelled).
func (im *Import) Finished() bool {
	return im.Status == ImportDone || im.Status == ImportFailed || im.Status == ImportCancelled
}

// Percent is how far the run is, 0 to 100; the apply is the last step, so
// a running import shows at most 99.
func (im *Import) Percent() int {
	switch {
	case im.Status == ImportDone:
		return 100
	case im.Total <= 0:
		return 0
	}
	p := im.Processed * 100 / im.Total
	if im.Status == ImportRunning && p > 99 {
		p = 99
	}
	return p
}

// importColumns are the columns read for an import's status (not its file).
var importColumns = []string{"id", "org_id", "created_by", "filename", "mapping", "group_id", "location_id",
	"status", "status_reason", "total", "processed", "staged", "imported", "merged", "failed",
	"created_at", "updated_at", "finished_at"}

// ImportInput is an upload.
type ImportInput struct {
	Filename string
	Data     []byte
	// Mapping names the field of each column; nil guesses it from the
	// header (AutoMapping). Fields a column may hold: ImportFields.
	Mapping []string
	// Overrides, by field, name the column (by its header, or its
	// 1-based position) that holds the field, over the guessed mapping
	// (the API's query parameters).
	Overrides  map[string]string
	GroupID    *int64
	LocationID *int64
	// Start queues the import at once (the API); otherwise it waits in
	// preview for StartImport (the page).
	Start bool
}

// importScope checks that sc may import: recipients are the whole
// organization's, so only a user who sees every inbox may.
func importScope(sc Scope) error {
	if err := require(sc, PermEditRecipients); err != nil {
		return err
	}
	if !sc.AllInboxes() {
		return ErrForbidden
	}
	return nil
}

// CreateImport stores an uploaded CSV after reading it (a file that cannot
// be read is a FieldError on "file"; a bad mapping one on "mapping"; a
// group or location of another organization ErrNotFound). With in.Start
// it is queued at once.
func (s *Store) CreateImport(ctx context.Context, sc Scope, in ImportInput) (*Import, error) {
	if err := importScope(sc); err != nil {
		return nil, err
	}
	f, err := ParseImportFile(in.Data)
	if err != nil {
		return nil, err
	}
	mapping := in.Mapping
	if mapping == nil {
		mapping = AutoMapping(f.Header)
	}
	if mapping, err = applyOverrides(mapping, f.Header, in.Overrides); err != nil {
		return nil, err
	}
	if in.Start {
		if mapping, err = CheckMapping(mapping, len(f.Header)); err != nil {
			return nil, err
		}
	} else if len(mapping) != len(f.Header) {
		mapping = append(mapping, make([]string, len(f.Header))...)[:len(f.Header)]
	}
	im := &Import{OrgID: sc.OrgID, Filename: cleanFilename(in.Filename), Data: in.Data, Mapping: mapping,
		GroupID: in.GroupID, LocationID: in.LocationID, Status: ImportPreview, Total: len(f.Rows)}
	if sc.UserID != 0 {
		im.CreatedBy = &sc.UserID
	}
	if in.Start {
		im.Status = ImportRunning
	}
	err = s.inTx(ctx, func(tx bun.Tx) error {
		if err := importTargetsInOrg(ctx, tx, sc.OrgID, in.GroupID, in.LocationID); err != nil {
			return err
		}
		if _, err := tx.NewInsert().Model(im).Returning("id, created_at, updated_at").Exec(ctx); err != nil {
			return fmt.Errorf("store: create import: %w", err)
		}
		if in.Start {
			return insertOutbox(ctx, tx, sc.OrgID, task.NewImportRun(im.ID))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	im.Data = nil
	return im, nil
}

// applyOverrides sets, for each field in overrides, the column it names
// (a header, case-insensitive, or a 1-based position), taking the field
// off any other column.
func applyOverrides(mapping, header []string, overrides map[string]string) ([]string, error) {
	if len(overrides) == 0 {
		return mapping, nil
	}
	out := append(make([]string, 0, len(header)), mapping...)
	for len(out) < len(header) {
		out = append(out, "")
	}
	for _, fd := range ImportFields() {
		col, ok := overrides[fd.Key]
		if !ok {
			continue
		}
		idx := -1
		for i, h := range header {
			if strings.EqualFold(h, strings.TrimSpace(col)) {
				idx = i
				break
			}
		}
		if idx < 0 {
			var n int
			if _, err := fmt.Sscanf(col, "%d", &n); err == nil && n >= 1 && n <= len(header) && fmt.Sprint(n) == strings.TrimSpace(col) {
				idx = n - 1
			}
		}
		if idx < 0 && strings.TrimSpace(col) != "" {
			return nil, fieldErr(fd.Key+"_column", "The file has no column %q.", clip(col, 60))
		}
		for i := range out {
			if out[i] == fd.Key {
				out[i] = ""
			}
		}
		if idx >= 0 {
			out[idx] = fd.Key
		}
	}
	return out, nil
}

// cleanFilename keeps a short, printable file name for display.
func cleanFilename(name string) string {
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			return -1
		}
		return r
	}, strings.TrimSpace(name))
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	return clip(name, 200)
}

// importTargetsInOrg checks that the group and location belong to orgID
// (another organization's are ErrNotFound, R9).
func importTargetsInOrg(ctx context.Context, db bun.IDB, orgID int64, groupID, locationID *int64) error {
	check := func(table string, id *int64) error {
		if id == nil {
			return nil
		}
		n, err := db.NewSelect().Table(table).Where("org_id = ? AND id = ?", orgID, *id).Count(ctx)
		if err != nil {
			return fmt.Errorf("store: import %s: %w", table, err)
		}
		if n == 0 {
			return fmt.Errorf("store: import %s %d: %w", table, *id, ErrNotFound)
		}
		return nil
	}
	if err := check("groups", groupID); err != nil {
		return err
	}
	return check("locations", locationID)
}

// ImportByID returns an import of the scope's organization (without its
// file), else ErrNotFound.
func (s *Store) ImportByID(ctx context.Context, sc Scope, id int64) (*Import, error) {
	if err := importScope(sc); err != nil {
		return nil, err
	}
	im := new(Import)
	if err := s.db.NewSelect().Model(im).Column(importColumns...).Where("id = ? AND org_id = ?", id, sc.OrgID).Scan(ctx); err != nil {
		return nil, notFound("import", err)
	}
	return im, nil
}

// ImportSample is the start of an uploaded file and its current mapping.
type ImportSample struct {
	Import  *Import
	Header  []string
	Rows    [][]string
	Mapping []string
}

// PreviewImport reads the first n rows of an import's file.
func (s *Store) PreviewImport(ctx context.Context, sc Scope, id int64, n int) (*ImportSample, error) {
	im, f, err := s.importFile(ctx, sc, id)
	if err != nil {
		return nil, err
	}
	rows := f.Rows
	if len(rows) > n {
		rows = rows[:n]
	}
	p := &ImportSample{Import: im, Header: f.Header, Mapping: im.Mapping}
	for _, r := range rows {
		cells := make([]string, len(f.Header))
		copy(cells, r)
		p.Rows = append(p.Rows, cells)
	}
	return p, nil
}

// importFile loads an import with its file, read.
func (s *Store) importFile(ctx context.Context, sc Scope, id int64) (*Import, *ImportFile, error) {
	if err := importScope(sc); err != nil {
		return nil, nil, err
	}
	im := new(Import)
	if err := s.db.NewSelect().Model(im).Where("id = ? AND org_id = ?", id, sc.OrgID).Scan(ctx); err != nil {
		return nil, nil, notFound("import", err)
	}
	f, err := ParseImportFile(im.Data)
	if err != nil {
		return nil, nil, fmt.Errorf("store: import %d: stored file: %w", id, err)
	}
	im.Data = nil
	return im, f, nil
}

// ErrImportNotPending: the import already started or ended.
var ErrImportNotPending = fmt.Errorf("the import already started or ended: %w", ErrConflict)

// StartImport confirms a previewed import's mapping and where its rows
// go (a group, maybe created now, and a location; ImportStart) and
// queues it. Another organization's group or location is ErrNotFound.
func (s *Store) StartImport(ctx context.Context, sc Scope, id int64, in ImportStart) (*Import, error) {
	if err := importScope(sc); err != nil {
		return nil, err
	}
	im := new(Import)
	err := s.inTx(ctx, func(tx bun.Tx) error {
		if err := tx.NewSelect().Model(im).Column(importColumns...).Where("id = ? AND org_id = ?", id, sc.OrgID).For("UPDATE").Scan(ctx); err != nil {
			return notFound("import", err)
		}
		if im.Status != ImportPreview {
			return fmt.Errorf("store: start import %d: %w", id, ErrImportNotPending)
		}
		m, err := CheckMapping(in.Mapping, len(im.Mapping))
		if err != nil {
			return err
		}
		if err := importTargetsInOrg(ctx, tx, sc.OrgID, in.GroupID, in.LocationID); err != nil {
			return err
		}
		im.GroupID, im.LocationID = in.GroupID, in.LocationID
		if in.NewGroup != nil {
			gid, err := importNewGroup(ctx, tx, sc, *in.NewGroup)
			if err != nil {
				return err
			}
			im.GroupID, im.NewGroup = &gid, true
		}
		im.Mapping, im.Status = m, ImportRunning
		if _, err := tx.NewUpdate().Model(im).Column("mapping", "status", "group_id", "location_id", "new_group").Set("updated_at = now()").WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("store: start import: %w", err)
		}
		return insertOutbox(ctx, tx, sc.OrgID, task.NewImportRun(im.ID))
	})
	if err != nil {
		return nil, err
	}
	return im, nil
}

// CancelImport stops an import that has not been applied: what it staged
// is discarded, so no recipient changes. An import already done or failed
// is ErrImportNotPending; one already cancelled is returned as it is.
func (s *Store) CancelImport(ctx context.Context, sc Scope, id int64) (*Import, error) {
	if err := importScope(sc); err != nil {
		return nil, err
	}
	im := new(Import)
	err := s.inTx(ctx, func(tx bun.Tx) error {
		// The run's batches and its apply lock this row first, so a cancel
		// waits for a batch in flight, and an apply that got the lock
		// first wins (the import is then done, not cancelled).
		if err := tx.NewSelect().Model(im).Column(importColumns...).Where("id = ? AND org_id = ?", id, sc.OrgID).For("UPDATE").Scan(ctx); err != nil {
			return notFound("import", err)
		}
		switch im.Status {
		case ImportCancelled:
			return nil
		case ImportDone, ImportFailed:
			return fmt.Errorf("store: cancel import %d: %w", id, ErrImportNotPending)
		}
		if err := tx.NewRaw("UPDATE imports SET status = ?, finished_at = now(), updated_at = now() WHERE id = ? RETURNING finished_at, status",
			ImportCancelled, id).Scan(ctx, &im.FinishedAt, &im.Status); err != nil {
			return fmt.Errorf("store: cancel import: %w", err)
		}
		return discardImport(ctx, tx, sc, id)
	})
	if err != nil {
		return nil, err
	}
	return im, nil
}

// discardStaged deletes an import's staged rows.
func discardStaged(ctx context.Context, tx bun.Tx, id int64) error {
	if _, err := tx.NewDelete().Table("import_rows").Where("import_id = ?", id).Exec(ctx); err != nil {
		return fmt.Errorf("store: discard staged import rows: %w", err)
	}
	return nil
}

// discardImport undoes a cancelled or failed import: its staged rows, and
// the group it made for them if nothing was put in it meanwhile (audited
// as sc's act).
func discardImport(ctx context.Context, tx bun.Tx, sc Scope, id int64) error {
	if err := discardStaged(ctx, tx, id); err != nil {
		return err
	}
	var gone []struct {
		ID   int64  `bun:"id"`
		Name string `bun:"name"`
	}
	if err := tx.NewRaw(`DELETE FROM groups AS g USING imports AS im
		WHERE im.id = ? AND im.new_group AND g.id = im.group_id AND g.org_id = im.org_id
		  AND NOT EXISTS (SELECT 1 FROM group_members AS gm WHERE gm.group_id = g.id)
		RETURNING g.id, g.name`, id).Scan(ctx, &gone); err != nil {
		return fmt.Errorf("store: discard import's new group: %w", err)
	}
	for _, g := range gone {
		if err := audit(ctx, tx, sc, AuditChange{Action: "group.delete", TargetType: "group", TargetID: g.ID, TargetName: g.Name,
			Before: map[string]any{"name": g.Name, "members": 0, "import": id}}); err != nil {
			return err
		}
	}
	return nil
}

// ImportErrors lists an import's row errors by row, at most limit (0: all).
func (s *Store) ImportErrors(ctx context.Context, sc Scope, id int64, limit int) ([]ImportRowError, error) {
	if _, err := s.ImportByID(ctx, sc, id); err != nil {
		return nil, err
	}
	return s.importErrors(ctx, id, limit)
}

func (s *Store) importErrors(ctx context.Context, id int64, limit int) ([]ImportRowError, error) {
	q := s.db.NewSelect().Table("import_errors").Column("row_no", "field", "message").
		Where("import_id = ?", id).OrderExpr("row_no, field")
	if limit > 0 {
		q = q.Limit(int64(limit))
	}
	rows, err := q.Rows(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: import errors: %w", err)
	}
	defer rows.Close()
	var out []ImportRowError
	for rows.Next() {
		var e ImportRowError
		if err := rows.Scan(&e.Row, &e.Field, &e.Message); err != nil {
			return nil, fmt.Errorf("store: import errors: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: import errors: %w", err)
	}
	return out, nil
}
