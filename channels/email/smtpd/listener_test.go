package smtpd_test

import (
	"bytes"
	"context"
	"database/sql"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/parley-chat/parley/models"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// TestStoredAndNotified: a person's mail to the inbox is stored with its
// text, headers and raw bytes, and shown live after the commit.
func TestStoredAndNotified(t *testing.T) {
	f := newFixture(t, options{})
	sender := newSender()
	raw := plain(sender, inboxAddr, "Booking question", newMsgID(), "Hello, can I move my booking to Friday?")
	f.mustSend(sender, []string{inboxAddr}, raw)
	m := f.one(sender)
	if m.Body != "Hello, can I move my booking to Friday?" || m.InboxID != f.demo.Inbox.ID || m.To != inboxAddr {
		t.Errorf("stored %+v", m)
	}
	if m.Automated || m.Reason != "" {
		t.Errorf("a person's mail marked automated: %+v", m)
	}
	if m.RawLen != len(raw) {
		t.Errorf("raw kept %d bytes, sent %d", m.RawLen, len(raw))
	}
	if f.rec.count() != 1 {
		t.Errorf("%d notifications, want 1", f.rec.count())
	}
}

// TestUnknownRecipient: RCPT TO an address that is no inbox's, no
// conversation's reply address and no return path is refused with 550
// 5.1.1, and nothing is stored.
func TestUnknownRecipient(t *testing.T) {
	f := newFixture(t, options{})
	before := f.messageCount()
	fake := "frontdesk+abcdefghijklmnopqrstuvwxyz234567@" + domain // a token no thread has
	for _, to := range []string{"nobody@" + domain, "frontdesk@elsewhere.example", fake,
		"bounce-abcdefghijklmnopqrstuvwxyz234567@" + domain} {
		sender := newSender()
		err := f.send(sender, []string{to}, plain(sender, to, "Hi", newMsgID(), "Hello"))
		var se *smtp.SMTPError
		if !errorsAs(err, &se) || se.Code != 550 || se.EnhancedCode != (smtp.EnhancedCode{5, 1, 1}) {
			t.Errorf("RCPT TO %s: %v, want 550 5.1.1", to, err)
		}
	}
	if n := f.messageCount(); n != before {
		t.Errorf("%d messages stored for unknown recipients", n-before)
	}
}

// TestKnownAndUnknownRecipients: with one good and one bad recipient, the
// bad one is refused and the message is stored for the good one.
func TestKnownAndUnknownRecipients(t *testing.T) {
	f := newFixture(t, options{})
	c, err := smtp.Dial(f.srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sender := newSender()
	if err := c.Mail(sender, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("nobody@"+domain, nil); code(err) != 550 {
		t.Fatalf("unknown recipient: %v", err)
	}
	if err := c.Rcpt(strings.ToUpper(inboxAddr), nil); err != nil {
		t.Fatalf("inbox address in capitals: %v", err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	w.Write(plain(sender, inboxAddr, "Hi", newMsgID(), "Just the one"))
	if err := w.Close(); err != nil {
		t.Fatalf("DATA: %v", err)
	}
	if m := f.one(sender); m.Body != "Just the one" {
		t.Errorf("stored %+v", m)
	}
}

// TestOversizedRefused: a message over MaxBytes gets 552 and nothing is
// stored, whether its size is declared up front (SIZE) or found in DATA.
func TestOversizedRefused(t *testing.T) {
	f := newFixture(t, options{cfg: smtpdConfig(16 << 10)})
	before := f.messageCount()
	sender := newSender()
	raw := plain(sender, inboxAddr, "Big", newMsgID(), strings.Repeat("All work and no play makes Jack a dull boy.\n", 1000))
	// DATA: go-smtp's client declares no SIZE by itself.
	if err := f.send(sender, []string{inboxAddr}, raw); code(err) != 552 {
		t.Errorf("oversized DATA: %v, want 552", err)
	}
	// SIZE declared in MAIL FROM.
	c, err := smtp.Dial(f.srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Mail(sender, &smtp.MailOptions{Size: int64(len(raw))}); code(err) != 552 {
		t.Errorf("MAIL FROM SIZE=%d: %v, want 552", len(raw), err)
	}
	if n := f.messageCount(); n != before {
		t.Errorf("%d messages stored from an oversized mail", n-before)
	}
	// The limit is the listener's: a message under it is stored.
	f.mustSend(sender, []string{inboxAddr}, plain(sender, inboxAddr, "Small", newMsgID(), "fits"))
	f.one(sender)
}

// TestMIMEBombRefused: a message nested past the parser's limits gets 554
// and nothing is stored.
func TestMIMEBombRefused(t *testing.T) {
	f := newFixture(t, options{})
	before := f.messageCount()
	sender := newSender()
	var b bytes.Buffer
	b.WriteString("From: <" + sender + ">\r\nTo: " + inboxAddr + "\r\nSubject: bomb\r\nMessage-ID: <" + newMsgID() + ">\r\nMIME-Version: 1.0\r\n")
	const depth = 60
	for i := range depth {
		b.WriteString("Content-Type: multipart/mixed; boundary=\"b" + itoa(i) + "\"\r\n\r\n--b" + itoa(i) + "\r\n")
	}
	b.WriteString("Content-Type: text/plain\r\n\r\nboom\r\n")
	for i := depth - 1; i >= 0; i-- {
		b.WriteString("--b" + itoa(i) + "--\r\n")
	}
	err := f.send(sender, []string{inboxAddr}, b.Bytes())
	if code(err) != 554 {
		t.Errorf("MIME bomb: %v, want 554", err)
	}
	if n := f.messageCount(); n != before {
		t.Errorf("%d messages stored from a MIME bomb", n-before)
	}
}

// TestMalformedRefused: a message without a readable sender gets 554.
func TestMalformedRefused(t *testing.T) {
	f := newFixture(t, options{})
	before := f.messageCount()
	err := f.send(newSender(), []string{inboxAddr}, []byte("Subject: no sender\r\n\r\nwho wrote this?\r\n"))
	if code(err) != 554 {
		t.Errorf("no From: %v, want 554", err)
	}
	if n := f.messageCount(); n != before {
		t.Errorf("%d messages stored from a malformed mail", n-before)
	}
}

// TestInvalidCharsets: text in an unknown charset, or bytes that are not
// the declared charset, is stored best-effort as valid text, not refused.
func TestInvalidCharsets(t *testing.T) {
	f := newFixture(t, options{})
	for name, ct := range map[string]string{
		"unknown charset": "text/plain; charset=x-no-such-charset",
		"wrong charset":   "text/plain; charset=utf-8",
	} {
		t.Run(name, func(t *testing.T) {
			sender := newSender()
			raw := "From: <" + sender + ">\r\nTo: " + inboxAddr + "\r\nSubject: caf\xe9\r\nMessage-ID: <" + newMsgID() +
				">\r\nMIME-Version: 1.0\r\nContent-Type: " + ct + "\r\n\r\nCaf\xe9 cr\xe8me at 9?\r\n"
			f.mustSend(sender, []string{inboxAddr}, []byte(raw))
			m := f.one(sender)
			if !strings.HasPrefix(m.Body, "Caf") || !strings.Contains(m.Body, "at 9?") || !validUTF8(m.Body) {
				t.Errorf("body %q", m.Body)
			}
		})
	}
}

// TestDatabaseDown: when the message cannot be stored, the client gets
// 451 (try again later), not 250.
func TestDatabaseDown(t *testing.T) {
	f := newFixture(t, options{recvStore: deadStore(t)})
	sender := newSender()
	err := f.send(sender, []string{inboxAddr}, plain(sender, inboxAddr, "Hi", newMsgID(), "Hello"))
	var se *smtp.SMTPError
	if !errorsAs(err, &se) || se.Code != 451 {
		t.Fatalf("database down: %v, want 451", err)
	}
	if got := f.byFrom(sender); len(got) != 0 {
		t.Errorf("stored %+v", got)
	}
	if f.rec.count() != 0 {
		t.Errorf("notified %d changes that were never stored", f.rec.count())
	}
}

// TestTooManyRecipients: past MaxRecipients the listener answers 452.
func TestTooManyRecipients(t *testing.T) {
	cfg := smtpdConfig(0)
	cfg.MaxRecipients = 2
	f := newFixture(t, options{cfg: cfg})
	c, err := smtp.Dial(f.srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Mail(newSender(), nil); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		err := c.Rcpt(inboxAddr, nil)
		if i < 2 && err != nil {
			t.Fatalf("recipient %d: %v", i, err)
		}
		if i == 2 && code(err) != 452 {
			t.Fatalf("third recipient: %v, want 452", err)
		}
	}
}

// TestGracefulShutdown: a client mid-session when the server stops gets
// its connection closed, and Serve returns.
func TestGracefulShutdown(t *testing.T) {
	st, _ := sharedStore(t)
	srv, err := newServer(st)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, 200e6) }()
	c, err := smtp.Dial(srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Hello("client.example"); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
	if err := c.Noop(); err == nil {
		t.Error("connection still answers after shutdown")
	}
	if _, err := smtp.Dial(srv.Addr()); err == nil {
		t.Error("still accepting connections after shutdown")
	}
}

// deadStore is a Store whose PostgreSQL does not answer.
func deadStore(t *testing.T) *models.Store {
	t.Helper()
	cfg, err := pgx.ParseConfig("postgres://postgres@127.0.0.1:1/parley?sslmode=disable&connect_timeout=1")
	if err != nil {
		t.Fatal(err)
	}
	dead := bun.NewDB(sql.OpenDB(stdlib.GetConnector(*cfg)), pgdialect.New())
	t.Cleanup(func() { dead.Close() })
	return models.NewStore(dead)
}
