package web

import (
	"fmt"
	"mime"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/parley-chat/parley/models"
)

// An email's files and its original, for the page and the API. Whatever a
// sender wrote is served so that no browser renders it actively: a file
// is always an attachment (a download), under a content type that cannot
// run script, with nosniff and a sandboxing policy; the original is plain
// text. Either is found only by who may see the conversation (404 to
// anyone else, as for the conversation itself).

// downloadPolicy is the Content-Security-Policy of a download and of an
// original: if a browser ever showed one, it would be a sandboxed
// document that may load nothing.
const downloadPolicy = "sandbox; default-src 'none'"

// attachmentsAPIPath is where the API serves a file (apiAttachmentOut's url).
const attachmentsAPIPath = apiPrefix + "/attachments/"

// downloadAttachment serves a kept attachment the user may see (page and
// API alike).
func (s *Server) downloadAttachment(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	a, err := s.store.Attachment(c.UserContext(), sessionUser(c).Scope, id)
	if err != nil {
		return err
	}
	downloadHeaders(c)
	c.Set(fiber.HeaderContentType, safeContentType(a.ContentType))
	c.Set(fiber.HeaderContentDisposition, contentDisposition("attachment", a.Filename))
	return c.Send(a.Data)
}

// messageOriginal shows an email's whole text and raw message as plain
// text, for the page ("Show original").
func (s *Server) messageOriginal(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	raw, full, err := s.store.MessageOriginal(c.UserContext(), sessionUser(c).Scope, id)
	if err != nil {
		return err
	}
	downloadHeaders(c)
	c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
	c.Set(fiber.HeaderContentDisposition, contentDisposition("inline", "message-"+strconv.FormatInt(id, 10)+".txt"))
	return c.SendString(originalText(full, raw))
}

// originalText is what "Show original" shows: the text as received, before
// quoted history and the signature were taken off, then the raw message.
func originalText(full string, raw []byte) string {
	var b strings.Builder
	b.WriteString("===== The text as received (before quoted replies and the signature were removed) =====\n\n")
	if full == "" {
		b.WriteString("(no text)\n")
	} else {
		b.WriteString(full)
		if !strings.HasSuffix(full, "\n") {
			b.WriteString("\n")
		}
	}
	fmt.Fprintf(&b, "\n===== The raw message (%d bytes) =====\n\n", len(raw))
	if len(raw) == 0 {
		b.WriteString("(not kept)\n")
	} else {
		b.WriteString(strings.ToValidUTF8(string(raw), "\uFFFD"))
	}
	return b.String()
}

// apiOriginalOut is an email's original as the API shows it.
type apiOriginalOut struct {
	MessageID int64  `json:"message_id"`
	FullText  string `json:"full_text" jsonschema:"description=the text as received, before quoted replies and the signature were removed"`
	Raw       []byte `json:"raw" jsonschema:"description=the raw message (RFC 5322), base64"`
}

// apiMessageOriginal is the API's "Show original".
func (s *Server) apiMessageOriginal(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	raw, full, err := s.store.MessageOriginal(c.UserContext(), sessionUser(c).Scope, id)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	return c.JSON(apiOriginalOut{MessageID: id, FullText: full, Raw: raw})
}

// apiAttachmentRoutes registers the email views of the API.
func (s *Server) apiAttachmentRoutes(api fiber.Router) {
	s.apiHandle(api, apiOp{Method: fiber.MethodGet, Path: "/attachments/:id<int>", Tag: "messages",
		Summary:  "Download a file attached to an email (404 if it was too large to keep)",
		Produces: "application/octet-stream", Out: []byte{}}, s.downloadAttachment)
	s.apiHandle(api, apiOp{Method: fiber.MethodGet, Path: "/messages/:id<int>/original", Tag: "messages",
		Summary: "An email's original: its whole text and the raw message", Out: apiOriginalOut{}}, s.apiMessageOriginal)
}

// downloadHeaders are the headers of whatever a sender wrote.
func downloadHeaders(c *fiber.Ctx) {
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set("Content-Security-Policy", downloadPolicy)
	c.Set(fiber.HeaderCacheControl, "private, no-store")
}

// safeContentType is the type a file is served as: the type the sender
// gave, without parameters, unless a browser would render it actively
// (markup, script, style, a multipart stream) or it is no type at all,
// which are served as application/octet-stream.
func safeContentType(ct string) string {
	const fallback = "application/octet-stream"
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return fallback
	}
	typ, sub, ok := strings.Cut(mt, "/")
	if !ok || typ == "" || sub == "" {
		return fallback
	}
	if typ == "multipart" || typ == "message" {
		return fallback
	}
	for _, active := range []string{"html", "xml", "svg", "javascript", "ecmascript", "script", "css", "xsl", "flash"} {
		if strings.Contains(sub, active) {
			return fallback
		}
	}
	return mt
}

// contentDisposition is a Content-Disposition header (RFC 6266) naming
// the file: filename an ASCII fallback, filename* the name in UTF-8 as
// RFC 5987 encodes it. The name loses any path the sender put in it.
func contentDisposition(kind, name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.TrimSpace(strings.ToValidUTF8(name, ""))
	if name == "" || name == "." || name == ".." {
		name = "attachment"
	}
	var ascii strings.Builder
	for _, r := range name {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' || r == '%' {
			ascii.WriteByte('_')
			continue
		}
		ascii.WriteRune(r)
	}
	return kind + `; filename="` + ascii.String() + `"; filename*=UTF-8''` + rfc5987(name)
}

// rfc5987 percent-encodes s as an RFC 5987 value: every byte but the
// attr-chars.
func rfc5987(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x80 && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$&+-.^_`|~", c) >= 0) {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// apiAttachmentOut is a file attached to an email, as the API lists it.
type apiAttachmentOut struct {
	ID          int64  `json:"id"`
	Filename    string `json:"filename"`
	ContentType string `json:"content_type" jsonschema:"description=as the sender gave it (the download may be served as application/octet-stream)"`
	Size        int64  `json:"size" jsonschema:"description=bytes"`
	Omitted     bool   `json:"omitted" jsonschema:"description=too large: listed, not kept (no url)"`
	URL         string `json:"url,omitempty" jsonschema:"description=where to download it with the same token"`
}

// apiEmailOut is what an email message carries besides its text.
type apiEmailOut struct {
	Subject    string   `json:"subject"`
	From       string   `json:"from"`
	To         string   `json:"to"`
	MessageID  string   `json:"message_id" jsonschema:"description=its Message-ID header, without angle brackets"`
	InReplyTo  string   `json:"in_reply_to"`
	References []string `json:"references"`
	Automated  string   `json:"automated" jsonschema:"description=why it looks machine-written (RFC 3834); empty for a person's mail"`
}

// emailOut is m's email part for the API, or nil for SMS.
func emailOut(m *models.Message) (*apiEmailOut, []apiAttachmentOut) {
	atts := make([]apiAttachmentOut, 0, len(m.Attachments))
	for _, a := range m.Attachments {
		out := apiAttachmentOut{ID: a.ID, Filename: a.Filename, ContentType: a.ContentType, Size: a.Size, Omitted: a.Omitted}
		if !a.Omitted {
			out.URL = attachmentsAPIPath + url.PathEscape(strconv.FormatInt(a.ID, 10))
		}
		atts = append(atts, out)
	}
	e := m.Email
	if e == nil {
		return nil, atts
	}
	refs := e.References
	if refs == nil {
		refs = []string{}
	}
	return &apiEmailOut{Subject: e.Subject, From: e.FromAddr, To: e.ToAddr, MessageID: e.HeaderID,
		InReplyTo: e.InReplyTo, References: refs, Automated: e.Automated}, atts
}
