package models

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// How a change reached Parley, for the audit log.
const (
	ViaWeb    = "web"
	ViaAPI    = "api"
	ViaCLI    = "cli"
	ViaSystem = "system"
)

// AuditEntry is one administrative change: who, when, from where, and the
// target's state before and after. The table is append-only (a trigger
// refuses UPDATE and DELETE).
type AuditEntry struct {
	bun.BaseModel `bun:"table:audit_log"`

	ID          int64           `bun:"id,pk,autoincrement" json:"id"`
	OrgID       *int64          `bun:"org_id" json:"org_id"`
	ActorUserID *int64          `bun:"actor_user_id" json:"actor_user_id"`
	ActorName   string          `bun:"actor_name" json:"actor_name"`
	Via         string          `bun:"via" json:"via"`
	TokenID     *int64          `bun:"token_id" json:"token_id,omitempty"`
	IP          string          `bun:"ip" json:"ip"`
	Action      string          `bun:"action" json:"action"`
	TargetType  string          `bun:"target_type" json:"target_type"`
	TargetID    *int64          `bun:"target_id" json:"target_id"`
	TargetName  string          `bun:"target_name" json:"target_name"`
	Before      json.RawMessage `bun:"before,type:jsonb" json:"before"`
	After       json.RawMessage `bun:"after,type:jsonb" json:"after"`
	CreatedAt   time.Time       `bun:"created_at,nullzero,default:now()" json:"created_at"`
}

// AuditChange describes one administrative change for the audit log. Action is
// "<target>.<verb>" (for example "inbox.archive", "user.disable").
// Before and After are the target's state (any JSON-encodable value, often
// a small struct of the changed fields); nil is stored as null.
type AuditChange struct {
	Action     string
	TargetType string
	TargetID   int64
	TargetName string
	Before     any
	After      any
}

// audit records a change made by sc's actor, in the caller's transaction,
// so the change and its record commit or fail together. Every store method
// that makes an administrative change calls it.
func audit(ctx context.Context, db bun.IDB, sc Scope, ch AuditChange) error {
	e := AuditEntry{
		ActorName: sc.Name, Via: sc.Via, IP: sc.IP,
		Action: ch.Action, TargetType: ch.TargetType, TargetName: ch.TargetName,
	}
	if e.Via == "" {
		e.Via = ViaWeb
	}
	if sc.OrgID != 0 {
		e.OrgID = &sc.OrgID
	}
	if sc.UserID != 0 {
		e.ActorUserID = &sc.UserID
	}
	if sc.TokenID != 0 {
		e.TokenID = &sc.TokenID
	}
	if ch.TargetID != 0 {
		e.TargetID = &ch.TargetID
	}
	var err error
	if e.Before, err = auditJSON(ch.Before); err != nil {
		return err
	}
	if e.After, err = auditJSON(ch.After); err != nil {
		return err
	}
	if _, err := db.NewInsert().Model(&e).Exec(ctx); err != nil {
		return fmt.Errorf("store: audit %s: %w", ch.Action, err)
	}
	return nil
}

func auditJSON(v any) (json.RawMessage, error) {
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("store: audit value: %w", err)
	}
	return b, nil
}
