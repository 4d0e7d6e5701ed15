package email

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzParse feeds arbitrary bytes to Parse under small limits: it never
// panics, refuses only with its typed errors, and what it accepts is clean.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.eml")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(nested(3))
	f.Add(nested(6))
	f.Add(flat(3))
	f.Add([]byte("From: a@b\r\nContent-Type: multipart/mixed\r\n\r\n--\r\n"))
	f.Add([]byte("From: a@b\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=\"a/../b.txt\"\r\n\r\n!!!notbase64\r\n"))
	limits := Limits{MaxBytes: 1 << 16, MaxParts: 20, MaxDepth: 4, MaxAttachmentBytes: 64}
	f.Fuzz(func(t *testing.T, raw []byte) {
		in, err := Parse(raw, limits)
		if err != nil {
			if !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrTooComplex) && !errors.Is(err, ErrMalformed) {
				t.Fatalf("Parse error %v is none of the typed errors", err)
			}
			if in != nil {
				t.Fatal("an error and a message")
			}
			return
		}
		if !strings.Contains(in.From.Email, "@") {
			t.Fatalf("accepted without a sender: %+v", in.From)
		}
		if !utf8.ValidString(in.Text) || strings.ContainsRune(in.Text, 0) || strings.ContainsRune(in.Text, '\r') {
			t.Fatalf("bad text %q", in.Text)
		}
		for _, s := range []string{in.Subject, in.From.Name, in.MessageID, in.InReplyTo} {
			if !utf8.ValidString(s) || strings.IndexFunc(s, unicode.IsControl) >= 0 {
				t.Fatalf("bad header value %q", s)
			}
		}
		for _, a := range in.Attachments {
			switch {
			case a.Name == "" || strings.ContainsAny(a.Name, `/\`) || a.ContentType == "":
				t.Fatalf("bad attachment name or type %+v", a)
			case a.Omitted && (a.Content != nil || a.Size <= limits.MaxAttachmentBytes):
				t.Fatalf("omitted attachment %q of %d bytes", a.Name, a.Size)
			case !a.Omitted && len(a.Content) != a.Size:
				t.Fatalf("attachment %q: %d bytes, Size %d", a.Name, len(a.Content), a.Size)
			}
		}
		if auto, why := Automated(in.Header); auto != in.Automated || why != in.AutomatedReason {
			t.Fatalf("Automated %v %q, Header says %v %q", in.Automated, in.AutomatedReason, auto, why)
		}
	})
}

// FuzzStripQuoted: StripQuoted never panics, never empties a text that has
// something in it, and keeps only (right-trimmed) lines of its input.
func FuzzStripQuoted(f *testing.F) {
	files, _ := filepath.Glob("testdata/quoted/*.txt")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		in, _, _ := strings.Cut(string(b), "==== want ====\n")
		f.Add(in)
	}
	f.Add("")
	f.Add("-- \n")
	f.Add("On\nx\nwrote:")
	f.Add("a\r\n> b\r\n\xff")
	f.Fuzz(func(t *testing.T, text string) {
		out := StripQuoted(text)
		if strings.TrimSpace(text) != "" && out == "" {
			t.Fatalf("StripQuoted(%q) is empty", text)
		}
		if out != strings.TrimSpace(out) || len(out) > len(text) {
			t.Fatalf("StripQuoted(%q) = %q: untrimmed or longer", text, out)
		}
		if utf8.ValidString(text) && !utf8.ValidString(out) {
			t.Fatalf("StripQuoted(%q) = %q: invalid UTF-8", text, out)
		}
		lines := map[string]bool{}
		for _, l := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
			lines[strings.TrimRight(l, " \t")] = true
			lines[strings.TrimSpace(l)] = true
			lines[strings.TrimLeft(l, " \t\n\r\v\f")] = true
		}
		for _, l := range strings.Split(out, "\n") {
			if !lines[l] && !lines[strings.TrimRight(l, " \t")] {
				t.Fatalf("StripQuoted(%q) = %q: line %q is not from the input", text, out, l)
			}
		}
	})
}
