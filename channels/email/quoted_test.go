package email

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestStripQuotedFixtures reads testdata/quoted/*.txt: a reply as a mail
// program writes it, then "==== want ====" and the new text alone.
func TestStripQuotedFixtures(t *testing.T) {
	files, err := filepath.Glob("testdata/quoted/*.txt")
	if err != nil || len(files) < 10 {
		t.Fatalf("fixtures: %v, %d files", err, len(files))
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			in, want, ok := strings.Cut(string(b), "==== want ====\n")
			if !ok {
				t.Fatal("no ==== want ==== line")
			}
			want = strings.TrimSpace(want)
			if got := StripQuoted(in); got != want {
				t.Errorf("StripQuoted =\n%s\n---- want ----\n%s", got, want)
			}
			crlf := strings.ReplaceAll(in, "\n", "\r\n")
			if got := StripQuoted(crlf); got != want {
				t.Errorf("with CRLF line ends =\n%q\nwant\n%q", got, want)
			}
		})
	}
}

func TestStripQuotedCases(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"empty", "", ""},
		{"blank", " \n\t\n", ""},
		{"one line", "yes", "yes"},
		{"trailing spaces trimmed", "yes  \nno\t\n\n", "yes\nno"},
		{"double dash without space", "ok\n--\nAnna", "ok"},
		{"dashes inside a line stay", "a -- b\nc", "a -- b\nc"},
		{"on without wrote stays", "On Monday I can come.\nThanks", "On Monday I can come.\nThanks"},
		{"from without sent stays", "From: me\nhello", "From: me\nhello"},
		{"only a signature keeps all", "-- \nAnna", "-- \nAnna"},
		{"sent from my android", "fine\n\nSent from my Android", "fine"},
		{"get outlook", "fine\n\nGet Outlook for iOS", "fine"},
		{"forwarded", "see below\n\n---------- Forwarded message ---------\nFrom: x", "see below"},
		{"french", "Merci\n\nLe lun. 7 déc. 2026 à 09:00, Boulangerie <b@c.example> a écrit :\n> x", "Merci"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := StripQuoted(tc.in); got != tc.want {
				t.Errorf("StripQuoted(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
