package sms

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"
)

// refCosts is an independent model of the rules, built from the hand-written
// character lists rather than from the tables Count uses.
var refCosts = func() map[rune]int {
	m := map[rune]int{}
	for _, r := range basicChars {
		m[r] = 1
	}
	for _, r := range extChars {
		m[r] = 2
	}
	return m
}()

// refCount splits text into parts the slow, obvious way: a list of unit
// costs, one per character, packed greedily so that no character is split.
func refCount(text string) (enc Encoding, units int, parts [][]int) {
	runes := []rune(text)
	costs := make([]int, len(runes))
	enc = GSM7
	for _, r := range runes {
		if refCosts[r] == 0 {
			enc = UCS2
		}
	}
	single, multi := 160, 153
	if enc == UCS2 {
		single, multi = 70, 67
	}
	for i, r := range runes {
		if enc == GSM7 {
			costs[i] = refCosts[r]
		} else {
			costs[i] = len(utf16.Encode([]rune{r}))
		}
		units += costs[i]
	}
	if len(runes) == 0 {
		return enc, 0, nil
	}
	if units <= single {
		return enc, units, [][]int{costs}
	}
	var part []int
	fill := 0
	for _, c := range costs {
		if fill+c > multi {
			parts = append(parts, part)
			part, fill = nil, 0
		}
		part = append(part, c)
		fill += c
	}
	return enc, units, append(parts, part)
}

// checkInvariants checks what must hold of Count(text) for any text.
func checkInvariants(t *testing.T, text string, s Segments) {
	t.Helper()
	runes := utf8.RuneCountInString(text)

	if (s.Encoding == UCS2) != !IsGSM7(text) || (s.Encoding != GSM7 && s.Encoding != UCS2) {
		t.Fatalf("Encoding %q but IsGSM7 = %v", s.Encoding, IsGSM7(text))
	}
	single, multi := 160, 153
	if s.Encoding == UCS2 {
		single, multi = 70, 67
		if want := len(utf16.Encode([]rune(text))); s.Units != want {
			t.Fatalf("UCS-2 Units = %d, want %d UTF-16 code units", s.Units, want)
		}
		if len(s.NonGSM) == 0 || len(s.NonGSM) > 10 {
			t.Fatalf("UCS-2 with NonGSM %q", s.NonGSM)
		}
		for i, r := range s.NonGSM {
			if IsGSM7(string(r)) || slices.Contains(s.NonGSM[:i], r) || !strings.ContainsRune(text, r) {
				t.Fatalf("NonGSM %q: %q is GSM, repeated or not in the text", s.NonGSM, r)
			}
		}
	} else {
		if s.NonGSM != nil {
			t.Fatalf("GSM-7 with NonGSM %q", s.NonGSM)
		}
		if s.Units < runes || s.Units > 2*runes {
			t.Fatalf("GSM-7 Units = %d for %d characters", s.Units, runes)
		}
	}

	if text == "" {
		if s.Encoding != GSM7 || s.Segments != 0 || s.Units != 0 || s.PerSegment != 160 || s.Remaining != 160 || s.NonGSM != nil {
			t.Fatalf("Count(\"\") = %+v", s)
		}
		return
	}
	if s.Segments < 1 {
		t.Fatalf("Segments = %d for a non-empty text", s.Segments)
	}
	if s.Remaining < 0 || s.Remaining >= s.PerSegment {
		t.Fatalf("Remaining = %d, want within [0, %d)", s.Remaining, s.PerSegment)
	}
	if s.Units <= single {
		if s.Segments != 1 || s.PerSegment != single || s.Remaining != single-s.Units {
			t.Fatalf("%d units should be one SMS: %+v", s.Units, s)
		}
	} else {
		// Each part holds at most multi units and, since a character is at
		// most 2 units, every part but the last holds at least multi-1.
		if s.PerSegment != multi || s.Segments < 2 ||
			s.Segments*multi < s.Units ||
			(s.Segments-1)*(multi-1) >= s.Units ||
			(s.Segments-1)*multi+(multi-s.Remaining) < s.Units {
			t.Fatalf("%d units in %d parts of %d with %d remaining is inconsistent", s.Units, s.Segments, s.PerSegment, s.Remaining)
		}
	}
	if Credits(s, 2) != 2*s.Segments {
		t.Fatalf("Credits = %d for %d segments", Credits(s, 2), s.Segments)
	}

	enc, units, parts := refCount(text)
	last := 0
	for _, c := range parts[len(parts)-1] {
		last += c
	}
	if enc != s.Encoding || units != s.Units || len(parts) != s.Segments || s.PerSegment-last != s.Remaining {
		t.Fatalf("Count = %+v; reference: %s, %d units, %d parts, %d in the last", s, enc, units, len(parts), last)
	}
}

func FuzzCount(f *testing.F) {
	for _, seed := range []string{
		"",
		"a",
		"Hello, your table is ready.",
		"hi\r\nthere",
		basicChars,
		extChars,
		strings.Repeat("a", 160),
		strings.Repeat("a", 161),
		strings.Repeat("a", 152) + "€" + strings.Repeat("a", 152),
		strings.Repeat("€", 81),
		strings.Repeat("✓", 70),
		strings.Repeat("✓", 71),
		strings.Repeat("a", 66) + "😀" + strings.Repeat("a", 66),
		strings.Repeat("😀", 36),
		"Grüße ΔΦ α ł 你好 👍🏽",
		"a\xffb\xc3",
		"\x1b\t`ç",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		s := Count(text)
		checkInvariants(t, text, s)
		err := Validate(text)
		switch {
		case strings.TrimSpace(text) == "":
			if err != ErrEmpty {
				t.Fatalf("Validate(blank) = %v", err)
			}
		case !utf8.ValidString(text):
			if err != ErrInvalidUTF8 {
				t.Fatalf("Validate(invalid UTF-8) = %v", err)
			}
		case s.Segments > MaxSegments:
			if err == nil || !strings.Contains(err.Error(), "the limit is 10") {
				t.Fatalf("Validate(%d segments) = %v", s.Segments, err)
			}
		case err != nil:
			t.Fatalf("Validate(%d segments) = %v", s.Segments, err)
		}
	})
}

func BenchmarkCount(b *testing.B) {
	gsm := strings.Repeat("Hi Anna, your order #42 is ready {pickup}. ", 4)[:160]
	ucs2 := string([]rune(strings.Repeat("Grüße aus Łódź ✓ ", 18))[:300])
	if utf8.RuneCountInString(gsm) != 160 || !IsGSM7(gsm) || utf8.RuneCountInString(ucs2) != 300 || IsGSM7(ucs2) {
		b.Fatal("benchmark texts are not what their names say")
	}
	for _, bc := range []struct{ name, text string }{
		{"gsm160", gsm},
		{"ucs2_300", ucs2},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.text)))
			for b.Loop() {
				Count(bc.text)
			}
		})
	}
}
