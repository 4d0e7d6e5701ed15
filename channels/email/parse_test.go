package email

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParsePlain(t *testing.T) {
	in, err := Parse(readFixture(t, "plain.eml"), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if want := (Address{Name: "María López", Email: "maria.lopez@mail.example"}); in.From != want {
		t.Errorf("From = %+v, want %+v", in.From, want)
	}
	if len(in.To) != 1 || in.To[0].Email != "bookings+abcdefghijklmnopqrstuvwxyz234567@harbour.example" || in.To[0].Name != "Harbour Bistro" {
		t.Errorf("To = %+v", in.To)
	}
	if len(in.Cc) != 2 || in.Cc[0] != (Address{"Lopez, Carlos", "carlos@mail.example"}) || in.Cc[1].Email != "ana@mail.example" {
		t.Errorf("Cc = %+v", in.Cc)
	}
	if len(in.DeliveredTo) != 1 || in.DeliveredTo[0].Email != "bookings+abcdefghijklmnopqrstuvwxyz234567@harbour.example" {
		t.Errorf("DeliveredTo = %+v", in.DeliveredTo)
	}
	if in.Subject != "Re: Your table on Thursday ✓" {
		t.Errorf("Subject = %q", in.Subject)
	}
	if in.MessageID != "CAF=reply.42@mail.example" || in.InReplyTo != "out.1@harbour.example" {
		t.Errorf("MessageID = %q, InReplyTo = %q", in.MessageID, in.InReplyTo)
	}
	if !slices.Equal(in.References, []string{"first.0@mail.example", "out.1@harbour.example"}) {
		t.Errorf("References = %q", in.References)
	}
	if want := time.Date(2026, 12, 7, 9, 5, 0, 0, time.UTC); !in.Date.Equal(want) {
		t.Errorf("Date = %v, want %v", in.Date, want)
	}
	if !strings.HasPrefix(in.Text, "Thursday at 7 works for us, table for four please.") || !strings.Contains(in.Text, "> We have tables") {
		t.Errorf("Text = %q", in.Text)
	}
	if StripQuoted(in.Text) != "Thursday at 7 works for us, table for four please." {
		t.Errorf("StripQuoted(Text) = %q", StripQuoted(in.Text))
	}
	if in.Automated || len(in.Attachments) != 0 {
		t.Errorf("Automated = %v (%s), attachments %d", in.Automated, in.AutomatedReason, len(in.Attachments))
	}
	if in.Header.Get("Return-Path") != "<maria.lopez@mail.example>" {
		t.Errorf("Header not kept: %v", in.Header)
	}
}

// TestParsePythonEmail reads a message written by Python's email package:
// multipart/mixed holding text and HTML alternatives and a PDF.
func TestParsePythonEmail(t *testing.T) {
	in, err := Parse(readFixture(t, "python_email.eml"), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if in.From != (Address{"Zoë Müller", "Zoe.Mueller@example.org"}) {
		t.Errorf("From = %+v", in.From)
	}
	if in.Subject != "Tisch für Donnerstag – 4 Personen" {
		t.Errorf("Subject = %q", in.Subject)
	}
	if !strings.HasPrefix(in.Text, "Hallo,\n\nhaben Sie Donnerstag um 19 Uhr einen Tisch für vier?") || strings.Contains(in.Text, "<p>") {
		t.Errorf("Text = %q (want the text/plain part)", in.Text)
	}
	if len(in.Attachments) != 1 {
		t.Fatalf("attachments = %+v", in.Attachments)
	}
	a := in.Attachments[0]
	want := bytes.Repeat(func() []byte {
		b := make([]byte, 256)
		for i := range b {
			b[i] = byte(i)
		}
		return b
	}(), 4)
	if a.Name != "Menü.pdf" || a.ContentType != "application/pdf" || a.Size != 1024 || !bytes.Equal(a.Content, want) || a.Omitted {
		t.Errorf("attachment = %q %q %d omitted=%v", a.Name, a.ContentType, a.Size, a.Omitted)
	}
	if want := time.Date(2026, 12, 7, 8, 15, 0, 0, time.UTC); !in.Date.Equal(want) {
		t.Errorf("Date = %v", in.Date)
	}

	// The same attachment over the limit is listed, not kept.
	in, err = Parse(readFixture(t, "python_email.eml"), Limits{MaxAttachmentBytes: 1023})
	if err != nil {
		t.Fatal(err)
	}
	if a := in.Attachments[0]; !a.Omitted || a.Content != nil || a.Size != 1024 || a.Name != "Menü.pdf" {
		t.Errorf("oversized attachment = %+v", a)
	}
}

func TestParseHTMLOnlyBecomesText(t *testing.T) {
	in, err := Parse(readFixture(t, "html_only.eml"), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	// Links become text ("click ( url )"), which is harmless as text; the
	// tags, the script and the style do not survive.
	for _, bad := range []string{"<", ">", `alert("x")`, "alert(2)", "color: red", "pixel.gif"} {
		if strings.Contains(in.Text, bad) {
			t.Errorf("Text keeps %q: %q", bad, in.Text)
		}
	}
	for _, good := range []string{"Dear guest,", "winter menu", "& prices"} {
		if !strings.Contains(in.Text, good) {
			t.Errorf("Text lacks %q: %q", good, in.Text)
		}
	}
}

func TestParseCharsetsBestEffort(t *testing.T) {
	for _, tc := range []struct{ file, want string }{
		{"bad_charset.eml", "Caf"},
		{"wrong_charset.eml", "Caf"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			in, err := Parse(readFixture(t, tc.file), Limits{})
			if err != nil {
				t.Fatalf("Parse = %v, want best-effort text", err)
			}
			if !utf8.ValidString(in.Text) || !utf8.ValidString(in.Subject) || strings.ContainsRune(in.Text, 0) {
				t.Errorf("not valid UTF-8 or holds NUL: %q / %q", in.Subject, in.Text)
			}
			if !strings.HasPrefix(in.Text, tc.want) || !strings.Contains(in.Text, "please") {
				t.Errorf("Text = %q", in.Text)
			}
		})
	}
}

func TestParseAutomated(t *testing.T) {
	in, err := Parse(readFixture(t, "autoreply.eml"), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if !in.Automated || in.AutomatedReason != "Auto-Submitted: auto-replied" {
		t.Errorf("Automated = %v, %q", in.Automated, in.AutomatedReason)
	}
}

// nested is a message whose multiparts nest depth deep around one text part.
func nested(depth int) []byte {
	var b strings.Builder
	b.WriteString("From: a@b.example\r\nMessage-ID: <bomb@b.example>\r\nMIME-Version: 1.0\r\n")
	for i := range depth {
		fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=\"b%d\"\r\n\r\n--b%d\r\n", i, i)
	}
	b.WriteString("Content-Type: text/plain\r\n\r\nhi\r\n")
	for i := depth - 1; i >= 0; i-- {
		fmt.Fprintf(&b, "--b%d--\r\n", i)
	}
	return []byte(b.String())
}

// flat is a multipart/mixed message of n text parts.
func flat(n int) []byte {
	var b strings.Builder
	b.WriteString("From: a@b.example\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"x\"\r\n\r\n")
	for i := range n {
		fmt.Fprintf(&b, "--x\r\nContent-Type: text/plain\r\n\r\npart %d\r\n", i)
	}
	b.WriteString("--x--\r\n")
	return []byte(b.String())
}

func TestParseRefusals(t *testing.T) {
	plain := readFixture(t, "plain.eml")
	for _, tc := range []struct {
		name   string
		raw    []byte
		limits Limits
		want   error
	}{
		{"oversized", plain, Limits{MaxBytes: len(plain) - 1}, ErrTooLarge},
		{"oversized by default", append(slices.Clone(plain), make([]byte, 25<<20)...), Limits{}, ErrTooLarge},
		{"nested too deep", nested(11), Limits{}, ErrTooComplex},
		{"nesting bomb", nested(100000), Limits{}, ErrTooComplex},
		{"nested deeper than a small limit", nested(3), Limits{MaxDepth: 2}, ErrTooComplex},
		{"too many parts", flat(100), Limits{}, ErrTooComplex},
		{"flat bomb", flat(200000), Limits{}, ErrTooComplex},
		{"no From", []byte("To: a@b.example\r\nSubject: hi\r\n\r\nhello\r\n"), Limits{}, ErrMalformed},
		{"unreadable From", []byte("From: nobody\r\n\r\nhello\r\n"), Limits{}, ErrMalformed},
		{"empty", nil, Limits{}, ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, err := Parse(tc.raw, tc.limits)
			if !errors.Is(err, tc.want) || in != nil {
				t.Fatalf("Parse = %v, %v; want %v", in, err, tc.want)
			}
		})
	}
	// Just inside the limits is accepted.
	for name, raw := range map[string][]byte{"depth 10": nested(10), "99 parts": flat(98)} {
		in, err := Parse(raw, Limits{})
		if err != nil || in.Text == "" {
			t.Errorf("%s: Parse = %v, text %q", name, err, in.Text)
		}
	}
	if _, err := Parse(plain, Limits{MaxBytes: len(plain)}); err != nil {
		t.Errorf("exactly MaxBytes: %v", err)
	}
}

func TestMsgIDs(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"<a@b>", []string{"a@b"}},
		{" <a@b>\r\n\t<c@d> (comment) <e@f>", []string{"a@b", "c@d", "e@f"}},
		{"a@b c@d", []string{"a@b", "c@d"}},
		{"<a b@c> <ok@d>", []string{"ok@d"}},
		{"<unclosed@x", []string{"<unclosed@x"}[:0]},
	} {
		if got := msgIDs(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("msgIDs(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
