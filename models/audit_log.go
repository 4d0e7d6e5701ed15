package models

import (
	"context"
	"fmt"
	"regexp"
	"time"
)

// Reading the audit log: an admin's page and GET /api/v1/audit both call
// AuditLog, newest first, a page at a time.

// AuditFilter narrows the audit log. Zero fields do not filter.
type AuditFilter struct {
	// ActorID: changes made by this user.
	ActorID int64
	// Action: actions starting with this ("inbox." or "inbox.archive").
	Action string
	// TargetType and TargetID: changes to this kind of thing, or this one.
	TargetType string
	TargetID   int64
	// From (inclusive) and To (exclusive): when the change was made.
	From, To time.Time
}

// AuditLogMax is the most entries one page of the audit log holds.
const AuditLogMax = 200

var (
	auditActionPrefix = regexp.MustCompile(`^[a-z_]+\.?[a-z_]*$`)
	auditTargetType   = regexp.MustCompile(`^[a-z_]+$`)
)

// validate checks the filter; a bad field is a *FieldError naming it.
func (f AuditFilter) validate() error {
	switch {
	case f.ActorID < 0:
		return fieldErr("actor_id", "Choose a person from the list.")
	case f.Action != "" && (len(f.Action) > 100 || !auditActionPrefix.MatchString(f.Action)):
		return fieldErr("action", "An action looks like inbox.archive, or its start (inbox.).")
	case f.TargetType != "" && (len(f.TargetType) > 50 || !auditTargetType.MatchString(f.TargetType)):
		return fieldErr("target_type", "A target type is lower-case letters and underscores (inbox, user).")
	case f.TargetID < 0:
		return fieldErr("target_id", "A target id is a positive whole number.")
	case !f.From.IsZero() && !f.To.IsZero() && !f.To.After(f.From):
		return fieldErr("to", "The end must come after the start.")
	}
	return nil
}

// AuditLog returns up to limit entries of the scope's organization matching
// f, newest first, older than the entry with id before (0: from the
// newest), and the id to pass as before for the next page (0 on the last
// page). It needs PermViewAudit; without it the answer is ErrForbidden.
func (s *Store) AuditLog(ctx context.Context, sc Scope, f AuditFilter, before int64, limit int) ([]AuditEntry, int64, error) {
	if err := require(sc, PermViewAudit); err != nil {
		return nil, 0, err
	}
	if err := f.validate(); err != nil {
		return nil, 0, err
	}
	if before < 0 {
		return nil, 0, fieldErr("cursor", "Use the cursor of the previous page.")
	}
	if limit < 1 || limit > AuditLogMax {
		return nil, 0, fieldErr("limit", "From 1 to %d.", AuditLogMax)
	}
	var rows []AuditEntry
	q := s.db.NewSelect().Model(&rows).Where("org_id = ?", sc.OrgID).OrderExpr("id DESC").Limit(int64(limit + 1))
	if before > 0 {
		q.Where("id < ?", before)
	}
	if f.ActorID != 0 {
		q.Where("actor_user_id = ?", f.ActorID)
	}
	if f.Action != "" {
		// The prefix holds only [a-z_.]; escape _ for LIKE.
		q.Where("action LIKE ? ESCAPE '\\'", escapeLike(f.Action)+"%")
	}
	if f.TargetType != "" {
		q.Where("target_type = ?", f.TargetType)
	}
	if f.TargetID != 0 {
		q.Where("target_id = ?", f.TargetID)
	}
	if !f.From.IsZero() {
		q.Where("created_at >= ?", f.From)
	}
	if !f.To.IsZero() {
		q.Where("created_at < ?", f.To)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, 0, fmt.Errorf("store: audit log: %w", err)
	}
	var next int64
	if len(rows) > limit {
		rows = rows[:limit]
		next = rows[limit-1].ID
	}
	return rows, next, nil
}

// AuditActor is someone who appears in the audit log, for its filter.
type AuditActor struct {
	ID   int64  `bun:"id"`
	Name string `bun:"name"`
}

// AuditActors lists the users who made a change in the scope's
// organization, by name (their current name, else the one the log kept).
// It needs PermViewAudit.
func (s *Store) AuditActors(ctx context.Context, sc Scope) ([]AuditActor, error) {
	if err := require(sc, PermViewAudit); err != nil {
		return nil, err
	}
	var out []AuditActor
	err := s.db.NewRaw(`SELECT a.actor_user_id AS id, COALESCE(MAX(u.name), MAX(a.actor_name)) AS name
		FROM audit_log a LEFT JOIN users u ON u.id = a.actor_user_id AND u.org_id = a.org_id
		WHERE a.org_id = ? AND a.actor_user_id IS NOT NULL
		GROUP BY a.actor_user_id ORDER BY 2, 1`, sc.OrgID).Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("store: audit actors: %w", err)
	}
	return out, nil
}
