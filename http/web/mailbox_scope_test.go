package web_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/emersion/go-smtp"
	"github.com/parley-chat/parley/channels/email"
	"github.com/parley-chat/parley/http/simulator/mailbox"
)

// smtpRecorder stands in for Parley's SMTP listener behind the mailbox:
// it accepts everything and remembers each message's recipients and bytes.
type smtpRecorder struct {
	addr string
	mu   sync.Mutex
	got  []recorded
}

type recorded struct {
	rcpts []string
	raw   []byte
}

func newSMTPRecorder(t *testing.T) *smtpRecorder {
	t.Helper()
	r := &smtpRecorder{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &recorderSession{r: r}, nil }))
	srv.Domain = "parley.test"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.addr = ln.Addr().String()
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return r
}

func (r *smtpRecorder) messages() []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

type recorderSession struct {
	r     *smtpRecorder
	rcpts []string
}

func (s *recorderSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *recorderSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.rcpts = append(s.rcpts, to)
	return nil
}
func (s *recorderSession) Data(rd io.Reader) error {
	raw, err := io.ReadAll(rd)
	if err != nil {
		return err
	}
	s.r.mu.Lock()
	s.r.got = append(s.r.got, recorded{s.rcpts, raw})
	s.r.mu.Unlock()
	return nil
}
func (s *recorderSession) Reset()        { s.rcpts = nil }
func (s *recorderSession) Logout() error { return nil }

// runMailbox starts a mailbox simulator on a free port that delivers to
// the address parley returns.
func runMailbox(t *testing.T, parley func() string) *mailbox.Mailbox {
	t.Helper()
	mb, err := mailbox.New(mailbox.Config{Addr: "127.0.0.1:0", Parley: parley, Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = mb.Serve(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return mb
}

// mailToSink delivers a message from an inbox to a person through the
// mailbox's SMTP sink, as Parley's worker does.
func mailToSink(t *testing.T, mb *mailbox.Mailbox, from, to, subject, text string) {
	t.Helper()
	raw, err := email.Build(email.Outbound{From: email.Address{Name: "Desk", Email: from}, To: []email.Address{{Email: to}},
		ReplyTo: "reply+tok" + strings.Split(from, "@")[0] + "@parley.test", Subject: subject, Text: text, Domain: "parley.test"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := smtp.Dial(mb.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.SendMail("bounce-x@parley.test", []string{to}, bytes.NewReader(raw)); err != nil {
		t.Fatal(err)
	}
	_ = c.Quit()
}

// matrixMailbox is the policy matrix's mailbox: mail 1 is from the demo's
// inbox (A) and mail 2 from matrixInboxBEmail, both to matrixPerson.
func matrixMailbox(t *testing.T) *mailbox.Mailbox {
	t.Helper()
	rec := newSMTPRecorder(t)
	mb := runMailbox(t, func() string { return rec.addr })
	mailToSink(t, mb, demoInboxEmail, matrixPerson, "Matrix A", "matrix mail A")
	mailToSink(t, mb, matrixInboxBEmail, matrixPerson, "Matrix B", "matrix mail B")
	return mb
}

const (
	demoInboxEmail    = "demo@inbound.parley.test"
	matrixPerson      = "matrix-person@example.com"
	matrixInboxBEmail = "matrix-b@inbound.parley.test"
)

// mailboxView is what a mailbox page shows.
type mailboxView struct {
	people, subjects, inboxes []string
	headers                   map[string]string
	errors                    []string
}

func viewMailbox(t *testing.T, c *client, path string) mailboxView {
	t.Helper()
	resp, body := c.get(path)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", path, resp.StatusCode)
	}
	d, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	v := mailboxView{headers: map[string]string{}}
	d.Find(".mailbox-people a.chip").Each(func(_ int, s *goquery.Selection) { v.people = append(v.people, s.Text()) })
	d.Find(".mailbox-item-subject").Each(func(_ int, s *goquery.Selection) {
		s.Find(".badge").Remove()
		v.subjects = append(v.subjects, strings.TrimSpace(s.Text()))
	})
	d.Find(`select[name=to] option`).Each(func(_ int, s *goquery.Selection) { v.inboxes = append(v.inboxes, s.AttrOr("value", "")) })
	d.Find("dd[data-header]").Each(func(_ int, s *goquery.Selection) { v.headers[s.AttrOr("data-header", "")] = s.Text() })
	d.Find(".alert-error, .field-error").Each(func(_ int, s *goquery.Selection) { v.errors = append(v.errors, s.Text()) })
	return v
}

// postMailbox posts one of the mailbox page's forms with a CSRF token.
func postMailbox(t *testing.T, c *client, path string, form url.Values) (int, string) {
	t.Helper()
	form.Set("_csrf", c.csrf("/simulator/mailbox"))
	resp, body := c.do("POST", path, form, nil)
	return resp.StatusCode, body
}

// mailID finds the id of a person's mail by subject, as the page links it.
func mailID(t *testing.T, c *client, person, subject string) string {
	t.Helper()
	_, body := c.get("/simulator/mailbox/list?address=" + url.QueryEscape(person))
	d, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	id := ""
	d.Find("a.mailbox-item").Each(func(_ int, s *goquery.Selection) {
		if strings.Contains(s.Find(".mailbox-item-subject").Text(), subject) {
			u, _ := url.Parse(s.AttrOr("href", ""))
			id = u.Query().Get("open")
		}
	})
	if id == "" {
		t.Fatalf("no mail %q in %s's list:\n%s", subject, person, body)
	}
	return id
}

// TestMailboxScopedToVisibleInboxes (R9): the mailbox pages show a user
// only mail to or from the inboxes they may see, write only to those, and
// answer an inbox or a mail they may not see with 404, sending nothing.
func TestMailboxScopedToVisibleInboxes(t *testing.T) {
	rec := newSMTPRecorder(t)
	mb := runMailbox(t, func() string { return rec.addr })
	f := newFixtureWith(t, serverOpts{mailbox: mb})
	ctx := context.Background()
	db := f.Store.DB()
	rival := otherOrgUser(t, f)
	const rivalDesk = "desk@rival.test"
	if _, err := db.NewRaw("UPDATE inboxes SET email_address = ? WHERE id = ?", rivalDesk, rival.inboxID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.NewRaw("UPDATE inboxes SET email_address = NULL WHERE id = ?", rival.inboxID).Exec(ctx) })
	limited, backNumber := limitedAgent(t, f)
	const backOffice = "back-office@inbound.parley.test"
	if _, err := db.NewRaw("UPDATE inboxes SET email_address = ? WHERE sms_number = ?", backOffice, backNumber).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	admin := f.client(t)
	admin.login(adminEmail, adminPassword)

	mailToSink(t, mb, demoInboxEmail, "pat@example.com", "Demo booking", "See you Friday.")
	mailToSink(t, mb, rivalDesk, "pat@example.com", "Rival secret", "rival's words")
	mailToSink(t, mb, rivalDesk, "rivals-client@example.com", "Rival only", "rival's words")
	mailToSink(t, mb, backOffice, "lee@example.com", "Back office", "back office words")

	t.Run("the page shows what the sink received, of visible inboxes only", func(t *testing.T) {
		v := viewMailbox(t, admin, "/simulator/mailbox?address=pat%40example.com")
		if !slices.Equal(v.subjects, []string{"Demo booking"}) {
			t.Errorf("admin sees %v in pat's mailbox, want only the demo's mail", v.subjects)
		}
		if slices.Contains(v.people, "rivals-client@example.com") || !slices.Contains(v.people, "lee@example.com") {
			t.Errorf("admin's other mailboxes %v", v.people)
		}
		if !slices.Contains(v.inboxes, demoInboxEmail) || !slices.Contains(v.inboxes, backOffice) || slices.Contains(v.inboxes, rivalDesk) {
			t.Errorf("admin may write to %v", v.inboxes)
		}
		rv := viewMailbox(t, rival.client, "/simulator/mailbox?address=pat%40example.com")
		if !slices.Equal(rv.subjects, []string{"Rival secret"}) || !slices.Equal(rv.inboxes, []string{rivalDesk}) {
			t.Errorf("rival sees %v, may write to %v", rv.subjects, rv.inboxes)
		}
		lv := viewMailbox(t, limited, "/simulator/mailbox?address=pat%40example.com")
		if len(lv.subjects) != 0 || !slices.Equal(lv.inboxes, []string{backOffice}) {
			t.Errorf("limited agent sees %v, may write to %v", lv.subjects, lv.inboxes)
		}
	})

	t.Run("an open mail shows its headers", func(t *testing.T) {
		id := mailID(t, admin, "pat@example.com", "Demo booking")
		v := viewMailbox(t, admin, "/simulator/mailbox?address=pat%40example.com&open="+id)
		if !strings.HasSuffix(v.headers["Message-ID"], "@parley.test>") || v.headers["Reply-To"] != "<reply+tokdemo@parley.test>" ||
			v.headers["In-Reply-To"] != "—" {
			t.Errorf("headers %v", v.headers)
		}
		rid := mailID(t, rival.client, "pat@example.com", "Rival secret")
		if v := viewMailbox(t, admin, "/simulator/mailbox?address=pat%40example.com&open="+rid); len(v.headers) != 0 {
			t.Errorf("admin opened the rival's mail: %v", v.headers)
		}
	})

	t.Run("compose and reply reach the listener", func(t *testing.T) {
		code, body := postMailbox(t, admin, "/simulator/mailbox/send", url.Values{"address": {"pat@example.com"}, "name": {"Pat"},
			"to": {demoInboxEmail}, "subject": {"New booking"}, "text": {"Is Monday free?"}})
		if code != http.StatusOK || !strings.Contains(body, "Delivered to Front Desk.") {
			t.Fatalf("send: %d %s", code, body)
		}
		got := rec.messages()
		if len(got) != 1 || !slices.Equal(got[0].rcpts, []string{demoInboxEmail}) || !bytes.Contains(got[0].raw, []byte("Is Monday free?")) {
			t.Fatalf("the listener got %d messages: %+v", len(got), got)
		}
		id := mailID(t, admin, "pat@example.com", "Demo booking")
		code, body = postMailbox(t, admin, "/simulator/mailbox/reply", url.Values{"address": {"pat@example.com"}, "id": {id}, "text": {"Yes, Friday."}})
		if code != http.StatusOK || !strings.Contains(body, "Reply delivered.") {
			t.Fatalf("reply: %d %s", code, body)
		}
		got = rec.messages()
		if len(got) != 2 || !slices.Equal(got[1].rcpts, []string{"reply+tokdemo@parley.test"}) {
			t.Fatalf("the reply went to %+v", got[len(got)-1].rcpts)
		}
		in, err := email.Parse(got[1].raw, email.Limits{})
		if err != nil || in.Subject != "Re: Demo booking" || in.InReplyTo == "" || !strings.Contains(in.Text, "> See you Friday.") {
			t.Errorf("the reply on the wire: %+v, %v", in, err)
		}
		v := viewMailbox(t, admin, "/simulator/mailbox?address=pat%40example.com")
		if !slices.Equal(v.subjects, []string{"Demo booking", "New booking", "Re: Demo booking"}) {
			t.Errorf("pat's mailbox after writing: %v", v.subjects)
		}
	})

	t.Run("another organization's inbox or mail is not found and nothing is sent", func(t *testing.T) {
		before := len(rec.messages())
		if code, _ := postMailbox(t, admin, "/simulator/mailbox/send", url.Values{"address": {"pat@example.com"}, "to": {rivalDesk}, "text": {"injected"}}); code != http.StatusNotFound {
			t.Errorf("writing to the rival's inbox: %d, want 404", code)
		}
		rid := mailID(t, rival.client, "pat@example.com", "Rival secret")
		if code, _ := postMailbox(t, admin, "/simulator/mailbox/reply", url.Values{"address": {"pat@example.com"}, "id": {rid}, "text": {"injected"}}); code != http.StatusNotFound {
			t.Errorf("replying to the rival's mail: %d, want 404", code)
		}
		if code, _ := postMailbox(t, limited, "/simulator/mailbox/send", url.Values{"address": {"pat@example.com"}, "to": {demoInboxEmail}, "text": {"not mine"}}); code != http.StatusNotFound {
			t.Errorf("limited agent writing to Front Desk: %d, want 404", code)
		}
		if code, _ := postMailbox(t, admin, "/simulator/mailbox/reply", url.Values{"address": {"pat@example.com"}, "id": {"99999"}, "text": {"x"}}); code != http.StatusNotFound {
			t.Errorf("replying to no mail: %d, want 404", code)
		}
		if n := len(rec.messages()); n != before {
			t.Errorf("%d messages reached the listener", n-before)
		}
	})

	t.Run("bad input is refused with a message", func(t *testing.T) {
		before := len(rec.messages())
		for name, form := range map[string]url.Values{
			"no text":     {"address": {"pat@example.com"}, "to": {demoInboxEmail}, "text": {"  "}},
			"bad address": {"address": {"not an address"}, "to": {demoInboxEmail}, "text": {"hi"}},
			"long subject": {"address": {"pat@example.com"}, "to": {demoInboxEmail}, "text": {"hi"},
				"subject": {strings.Repeat("s", 201)}},
		} {
			code, body := postMailbox(t, admin, "/simulator/mailbox/send", form)
			if code != http.StatusUnprocessableEntity || !strings.Contains(body, `role="alert"`) {
				t.Errorf("%s: %d %s", name, code, body)
			}
		}
		if v := viewMailbox(t, admin, "/simulator/mailbox?address=nonsense"); len(v.errors) != 1 {
			t.Errorf("a typed non-address: errors %v", v.errors)
		}
		if n := len(rec.messages()); n != before {
			t.Errorf("%d refused messages reached the listener", n-before)
		}
	})
}

// TestMailboxDeliveryFailureIsShown: with no listener, or one that is not
// there, the page says the mail was not delivered and keeps what was typed.
func TestMailboxDeliveryFailureIsShown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gone := ln.Addr().String()
	ln.Close()
	var mu sync.Mutex
	addr := ""
	mb := runMailbox(t, func() string { mu.Lock(); defer mu.Unlock(); return addr })
	f := newFixtureWith(t, serverOpts{mailbox: mb})
	admin := f.client(t)
	admin.login(adminEmail, adminPassword)
	for name, a := range map[string]string{"no listener": "", "nothing listening": gone} {
		mu.Lock()
		addr = a
		mu.Unlock()
		code, body := postMailbox(t, admin, "/simulator/mailbox/send", url.Values{"address": {"pat@example.com"}, "to": {demoInboxEmail},
			"subject": {"Kept"}, "text": {"typed words"}})
		if code != http.StatusUnprocessableEntity || !strings.Contains(body, "Not delivered: ") || !strings.Contains(body, "typed words") {
			t.Errorf("%s: %d %s", name, code, body)
		}
	}
	if v := viewMailbox(t, admin, "/simulator/mailbox?address=pat%40example.com"); len(v.subjects) != 0 {
		t.Errorf("undelivered mail is listed: %v", v.subjects)
	}
}
