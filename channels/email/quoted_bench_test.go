package email

import (
	"strings"
	"testing"
)

// TestStripQuotedLinear: texts made to be slow (many blank lines, long
// lines, many "From:" lines) still finish: a quadratic scan of 20,000
// lines (4e8 steps, more under -race) would make this test stand out.
func TestStripQuotedLinear(t *testing.T) {
	for name, text := range map[string]string{
		"blank lines":   "hi" + strings.Repeat("\n", 20000),
		"underscores":   strings.Repeat("__________\n\n", 10000),
		"from lines":    strings.Repeat("From: x\n", 10000),
		"on lines":      strings.Repeat("On a b c d e\n", 10000),
		"one long line": "On " + strings.Repeat("x", 1<<18),
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
