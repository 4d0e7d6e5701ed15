package sms

import (
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"
)

// maxClientRef is Vonage's limit on client-ref.
const maxClientRef = 40

// maxAlphaSender is the longest alphanumeric sender id handsets display.
const maxAlphaSender = 11

// preparedSend is a SendRequest checked and put in the SMS API's terms.
type preparedSend struct {
	from, to string // digits without '+', or an alphanumeric sender
	encoding Encoding
}

// prepareSend checks r the way Vonage would (status 2 "missing params" or
// 3 "invalid params") so that a request that can never succeed fails
// permanently without a round trip. Its errors wrap ErrRejected, and
// Validate's error when the text is at fault.
func prepareSend(r SendRequest) (preparedSend, error) {
	invalid := func(format string, a ...any) error {
		return fmt.Errorf("%w: invalid request: %s", ErrRejected, fmt.Sprintf(format, a...))
	}
	to, ok := e164Digits(r.To)
	if !ok {
		return preparedSend{}, invalid("to %q is not an E.164 number", r.To)
	}
	from, ok := vonageSender(r.From)
	if !ok {
		return preparedSend{}, invalid("from %q is neither a number nor an alphanumeric sender of at most %d characters", r.From, maxAlphaSender)
	}
	if err := Validate(r.Text); err != nil {
		return preparedSend{}, fmt.Errorf("%w: invalid request: %w", ErrRejected, err)
	}
	if n := utf8.RuneCountInString(r.ClientRef); n > maxClientRef || !printableASCII(r.ClientRef) {
		return preparedSend{}, invalid("client-ref must be at most %d printable ASCII characters", maxClientRef)
	}
	if r.StatusReportURL != "" {
		u, err := url.Parse(r.StatusReportURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return preparedSend{}, invalid("status report url %q is not an http(s) URL", r.StatusReportURL)
		}
	}
	return preparedSend{from: from, to: to, encoding: Count(r.Text).Encoding}, nil
}

// e164Digits returns s's digits without the '+': 7 to 15 digits, the first
// not 0 (E.164 country codes never start with 0).
func e164Digits(s string) (string, bool) {
	d := strings.TrimPrefix(s, "+")
	if len(d) < 7 || len(d) > 15 || d[0] == '0' || !allDigits(d) {
		return "", false
	}
	return d, true
}

// vonageSender returns from as the SMS API wants it: a number's digits
// without '+', or an alphanumeric sender id unchanged.
func vonageSender(from string) (string, bool) {
	if d := strings.TrimPrefix(from, "+"); d != "" && allDigits(d) {
		return d, len(d) <= 15
	}
	if from == "" || strings.HasPrefix(from, "+") || len(from) > maxAlphaSender || !printableASCII(from) {
		return "", false
	}
	return from, strings.TrimSpace(from) != ""
}

// allDigits reports whether s is only ASCII digits (true for "").
func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// printableASCII reports whether s is only printable ASCII, space included.
func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
