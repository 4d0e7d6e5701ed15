package mailbox

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"net/mail"
	"net/textproto"
	"strings"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/parley-chat/parley/channels/email"
)

// session is one SMTP transaction on the sink: it accepts any sender and
// any recipient, and keeps the message in every recipient's mailbox.
type session struct {
	m        *Mailbox
	mailFrom string
	rcpts    []string
}

func (m *Mailbox) newSession(*smtp.Conn) (smtp.Session, error) { return &session{m: m}, nil }

// Mail sets the return path ("" is the null one, <>).
func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.mailFrom = from
	return nil
}

// Rcpt accepts any recipient.
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.rcpts = append(s.rcpts, strings.ToLower(strings.TrimSpace(to)))
	return nil
}

// Data keeps the message; recipients at BounceDomain get it too (so the
// page shows what bounced) and then their bounce is sent.
func (s *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err // the size limit's 552 among others
	}
	s.m.receive(s.mailFrom, s.rcpts, raw)
	return nil
}

func (s *session) Reset()        { s.mailFrom, s.rcpts = "", nil }
func (s *session) Logout() error { return nil }

// receive stores a message delivered to the sink, one copy per recipient,
// and bounces those at BounceDomain.
func (m *Mailbox) receive(mailFrom string, rcpts []string, raw []byte) {
	var bounced []*Mail
	for _, rcpt := range rcpts {
		ml := m.parse(raw)
		ml.At, ml.MailFrom, ml.RcptTo = time.Now(), mailFrom, rcpts
		ml.Person, ml.Inbox = rcpt, ml.FromAddr
		if isBounceAddress(rcpt) {
			ml.Bounce = "Bouncing…"
			bounced = append(bounced, ml)
		}
		m.add(ml)
	}
	if len(bounced) == 0 {
		return
	}
	if mailFrom == "" { // never bounce a bounce (RFC 5321 §4.5.5)
		for _, ml := range bounced {
			m.update(ml, func(ml *Mail) { ml.Bounce = "Not bounced: the message has a null return path." })
		}
		return
	}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		m.bounce(mailFrom, bounced, raw)
	}()
}

// isBounceAddress reports whether an address is at BounceDomain.
func isBounceAddress(addr string) bool {
	return strings.HasSuffix(strings.ToLower(addr), "@"+BounceDomain)
}

// parse reads the headers and the text part of a raw message. A message
// that cannot be parsed is kept with its raw bytes and the reason.
func (m *Mailbox) parse(raw []byte) *Mail {
	ml := &Mail{Raw: raw}
	var h textproto.MIMEHeader
	in, err := email.Parse(raw, email.Limits{MaxBytes: m.cfg.MaxBytes})
	if err != nil {
		ml.ParseError = err.Error()
		msg, rerr := mail.ReadMessage(bytes.NewReader(raw))
		if rerr != nil {
			return ml
		}
		h = textproto.MIMEHeader(msg.Header)
		ml.Subject = decodeHeader(h.Get("Subject"))
	} else {
		h = in.Header
		ml.Subject, ml.Text = in.Subject, in.Text
	}
	ml.From, ml.To, ml.Date = addressList(h.Get("From")), addressList(h.Get("To")), oneLine(h.Get("Date"))
	ml.MessageID, ml.InReplyTo = oneLine(h.Get("Message-Id")), oneLine(h.Get("In-Reply-To"))
	ml.References = oneLine(strings.Join(h.Values("References"), " "))
	ml.ReplyTo, ml.AutoSubmitted = decodeHeader(h.Get("Reply-To")), oneLine(h.Get("Auto-Submitted"))
	ml.ListUnsubscribe = oneLine(h.Get("List-Unsubscribe"))
	if a, err := mail.ParseAddress(decodeHeader(h.Get("From"))); err == nil {
		ml.FromName, ml.FromAddr = a.Name, strings.ToLower(a.Address)
	}
	ml.ReplyAddr = ml.FromAddr
	if a, err := mail.ParseAddress(ml.ReplyTo); err == nil {
		ml.ReplyAddr = strings.ToLower(a.Address)
	}
	return ml
}

// decodeHeader decodes RFC 2047 words and unfolds a header value.
func decodeHeader(v string) string {
	if d, err := (&mime.WordDecoder{}).DecodeHeader(v); err == nil {
		v = d
	}
	return oneLine(v)
}

// addressList is an address header as a person reads it: each address as
// Name <addr>, without the quoting of the wire; undecodable ones as they are.
func addressList(v string) string {
	list, err := (&mail.AddressParser{WordDecoder: &mime.WordDecoder{}}).ParseList(v)
	if err != nil {
		return decodeHeader(v)
	}
	out := make([]string, len(list))
	for i, a := range list {
		out[i] = mailboxString(a.Name, a.Address)
	}
	return strings.Join(out, ", ")
}

// oneLine unfolds a header value onto one line.
func oneLine(v string) string { return strings.Join(strings.Fields(v), " ") }

// headerBlock is the raw header section of a message (up to and without
// the blank line), for a bounce to quote.
func headerBlock(raw []byte) []byte {
	for _, sep := range [][]byte{[]byte("\r\n\r\n"), []byte("\n\n")} {
		if i := bytes.Index(raw, sep); i >= 0 {
			return raw[:i]
		}
	}
	return raw
}

// mailboxString formats a name and address for display.
func mailboxString(name, addr string) string {
	if name == "" {
		return addr
	}
	return fmt.Sprintf("%s <%s>", name, addr)
}
