// Package smtpsink is an in-process SMTP server for tests and benchmarks:
// it records (or discards) what it is sent, can offer STARTTLS with a
// certificate of its own, require a login, and refuse chosen recipients.
// It is the far end of the outbound relay, nothing more.
package smtpsink

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Options configures a sink.
type Options struct {
	// TLS offers STARTTLS (ImplicitTLS: the listener speaks TLS at once)
	// with a fresh self-signed certificate; Sink.ClientTLS trusts it.
	TLS, ImplicitTLS bool
	// User and Password, when set, are required (AUTH PLAIN).
	User, Password string
	// Discard counts messages without keeping them (benchmarks).
	Discard bool
	// Refuse, when set, answers RCPT TO for an address with its error
	// (nil accepts).
	Refuse func(rcpt string) *smtp.SMTPError
}

// Message is one received message.
type Message struct {
	From string
	To   []string
	Data []byte
	TLS  bool // it came over TLS
}

// Sink is a running server.
type Sink struct {
	Addr      string
	ClientTLS *tls.Config // trusts the sink's certificate (nil without TLS)

	opts     Options
	srv      *smtp.Server
	count    atomic.Int64
	mu       sync.Mutex
	msgs     []Message
	received chan struct{}
}

// Start runs a sink on a loopback port until the test ends.
func Start(t testing.TB, o Options) *Sink {
	t.Helper()
	s := &Sink{opts: o, received: make(chan struct{}, 1<<16)}
	s.srv = smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{sink: s, conn: c}, nil
	}))
	s.srv.Domain = "sink.test"
	s.srv.ReadTimeout, s.srv.WriteTimeout = 30*time.Second, 30*time.Second
	s.srv.MaxMessageBytes = 50 << 20
	s.srv.AllowInsecureAuth = !o.TLS && !o.ImplicitTLS
	if o.TLS || o.ImplicitTLS {
		srvTLS, clientTLS, err := selfSigned()
		if err != nil {
			t.Fatal(err)
		}
		s.srv.TLSConfig, s.ClientTLS = srvTLS, clientTLS
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if o.ImplicitTLS {
		l = tls.NewListener(l, s.srv.TLSConfig)
	}
	s.Addr = l.Addr().String()
	go func() { _ = s.srv.Serve(l) }()
	t.Cleanup(func() { _ = s.srv.Close() })
	return s
}

// Count is how many messages were accepted.
func (s *Sink) Count() int64 { return s.count.Load() }

// Messages returns the kept messages.
func (s *Sink) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// Wait blocks until a message arrives after the last Wait, or timeout.
func (s *Sink) Wait(timeout time.Duration) bool {
	select {
	case <-s.received:
		return true
	case <-time.After(timeout):
		return false
	}
}

type session struct {
	sink   *Sink
	conn   *smtp.Conn
	authed bool
	msg    Message
}

func (s *session) AuthMechanisms() []string {
	if s.sink.opts.User == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, user, pass string) error {
		if user != s.sink.opts.User || pass != s.sink.opts.Password {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "bad credentials"}
		}
		s.authed = true
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.sink.opts.User != "" && !s.authed {
		return smtp.ErrAuthRequired
	}
	_, isTLS := s.conn.TLSConnectionState()
	s.msg = Message{From: from, TLS: isTLS}
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.sink.opts.Refuse != nil {
		if err := s.sink.opts.Refuse(to); err != nil {
			return err
		}
	}
	s.msg.To = append(s.msg.To, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	if s.sink.opts.Discard {
		if _, err := io.Copy(io.Discard, r); err != nil {
			return err
		}
	} else {
		b, err := io.ReadAll(r)
		if err != nil {
			return err
		}
		s.msg.Data = b
		s.sink.mu.Lock()
		s.sink.msgs = append(s.sink.msgs, s.msg)
		s.sink.mu.Unlock()
	}
	s.sink.count.Add(1)
	select {
	case s.sink.received <- struct{}{}:
	default:
	}
	return nil
}

func (s *session) Reset()        { s.msg = Message{} }
func (s *session) Logout() error { return nil }

// selfSigned makes a certificate for 127.0.0.1 and localhost, and a
// client configuration that trusts only it.
func selfSigned() (*tls.Config, *tls.Config, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sink.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	srv := &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}}}
	return srv, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}, nil
}
