package email

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func readBounce(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "bounce", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestParseBounce reads real-shaped notices: Postfix's RFC 3464 report,
// a nested base64 one (Gmail's layout), and Exim's classic text notice.
func TestParseBounce(t *testing.T) {
	for _, c := range []struct {
		file, rcpt, status, reasonHas string
	}{
		{"postfix_dsn.eml", "nobody@example.org", "5.1.1", "550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown in virtual mailbox table"},
		{"gmail_dsn_base64.eml", "missing@gmail.example", "5.1.1", "does not exist"},
		{"exim_text.eml", "gone@example.com", "5.2.1", "550 5.2.1 The email account that you tried to reach is disabled"},
	} {
		t.Run(c.file, func(t *testing.T) {
			b, err := ParseBounce(readBounce(t, c.file))
			if err != nil {
				t.Fatal(err)
			}
			if b.Recipient != c.rcpt || b.Status != c.status || !strings.Contains(b.Reason, c.reasonHas) {
				t.Errorf("got %+v", b)
			}
		})
	}
}

// TestParseBounceRefuses: a person's mail (even one quoting "550"), a
// delay report, and garbage are not bounces.
func TestParseBounceRefuses(t *testing.T) {
	for _, raw := range [][]byte{
		readBounce(t, "not_bounce.eml"),
		readBounce(t, "delayed_dsn.eml"),
		[]byte("not a message at all"),
		[]byte("From: MAILER-DAEMON@x.test\r\nSubject: Undelivered Mail\r\n\r\nsomething went wrong, no code\r\n"),
		[]byte("Content-Type: multipart/report; boundary=\"x\"\r\n\r\n--x\r\nContent-Type: message/delivery-status\r\n\r\nbroken"),
	} {
		if b, err := ParseBounce(raw); !errors.Is(err, ErrNotBounce) {
			t.Errorf("%.40q: got %+v %v, want ErrNotBounce", raw, b, err)
		}
	}
}

// FuzzParseBounce: nothing a sender writes makes it panic.
func FuzzParseBounce(f *testing.F) {
	for _, n := range []string{"postfix_dsn.eml", "exim_text.eml", "gmail_dsn_base64.eml", "not_bounce.eml"} {
		b, err := os.ReadFile(filepath.Join("testdata", "bounce", n))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if b, err := ParseBounce(raw); err == nil && b == nil {
			t.Fatal("nil bounce without an error")
		}
	})
}
