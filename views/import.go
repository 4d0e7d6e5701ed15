package views

import (
	"strconv"

	"github.com/parley-chat/parley/models"
)

// ImportData is the import page: an upload form, a previewed file with a
// mapping select per column, or a running import's progress.
type ImportData struct {
	// Error is a problem with the upload or the mapping, shown by its field.
	Error, ErrorField string
	// Sample is set while the import waits for its mapping (preview).
	Sample *models.ImportSample
	Fields []models.ImportField
	// Import is set once it started.
	Import *models.Import
	Errors []models.ImportRowError
	// CSRF is the form token (the progress fragment renders alone).
	CSRF string
	// Groups and Locations are the preview's pickers; Group ("", "new"
	// or an id), NewGroup and Location are what is chosen.
	Groups, Locations         []models.ImportTarget
	Group, NewGroup, Location string
	// GroupName is the group a started import adds its rows to.
	GroupName string
}

// Chosen reports whether the picker's value v is the target id.
func (d ImportData) Chosen(v string, id int64) bool { return v == strconv.FormatInt(id, 10) }

// Columns pairs each column's header with its mapped field, for the
// preview's selects.
func (d ImportData) Columns() []ImportColumn {
	if d.Sample == nil {
		return nil
	}
	out := make([]ImportColumn, len(d.Sample.Header))
	for i, h := range d.Sample.Header {
		out[i] = ImportColumn{Index: i, Header: h}
		if i < len(d.Sample.Mapping) {
			out[i].Field = d.Sample.Mapping[i]
		}
	}
	return out
}

// ImportColumn is one column of a previewed file.
type ImportColumn struct {
	Index  int
	Header string
	Field  string
}
