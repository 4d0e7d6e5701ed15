package mailbox

import (
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/parley-chat/parley/http/web"
	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/views"
)

// The person the page starts with.
const (
	DefaultAddress = "pat@example.com"
	DefaultName    = "Pat Example"
)

// Limits of what the page's forms take.
const (
	maxName    = 100
	maxSubject = 200
	maxText    = 64 << 10
)

// Pages returns the mailbox's pages, rendered through the web app's kit;
// http/web's route table mounts them behind its login check.
func (m *Mailbox) Pages(kit web.PageKit) web.MailboxPages { return &pages{m: m, kit: kit} }

// pages implements web.MailboxPages.
type pages struct {
	m   *Mailbox
	kit web.PageKit
}

// inboxes lists the inboxes with an email address that the signed-in
// user may see (their organization's; a limited agent's own). Everything
// the pages show or send is limited to them (R9).
func (p *pages) inboxes(c *fiber.Ctx) ([]views.MailboxInbox, []string, error) {
	all, err := p.kit.Inboxes(c)
	if err != nil {
		return nil, nil, fmt.Errorf("mailbox: visible inboxes: %w", err)
	}
	var out []views.MailboxInbox
	var addrs []string
	for _, in := range all {
		if in.EmailAddress != nil && *in.EmailAddress != "" {
			a := strings.ToLower(*in.EmailAddress)
			out = append(out, views.MailboxInbox{Name: in.Name, Address: a})
			addrs = append(addrs, a)
		}
	}
	return out, addrs, nil
}

// person reads the person played from the request (query or form): a
// typed address that is not one falls back to the default, with a note.
func person(c *fiber.Ctx) (Person, string) {
	// Fiber's strings point into buffers it reuses; the mailbox keeps these.
	raw := strings.Clone(strings.TrimSpace(c.FormValue("address", c.Query("address"))))
	name := strings.Clone(strings.TrimSpace(c.FormValue("name", c.Query("name"))))
	if raw == "" {
		raw, name = DefaultAddress, orDefault(name, DefaultName)
	}
	addr, ok := models.ParseEmail(raw)
	if !ok {
		return Person{Address: DefaultAddress, Name: DefaultName}, "That is not an email address; showing " + DefaultAddress + "."
	}
	if utf8.RuneCountInString(name) > maxName {
		name = string([]rune(name)[:maxName])
	}
	return Person{Address: addr, Name: name}, ""
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// data is the page for a person and a user who may see the inboxes given.
func (p *pages) data(c *fiber.Ctx, who Person, open string) (*views.MailboxData, []string, error) {
	inboxes, addrs, err := p.inboxes(c)
	if err != nil {
		return nil, nil, err
	}
	d := &views.MailboxData{Address: who.Address, Name: who.Name, Inboxes: inboxes, BounceDomain: BounceDomain}
	for _, a := range p.m.People(addrs) {
		if a != who.Address {
			d.People = append(d.People, a)
		}
	}
	d.ListURL = "/simulator/mailbox/list?" + query(who, open)
	for _, ml := range p.m.Mails(who.Address, addrs) {
		v := mailView(ml)
		v.Href = "/simulator/mailbox?" + query(who, ml.ID)
		d.Mails = append(d.Mails, v)
		if ml.ID == open {
			v.Opened = true
			d.Open = &v
		}
	}
	if len(inboxes) > 0 {
		d.Compose.To = inboxes[0].Address
	}
	return d, addrs, nil
}

// mailView is a mail as the page shows it.
func mailView(ml Mail) views.MailboxMail {
	snippet := strings.Join(strings.Fields(ml.Text), " ")
	if utf8.RuneCountInString(snippet) > 120 {
		snippet = string([]rune(snippet)[:120]) + "…"
	}
	return views.MailboxMail{
		ID: ml.ID, At: ml.At, Outgoing: ml.Outgoing, From: ml.From, To: ml.To, Subject: ml.Subject, Date: ml.Date,
		MessageID: ml.MessageID, InReplyTo: ml.InReplyTo, References: ml.References, ReplyTo: ml.ReplyTo,
		AutoSubmitted: ml.AutoSubmitted, ListUnsubscribe: ml.ListUnsubscribe, MailFrom: ml.MailFrom,
		Text: ml.Text, Snippet: snippet, Bounce: ml.Bounce, ParseError: ml.ParseError,
	}
}

// Page shows a person's mailbox.
func (p *pages) Page(c *fiber.Ctx) error {
	who, errMsg := person(c)
	d, _, err := p.data(c, who, c.Query("open"))
	if err != nil {
		return err
	}
	d.Error = errMsg
	return p.kit.Render(c, "mailbox", "Mailbox simulator", "mail", d)
}

// List renders the mailbox's list alone, for an HTMX refresh.
func (p *pages) List(c *fiber.Ctx) error {
	who, _ := person(c)
	d, _, err := p.data(c, who, c.Query("open"))
	if err != nil {
		return err
	}
	return p.kit.Fragment(c, "mailbox", "mailbox-list", d)
}

// Send writes a new mail from the person to an inbox and delivers it to
// Parley's listener. An inbox the user may not see answers 404 before
// anything is sent (R9: never 403).
func (p *pages) Send(c *fiber.Ctx) error {
	who, errMsg := person(c)
	d, _, err := p.data(c, who, "")
	if err != nil {
		return err
	}
	to := strings.ToLower(strings.TrimSpace(c.FormValue("to")))
	var inbox *views.MailboxInbox
	for i := range d.Inboxes {
		if d.Inboxes[i].Address == to {
			inbox = &d.Inboxes[i]
		}
	}
	if inbox == nil {
		return fiber.ErrNotFound
	}
	f := &d.Compose
	f.To, f.Subject, f.Text = to, strings.Clone(strings.TrimSpace(c.FormValue("subject"))), strings.Clone(c.FormValue("text"))
	switch {
	case errMsg != "":
		f.Error = "Type your email address first."
	case strings.TrimSpace(f.Text) == "":
		f.Error = "Write a message first."
	case utf8.RuneCountInString(f.Subject) > maxSubject:
		f.Error = fmt.Sprintf("The subject is too long (at most %d characters).", maxSubject)
	case len(f.Text) > maxText:
		f.Error = "The message is too long."
	default:
		if _, err := p.m.Compose(c.UserContext(), Letter{From: who, To: inbox.Address, ToName: inbox.Name, Subject: f.Subject, Text: f.Text}); err != nil {
			f.Error = "Not delivered: " + err.Error()
		} else {
			*f = views.MailboxCompose{To: to, Notice: "Delivered to " + inbox.Name + "."}
			c.Set("HX-Trigger", "mailbox-changed")
		}
	}
	if f.Error != "" {
		c.Status(fiber.StatusUnprocessableEntity)
	}
	return p.kit.Fragment(c, "mailbox", "mailbox-compose", d)
}

// Reply answers a mail the person received. A mail that is not theirs or
// not of an inbox the user may see answers 404 (R9).
func (p *pages) Reply(c *fiber.Ctx) error {
	who, _ := person(c)
	id := strings.Clone(c.FormValue("id"))
	d, addrs, err := p.data(c, who, id)
	if err != nil {
		return err
	}
	orig, ok := p.m.Mail(who.Address, id, addrs)
	if !ok {
		return fiber.ErrNotFound
	}
	r := &d.Reply
	r.Text = strings.Clone(c.FormValue("text"))
	switch {
	case orig.Outgoing:
		r.Error = "That is a message you sent; reply to one you received."
	case strings.TrimSpace(r.Text) == "":
		r.Error = "Write your reply first."
	case len(r.Text) > maxText:
		r.Error = "The reply is too long."
	default:
		if _, err := p.m.Reply(c.UserContext(), who, orig, r.Text); err != nil {
			r.Error = "Not delivered: " + err.Error()
		} else {
			*r = views.MailboxReply{Notice: "Reply delivered."}
			c.Set("HX-Trigger", "mailbox-changed")
		}
	}
	if r.Error != "" {
		c.Status(fiber.StatusUnprocessableEntity)
	}
	return p.kit.Fragment(c, "mailbox", "mailbox-reply", d)
}

// query is the page's query for a person (and an open mail).
func query(who Person, open string) string {
	q := url.Values{"address": {who.Address}, "name": {who.Name}}
	if open != "" {
		q.Set("open", open)
	}
	return q.Encode()
}
