package email

import (
	"strings"
	"testing"
)

// TestStripQuotedLinear: texts made to be slow (many blank lines, long
// lines, many "From:" lines) take time in proportion to their length; a
// quadratic scan of 200,000 lines would not finish within the test.
func TestStripQuotedLinear(t *testing.T) {
	for name, text := range map[string]string{
		"blank lines":   "hi" + strings.Repeat("\n", 200000),
		"underscores":   strings.Repeat("__________\n\n", 100000),
		"from lines":    strings.Repeat("From: x\n", 100000),
		"on lines":      strings.Repeat("On a b c d e\n", 100000),
		"one long line": "On " + strings.Repeat("x", 1<<20),
	} {
		if out := StripQuoted(text); out == "" {
			t.Errorf("%s: empty", name)
		}
	}
}

func BenchmarkStripQuoted(b *testing.B) {
	text := strings.Repeat("Thursday at 7 works for us.\n", 200) + "\nOn Mon, Dec 7, 2026 at 9:00 AM A <a@b.example> wrote:\n" + strings.Repeat("> quoted\n", 500)
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		StripQuoted(text)
	}
}
