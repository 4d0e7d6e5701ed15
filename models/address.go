package models

import (
	"net/mail"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// DefaultPhoneRegion is assumed for numbers typed without a country code.
const DefaultPhoneRegion = "US"

// ParsePhone normalizes a typed phone number to E.164. It checks that the
// number is possible (right length for its country), not that it is
// assigned: fictional demo numbers such as +1 555 0100 must pass.
func ParsePhone(input string) (string, bool) {
	input = strings.TrimSpace(input)
	if input == "" || len(input) > 32 {
		return "", false
	}
	n, err := phonenumbers.Parse(input, DefaultPhoneRegion)
	if err != nil || !phonenumbers.IsPossibleNumber(n) {
		return "", false
	}
	return phonenumbers.Format(n, phonenumbers.E164), true
}

// ParseEmail normalizes a typed email address (lower case, no display name).
func ParseEmail(input string) (string, bool) {
	input = strings.TrimSpace(input)
	if input == "" || len(input) > 254 || !strings.Contains(input, "@") {
		return "", false
	}
	a, err := mail.ParseAddress(input)
	if err != nil {
		return "", false
	}
	return strings.ToLower(a.Address), true
}
