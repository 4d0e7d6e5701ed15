package mailbox

import (
	"context"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/parley-chat/parley/channels/email"
)

// Person is the simulated recipient writing mail.
type Person struct {
	Address string // lowercase
	Name    string
}

// Letter is a new message from a person to one of Parley's inboxes.
type Letter struct {
	From      Person
	To        string // the inbox's address
	ToName    string // the inbox's name
	Subject   string
	Text      string
	InboxAddr string // the inbox it belongs to (for scoping); defaults to To
}

// Compose builds l as an RFC 5322 message and delivers it to Parley's
// listener. On success it is kept in the person's mailbox and returned;
// on failure nothing is kept.
func (m *Mailbox) Compose(ctx context.Context, l Letter) (Mail, error) {
	return m.send(ctx, l, email.Outbound{
		To: []email.Address{{Name: l.ToName, Email: l.To}}, Subject: l.Subject,
	})
}

// Reply answers a mail of the person's mailbox the way a mail client
// does: to its Reply-To (else its From), "Re: " its subject, with
// In-Reply-To and References from it, and the text followed by a quote
// of it ("On <date>, <name> <addr> wrote:" and "> " lines).
func (m *Mailbox) Reply(ctx context.Context, from Person, orig Mail, text string) (Mail, error) {
	if orig.ReplyAddr == "" {
		return Mail{}, fmt.Errorf("the message has no address to reply to")
	}
	body := strings.TrimRight(text, "\r\n \t") + "\n\n" + Quote(orig)
	return m.send(ctx, Letter{From: from, To: orig.ReplyAddr, Text: body, InboxAddr: orig.Inbox}, email.Outbound{
		To:      []email.Address{{Email: orig.ReplyAddr}},
		Subject: orig.Subject, InReplyTo: bareID(orig.MessageID), References: msgIDs(orig.References),
	})
}

// send completes out from l, builds it and delivers it.
func (m *Mailbox) send(ctx context.Context, l Letter, out email.Outbound) (Mail, error) {
	_, domain, ok := strings.Cut(l.From.Address, "@")
	if !ok || domain == "" {
		return Mail{}, fmt.Errorf("%q is not an email address", l.From.Address)
	}
	out.From = email.Address{Name: l.From.Name, Email: l.From.Address}
	out.Text, out.Domain, out.Date = l.Text, domain, time.Now()
	raw, err := email.Build(out)
	if err != nil {
		return Mail{}, fmt.Errorf("the message could not be built: %w", err)
	}
	if err := m.deliver(ctx, l.From.Address, []string{l.To}, raw); err != nil {
		return Mail{}, err
	}
	ml := m.parse(raw)
	ml.At, ml.MailFrom, ml.RcptTo, ml.Outgoing = time.Now(), l.From.Address, []string{l.To}, true
	ml.Person, ml.Inbox = l.From.Address, strings.ToLower(l.To)
	if l.InboxAddr != "" {
		ml.Inbox = strings.ToLower(l.InboxAddr)
	}
	m.add(ml)
	return *ml, nil
}

// Quote is a Gmail-style quote of a mail: the attribution line, then
// each line of its text prefixed with "> ".
func Quote(orig Mail) string {
	at := orig.At
	if d, err := mail.ParseDate(orig.Date); err == nil {
		at = d
	}
	var b strings.Builder
	fmt.Fprintf(&b, "On %s, %s wrote:\n", at.Format("Mon, Jan 2, 2006 at 3:04 PM"), mailboxString(orig.FromName, orig.FromAddr))
	for _, line := range strings.Split(strings.TrimRight(strings.ReplaceAll(orig.Text, "\r\n", "\n"), "\n"), "\n") {
		if line == "" || strings.HasPrefix(line, ">") {
			b.WriteString(">" + line + "\n")
		} else {
			b.WriteString("> " + line + "\n")
		}
	}
	return b.String()
}

// bareID is a message id without its angle brackets.
func bareID(v string) string {
	return strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(v), "<"), ">")
}

// msgIDs lists the bare ids of a References value.
func msgIDs(v string) []string {
	var out []string
	for _, f := range strings.Fields(strings.NewReplacer("<", " <", ">", "> ").Replace(v)) {
		if id := bareID(f); id != "" {
			out = append(out, id)
		}
	}
	return out
}
