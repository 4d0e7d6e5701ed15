package email

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"net/textproto"
	"regexp"
	"strings"
)

// Bounce is what a delivery status notification (RFC 3464) reports.
type Bounce struct {
	Recipient string // the address that failed
	Status    string // e.g. "5.1.1"
	Reason    string // the receiving server's words (Diagnostic-Code), or a summary
}

// ErrNotBounce: the message is not a delivery status notification.
var ErrNotBounce = errors.New("not a delivery status notification")

// Bounds on what ParseBounce reads: a report is small, whatever it quotes.
const (
	maxBouncePart  = 256 << 10 // bytes of any one part read
	maxBounceDepth = 4         // multipart nesting followed
	maxBounceParts = 32        // parts looked at in all
)

// ParseBounce reads a delivery status notification: an RFC 3464
// multipart/report whose delivery-status part reports a failed recipient
// or, as best effort, the plain-text notices some mailers still send
// (from MAILER-DAEMON or postmaster, with the failed address and the
// server's reply in the text). A message that is neither, or reports only
// delays or successes, fails with ErrNotBounce.
func ParseBounce(raw []byte) (*Bounce, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return nil, ErrNotBounce
	}
	w := &bounceWalk{}
	if err := w.part(textproto.MIMEHeader(msg.Header), msg.Body, 0); err != nil {
		return nil, err
	}
	if w.found != nil {
		return w.found, nil
	}
	if w.sawReport {
		return nil, ErrNotBounce // a report of delays or deliveries
	}
	if looksLikeMailerDaemon(msg.Header) && w.text != "" {
		if b := textBounce(w.text); b != nil {
			return b, nil
		}
	}
	return nil, ErrNotBounce
}

// bounceWalk collects, over a message's parts, the first failed recipient
// of a delivery-status part and the first plain-text part.
type bounceWalk struct {
	found     *Bounce
	sawReport bool
	text      string
	parts     int
}

func (w *bounceWalk) part(h textproto.MIMEHeader, body io.Reader, depth int) error {
	w.parts++
	if w.parts > maxBounceParts || w.found != nil {
		return nil
	}
	ct := h.Get("Content-Type")
	if ct == "" {
		ct = "text/plain"
	}
	media, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return nil // an unreadable part is skipped, not fatal
	}
	switch {
	case strings.HasPrefix(media, "multipart/"):
		if depth >= maxBounceDepth || params["boundary"] == "" {
			return nil
		}
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextPart()
			if err != nil {
				return nil // the end, or a broken part: what was read stands
			}
			if err := w.part(p.Header, p, depth+1); err != nil {
				return err
			}
		}
	case media == "message/delivery-status" || media == "message/global-delivery-status":
		w.sawReport = true
		b, err := readPart(h, body)
		if err != nil {
			return nil
		}
		w.found = deliveryStatus(b)
	case media == "text/plain" && w.text == "":
		b, err := readPart(h, body)
		if err == nil {
			w.text = string(b)
		}
	}
	return nil
}

// readPart reads a part's decoded body, bounded (multipart.Reader already
// undoes quoted-printable).
func readPart(h textproto.MIMEHeader, body io.Reader) ([]byte, error) {
	r := io.LimitReader(body, maxBouncePart)
	if strings.EqualFold(strings.TrimSpace(h.Get("Content-Transfer-Encoding")), "base64") {
		r = base64.NewDecoder(base64.StdEncoding, r) // it skips line breaks
	}
	return io.ReadAll(r)
}

// deliveryStatus reads a message/delivery-status body: the per-message
// fields, then a block of fields per recipient (RFC 3464 section 2.1),
// and returns the first recipient whose Action is failed.
func deliveryStatus(b []byte) *Bounce {
	r := textproto.NewReader(bufio.NewReader(bytes.NewReader(b)))
	first := true
	for {
		h, err := r.ReadMIMEHeader()
		if len(h) > 0 && !first {
			if bounce := failedRecipient(h); bounce != nil {
				return bounce
			}
		}
		if len(h) > 0 {
			first = false
		}
		if err != nil {
			return nil
		}
	}
}

// failedRecipient reads one per-recipient block; nil unless it failed.
func failedRecipient(h textproto.MIMEHeader) *Bounce {
	action := strings.ToLower(strings.TrimSpace(h.Get("Action")))
	status := strings.TrimSpace(h.Get("Status"))
	if i := strings.IndexAny(status, " \t("); i >= 0 {
		status = status[:i]
	}
	if action != "failed" && !(action == "" && strings.HasPrefix(status, "5.")) {
		return nil
	}
	rcpt := typedValue(h.Get("Final-Recipient"))
	if rcpt == "" {
		rcpt = typedValue(h.Get("Original-Recipient"))
	}
	reason := collapseSpace(typedValue(h.Get("Diagnostic-Code")))
	if reason == "" {
		reason = statusSummary(status)
	}
	return &Bounce{Recipient: rcpt, Status: status, Reason: reason}
}

// typedValue is the value of a "type; value" field (rfc822; a@b, smtp;
// 550 ...), unfolded.
func typedValue(v string) string {
	if _, rest, ok := strings.Cut(v, ";"); ok {
		v = rest
	}
	return strings.Trim(collapseSpace(v), " <>")
}

// collapseSpace turns every run of white space (folded lines too) into
// one space.
func collapseSpace(s string) string { return strings.Join(strings.Fields(s), " ") }

// statusSummary says what an RFC 3463 status class means, for a report
// without a Diagnostic-Code.
func statusSummary(status string) string {
	switch {
	case strings.HasPrefix(status, "5.1."):
		return status + " the address does not exist"
	case strings.HasPrefix(status, "5.2."):
		return status + " the mailbox is full or unavailable"
	case strings.HasPrefix(status, "5.7."):
		return status + " refused by the receiving server's policy"
	case status != "":
		return status + " delivery failed"
	}
	return "delivery failed"
}

// looksLikeMailerDaemon: a notice from a mail system, by its sender or
// its subject.
func looksLikeMailerDaemon(h mail.Header) bool {
	from := strings.ToLower(h.Get("From"))
	if strings.Contains(from, "mailer-daemon") || strings.Contains(from, "postmaster") {
		return true
	}
	subject := strings.ToLower(h.Get("Subject"))
	for _, s := range []string{"undeliver", "delivery status notification", "mail delivery failed", "returned mail", "delivery failure", "failure notice"} {
		if strings.Contains(subject, s) {
			return true
		}
	}
	return false
}

var (
	// smtpReply is a permanent SMTP reply in a notice's text: "550 5.1.1
	// user unknown", "550-5.1.1 ...", "554 rejected".
	smtpReply = regexp.MustCompile(`(?m)\b(5\d\d)[ -]((5\.\d{1,3}\.\d{1,3})\b)?(.*)$`)
	// noticeAddr is an address alone on a line, or in angle brackets.
	noticeAddr = regexp.MustCompile(`(?m)(?:^\s*<?|<)([^\s<>@]+@[^\s<>@]+\.[^\s<>@]+?)>?:?\s*$`)
)

// textBounce reads a plain-text failure notice: the first permanent SMTP
// reply in it and the first address standing alone on a line. nil when
// it has no permanent reply (a delay warning, or not a notice at all).
func textBounce(text string) *Bounce {
	m := smtpReply.FindStringSubmatchIndex(text)
	if m == nil {
		return nil
	}
	line := collapseSpace(text[m[0]:m[1]])
	status := ""
	if m[6] >= 0 {
		status = text[m[6]:m[7]]
	}
	b := &Bounce{Status: status, Reason: line}
	if a := noticeAddr.FindStringSubmatch(text); a != nil {
		b.Recipient = a[1]
	}
	return b
}
