package mailbox

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/parley-chat/parley/channels/email"
)

// received is one message a stand-in listener took.
type received struct {
	mailFrom string
	rcpts    []string
	raw      []byte
}

// fakeParley stands in for Parley's SMTP listener: it keeps what it is
// sent, or refuses every recipient with refuse.
type fakeParley struct {
	addr   string
	refuse *smtp.SMTPError
	mu     sync.Mutex
	got    []received
	wake   chan struct{}
}

func newFakeParley(t *testing.T, refuse *smtp.SMTPError) *fakeParley {
	t.Helper()
	f := &fakeParley{refuse: refuse, wake: make(chan struct{}, 100)}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &fakeSession{f: f}, nil }))
	srv.Domain = "parley.test"
	srv.ErrorLog = slogPrinter{slog.New(slog.DiscardHandler)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.addr = ln.Addr().String()
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return f
}

// next waits for the next message the listener takes.
func (f *fakeParley) next(t *testing.T) received {
	t.Helper()
	select {
	case <-f.wake:
	case <-time.After(10 * time.Second):
		t.Fatal("nothing reached the stand-in listener")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.got[len(f.got)-1]
}

type fakeSession struct {
	f        *fakeParley
	mailFrom string
	rcpts    []string
}

func (s *fakeSession) Mail(from string, _ *smtp.MailOptions) error { s.mailFrom = from; return nil }
func (s *fakeSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.f.refuse != nil {
		return s.f.refuse
	}
	s.rcpts = append(s.rcpts, to)
	return nil
}
func (s *fakeSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.f.mu.Lock()
	s.f.got = append(s.f.got, received{s.mailFrom, s.rcpts, raw})
	s.f.mu.Unlock()
	s.f.wake <- struct{}{}
	return nil
}
func (s *fakeSession) Reset()        {}
func (s *fakeSession) Logout() error { return nil }

// newTestMailbox runs a mailbox on a free port delivering to parley.
func newTestMailbox(t *testing.T, parley func() string) *Mailbox {
	t.Helper()
	m, err := New(Config{Addr: "127.0.0.1:0", Parley: parley, Hostname: "mailbox.test", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return m
}

// sendToSink sends raw to the mailbox's sink as Parley's worker would.
func sendToSink(t *testing.T, m *Mailbox, mailFrom string, rcpts []string, raw []byte) {
	t.Helper()
	c, err := smtp.Dial(m.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.SendMail(mailFrom, rcpts, bytes.NewReader(raw)); err != nil {
		t.Fatalf("send to sink: %v", err)
	}
	_ = c.Quit()
}

func bufioReader(b []byte) *bufio.Reader { return bufio.NewReader(bytes.NewReader(b)) }

// outbound is a message as Parley's worker builds it.
func outbound(t *testing.T, to string) []byte {
	t.Helper()
	raw, err := email.Build(email.Outbound{
		From: email.Address{Name: "Front Desk", Email: "frontdesk@demo.test"}, To: []email.Address{{Name: "Pat", Email: to}},
		ReplyTo: "frontdesk+tok123abc@parley.test", Subject: "Your booking", Text: "Hello Pat,\n\nSee you Friday.",
		MessageID: "abc123@parley.test", InReplyTo: "first@example.com", References: []string{"zero@example.com"},
		Domain: "parley.test", Automated: email.AutoReplied,
	})
	if err != nil {
		t.Fatal(err)
	}
	// The unsubscribe header is another part's; add one as it will.
	return append([]byte("List-Unsubscribe: <https://parley.test/unsubscribe/u1>\r\n"), raw...)
}

func TestSinkKeepsWhatItReceives(t *testing.T) {
	m := newTestMailbox(t, func() string { return "" })
	inboxes := []string{"frontdesk@demo.test"}
	sendToSink(t, m, "bounce-tok1@parley.test", []string{"Pat@Example.com"}, outbound(t, "pat@example.com"))

	got := m.Mails("pat@example.com", inboxes)
	if len(got) != 1 {
		t.Fatalf("pat's mailbox has %d mails, want 1", len(got))
	}
	ml := got[0]
	want := map[string]string{
		"MailFrom": ml.MailFrom, "Subject": ml.Subject, "MessageID": ml.MessageID, "InReplyTo": ml.InReplyTo,
		"References": ml.References, "ReplyTo": ml.ReplyTo, "AutoSubmitted": ml.AutoSubmitted,
		"ListUnsubscribe": ml.ListUnsubscribe, "FromAddr": ml.FromAddr, "FromName": ml.FromName, "ReplyAddr": ml.ReplyAddr, "Inbox": ml.Inbox,
	}
	for k, v := range map[string]string{
		"MailFrom": "bounce-tok1@parley.test", "Subject": "Re: Your booking", "MessageID": "<abc123@parley.test>",
		"InReplyTo": "<first@example.com>", "References": "<zero@example.com> <first@example.com>",
		"ReplyTo": "<frontdesk+tok123abc@parley.test>", "AutoSubmitted": "auto-replied",
		"ListUnsubscribe": "<https://parley.test/unsubscribe/u1>", "FromAddr": "frontdesk@demo.test", "FromName": "Front Desk",
		"ReplyAddr": "frontdesk+tok123abc@parley.test", "Inbox": "frontdesk@demo.test",
	} {
		if want[k] != v {
			t.Errorf("%s = %q, want %q", k, want[k], v)
		}
	}
	if !strings.Contains(ml.Text, "See you Friday.") || strings.Contains(ml.Text, "<p>") {
		t.Errorf("text part %q", ml.Text)
	}
	if !bytes.Contains(ml.Raw, []byte("Hello Pat,")) || ml.Outgoing || ml.Bounce != "" {
		t.Errorf("raw kept %d bytes, outgoing %v, bounce %q", len(ml.Raw), ml.Outgoing, ml.Bounce)
	}
	if len(m.Mails("pat@example.com", []string{"other@demo.test"})) != 0 {
		t.Error("mail of an inbox not passed in was listed")
	}
	if p := m.People(inboxes); len(p) != 1 || p[0] != "pat@example.com" {
		t.Errorf("people %v", p)
	}
}

func TestSinkBoundsWhatItKeeps(t *testing.T) {
	m := newTestMailbox(t, func() string { return "" })
	for i := 0; i < maxMails+5; i++ {
		m.add(&Mail{Person: "a@b.test", Inbox: "i@b.test", Raw: []byte("x")})
	}
	if n := len(m.Mails("a@b.test", []string{"i@b.test"})); n != maxMails {
		t.Errorf("kept %d mails, want %d", n, maxMails)
	}
	m.add(&Mail{Person: "a@b.test", Inbox: "i@b.test", Raw: make([]byte, maxKeptBytes)})
	if n := len(m.Mails("a@b.test", []string{"i@b.test"})); n != 1 {
		t.Errorf("after a huge mail %d kept, want only it", n)
	}
}

func TestSinkRefusesOversizedMail(t *testing.T) {
	m, err := New(Config{Addr: "127.0.0.1:0", MaxBytes: 2048, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = m.Serve(t.Context()) }()
	t.Cleanup(func() { _ = m.Close() })
	c, err := smtp.Dial(m.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	big := "Subject: big\r\nFrom: a@b.test\r\n\r\n" + strings.Repeat("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n", 100)
	err = c.SendMail("a@b.test", []string{"p@example.com"}, strings.NewReader(big))
	var se *smtp.SMTPError
	if !errors.As(err, &se) || se.Code != 552 {
		t.Fatalf("oversized mail: %v, want 552", err)
	}
	if n := len(m.Mails("p@example.com", []string{"a@b.test"})); n != 0 {
		t.Errorf("kept %d oversized mails", n)
	}
}

func TestNewRefusesNonLoopback(t *testing.T) {
	if _, err := New(Config{Addr: "0.0.0.0:0"}); err == nil {
		t.Fatal("the sink accepted to listen on every interface")
	}
	if _, err := New(Config{Addr: "nonsense"}); err == nil {
		t.Fatal("the sink accepted an address without a port")
	}
}

// dsnParts parses a DSN the way a mail program would.
func dsnParts(t *testing.T, raw []byte) (*mail.Message, map[string][]byte) {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/report" || params["report-type"] != "delivery-status" {
		t.Fatalf("Content-Type %q (%v): want multipart/report; report-type=delivery-status", msg.Header.Get("Content-Type"), err)
	}
	parts := map[string][]byte{}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(p)
		parts[p.Header.Get("Content-Type")] = body
	}
	return msg, parts
}

func TestBounceSendsADeliveryStatusNotification(t *testing.T) {
	parley := newFakeParley(t, nil)
	m := newTestMailbox(t, func() string { return parley.addr })
	changed := m.Changed()
	sendToSink(t, m, "bounce-tok9@parley.test", []string{"nobody@bounce.test"}, outbound(t, "nobody@bounce.test"))

	got := parley.next(t)
	if got.mailFrom != "" {
		t.Errorf("DSN's MAIL FROM %q, want the null return path", got.mailFrom)
	}
	if len(got.rcpts) != 1 || got.rcpts[0] != "bounce-tok9@parley.test" {
		t.Errorf("DSN went to %v, want the bounce address", got.rcpts)
	}
	msg, parts := dsnParts(t, got.raw)
	if from := msg.Header.Get("From"); !strings.Contains(from, "MAILER-DAEMON@mailbox.test") {
		t.Errorf("DSN From %q", from)
	}
	if to := msg.Header.Get("To"); to != "<bounce-tok9@parley.test>" {
		t.Errorf("DSN To %q", to)
	}
	status, ok := parts["message/delivery-status"]
	if !ok {
		t.Fatalf("no message/delivery-status part among %v", parts)
	}
	// The status part is header blocks: the per-message one, then one per recipient.
	tr := textproto.NewReader(bufioReader(status))
	perMsg, err := tr.ReadMIMEHeader()
	if err != nil || perMsg.Get("Reporting-Mta") != "dns; mailbox.test" {
		t.Fatalf("per-message fields %v (%v)", perMsg, err)
	}
	rcpt, err := tr.ReadMIMEHeader()
	if err != nil && !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	for k, v := range map[string]string{
		"Final-Recipient": "rfc822; nobody@bounce.test", "Action": "failed", "Status": "5.1.1",
		"Diagnostic-Code": "smtp; 550 5.1.1 <nobody@bounce.test>: Recipient address rejected: User unknown",
	} {
		if rcpt.Get(k) != v {
			t.Errorf("%s: %q, want %q", k, rcpt.Get(k), v)
		}
	}
	orig, ok := parts["text/rfc822-headers"]
	if !ok || !bytes.Contains(orig, []byte("Message-Id: <abc123@parley.test>")) && !bytes.Contains(orig, []byte("Message-ID: <abc123@parley.test>")) {
		t.Errorf("original headers part %q", orig)
	}
	// The bounced copy is in the mailbox with what happened to its bounce.
	for {
		ml, _ := m.Mail("nobody@bounce.test", "1", []string{"frontdesk@demo.test"})
		if strings.HasPrefix(ml.Bounce, "Bounced: ") {
			break
		}
		select {
		case <-changed:
			changed = m.Changed()
		case <-time.After(10 * time.Second):
			t.Fatalf("bounce note %q", ml.Bounce)
		}
	}
}

func TestNoBounceForANullReturnPath(t *testing.T) {
	parley := newFakeParley(t, nil)
	m := newTestMailbox(t, func() string { return parley.addr })
	sendToSink(t, m, "", []string{"nobody@bounce.test"}, outbound(t, "nobody@bounce.test"))
	ml, ok := m.Mail("nobody@bounce.test", "1", []string{"frontdesk@demo.test"})
	if !ok || !strings.HasPrefix(ml.Bounce, "Not bounced") {
		t.Fatalf("mail %v, bounce %q", ok, ml.Bounce)
	}
	if err := m.Close(); err != nil { // waits for any bounce under way
		t.Fatal(err)
	}
	parley.mu.Lock()
	defer parley.mu.Unlock()
	if n := len(parley.got); n != 0 {
		t.Errorf("a bounce of a bounce was sent (%d messages)", n)
	}
}

func TestComposeAndReplyOnTheWire(t *testing.T) {
	parley := newFakeParley(t, nil)
	m := newTestMailbox(t, func() string { return parley.addr })
	pat := Person{Address: "pat@example.com", Name: "Pat Example"}

	sent, err := m.Compose(t.Context(), Letter{From: pat, To: "frontdesk@demo.test", ToName: "Front Desk", Subject: "Booking", Text: "Can I book Friday?"})
	if err != nil {
		t.Fatal(err)
	}
	got := parley.next(t)
	if got.mailFrom != "pat@example.com" || len(got.rcpts) != 1 || got.rcpts[0] != "frontdesk@demo.test" {
		t.Errorf("compose envelope %q → %v", got.mailFrom, got.rcpts)
	}
	in, err := email.Parse(got.raw, email.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if in.From.Email != "pat@example.com" || in.From.Name != "Pat Example" || in.Subject != "Booking" ||
		in.Text != "Can I book Friday?" || in.MessageID == "" || !strings.HasSuffix(in.MessageID, "@example.com") || in.InReplyTo != "" {
		t.Errorf("composed message: %+v", in)
	}
	if !sent.Outgoing || sent.Inbox != "frontdesk@demo.test" || len(m.Mails("pat@example.com", []string{"frontdesk@demo.test"})) != 1 {
		t.Errorf("the sent mail is not in pat's mailbox: %+v", sent)
	}

	// Parley answers; pat replies to it.
	sendToSink(t, m, "bounce-t@parley.test", []string{"pat@example.com"}, outbound(t, "pat@example.com"))
	var answer Mail
	for _, ml := range m.Mails("pat@example.com", []string{"frontdesk@demo.test"}) {
		if !ml.Outgoing {
			answer = ml
		}
	}
	if _, err := m.Reply(t.Context(), pat, answer, "Friday works.\n"); err != nil {
		t.Fatal(err)
	}
	got = parley.next(t)
	if len(got.rcpts) != 1 || got.rcpts[0] != "frontdesk+tok123abc@parley.test" {
		t.Errorf("reply went to %v, want the Reply-To", got.rcpts)
	}
	in, err = email.Parse(got.raw, email.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if in.Subject != "Re: Your booking" || in.InReplyTo != "abc123@parley.test" ||
		strings.Join(in.References, " ") != "zero@example.com first@example.com abc123@parley.test" {
		t.Errorf("reply threading: subject %q, in-reply-to %q, references %v", in.Subject, in.InReplyTo, in.References)
	}
	lines := strings.Split(in.Text, "\n")
	if lines[0] != "Friday works." || !strings.Contains(in.Text, ", Front Desk <frontdesk@demo.test> wrote:\n> Hello Pat,\n>\n> See you Friday.") {
		t.Errorf("reply text %q", in.Text)
	}
	if email.StripQuoted(in.Text) != "Friday works." {
		t.Errorf("Parley would keep %q of the reply", email.StripQuoted(in.Text))
	}
	mails := m.Mails("pat@example.com", []string{"frontdesk@demo.test"})
	if len(mails) != 3 || !mails[2].Outgoing || mails[2].Inbox != "frontdesk@demo.test" {
		t.Errorf("pat's mailbox after the reply: %d mails, last %+v", len(mails), mails[len(mails)-1])
	}
}

func TestDeliveryFailuresAreWordedAndKeepNothing(t *testing.T) {
	refusing := newFakeParley(t, &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such inbox"})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	pat := Person{Address: "pat@example.com", Name: "Pat"}
	for name, tc := range map[string]struct {
		addr string
		want string
	}{
		"no listener": {"", "listener of Parley is off"},
		"refused":     {refusing.addr, "refused the mail: 550 5.1.1 No such inbox"},
		"closed port": {closed, "cannot reach the SMTP listener"},
	} {
		t.Run(name, func(t *testing.T) {
			m := newTestMailbox(t, func() string { return tc.addr })
			_, err := m.Compose(t.Context(), Letter{From: pat, To: "frontdesk@demo.test", Subject: "Hi", Text: "Hello"})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to say %q", err, tc.want)
			}
			if n := len(m.Mails("pat@example.com", []string{"frontdesk@demo.test"})); n != 0 {
				t.Errorf("a mail that was not delivered was kept (%d)", n)
			}
		})
	}
	m := newTestMailbox(t, func() string { return refusing.addr })
	if _, err := m.Compose(t.Context(), Letter{From: Person{Address: "no-at-sign"}, To: "frontdesk@demo.test", Text: "x"}); err == nil {
		t.Error("a letter from a non-address was sent")
	}
	if _, err := m.Reply(t.Context(), pat, Mail{}, "x"); err == nil {
		t.Error("a reply to a mail with no address was sent")
	}
}

func TestQuoteFormat(t *testing.T) {
	q := Quote(Mail{Date: "Mon, 07 Dec 2026 14:05:00 +0000", FromName: "Front Desk", FromAddr: "fd@demo.test", Text: "One\r\n\r\n> older\nTwo\n"})
	want := "On Mon, Dec 7, 2026 at 2:05 PM, Front Desk <fd@demo.test> wrote:\n> One\n>\n>> older\n> Two\n"
	if q != want {
		t.Errorf("quote\n%q\nwant\n%q", q, want)
	}
}
