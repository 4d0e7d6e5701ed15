package models

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// CSV import, the file: reading an uploaded CSV (UTF-8, with or without a
// byte-order mark, separated by commas, semicolons or tabs), guessing which
// column holds what from its header, and checking each row.

// Limits of an import file.
const (
	// ImportMaxBytes is the largest file an import takes.
	ImportMaxBytes = 20 << 20
	// ImportMaxRows is the most data rows an import takes.
	ImportMaxRows = 200_000
	// importMaxColumns bounds the columns of a row.
	importMaxColumns = 100
)

// Fields a column of an import may hold ("" = ignored).
const (
	ImportName        = "name"
	ImportFirstName   = "first_name"
	ImportLastName    = "last_name"
	ImportPhone       = "phone"
	ImportEmail       = "email"
	ImportSMSOptOut   = "sms_opt_out"
	ImportEmailOptOut = "email_opt_out"
	ImportTimezone    = "timezone"
)

// ImportField is a field a column may be mapped to, with its label.
type ImportField struct {
	Key   string
	Label string
}

// ImportFields lists the fields a column may be mapped to, in the order a
// mapping select offers them.
func ImportFields() []ImportField {
	return []ImportField{
		{ImportName, "Name"}, {ImportFirstName, "First name"}, {ImportLastName, "Last name"},
		{ImportPhone, "Phone"}, {ImportEmail, "Email"},
		{ImportSMSOptOut, "SMS opt-out"}, {ImportEmailOptOut, "Email opt-out"},
		{ImportTimezone, "Time zone"},
	}
}

// headerAliases maps a normalized header (lower case, letters and digits
// only) to the field it names.
var headerAliases = map[string]string{
	"name": ImportName, "fullname": ImportName, "contact": ImportName, "contactname": ImportName,
	"displayname": ImportName, "recipient": ImportName,
	"firstname": ImportFirstName, "first": ImportFirstName, "givenname": ImportFirstName, "forename": ImportFirstName,
	"lastname": ImportLastName, "last": ImportLastName, "surname": ImportLastName, "familyname": ImportLastName,
	"phone": ImportPhone, "phonenumber": ImportPhone, "mobile": ImportPhone, "mobilenumber": ImportPhone,
	"mobilephone": ImportPhone, "cell": ImportPhone, "cellphone": ImportPhone, "cellnumber": ImportPhone,
	"telephone": ImportPhone, "tel": ImportPhone, "msisdn": ImportPhone, "sms": ImportPhone,
	"email": ImportEmail, "emailaddress": ImportEmail, "mail": ImportEmail,
	"smsoptout": ImportSMSOptOut, "smsoptedout": ImportSMSOptOut, "optoutsms": ImportSMSOptOut,
	"textoptout": ImportSMSOptOut, "optout": ImportSMSOptOut, "smsunsubscribed": ImportSMSOptOut,
	"emailoptout": ImportEmailOptOut, "emailoptedout": ImportEmailOptOut, "optoutemail": ImportEmailOptOut,
	"emailunsubscribed": ImportEmailOptOut, "unsubscribed": ImportEmailOptOut,
	"timezone": ImportTimezone, "tz": ImportTimezone, "zone": ImportTimezone,
}

// ImportFile is an uploaded CSV, read: its header and data rows.
type ImportFile struct {
	Header []string
	// Rows are the data rows; Rows[i] is the file's row i+2 (the header is
	// row 1), as a spreadsheet numbers them. A row the CSV reader could
	// not read is nil, with its reason in Broken.
	Rows   [][]string
	Broken map[int]string
	// Delimiter is the separator found: ',', ';' or '\t'.
	Delimiter rune
}

// RowNumber is the file's row number of data row i.
func RowNumber(i int) int { return i + 2 }

func fileErr(format string, a ...any) error {
	return &FieldError{Field: "file", Message: fmt.Sprintf(format, a...)}
}

// ParseImportFile reads an uploaded CSV. A file that cannot be read as a
// whole (empty, too large, not UTF-8, no header) is a FieldError on
// "file"; a single unreadable row is recorded in Broken and the rest read.
func ParseImportFile(data []byte) (*ImportFile, error) {
	if len(data) > ImportMaxBytes {
		return nil, fileErr("The file is too large (at most %d MB).", ImportMaxBytes>>20)
	}
	if bytes.HasPrefix(data, []byte{0xFF, 0xFE}) || bytes.HasPrefix(data, []byte{0xFE, 0xFF}) {
		return nil, fileErr("The file is UTF-16 text. Save it as \"CSV UTF-8\" and upload it again.")
	}
	data = bytes.TrimPrefix(data, []byte{0xEF, 0xBB, 0xBF})
	if !utf8.Valid(data) {
		return nil, fileErr("The file is not UTF-8 text (line %d). Save it as \"CSV UTF-8\" and upload it again.", invalidLine(data))
	}
	if i := bytes.IndexByte(data, 0); i >= 0 {
		return nil, fileErr("The file contains binary data (line %d); it is not a CSV file.", bytes.Count(data[:i], []byte{'\n'})+1)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fileErr("The file is empty.")
	}
	f := &ImportFile{Delimiter: guessDelimiter(data), Broken: map[int]string{}}
	r := csv.NewReader(bytes.NewReader(data))
	r.Comma = f.Delimiter
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	r.ReuseRecord = false
	header, err := r.Read()
	if err != nil {
		return nil, fileErr("The first row (the column names) cannot be read: %s.", csvReason(err))
	}
	if len(header) > importMaxColumns {
		return nil, fileErr("The file has %d columns (at most %d).", len(header), importMaxColumns)
	}
	for i, h := range header {
		header[i] = strings.TrimSpace(h)
	}
	f.Header = header
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if len(f.Rows) >= ImportMaxRows {
			return nil, fileErr("The file has more than %d rows. Split it and import each part.", ImportMaxRows)
		}
		if err != nil {
			f.Broken[len(f.Rows)] = "This row cannot be read: " + csvReason(err) + "."
			f.Rows = append(f.Rows, nil)
			continue
		}
		if len(rec) > len(header) && !allBlank(rec[len(header):]) {
			f.Broken[len(f.Rows)] = fmt.Sprintf("This row has %d columns; the header has %d.", len(rec), len(header))
			f.Rows = append(f.Rows, nil)
			continue
		}
		f.Rows = append(f.Rows, rec)
	}
	if len(f.Rows) == 0 {
		return nil, fileErr("The file has a header but no rows.")
	}
	return f, nil
}

// invalidLine is the line of the first byte that is not UTF-8.
func invalidLine(data []byte) int {
	line := 1
	for len(data) > 0 {
		r, n := utf8.DecodeRune(data)
		if r == utf8.RuneError && n <= 1 {
			return line
		}
		if r == '\n' {
			line++
		}
		data = data[n:]
	}
	return line
}

// csvReason is a CSV reading error in words.
func csvReason(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		switch {
		case errors.Is(pe.Err, csv.ErrQuote), errors.Is(pe.Err, csv.ErrBareQuote):
			return "a quote (\") is not closed or is out of place"
		case errors.Is(pe.Err, csv.ErrFieldCount):
			return "wrong number of columns"
		}
		return pe.Err.Error()
	}
	return err.Error()
}

// guessDelimiter picks the separator the first line uses most: comma,
// semicolon (spreadsheets in many European locales) or tab.
func guessDelimiter(data []byte) rune {
	line := data
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	counts := map[rune]int{}
	quoted := false
	for _, c := range string(line) {
		switch {
		case c == '"':
			quoted = !quoted
		case !quoted && (c == ',' || c == ';' || c == '\t'):
			counts[c]++
		}
	}
	best := ','
	for _, c := range []rune{';', '\t'} {
		if counts[c] > counts[best] {
			best = c
		}
	}
	return best
}

func allBlank(vs []string) bool {
	for _, v := range vs {
		if strings.TrimSpace(v) != "" {
			return false
		}
	}
	return true
}

// normalizeHeader keeps a header's letters and digits, lower-cased.
func normalizeHeader(h string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(h) {
		if unicode.IsLetter(c) || unicode.IsDigit(c) {
			b.WriteRune(c)
		}
	}
	return b.String()
}

// AutoMapping guesses the field each column holds from its header; a
// header it does not know, or a field an earlier column took, is "".
func AutoMapping(header []string) []string {
	out := make([]string, len(header))
	taken := map[string]bool{}
	for i, h := range header {
		if f, ok := headerAliases[normalizeHeader(h)]; ok && !taken[f] {
			out[i], taken[f] = f, true
		}
	}
	return out
}

// CheckMapping checks a mapping for a file of columns columns: known
// fields, none twice, and a phone or email column. It returns the mapping
// padded or cut to the file's columns.
func CheckMapping(mapping []string, columns int) ([]string, error) {
	known := map[string]bool{"": true}
	for _, f := range ImportFields() {
		known[f.Key] = true
	}
	out := make([]string, columns)
	seen := map[string]bool{}
	for i := 0; i < columns && i < len(mapping); i++ {
		f := mapping[i]
		if !known[f] {
			return nil, fieldErr("mapping", "Column %d: %q is not a field an import knows.", i+1, f)
		}
		if f != "" && seen[f] {
			return nil, fieldErr("mapping", "Two columns are mapped to %s; choose one.", fieldLabel(f))
		}
		seen[f], out[i] = true, f
	}
	if !seen[ImportPhone] && !seen[ImportEmail] {
		return nil, fieldErr("mapping", "Choose the column that holds the phone number or the email address.")
	}
	return out, nil
}

func fieldLabel(key string) string {
	for _, f := range ImportFields() {
		if f.Key == key {
			return f.Label
		}
	}
	return key
}

// ImportRow is one valid row of an import: a person to add or merge.
type ImportRow struct {
	Row         int // the file's row number
	Name        string
	Phone       string // E.164, or ""
	Email       string // lower case, or ""
	Timezone    string
	SMSOptOut   bool
	EmailOptOut bool
}

// ImportRowError is a problem with one row: its number, the field, and
// what is wrong.
type ImportRowError struct {
	Row     int    `json:"row"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

// CheckImportRow reads one data row by the mapping, normalizing the phone
// to E.164 in country (the organization's default). A row with a bad
// field is returned with one error per bad field, and no row.
func CheckImportRow(rowNo int, rec []string, mapping []string, country string, zones map[string]bool) (ImportRow, []ImportRowError) {
	out := ImportRow{Row: rowNo}
	var errs []ImportRowError
	bad := func(field, format string, a ...any) {
		errs = append(errs, ImportRowError{Row: rowNo, Field: field, Message: fmt.Sprintf(format, a...)})
	}
	var first, last string
	for i, f := range mapping {
		if f == "" || i >= len(rec) {
			continue
		}
		v := strings.TrimSpace(rec[i])
		switch f {
		case ImportName:
			out.Name = v
		case ImportFirstName:
			first = v
		case ImportLastName:
			last = v
		case ImportPhone:
			if v == "" {
				continue
			}
			e164, err := NormalizePhone(v, country)
			if err != nil || strings.Contains(v, "@") {
				bad(ImportPhone, "%q is not a phone number.", clip(v, 40))
				continue
			}
			out.Phone = e164
		case ImportEmail:
			if v == "" {
				continue
			}
			addr, ok := ParseEmail(v)
			if !ok || strings.ContainsAny(addr, " \t\r\n") {
				bad(ImportEmail, "%q is not an email address.", clip(v, 60))
				continue
			}
			out.Email = addr
		case ImportSMSOptOut, ImportEmailOptOut:
			yes, ok := truthy(v)
			if !ok {
				bad(f, "%q is not yes or no.", clip(v, 20))
				continue
			}
			if f == ImportSMSOptOut {
				out.SMSOptOut = yes
			} else {
				out.EmailOptOut = yes
			}
		case ImportTimezone:
			if v != "" && !zones[v] {
				bad(ImportTimezone, "%q is not a time zone (use a name such as America/New_York).", clip(v, 40))
				continue
			}
			out.Timezone = v
		}
	}
	if out.Name == "" {
		out.Name = strings.TrimSpace(first + " " + last)
	}
	out.Name = strings.Join(strings.Fields(out.Name), " ")
	if utf8.RuneCountInString(out.Name) > maxRecipientName {
		bad(ImportName, "The name is too long (at most %d characters).", maxRecipientName)
	}
	if len(errs) == 0 && out.Phone == "" && out.Email == "" {
		bad(ImportPhone, "Give a phone number or an email address.")
	}
	if len(errs) > 0 {
		return ImportRow{}, errs
	}
	return out, nil
}

// clip shortens a value quoted in an error message.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// truthy reads an opt-out cell: yes (1, true, yes, y, x, opted out...),
// no (empty, 0, false, no, n), or neither.
func truthy(v string) (yes, ok bool) {
	switch normalizeHeader(v) {
	case "1", "true", "yes", "y", "x", "t", "optedout", "optout", "stop", "unsubscribed":
		return true, true
	case "", "0", "false", "no", "n", "f", "optedin", "optin":
		return false, true
	}
	return false, false
}

// timeZoneSet is the set of zone names an import accepts.
func timeZoneSet() map[string]bool {
	m := map[string]bool{}
	for _, z := range TimeZones() {
		m[z] = true
	}
	return m
}
