package email

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"net/smtp"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/smtpsink"
)

// BenchmarkRelaySend measures outbound sends/s from the real sender
// (Relay: go-mail's client, one SMTP session per message, as the worker
// sends) to a local go-smtp sink that discards, against the same sink fed
// by a bare net/smtp client doing the same session (the ceiling), in the
// same run; plain (the mailbox simulator on loopback) and with STARTTLS
// (a real relay). Run with -benchtime and -cpu to taste, e.g.
//
//	go test -run XXX -bench RelaySend -benchtime 3s ./channels/email/
func BenchmarkRelaySend(b *testing.B) {
	raw := benchMessage(b)
	env := Envelope{From: BounceAddress("abcdefghijklmnopqrstuvwxyz234567", "parley.example"), To: []string{"maria.lopez@mail.example"}}
	for _, mode := range []struct {
		name string
		tls  bool
	}{{"plain", false}, {"starttls", true}} {
		sink := smtpsink.Start(b, smtpsink.Options{TLS: mode.tls, Discard: true})
		relay, err := NewRelay("smtp://"+sink.Addr, RelayOptions{TLSConfig: sink.ClientTLS, Timeout: 10 * time.Second})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(mode.name+"/relay", func(b *testing.B) {
			before := sink.Count()
			b.SetBytes(int64(len(raw)))
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := relay.Send(context.Background(), env, raw); err != nil {
						b.Error(err)
						return
					}
				}
			})
			reportSends(b, sink, before)
		})
		b.Run(mode.name+"/net-smtp", func(b *testing.B) {
			before := sink.Count()
			b.SetBytes(int64(len(raw)))
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := bareSend(sink, env, raw); err != nil {
						b.Error(err)
						return
					}
				}
			})
			reportSends(b, sink, before)
		})
	}
}

// reportSends checks every send reached the sink and reports sends/s.
func reportSends(b *testing.B, sink *smtpsink.Sink, before int64) {
	b.Helper()
	if got := sink.Count() - before; got != int64(b.N) {
		b.Fatalf("the sink took %d of %d messages", got, b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sends/s")
}

// bareSend is one SMTP session by the standard library's client: EHLO,
// STARTTLS when the sink has TLS, MAIL, RCPT, DATA, QUIT.
func bareSend(sink *smtpsink.Sink, env Envelope, raw []byte) error {
	c, err := smtp.Dial(sink.Addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Hello("parley.example"); err != nil {
		return err
	}
	if sink.ClientTLS != nil {
		if err := c.StartTLS(sink.ClientTLS); err != nil {
			return err
		}
	}
	if err := c.Mail(env.From); err != nil {
		return err
	}
	for _, to := range env.To {
		if err := c.Rcpt(to); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(raw); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// benchMessage is a typical reply as Build makes it.
func benchMessage(b *testing.B) []byte {
	out := outbound()
	out.ListUnsubscribe = "https://parley.example/unsubscribe/abcdefghijklmnopqrstuvwxyz234567"
	raw, err := Build(out)
	if err != nil {
		b.Fatal(err)
	}
	return raw
}

// BenchmarkBuild is the per-message cost before the send: Build alone,
// and Build plus a DKIM signature (RSA 2048, Ed25519).
func BenchmarkBuild(b *testing.B) {
	out := outbound()
	out.ListUnsubscribe = "https://parley.example/unsubscribe/abcdefghijklmnopqrstuvwxyz234567"
	b.Run("build", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := Build(out); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, k := range benchKeys(b) {
		d, err := NewDKIM(k.pem, "s1", "harbour.example")
		if err != nil {
			b.Fatal(err)
		}
		b.Run("build+dkim-"+k.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				raw, err := Build(out)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := d.Sign(raw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

type benchKey struct {
	name string
	pem  []byte
}

// benchKeys are fresh RSA 2048 and Ed25519 keys as PEM.
func benchKeys(b *testing.B) []benchKey {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	edDER, err := x509.MarshalPKCS8PrivateKey(edKey)
	if err != nil {
		b.Fatal(err)
	}
	return []benchKey{
		{"rsa2048", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)})},
		{"ed25519", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: edDER})},
	}
}
