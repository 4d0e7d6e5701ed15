package task

// ImportRun runs one CSV import of recipients (TypeImportRun).
type ImportRun struct {
	outboxRef
	ImportID int64 `json:"import_id"`
}

func (p *ImportRun) valid() bool { return p.ImportID > 0 }

// NewImportRun is the task that runs import importID.
func NewImportRun(importID int64) Spec { return spec(TypeImportRun, &ImportRun{ImportID: importID}) }
