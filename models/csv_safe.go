package models

// CSVSafe keeps a spreadsheet from reading a cell of an exported CSV as a
// formula (CSV injection: a name, note or reply is text anyone could
// write): a cell starting with = + - @ or a tab or carriage return gets a
// leading apostrophe. An E.164 phone number ("+" and digits) is data, not
// a formula, and is left as it is, so an export can be imported again.
func CSVSafe(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '+':
		if len(s) > 1 && allDigits(s[1:]) {
			return s
		}
		return "'" + s
	case '=', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}

// allDigits reports whether s holds only ASCII digits.
func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
