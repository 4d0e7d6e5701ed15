package views

import (
	"bytes"
	"encoding/json"
	"sort"
	"strings"
	"time"

	"github.com/parley-chat/parley/models"
)

// AuditData is the audit log page (/settings/audit).
type AuditData struct {
	// Filter is the filter form as typed (the page's query parameters).
	Filter AuditFilterForm
	// Errors holds a message per filter field that was not understood.
	Errors map[string]string
	Actors []models.AuditActor
	Rows   []AuditRow
	// OlderURL is the next (older) page's link, "" on the last page.
	OlderURL string
	// NewestURL goes back to the first page with the same filter, "" on it.
	NewestURL string
	// Zone names the time zone the times are shown in.
	Zone string
}

// AuditFilterForm is the filter form's fields, as text.
type AuditFilterForm struct {
	ActorID, Action, TargetType, TargetID, From, To string
}

// Any reports whether any filter is set.
func (f AuditFilterForm) Any() bool { return f != AuditFilterForm{} }

// AuditRow is one entry as the page shows it.
type AuditRow struct {
	models.AuditEntry
	// When is the time in the viewer's zone; WhenISO is RFC 3339 (UTC).
	When, WhenISO string
	// Via says how the change was made: "web", "API", "CLI", "system".
	ViaLabel string
	Changes  []AuditChangeLine
}

// AuditChangeLine is one changed field: its value before and after ("" =
// absent). Long values are shown collapsed.
type AuditChangeLine struct {
	Field, Before, After string
	Long                 bool
}

// auditLongValue: past this many characters a change is collapsed.
const auditLongValue = 60

// NewAuditRow prepares an entry for the page: its time in loc, in the 24-
// or 12-hour clock, and the fields that differ between before and after.
func NewAuditRow(e models.AuditEntry, loc *time.Location, clock24 bool) AuditRow {
	layout := "Jan 2, 2006 3:04 PM MST"
	if clock24 {
		layout = "Jan 2, 2006 15:04 MST"
	}
	via := map[string]string{models.ViaWeb: "web", models.ViaAPI: "API", models.ViaCLI: "CLI", models.ViaSystem: "system"}[e.Via]
	if via == "" {
		via = e.Via
	}
	return AuditRow{AuditEntry: e, When: e.CreatedAt.In(loc).Format(layout), WhenISO: e.CreatedAt.UTC().Format(time.RFC3339),
		ViaLabel: via, Changes: AuditDiff(e.Before, e.After)}
}

// AuditDiff lists the fields whose values differ between two JSON values,
// by field name. Objects are compared field by field; anything else (or a
// side that is null) counts as one field named "value" unless the other
// side is an object, whose fields are then all listed.
func AuditDiff(before, after json.RawMessage) []AuditChangeLine {
	b, bObj := auditFields(before)
	a, aObj := auditFields(after)
	if !bObj && !aObj {
		bv, av := auditValue(before), auditValue(after)
		if bv == av {
			return nil
		}
		return []AuditChangeLine{auditLine("value", bv, av)}
	}
	keys := map[string]bool{}
	for k := range b {
		keys[k] = true
	}
	for k := range a {
		keys[k] = true
	}
	names := make([]string, 0, len(keys))
	for k := range keys {
		names = append(names, k)
	}
	sort.Strings(names)
	var out []AuditChangeLine
	for _, k := range names {
		bv, av := auditValue(b[k]), auditValue(a[k])
		if bv == av {
			continue
		}
		out = append(out, auditLine(k, bv, av))
	}
	return out
}

func auditLine(field, before, after string) AuditChangeLine {
	return AuditChangeLine{Field: field, Before: before, After: after,
		Long: len(before) > auditLongValue || len(after) > auditLongValue || strings.Contains(before+after, "\n")}
}

// auditFields reads a JSON object's fields; ok is false for anything else.
func auditFields(raw json.RawMessage) (map[string]json.RawMessage, bool) {
	var m map[string]json.RawMessage
	if len(bytes.TrimSpace(raw)) == 0 || json.Unmarshal(raw, &m) != nil || m == nil {
		return nil, false
	}
	return m, true
}

// auditValue renders a JSON value for people: a string without quotes,
// null or absent as "", anything else as compact JSON.
func auditValue(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if raw[0] == '"' && json.Unmarshal(raw, &s) == nil {
		return s
	}
	var buf bytes.Buffer
	if json.Compact(&buf, raw) != nil {
		return string(raw)
	}
	return buf.String()
}
