package models_test

import (
	"testing"

	"github.com/parley-chat/parley/models"
)

// Formula starts get an apostrophe; an E.164 phone number does not, so an
// export imports again as it is.
func TestCSVSafe(t *testing.T) {
	for in, want := range map[string]string{
		"":                  "",
		"Pat Lee":           "Pat Lee",
		"+15550100123":      "+15550100123",
		"+":                 "'+",
		"+1 555 0100":       "'+1 555 0100",
		"+SUM(A1)":          "'+SUM(A1)",
		"=HYPERLINK(\"x\")": "'=HYPERLINK(\"x\")",
		"-2":                "'-2",
		"@cmd":              "'@cmd",
		"\tx":               "'\tx",
		"a=b":               "a=b",
	} {
		if got := models.CSVSafe(in); got != want {
			t.Errorf("CSVSafe(%q) = %q, want %q", in, got, want)
		}
	}
}
