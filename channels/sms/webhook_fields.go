package sms

import (
	"fmt"
	"net/url"
	"time"
	"unicode"
)

// maxIDLen caps ids (messageId, concat-ref): Vonage's are 16 to 36
// characters.
const maxIDLen = 100

// vonageTimeLayout is message-timestamp's format, in UTC.
const vonageTimeLayout = "2006-01-02 15:04:05"

// messageID reads messageId, or message-id as some callbacks spell it.
func messageID(p url.Values) (string, error) {
	if p.Get("messageId") != "" && p.Get("message-id") != "" && p.Get("messageId") != p.Get("message-id") {
		return "", fmt.Errorf("%w: messageId and message-id differ", ErrMalformed)
	}
	if p.Get("messageId") != "" {
		return idField(p, "messageId")
	}
	if p.Get("message-id") != "" {
		return idField(p, "message-id")
	}
	return "", fmt.Errorf("%w: missing messageId", ErrMalformed)
}

// idField reads a required id: printable ASCII without spaces, at most
// maxIDLen bytes.
func idField(p url.Values, name string) (string, error) {
	v := p.Get(name)
	if v == "" {
		return "", fmt.Errorf("%w: missing %s", ErrMalformed, name)
	}
	if len(v) > maxIDLen {
		return "", fmt.Errorf("%w: %s of %d bytes", ErrMalformed, name, len(v))
	}
	for i := 0; i < len(v); i++ {
		if v[i] <= ' ' || v[i] > '~' {
			return "", fmt.Errorf("%w: %s %.20q has a character outside printable ASCII", ErrMalformed, name, v)
		}
	}
	return v, nil
}

// phoneField reads a number as E.164 with '+'. Vonage sends digits without
// the '+'; one is tolerated.
func phoneField(p url.Values, name string, required bool) (string, error) {
	v := p.Get(name)
	if v == "" {
		if required {
			return "", fmt.Errorf("%w: missing %s", ErrMalformed, name)
		}
		return "", nil
	}
	d, ok := e164Digits(v)
	if !ok {
		return "", fmt.Errorf("%w: %s %.20q is not 7 to 15 digits of an E.164 number", ErrMalformed, name, v)
	}
	return "+" + d, nil
}

// tokenField reads a short word such as type or status: letters, digits,
// '-' and '_', at most 32 bytes.
func tokenField(p url.Values, name string, required bool) (string, error) {
	v := p.Get(name)
	if v == "" {
		if required {
			return "", fmt.Errorf("%w: missing %s", ErrMalformed, name)
		}
		return "", nil
	}
	if len(v) > 32 {
		return "", fmt.Errorf("%w: %s of %d bytes", ErrMalformed, name, len(v))
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return "", fmt.Errorf("%w: %s %.32q is not a word", ErrMalformed, name, v)
		}
	}
	return v, nil
}

// textField reads an optional free-text field of at most maxFieldLen bytes
// without control characters.
func textField(p url.Values, name string) (string, error) {
	v := p.Get(name)
	if len(v) > maxFieldLen {
		return "", fmt.Errorf("%w: %s of %d bytes", ErrMalformed, name, len(v))
	}
	for _, r := range v {
		if unicode.IsControl(r) {
			return "", fmt.Errorf("%w: %s has a control character", ErrMalformed, name)
		}
	}
	return v, nil
}

// timeField reads an optional timestamp: Vonage's "2006-01-02 15:04:05"
// in UTC, or RFC 3339.
func timeField(p url.Values, name string) (time.Time, error) {
	v := p.Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.ParseInLocation(vonageTimeLayout, v, time.UTC); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%w: %s %.40q is not a time like %q", ErrMalformed, name, v, vonageTimeLayout)
}
