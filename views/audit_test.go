package views

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/models"
)

func TestAuditDiff(t *testing.T) {
	long := strings.Repeat("x", auditLongValue+1)
	for _, tc := range []struct {
		name, before, after string
		want                []AuditChangeLine
	}{
		{"changed fields only, by name", `{"b": 1, "a": "x", "same": true}`, `{"a": "y", "b": 2, "same": true}`,
			[]AuditChangeLine{{Field: "a", Before: "x", After: "y"}, {Field: "b", Before: "1", After: "2"}}},
		{"created", ``, `{"name": "Front Desk", "ids": [1, 2]}`,
			[]AuditChangeLine{{Field: "ids", After: "[1,2]"}, {Field: "name", After: "Front Desk"}}},
		{"deleted", `{"name": "Front Desk"}`, `null`, []AuditChangeLine{{Field: "name", Before: "Front Desk"}}},
		{"added and removed keys", `{"old": 1}`, `{"new": 2}`,
			[]AuditChangeLine{{Field: "new", After: "2"}, {Field: "old", Before: "1"}}},
		{"scalars", `"a"`, `"b"`, []AuditChangeLine{{Field: "value", Before: "a", After: "b"}}},
		{"nothing changed", `{"a": 1}`, `{"a": 1}`, nil},
		{"long", `{"help": "short"}`, `{"help": "` + long + `"}`, []AuditChangeLine{{Field: "help", Before: "short", After: long, Long: true}}},
		{"nested objects compact", `{"hours": {"mon": [["09:00", "17:00"]]}}`, `{"hours": {}}`,
			[]AuditChangeLine{{Field: "hours", Before: `{"mon":[["09:00","17:00"]]}`, After: "{}"}}},
	} {
		got := AuditDiff(json.RawMessage(tc.before), json.RawMessage(tc.after))
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func TestNewAuditRowTime(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	e := models.AuditEntry{Via: models.ViaAPI, CreatedAt: time.Date(2026, 7, 1, 18, 5, 0, 0, time.UTC)}
	if r := NewAuditRow(e, ny, false); r.When != "Jul 1, 2026 2:05 PM EDT" || r.WhenISO != "2026-07-01T18:05:00Z" || r.ViaLabel != "API" {
		t.Errorf("12-hour: %+v", r)
	}
	if r := NewAuditRow(e, ny, true); r.When != "Jul 1, 2026 14:05 EDT" {
		t.Errorf("24-hour: %q", r.When)
	}
}
