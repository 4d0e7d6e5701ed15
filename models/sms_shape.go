package models

import (
	"errors"

	"github.com/parley-chat/parley/channels/sms"
)

// smsShape records how an SMS body goes over the air: its encoding
// (Vonage's type) and its segment count.
func smsShape(body string) (string, int) {
	seg := sms.Count(body)
	return string(seg.Encoding), seg.Segments
}

// checkSMSBody refuses an SMS body over the segment limit, as a field error.
func checkSMSBody(body string) error {
	if err := sms.Validate(body); errors.Is(err, sms.ErrTooLong) {
		return fieldErr("body", "%s. Shorten it or send it by email.", capitalize(err.Error()))
	}
	return nil
}

func capitalize(s string) string {
	const prefix = "sms: message too long: "
	if len(s) > len(prefix) && s[:len(prefix)] == prefix {
		s = s[len(prefix):]
	}
	if s == "" {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}
