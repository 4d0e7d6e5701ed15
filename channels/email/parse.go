package email

import (
	"bytes"
	"fmt"
	"net/mail"
	"net/textproto"
	"path"
	"strings"
	"time"
	"unicode"

	"github.com/jhillyerd/enmime/v2"
)

// Header is a message's header, keys in canonical form.
type Header = textproto.MIMEHeader

// Address is one mailbox: a display name (may be empty) and an address
// whose domain is lowercased.
type Address struct {
	Name  string
	Email string
}

// Attachment is one attached (or inline) file.
type Attachment struct {
	Name        string // file name without any directory, never empty
	ContentType string // e.g. "application/pdf"
	Size        int    // decoded size in bytes
	Content     []byte // nil when Omitted
	Omitted     bool   // over Limits.MaxAttachmentBytes: listed, not kept
}

// Inbound is a parsed incoming message. Message ids are bare, without
// angle brackets. The caller keeps the raw bytes ("show original").
type Inbound struct {
	From        Address
	To          []Address
	Cc          []Address
	DeliveredTo []Address
	Subject     string
	MessageID   string
	InReplyTo   string
	References  []string
	Date        time.Time // zero when missing or unreadable
	// Text is the body as plain text: the text/plain part, or the HTML
	// part converted to text when there is no text part. Valid UTF-8.
	Text        string
	Attachments []Attachment
	Header      Header
	// Automated and AutomatedReason are Automated(Header).
	Automated       bool
	AutomatedReason string
}

// Parse parses a raw RFC 5322 message within limits. It refuses with an
// error wrapping ErrTooLarge, ErrTooComplex or ErrMalformed; text in an
// unknown or wrong charset is decoded best-effort rather than refused.
func Parse(raw []byte, limits Limits) (*Inbound, error) {
	l := limits.withDefaults()
	if len(raw) > l.MaxBytes {
		return nil, fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooLarge, len(raw), l.MaxBytes)
	}
	if tooComplexRaw(raw, l) {
		return nil, fmt.Errorf("%w: more MIME structure than %d parts can hold", ErrTooComplex, l.MaxParts)
	}
	env, err := enmime.NewParser().ReadEnvelope(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	parts, depth := measure(env.Root, 0)
	if parts > l.MaxParts {
		return nil, fmt.Errorf("%w: %d parts, the limit is %d", ErrTooComplex, parts, l.MaxParts)
	}
	if depth > l.MaxDepth {
		return nil, fmt.Errorf("%w: nested %d deep, the limit is %d", ErrTooComplex, depth, l.MaxDepth)
	}

	h := env.Root.Header
	in := &Inbound{
		Subject:    cleanLine(env.GetHeader("Subject")),
		MessageID:  firstID(h.Get("Message-Id")),
		InReplyTo:  firstID(h.Get("In-Reply-To")),
		References: msgIDs(h.Get("References")),
		Text:       cleanText(env.Text),
		Header:     h,
	}
	from := addresses(env, "From")
	if len(from) == 0 {
		return nil, fmt.Errorf("%w: no readable From address", ErrMalformed)
	}
	in.From = from[0]
	in.To = addresses(env, "To")
	in.Cc = addresses(env, "Cc")
	for _, v := range h.Values("Delivered-To") {
		if a, err := mail.ParseAddress(v); err == nil {
			in.DeliveredTo = append(in.DeliveredTo, address(a))
		}
	}
	if d, err := env.Date(); err == nil {
		in.Date = d
	}
	for _, p := range append(env.Attachments, env.Inlines...) {
		in.Attachments = append(in.Attachments, attachment(p, l.MaxAttachmentBytes))
	}
	in.Automated, in.AutomatedReason = Automated(h)
	return in, nil
}

// measure counts the parts of the tree under p and its deepest nesting;
// p itself is at depth.
func measure(p *Part, depth int) (parts, deepest int) {
	parts, deepest = 1, depth
	for c := p.FirstChild; c != nil; c = c.NextSibling {
		n, d := measure(c, depth+1)
		parts += n
		deepest = max(deepest, d)
	}
	return parts, deepest
}

// Part is enmime's MIME part, named here for measure.
type Part = enmime.Part

// addresses reads an address header leniently: an unreadable header gives
// no addresses rather than an error.
func addresses(env *enmime.Envelope, key string) []Address {
	list, err := env.AddressList(key)
	if err != nil {
		return nil
	}
	var out []Address
	for _, a := range list {
		if a != nil && strings.Contains(a.Address, "@") {
			out = append(out, address(a))
		}
	}
	return out
}

func address(a *mail.Address) Address {
	email := strings.TrimSpace(a.Address)
	if at := strings.LastIndexByte(email, '@'); at >= 0 {
		email = email[:at] + strings.ToLower(email[at:])
	}
	return Address{Name: cleanLine(a.Name), Email: email}
}

func attachment(p *enmime.Part, maxBytes int) Attachment {
	a := Attachment{
		Name:        fileName(p.FileName),
		ContentType: strings.ToLower(p.ContentType),
		Size:        len(p.Content),
	}
	if a.ContentType == "" {
		a.ContentType = "application/octet-stream"
	}
	if a.Size > maxBytes {
		a.Omitted = true
	} else {
		a.Content = p.Content
	}
	return a
}

// fileName keeps the last path element of a sender's file name, without
// control characters; "attachment" when nothing is left.
func fileName(name string) string {
	name = strings.ReplaceAll(name, `\`, "/")
	name = cleanLine(path.Base(name))
	if name == "." || name == "/" || name == ".." || name == "" {
		return "attachment"
	}
	return name
}

// cleanLine makes a header value safe to show: valid UTF-8, no control
// characters, trimmed.
func cleanLine(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

// cleanText makes a body safe to store as text: valid UTF-8, "\n" line
// ends, no NULs or other control characters but tab and newline.
func cleanText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			return r
		case r == '\r':
			return '\n'
		case unicode.IsControl(r):
			return -1
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

// msgIDs reads a list of message ids ("<a@b> <c@d>"), bare; ids without
// angle brackets, as some software writes them, are read as words.
func msgIDs(v string) []string {
	var ids []string
	rest := v
	for {
		i := strings.IndexByte(rest, '<')
		if i < 0 {
			break
		}
		j := strings.IndexByte(rest[i:], '>')
		if j < 0 {
			break
		}
		if id := cleanID(rest[i+1 : i+j]); id != "" {
			ids = append(ids, id)
		}
		rest = rest[i+j+1:]
	}
	if ids == nil {
		for _, f := range strings.Fields(v) {
			if id := cleanID(f); id != "" {
				ids = append(ids, id)
			}
		}
	}
	return ids
}

func firstID(v string) string {
	if ids := msgIDs(v); len(ids) > 0 {
		return ids[0]
	}
	return ""
}

// cleanID keeps an id only if it is printable ASCII without spaces or
// brackets, at most 998 bytes (a header line).
func cleanID(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 998 {
		return ""
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || c == '<' || c == '>' {
			return ""
		}
	}
	return s
}
