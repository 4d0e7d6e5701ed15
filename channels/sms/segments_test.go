package sms

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// basicChars is the GSM 03.38 basic table written out by hand in septet
// order, without the escape (0x1B), as a check on gsmBasic.
const basicChars = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
	"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"

// extChars is the GSM 03.38 extension table: each costs two septets.
const extChars = "\f^{}\\[~]|€"

// notGSM are characters people type that are not in GSM-7, many of them
// look-alikes of characters that are.
var notGSM = []rune{
	'`', '\t', '\v', '\x00', '\x1b', 0x7f, // backtick, tab, VT, NUL, ESC, DEL
	'ç', 'á', 'í', 'ó', 'ú', 'â', 'ê', 'î', 'ô', 'û', 'ã', 'õ', 'ë', 'ï', 'ÿ', 'È', 'Ì', 'Ò', 'Ù', 'À',
	'¢', '©', '®', '°', '±', '«', '»', '·', '¦', '¨', 'µ', '\u00a0', // Latin-1 supplement
	'α', 'β', 'δ', 'ω', 'π', 'σ', // lower-case Greek
	'Α', 'Β', 'Ε', 'Ο', // Greek capitals that look Latin
	'Б', 'ж', 'ł', 'Ł', 'ő', 'ș', 'ğ', 'İ', 'ẞ',
	'“', '”', '‘', '’', '–', '—', '…', '•', '™', '¬', '✓', '你', 'ا', 'א',
	'\u200b', '\ufeff', '\ufffd', '😀', '👍',
}

func TestGSMTables(t *testing.T) {
	var fromTable []rune
	for i, r := range gsmBasic {
		if i == 0x1B {
			if r != noChar {
				t.Errorf("septet 0x1B is %q, want the escape (noChar)", r)
			}
			continue
		}
		fromTable = append(fromTable, r)
	}
	if got, want := string(fromTable), basicChars; got != want {
		t.Errorf("basic table\n got %q\nwant %q", got, want)
	}
	for septet, want := range map[int]rune{
		0x00: '@', 0x01: '£', 0x02: '$', 0x09: 'Ç', 0x0A: '\n', 0x0D: '\r', 0x10: 'Δ', 0x11: '_',
		0x1F: 'É', 0x24: '¤', 0x40: '¡', 0x5F: '§', 0x60: '¿', 0x7F: 'à',
	} {
		if gsmBasic[septet] != want {
			t.Errorf("septet %#02x = %q, want %q", septet, gsmBasic[septet], want)
		}
	}
	seen := map[rune]bool{}
	for _, r := range basicChars + extChars {
		if seen[r] {
			t.Errorf("%q appears twice in the tables", r)
		}
		seen[r] = true
	}
	if len(seen) != 127+10 {
		t.Errorf("%d distinct GSM characters, want 137", len(seen))
	}
	var ext []rune
	for _, e := range gsmExtension {
		ext = append(ext, e.r)
	}
	if got := string(ext); got != extChars {
		t.Errorf("extension table %q, want %q", got, extChars)
	}
}

func TestCharacterCosts(t *testing.T) {
	for _, r := range basicChars {
		if c := gsmCost(r); c != 1 {
			t.Errorf("gsmCost(%q) = %d, want 1 (basic table)", r, c)
		}
		if s := Count(string(r)); s.Encoding != GSM7 || s.Units != 1 {
			t.Errorf("Count(%q) = %+v, want 1 GSM-7 septet", r, s)
		}
	}
	for _, r := range extChars {
		if c := gsmCost(r); c != 2 {
			t.Errorf("gsmCost(%q) = %d, want 2 (extension table)", r, c)
		}
		if s := Count(string(r)); s.Encoding != GSM7 || s.Units != 2 {
			t.Errorf("Count(%q) = %+v, want 2 GSM-7 septets", r, s)
		}
	}
	for _, r := range notGSM {
		if c := gsmCost(r); c != 0 {
			t.Errorf("gsmCost(%q) = %d, want 0 (not GSM)", r, c)
		}
		if IsGSM7("ok " + string(r)) {
			t.Errorf("IsGSM7 with %q = true", r)
		}
		s := Count("ok " + string(r))
		if s.Encoding != UCS2 || !slices.Equal(s.NonGSM, []rune{r}) {
			t.Errorf("Count(%q) = %+v, want UCS-2 forced by %q", "ok "+string(r), s, r)
		}
	}
	for _, r := range []rune{-1, 0x10FFFF + 1, gsmCostTableSize, gsmCostTableSize - 1} {
		if c := gsmCost(r); c != 0 {
			t.Errorf("gsmCost(%#x) = %d, want 0", r, c)
		}
	}
}

func TestCount(t *testing.T) {
	a := func(n int) string { return strings.Repeat("a", n) }
	tick := func(n int) string { return strings.Repeat("✓", n) }
	const emoji = "😀"

	tests := []struct {
		name string
		text string
		want Segments
	}{
		{"empty", "", Segments{GSM7, 0, 0, 160, 160, nil}},
		{"one char", "a", Segments{GSM7, 1, 1, 160, 159, nil}},
		{"GSM 160 chars is 1 segment", a(160), Segments{GSM7, 1, 160, 160, 0, nil}},
		{"GSM 161 chars is 2 segments (153+8)", a(161), Segments{GSM7, 2, 161, 153, 145, nil}},
		{"GSM 306 chars is 2 segments", a(306), Segments{GSM7, 2, 306, 153, 0, nil}},
		{"GSM 307 chars is 3 segments", a(307), Segments{GSM7, 3, 307, 153, 152, nil}},
		{"GSM 1530 chars is 10 segments", a(1530), Segments{GSM7, 10, 1530, 153, 0, nil}},
		{"GSM 1531 chars is 11 segments", a(1531), Segments{GSM7, 11, 1531, 153, 152, nil}},
		{"all basic characters", basicChars, Segments{GSM7, 1, 127, 160, 33, nil}},
		{"all extension characters", extChars, Segments{GSM7, 1, 20, 160, 140, nil}},
		{"CRLF is two septets", "hi\r\nthere", Segments{GSM7, 1, 9, 160, 151, nil}},
		{"158 chars + euro is 160 septets, 1 segment", a(158) + "€", Segments{GSM7, 1, 160, 160, 0, nil}},
		{"159 chars + euro is 161 septets, 2 segments", a(159) + "€", Segments{GSM7, 2, 161, 153, 145, nil}},
		{"80 euros fit one SMS", strings.Repeat("€", 80), Segments{GSM7, 1, 160, 160, 0, nil}},
		{"81 euros: 76 in part one, 5 in part two", strings.Repeat("€", 81), Segments{GSM7, 2, 162, 153, 143, nil}},
		{"extension char ends exactly at 153", a(151) + "€" + a(11), Segments{GSM7, 2, 164, 153, 142, nil}},
		{"extension char straddling 153 moves to part two", a(152) + "€" + a(10), Segments{GSM7, 2, 164, 153, 141, nil}},
		{"extension char straddling 153 adds a segment", a(152) + "[" + a(152), Segments{GSM7, 3, 306, 153, 152, nil}},
		{"ü is GSM", "Grüße aus München", Segments{GSM7, 1, 17, 160, 143, nil}},
		{"Greek capitals in GSM", "ΔΦΓΛΩΠΨΣΘΞ", Segments{GSM7, 1, 10, 160, 150, nil}},
		{"lower-case Greek is not GSM", "Δα", Segments{UCS2, 1, 2, 70, 68, []rune{'α'}}},
		{"Greek capital alpha is not Latin A", "Α", Segments{UCS2, 1, 1, 70, 69, []rune{'Α'}}},
		{"mixed ASCII and one ł", "Dzień dobry, łódź", Segments{UCS2, 1, 17, 70, 53, []rune{'ń', 'ł', 'ó', 'ź'}}},
		{"one ✓ switches 160 GSM chars to UCS-2", a(160) + "✓", Segments{UCS2, 3, 161, 67, 40, []rune{'✓'}}},
		{"one non-GSM char anywhere", "✓" + a(69), Segments{UCS2, 1, 70, 70, 0, []rune{'✓'}}},
		{"Chinese", "你好", Segments{UCS2, 1, 2, 70, 68, []rune{'你', '好'}}},
		{"UCS-2 70 is 1 segment", tick(70), Segments{UCS2, 1, 70, 70, 0, []rune{'✓'}}},
		{"UCS-2 71 is 2 segments", tick(71), Segments{UCS2, 2, 71, 67, 63, []rune{'✓'}}},
		{"UCS-2 134 is 2 segments", tick(134), Segments{UCS2, 2, 134, 67, 0, []rune{'✓'}}},
		{"UCS-2 135 is 3 segments", tick(135), Segments{UCS2, 3, 135, 67, 66, []rune{'✓'}}},
		{"UCS-2 670 is 10 segments", tick(670), Segments{UCS2, 10, 670, 67, 0, []rune{'✓'}}},
		{"emoji is 2 units", emoji, Segments{UCS2, 1, 2, 70, 68, []rune{'😀'}}},
		{"emoji with GSM text", "ok " + emoji, Segments{UCS2, 1, 5, 70, 65, []rune{'😀'}}},
		{"35 emoji fit one SMS", strings.Repeat(emoji, 35), Segments{UCS2, 1, 70, 70, 0, []rune{'😀'}}},
		{"36 emoji: 33 in part one, 3 in part two", strings.Repeat(emoji, 36), Segments{UCS2, 2, 72, 67, 61, []rune{'😀'}}},
		{"emoji ends exactly at 67", tick(65) + emoji + tick(4), Segments{UCS2, 2, 71, 67, 63, []rune{'✓', '😀'}}},
		{"emoji straddling 67 moves to part two", tick(66) + emoji + tick(3), Segments{UCS2, 2, 71, 67, 62, []rune{'✓', '😀'}}},
		{"emoji straddling 67 adds a segment", a(66) + emoji + a(66), Segments{UCS2, 3, 134, 67, 66, []rune{'😀'}}},
		{"NonGSM distinct in first-seen order", "łł✓ł你✓", Segments{UCS2, 1, 6, 70, 64, []rune{'ł', '✓', '你'}}},
		{"NonGSM capped at 10", "一二三四五六七八九十百千", Segments{UCS2, 1, 12, 70, 58, []rune("一二三四五六七八九十")}},
		{"invalid UTF-8 counts as U+FFFD", "a\xffb", Segments{UCS2, 1, 3, 70, 67, []rune{'\ufffd'}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Count(tt.text)
			if got.Encoding != tt.want.Encoding || got.Segments != tt.want.Segments || got.Units != tt.want.Units ||
				got.PerSegment != tt.want.PerSegment || got.Remaining != tt.want.Remaining ||
				!slices.Equal(got.NonGSM, tt.want.NonGSM) {
				t.Errorf("Count(%.40q…)\n got %+v\nwant %+v", tt.text, got, tt.want)
			}
			if want := tt.want.Encoding == GSM7; IsGSM7(tt.text) != want {
				t.Errorf("IsGSM7 = %v, want %v", !want, want)
			}
			checkInvariants(t, tt.text, got)
		})
	}
}

func TestCountDoesNotAllocateForGSM(t *testing.T) {
	text := strings.Repeat("Hello {name}, your table for 4 is ready. ", 10)
	if n := testing.AllocsPerRun(100, func() { Count(text) }); n != 0 {
		t.Errorf("Count allocates %v times for GSM text, want 0", n)
	}
	text = strings.Repeat("Grüß dich ✓ ", 10)
	if n := testing.AllocsPerRun(100, func() { Count(text) }); n > 1 {
		t.Errorf("Count allocates %v times for UCS-2 text, want at most 1", n)
	}
}

func TestCredits(t *testing.T) {
	tests := []struct {
		text string
		rate int
		want int
	}{
		{"", 2, 0},
		{"hi", 2, 2},
		{strings.Repeat("a", 161), 2, 4},
		{strings.Repeat("✓", 135), 2, 6},
		{strings.Repeat("a", 307), 1, 3},
		{"hi", 0, 0},
	}
	for _, tt := range tests {
		if got := Credits(Count(tt.text), tt.rate); got != tt.want {
			t.Errorf("Credits(Count(%.20q…), %d) = %d, want %d", tt.text, tt.rate, got, tt.want)
		}
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		want    error
		wantMsg string
	}{
		{"empty", "", ErrEmpty, "sms: message is empty"},
		{"white space only", " \t\r\n\u00a0 ", ErrEmpty, ""},
		{"invalid UTF-8", "hi \xff", ErrInvalidUTF8, "sms: message is not valid UTF-8"},
		{"truncated UTF-8", "caf\xc3", ErrInvalidUTF8, ""},
		{"short", "hi", nil, ""},
		{"single space around text", " hi ", nil, ""},
		{"GSM at the limit", strings.Repeat("a", 1530), nil, ""},
		{"GSM over the limit", strings.Repeat("a", 1531), ErrTooLong, "sms: message too long: message is 11 segments; the limit is 10"},
		{"UCS-2 at the limit", strings.Repeat("✓", 670), nil, ""},
		{"UCS-2 over the limit", strings.Repeat("✓", 671), ErrTooLong, "sms: message too long: message is 11 segments; the limit is 10"},
		{"GSM text pushed over by one ✓", strings.Repeat("a", 1000) + "✓", ErrTooLong, "sms: message too long: message is 15 segments; the limit is 10"},
		{"huge", strings.Repeat("x", 10<<20), ErrTooLong, "sms: message too long: message is 68535 segments; the limit is 10"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Validate(tt.text)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("Validate = %v, want %v", err, tt.want)
			}
			if tt.wantMsg != "" && err.Error() != tt.wantMsg {
				t.Errorf("Validate = %q, want %q", err, tt.wantMsg)
			}
		})
	}
}
