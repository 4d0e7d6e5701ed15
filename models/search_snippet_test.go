package models

import (
	"strings"
	"testing"
)

func TestSnippet(t *testing.T) {
	long := "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty"
	for _, c := range []struct {
		body, q, want string
	}{
		{"Is there free parking\non Tuesday?", "parking tue", "Is there free [parking] on [Tuesday]?"},
		{"Walk-ins welcome", "walk", "[Walk]-ins welcome"},
		{"<b>Zucchini</b>!", "zucchini ", "<b>[Zucchini]</b>!"},
		{long, "twenty", "… three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen [twenty]"},
		{long, "nine", "… three four five six seven eight [nine] ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen [nineteen] twenty"}, // a prefix
		{long, "two", "one [two] three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen …"},
		{"café au lait", "cafe", "café au lait"}, // no match: the start, unmarked
		{"", "x", ""},
		{strings.Repeat("é", 300) + " x", "x", strings.Repeat("é", 120) + " …"}, // a long word: cut at a character
		{strings.Repeat("!", 500), "x", strings.Repeat("!", 240) + " …"},        // no word at all
	} {
		_, terms := parseTextQuery(c.q)
		var b strings.Builder
		for _, p := range snippet(c.body, terms) {
			if p.Hit {
				b.WriteString("[" + p.Text + "]")
			} else {
				b.WriteString(p.Text)
			}
		}
		if b.String() != c.want {
			t.Errorf("snippet(%q, %q) = %q, want %q", c.body, c.q, b.String(), c.want)
		}
	}
}
