package receive_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/parley-chat/parley/channels/email"
	"github.com/parley-chat/parley/channels/email/receive"
	"github.com/parley-chat/parley/models"
)

// refusingStore fails the test if Receive reaches the database: every
// case here must be refused before.
type refusingStore struct{ t *testing.T }

func (s refusingStore) ReceiveEmail(context.Context, models.InboundEmail) (*models.InboundResult, error) {
	s.t.Error("ReceiveEmail called for a refused message")
	return nil, errors.New("unexpected")
}

func (s refusingStore) RecordBounce(context.Context, string, string) (*models.Change, error) {
	s.t.Error("RecordBounce called for a refused message")
	return nil, errors.New("unexpected")
}

type noNotify struct{ t *testing.T }

func (n noNotify) Notify(*models.Change) { n.t.Error("Notify called for a refused message") }

// TestRefusedBeforeStore: no recipients, an unparsable, oversized or
// MIME-bomb message are refused (ErrRefused, wrapping the parser's error)
// without touching the store.
func TestRefusedBeforeStore(t *testing.T) {
	r := receive.New(receive.Config{Domain: "parley.test", Limits: email.Limits{MaxBytes: 16 << 10}}, refusingStore{t}, noNotify{t})
	good := []byte("From: <a@example.com>\r\nTo: in@parley.test\r\nSubject: x\r\n\r\nhello\r\n")
	bomb := "From: <a@example.com>\r\nMIME-Version: 1.0\r\n" + strings.Repeat("Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n", 120)
	for _, tc := range []struct {
		name  string
		rcpts []string
		raw   []byte
		want  error
	}{
		{"no recipients", nil, good, receive.ErrNoRecipients},
		{"no sender", []string{"in@parley.test"}, []byte("Subject: x\r\n\r\nhello\r\n"), email.ErrMalformed},
		{"too large", []string{"in@parley.test"}, append(good, strings.Repeat("x\r\n", 6000)...), email.ErrTooLarge},
		{"MIME bomb", []string{"in@parley.test"}, []byte(bomb), email.ErrTooComplex},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := r.Receive(context.Background(), receive.Envelope{Rcpts: tc.rcpts, MailFrom: "a@example.com"}, tc.raw)
			if !errors.Is(err, receive.ErrRefused) || !errors.Is(err, tc.want) {
				t.Errorf("err %v, want ErrRefused and %v", err, tc.want)
			}
		})
	}
}

// TestHashID: a message without a Message-ID gets the same stand-in for
// the same bytes, and another for other bytes; it fits a header line.
func TestHashID(t *testing.T) {
	a, b := receive.HashID([]byte("one")), receive.HashID([]byte("two"))
	if a != receive.HashID([]byte("one")) || a == b {
		t.Errorf("HashID not a function of the bytes: %s %s", a, b)
	}
	if !strings.Contains(a, "@") || len(a) > 998 || strings.ContainsAny(a, "<> ") {
		t.Errorf("HashID %q is not a bare message id", a)
	}
}
