package views

import "github.com/parley-chat/parley/models"

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
}

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
