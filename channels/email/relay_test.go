package email

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"
	"github.com/parley-chat/parley/internal/smtpsink"
)

// builtMessage is a message as the worker hands it to the relay.
func builtMessage(t *testing.T) []byte {
	t.Helper()
	out := outbound()
	out.ListUnsubscribe = "https://parley.example/unsubscribe/abcdefghijklmnopqrstuvwxyz234567"
	raw, err := Build(out)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// TestRelaySTARTTLSLogin: smtp:// upgrades with STARTTLS when offered,
// logs in, sends the bounce address as MAIL FROM and the built bytes
// unchanged.
func TestRelaySTARTTLSLogin(t *testing.T) {
	sink := smtpsink.Start(t, smtpsink.Options{TLS: true, User: "parley", Password: "s3cret:/@"})
	r, err := NewRelay("smtp://parley:s3cret%3A%2F%40@"+sink.Addr, RelayOptions{TLSConfig: sink.ClientTLS})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(r.String(), "s3cret") {
		t.Errorf("String shows the password: %s", r)
	}
	raw := builtMessage(t)
	from := BounceAddress("abcdefghijklmnopqrstuvwxyz234567", "parley.example")
	if err := r.Send(context.Background(), Envelope{From: from, To: []string{"maria.lopez@mail.example"}}, raw); err != nil {
		t.Fatal(err)
	}
	msgs := sink.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	m := msgs[0]
	if !m.TLS || m.From != from || len(m.To) != 1 || m.To[0] != "maria.lopez@mail.example" {
		t.Errorf("envelope %+v", m)
	}
	if !bytes.Equal(bytes.TrimRight(m.Data, "\r\n"), bytes.TrimRight(raw, "\r\n")) {
		t.Errorf("bytes changed in transit:\n%s\n---\n%s", raw, m.Data)
	}
}

// TestRelayImplicitTLS: smtps:// speaks TLS from the first byte.
func TestRelayImplicitTLS(t *testing.T) {
	sink := smtpsink.Start(t, smtpsink.Options{ImplicitTLS: true})
	r, err := NewRelay("smtps://"+sink.Addr, RelayOptions{TLSConfig: sink.ClientTLS})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Send(context.Background(), Envelope{From: "b@parley.example", To: []string{"x@mail.example"}}, builtMessage(t)); err != nil {
		t.Fatal(err)
	}
	if msgs := sink.Messages(); len(msgs) != 1 || !msgs[0].TLS {
		t.Errorf("messages %+v", msgs)
	}
}

// TestRelayClassifiesErrors: a 5xx reply is a RejectedError carrying the
// server's words; a 4xx reply, a refused login and an unreachable relay
// are temporary.
func TestRelayClassifiesErrors(t *testing.T) {
	sink := smtpsink.Start(t, smtpsink.Options{Refuse: func(rcpt string) *smtp.SMTPError {
		switch {
		case strings.HasPrefix(rcpt, "gone@"):
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user here"}
		case strings.HasPrefix(rcpt, "busy@"):
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Try again later"}
		}
		return nil
	}})
	r, err := NewRelay("smtp://"+sink.Addr, RelayOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	err = r.Send(ctx, Envelope{From: "b@parley.example", To: []string{"gone@mail.example"}}, builtMessage(t))
	var rej *RejectedError
	if !errors.As(err, &rej) || rej.Code != 550 || !strings.Contains(rej.Reason(), "No such user here") || !strings.Contains(rej.Reason(), "5.1.1") {
		t.Errorf("550: %v", err)
	}
	err = r.Send(ctx, Envelope{From: "b@parley.example", To: []string{"busy@mail.example"}}, builtMessage(t))
	if err == nil || errors.As(err, &rej) {
		t.Errorf("451: %v, want a temporary error", err)
	}
	if sink.Count() != 0 {
		t.Errorf("refused mail was accepted")
	}

	locked := smtpsink.Start(t, smtpsink.Options{User: "u", Password: "right"})
	wrong, _ := NewRelay("smtp://u:wrong@"+locked.Addr, RelayOptions{})
	if err := wrong.Send(ctx, Envelope{From: "b@parley.example", To: []string{"x@mail.example"}}, builtMessage(t)); err == nil || errors.As(err, &rej) {
		t.Errorf("bad login: %v, want a temporary error", err)
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	down, _ := NewRelay("smtp://"+addr, RelayOptions{})
	if err := down.Send(ctx, Envelope{From: "b@parley.example", To: []string{"x@mail.example"}}, builtMessage(t)); err == nil || errors.As(err, &rej) {
		t.Errorf("unreachable: %v, want a temporary error", err)
	}
}

// TestNewRelay: the TLS mode follows the scheme and the host; bad URLs
// are refused.
func TestNewRelay(t *testing.T) {
	for url, want := range map[string]string{
		"smtp://user:pw@mail.example.com:587": "mandatory",
		"smtp://mail.example.com":             "mandatory",
		"smtp://127.0.0.1:2526":               "opportunistic",
		"smtp://localhost:25":                 "opportunistic",
		"smtp://[::1]:25":                     "opportunistic",
		"smtps://mail.example.com":            "implicit",
	} {
		r, err := NewRelay(url, RelayOptions{})
		if err != nil || r.tls != want {
			t.Errorf("%s: %+v %v, want %s", url, r, err, want)
		}
	}
	for _, bad := range []string{"", "http://mail.example.com", "smtp://", "smtp://host:99999", "smtp://host:x", "::"} {
		if _, err := NewRelay(bad, RelayOptions{}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
