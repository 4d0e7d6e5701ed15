package models

import "fmt"

// CSV import, duplicates within the file: rows that share a phone number
// or an email address are one person. A later row fills the fields the
// earlier ones left empty, and its non-empty name or time zone replaces
// theirs (the later row is the newer record); an opt-out in any of them
// holds. A row that would give the person a second phone number or a
// second email address, or whose phone and email belong to two different
// earlier people, is refused with a row error: which of the two is right
// is not something an import can guess.

// importPerson is one person of a file: the merge of its rows.
type importPerson struct {
	ImportRow
	rows int // rows of the file merged into it
}

// importMerger merges a file's valid rows into people.
type importMerger struct {
	people  []*importPerson
	byPhone map[string]*importPerson
	byEmail map[string]*importPerson
}

func newImportMerger() *importMerger {
	return &importMerger{byPhone: map[string]*importPerson{}, byEmail: map[string]*importPerson{}}
}

// add merges r into the person an earlier row named by the same phone or
// email, or starts a new person. A conflict is returned as a row error and
// changes nothing.
func (m *importMerger) add(r ImportRow) *ImportRowError {
	var byPhone, byEmail *importPerson
	if r.Phone != "" {
		byPhone = m.byPhone[r.Phone]
	}
	if r.Email != "" {
		byEmail = m.byEmail[r.Email]
	}
	conflict := func(field, format string, a ...any) *ImportRowError {
		return &ImportRowError{Row: r.Row, Field: field, Message: fmt.Sprintf(format, a...)}
	}
	p := byPhone
	switch {
	case byPhone != nil && byEmail != nil && byPhone != byEmail:
		return conflict(ImportEmail, "This phone number is on row %d and this email address on row %d, which are two different people.", byPhone.Row, byEmail.Row)
	case byPhone == nil && byEmail == nil:
		p = &importPerson{ImportRow: r, rows: 1}
		m.people = append(m.people, p)
		m.index(p)
		return nil
	case p == nil:
		p = byEmail
	}
	if r.Phone != "" && p.Phone != "" && r.Phone != p.Phone {
		return conflict(ImportPhone, "Row %d has this email address with another phone number.", p.Row)
	}
	if r.Email != "" && p.Email != "" && r.Email != p.Email {
		return conflict(ImportEmail, "Row %d has this phone number with another email address.", p.Row)
	}
	if p.Phone == "" {
		p.Phone = r.Phone
	}
	if p.Email == "" {
		p.Email = r.Email
	}
	if r.Name != "" {
		p.Name = r.Name
	}
	if r.Timezone != "" {
		p.Timezone = r.Timezone
	}
	p.SMSOptOut = p.SMSOptOut || r.SMSOptOut
	p.EmailOptOut = p.EmailOptOut || r.EmailOptOut
	p.rows++
	m.index(p)
	return nil
}

func (m *importMerger) index(p *importPerson) {
	if p.Phone != "" {
		m.byPhone[p.Phone] = p
	}
	if p.Email != "" {
		m.byEmail[p.Email] = p
	}
}

// ImportCheck is what checking a whole file found: its people (rows that
// name one person merged) and its bad rows.
type ImportCheck struct {
	People []ImportRow
	// Rows is how many rows of the file each person merges.
	Rows   []int
	Errors []ImportRowError
	// Failed counts the rows refused (a row with two bad fields has two
	// errors and counts once).
	Failed int
}

// CheckImportFile checks every row of f by the mapping, with phones read
// in country, and merges the rows that name the same person.
func CheckImportFile(f *ImportFile, mapping []string, country string) *ImportCheck {
	zones := timeZoneSet()
	m := newImportMerger()
	out := &ImportCheck{}
	for i, rec := range f.Rows {
		n := RowNumber(i)
		if rec == nil {
			out.Errors = append(out.Errors, ImportRowError{Row: n, Field: "", Message: f.Broken[i]})
			out.Failed++
			continue
		}
		r, errs := CheckImportRow(n, rec, mapping, country, zones)
		if len(errs) == 0 {
			if e := m.add(r); e != nil {
				errs = append(errs, *e)
			}
		}
		if len(errs) > 0 {
			out.Errors = append(out.Errors, errs...)
			out.Failed++
		}
	}
	for _, p := range m.people {
		out.People = append(out.People, p.ImportRow)
		out.Rows = append(out.Rows, p.rows)
	}
	return out
}
