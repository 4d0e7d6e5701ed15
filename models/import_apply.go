package models

import (
	"context"
	"fmt"
	"strconv"

	"github.com/uptrace/bun"
)

// Applying a staged import: one transaction, set-based.
//
// Matching: a person is the recipient with its phone number, else the one
// with its email address. A person whose phone is one recipient's and
// whose email another's is refused (a row error): merging two recipients
// is a person's decision (the recipients page's merge), not an import's.
//
// Merging into an existing recipient: a phone number or email address the
// recipient lacks is filled in, one it has is never changed; a non-empty
// name or time zone in the file replaces the recipient's (the file is
// the newer record: a school's roster, a CRM's export), an empty one never
// blanks it; the home location is set only where there is none. Opt-outs
// in the file opt people out (source "import"); nothing in a file ever
// opts anyone back in.

// applyImport applies a staged import and marks it done, returning it; an
// import no longer running (cancelled, or applied by an earlier attempt of
// the task) is left alone and nil returned.
func (s *Store) applyImport(ctx context.Context, id int64) (*Import, error) {
	var done *Import
	err := s.inTx(ctx, func(tx bun.Tx) error {
		done = nil
		im := new(Import)
		if err := tx.NewSelect().Model(im).Column(importColumns...).Where("id = ?", id).For("UPDATE").Scan(ctx); err != nil {
			return notFound("import", err)
		}
		if im.Status != ImportRunning || !im.Staged {
			return nil
		}
		failed, err := applyImportRows(ctx, tx, im)
		if err != nil {
			return err
		}
		var imported int
		if err := tx.NewRaw("SELECT count(*) FROM import_rows WHERE import_id = ? AND created", id).Scan(ctx, &imported); err != nil {
			return fmt.Errorf("store: apply import: count: %w", err)
		}
		im.Failed += failed
		im.Imported = imported
		im.Merged = im.Total - im.Imported - im.Failed
		im.Status, im.Processed = ImportDone, im.Total
		if _, err := tx.NewUpdate().Model(im).Column("status", "processed", "imported", "merged", "failed").
			Set("finished_at = now(), updated_at = now()").WherePK().Returning("finished_at").Exec(ctx); err != nil {
			return fmt.Errorf("store: apply import: finish: %w", err)
		}
		sc := Scope{OrgID: im.OrgID, Via: ViaSystem}
		if im.CreatedBy != nil {
			sc.UserID = *im.CreatedBy
		}
		type counts struct {
			Total    int `json:"total"`
			Imported int `json:"imported"`
			Merged   int `json:"merged"`
			Failed   int `json:"failed"`
		}
		if err := audit(ctx, tx, sc, AuditChange{Action: "recipients.import", TargetType: "import", TargetID: im.ID,
			TargetName: im.Filename, After: counts{im.Total, im.Imported, im.Merged, im.Failed}}); err != nil {
			return err
		}
		if err := discardStaged(ctx, tx, id); err != nil {
			return err
		}
		done = im
		return nil
	})
	if err != nil {
		return nil, err
	}
	return done, nil
}

// Each step of the apply, in order; $1 is the import, $2 its organization.
const (
	// A person whose phone and email are two different recipients'.
	importConflicts = `WITH bad AS (
		DELETE FROM import_rows AS s USING recipients AS rp, recipients AS re
		WHERE s.import_id = $1 AND rp.org_id = $2 AND rp.phone = s.phone
		  AND re.org_id = $2 AND re.email = s.email AND re.id <> rp.id
		RETURNING s.row_no, s.rows_count)
	, ins AS (INSERT INTO import_errors (import_id, row_no, field, message)
		SELECT $1, row_no, 'email', 'This phone number is one recipient''s and this email address another''s. Merge the two on the recipients page, then import again.'
		FROM bad)
	SELECT coalesce(sum(rows_count), 0) FROM bad`
	importMatchPhone = `UPDATE import_rows AS s SET recipient_id = r.id FROM recipients AS r
		WHERE s.import_id = $1 AND r.org_id = $2 AND r.phone = s.phone`
	importMatchEmail = `UPDATE import_rows AS s SET recipient_id = r.id FROM recipients AS r
		WHERE s.import_id = $1 AND s.recipient_id IS NULL AND r.org_id = $2 AND r.email = s.email`
	// Two people of the file may match one recipient (one by phone, the
	// other by email): the later row's values are applied.
	importMerge = `UPDATE recipients AS r SET
			name = CASE WHEN s.name <> '' THEN s.name ELSE r.name END,
			phone = coalesce(r.phone, s.phone),
			email = coalesce(r.email, s.email),
			timezone = CASE WHEN s.timezone <> '' THEN s.timezone ELSE r.timezone END,
			location_id = coalesce(r.location_id, $3::bigint),
			updated_at = now()
		FROM (SELECT DISTINCT ON (recipient_id) * FROM import_rows
			WHERE import_id = $1 AND recipient_id IS NOT NULL ORDER BY recipient_id, row_no DESC) AS s
		WHERE r.id = s.recipient_id AND r.org_id = $2
		  AND ((s.name <> '' AND s.name <> r.name) OR (s.timezone <> '' AND s.timezone <> r.timezone)
		    OR (r.phone IS NULL AND s.phone IS NOT NULL) OR (r.email IS NULL AND s.email IS NOT NULL)
		    OR (r.location_id IS NULL AND $3::bigint IS NOT NULL))`
	importInsert = `WITH ins AS (
		INSERT INTO recipients (org_id, name, phone, email, timezone, location_id)
		SELECT $2, name, phone, email, timezone, $3::bigint FROM import_rows
		WHERE import_id = $1 AND recipient_id IS NULL ORDER BY row_no
		RETURNING id, phone, email)
	UPDATE import_rows AS s SET recipient_id = ins.id, created = true FROM ins
	WHERE s.import_id = $1 AND s.recipient_id IS NULL
	  AND coalesce(s.phone, s.email) = coalesce(ins.phone, ins.email)`
	// Opt-outs: only recipients still opted in change; each change is in
	// the consent history with the import as its detail.
	importOptOut = `WITH o AS (
		UPDATE recipients AS r SET %[1]s_opted_out_at = now(), %[1]s_opt_out_source = 'import', updated_at = now()
		FROM import_rows AS s
		WHERE s.import_id = $1 AND s.%[1]s_opt_out AND r.id = s.recipient_id AND r.org_id = $2 AND r.%[1]s_opted_out_at IS NULL
		RETURNING r.id)
	INSERT INTO recipient_consent_events (org_id, recipient_id, channel, action, source, detail, actor_user_id)
	SELECT $2, o.id, '%[1]s', 'opt_out', 'import', $3::text, $4::bigint FROM o`
	importGroup = `INSERT INTO group_members (org_id, group_id, recipient_id)
		SELECT DISTINCT $2::bigint, $3::bigint, recipient_id FROM import_rows WHERE import_id = $1
		ON CONFLICT DO NOTHING`
)

// applyImportRows runs the apply's statements and returns how many rows
// of the file were refused while applying.
func applyImportRows(ctx context.Context, tx bun.Tx, im *Import) (int, error) {
	// The staged rows are new: without statistics the planner takes them
	// for a handful and joins them row by row (minutes at 100,000).
	if _, err := tx.Tx.ExecContext(ctx, "ANALYZE import_rows"); err != nil {
		return 0, fmt.Errorf("store: apply import: analyze: %w", err)
	}
	var failed int
	if err := tx.Tx.QueryRowContext(ctx, importConflicts, im.ID, im.OrgID).Scan(&failed); err != nil {
		return 0, fmt.Errorf("store: apply import: conflicts: %w", err)
	}
	steps := []struct {
		name  string
		query string
		args  []any
	}{
		{"match phone", importMatchPhone, nil},
		{"match email", importMatchEmail, nil},
		{"merge", importMerge, []any{im.LocationID}},
		{"insert", importInsert, []any{im.LocationID}},
		{"sms opt-out", fmt.Sprintf(importOptOut, ChannelSMS), []any{importDetail(im), im.CreatedBy}},
		{"email opt-out", fmt.Sprintf(importOptOut, ChannelEmail), []any{importDetail(im), im.CreatedBy}},
	}
	if im.GroupID != nil {
		steps = append(steps, struct {
			name  string
			query string
			args  []any
		}{"group", importGroup, []any{*im.GroupID}})
	}
	for _, st := range steps {
		args := append([]any{im.ID, im.OrgID}, st.args...)
		if _, err := tx.Tx.ExecContext(ctx, st.query, args...); err != nil {
			if isUniqueViolation(err) {
				// A recipient with one of these addresses was added since
				// the match: the task retries, and matches it then.
				return 0, fmt.Errorf("store: apply import: %s: %w", st.name, ErrConflict)
			}
			return 0, fmt.Errorf("store: apply import: %s: %w", st.name, err)
		}
	}
	return failed, nil
}

// importDetail names the import in the consent history.
func importDetail(im *Import) string {
	d := "import #" + strconv.FormatInt(im.ID, 10)
	if im.Filename != "" {
		d += " (" + im.Filename + ")"
	}
	return d
}
