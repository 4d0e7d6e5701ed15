package mailbox

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// BounceStatus and bounceDiagnostic are what a bounce reports for each
// recipient at BounceDomain: the server's words of a Postfix that does
// not know the user.
const BounceStatus = "5.1.1"

func bounceDiagnostic(rcpt string) string {
	return "550 5.1.1 <" + rcpt + ">: Recipient address rejected: User unknown"
}

// bounce builds the delivery status notification for the bounced copies
// of one message and delivers it to the return path through Parley's
// listener, noting on each copy what happened.
func (m *Mailbox) bounce(returnPath string, bounced []*Mail, raw []byte) {
	rcpts := make([]string, len(bounced))
	for i, ml := range bounced {
		rcpts[i] = ml.Person
	}
	dsn := m.buildDSN(returnPath, rcpts, raw, time.Now())
	note := "Bounced: a delivery status notification (" + BounceStatus + ") went to " + returnPath + "."
	if err := m.deliver(context.Background(), "", []string{returnPath}, dsn); err != nil {
		m.log.Warn("mailbox: bounce not delivered", "return_path", returnPath, "err", err)
		note = "Bounced, but the notification was not delivered: " + err.Error()
	}
	for _, ml := range bounced {
		m.update(ml, func(ml *Mail) { ml.Bounce = note })
	}
}

// buildDSN renders an RFC 3464 delivery status notification from
// MAILER-DAEMON@Hostname to returnPath: a human-readable part, the
// machine-readable delivery-status with one failed group per recipient,
// and the original message's headers.
func (m *Mailbox) buildDSN(returnPath string, rcpts []string, original []byte, now time.Time) []byte {
	host := m.cfg.Hostname
	boundary := "dsn-" + randomHex(12)
	var b bytes.Buffer
	line := func(format string, a ...any) { fmt.Fprintf(&b, format+"\r\n", a...) }
	line("From: Mail Delivery System <MAILER-DAEMON@%s>", host)
	line("To: <%s>", returnPath)
	line("Subject: Undelivered Mail Returned to Sender")
	line("Date: %s", now.Format(time.RFC1123Z))
	line("Message-ID: <%s@%s>", randomHex(16), host)
	line("Auto-Submitted: auto-replied")
	line("MIME-Version: 1.0")
	line(`Content-Type: multipart/report; report-type=delivery-status; boundary="%s"`, boundary)
	line("")
	line("This is a MIME-encapsulated message.")
	line("")
	line("--%s", boundary)
	line("Content-Type: text/plain; charset=utf-8")
	line("Content-Description: Notification")
	line("")
	line("This is the mail system at host %s.", host)
	line("")
	line("I'm sorry to have to inform you that your message could not")
	line("be delivered to one or more recipients. It's attached below.")
	line("")
	for _, r := range rcpts {
		line("<%s>: %s", r, bounceDiagnostic(r))
	}
	line("")
	line("--%s", boundary)
	line("Content-Type: message/delivery-status")
	line("Content-Description: Delivery report")
	line("")
	line("Reporting-MTA: dns; %s", host)
	line("Arrival-Date: %s", now.Format(time.RFC1123Z))
	for _, r := range rcpts {
		line("")
		line("Final-Recipient: rfc822; %s", r)
		line("Original-Recipient: rfc822; %s", r)
		line("Action: failed")
		line("Status: %s", BounceStatus)
		line("Remote-MTA: dns; %s", BounceDomain)
		line("Diagnostic-Code: smtp; %s", bounceDiagnostic(r))
	}
	line("")
	line("--%s", boundary)
	line("Content-Type: text/rfc822-headers")
	line("Content-Description: Undelivered Message Headers")
	line("")
	b.Write(crlf(headerBlock(original)))
	line("")
	line("")
	line("--%s--", boundary)
	return b.Bytes()
}

// crlf makes every line end in CRLF.
func crlf(p []byte) []byte {
	s := strings.ReplaceAll(string(p), "\r\n", "\n")
	return []byte(strings.ReplaceAll(s, "\n", "\r\n"))
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
