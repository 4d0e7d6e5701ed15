package sms

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/vonage/vonage-go-sdk"
)

// ErrRejected marks a send that will never succeed: Vonage refused it with
// a permanent status, or it failed the checks Vonage would apply. The
// worker marks the message failed and shows the reason to the agent
// instead of retrying. Test with errors.Is; errors.As with *StatusError
// gives Vonage's code and text.
var ErrRejected = errors.New("sms: vonage rejected the message")

// errBadAnswer marks an answer from the SMS API that cannot be read (not
// JSON, no messages, a part without a status). It is retryable.
var errBadAnswer = errors.New("sms: malformed answer from vonage")

// maxStatusText caps the error-text kept from Vonage's answer.
const maxStatusText = 200

// StatusError is a non-zero status in Vonage's answer to a send.
type StatusError struct {
	// Status is Vonage's status code ("1" throttled, "6" invalid message,
	// ...), see https://developer.vonage.com/en/messaging/sms/guides/troubleshooting-sms.
	Status string
	// Text is Vonage's error-text, or a description of the code when the
	// answer carried none. It is what the agent is shown.
	Text string
	// Accepted is how many parts Vonage accepted before this one failed.
	Accepted int
	// Permanent is false only for throttling and Vonage-side trouble
	// (statuses 1, 5 and 10) with no part accepted.
	Permanent bool
}

// Error reads like "sms: vonage rejected the message: status 6: Invalid
// message" (or "sms: vonage deferred the message: ..." when retryable).
func (e *StatusError) Error() string {
	verb := "sms: vonage deferred the message"
	if e.Permanent {
		verb = ErrRejected.Error()
	}
	if e.Accepted > 0 {
		return fmt.Sprintf("%s: status %s after %d part(s) were accepted: %s", verb, e.Status, e.Accepted, e.Text)
	}
	return fmt.Sprintf("%s: status %s: %s", verb, e.Status, e.Text)
}

// Unwrap returns ErrRejected for a permanent status, so that errors.Is
// tells the worker not to retry.
func (e *StatusError) Unwrap() error {
	if e.Permanent {
		return ErrRejected
	}
	return nil
}

// retryableStatus reports whether a send refused with status code may
// succeed later unchanged: throttling (1, the account's rate was
// exceeded), an internal error at Vonage (5) and too many binds (10). Every
// other code is about the request, the number or the account and is
// permanent. 9 (partner quota exceeded: the Vonage balance is spent) is
// permanent too: a message should fail visibly rather than sit in retries
// until someone tops up, just as Parley refuses sends when its own credit
// runs out.
func retryableStatus(code string) bool {
	switch code {
	case "1", "5", "10":
		return true
	}
	return false
}

// statusDescription names the SMS API's status codes, for answers that
// carry no error-text (the SDK decodes error-text only when the first part
// failed).
func statusDescription(code string) string {
	switch code {
	case "1":
		return "Throttled"
	case "2":
		return "Missing parameters"
	case "3":
		return "Invalid parameters"
	case "4":
		return "Invalid credentials"
	case "5":
		return "Internal error"
	case "6":
		return "Invalid message"
	case "7":
		return "Number barred"
	case "8":
		return "Partner account barred"
	case "9":
		return "Partner quota violation"
	case "10":
		return "Too many existing binds"
	case "11":
		return "Account not enabled for HTTP"
	case "12":
		return "Message too long"
	case "14":
		return "Invalid signature"
	case "15":
		return "Invalid sender address"
	case "22":
		return "Invalid network code"
	case "23":
		return "Invalid callback URL"
	case "29":
		return "Non-whitelisted destination"
	case "32":
		return "Signature and API secret disallowed"
	case "33":
		return "Number de-activated"
	}
	return "Unknown status"
}

// interpretSend reads the SDK's answer: every part must have status "0".
// The SDK itself looks only at the first part.
func interpretSend(res vonage.Sms, errResp vonage.SmsErrorResponse) (SendResult, error) {
	if len(res.Messages) == 0 {
		return SendResult{}, fmt.Errorf("%w: no messages in the answer", errBadAnswer)
	}
	var out SendResult
	for i, m := range res.Messages {
		if m.Status == "0" {
			out.Parts++
			if m.MessageId != "" {
				out.MessageIDs = append(out.MessageIDs, m.MessageId)
			}
			continue
		}
		if m.Status == "" && out.Parts == 0 {
			return out, fmt.Errorf("%w: part %d has no status", errBadAnswer, i+1)
		}
		text := ""
		if i < len(errResp.Messages) && errResp.Messages[i].Status == m.Status {
			text = cleanStatusText(errResp.Messages[i].ErrorText)
		}
		if text == "" {
			text = statusDescription(m.Status)
		}
		return out, &StatusError{
			Status:    m.Status,
			Text:      text,
			Accepted:  out.Parts,
			Permanent: out.Parts > 0 || !retryableStatus(m.Status),
		}
	}
	return out, nil
}

// cleanStatusText keeps Vonage's error-text fit to show: printable, one
// line, at most maxStatusText bytes.
func cleanStatusText(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '\uFFFD' {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > maxStatusText {
		cut := maxStatusText
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}
