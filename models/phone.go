package models

import (
	"errors"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// ErrBadPhone: a typed phone number that cannot be read as one.
var ErrBadPhone = errors.New("not a phone number")

// Country is a country a phone number's local format may be read in.
type Country struct {
	Code string // ISO 3166-1 alpha-2
	Name string
}

// Countries lists the countries an organization may choose as its default
// for phone numbers (those with a calling code), by name.
func Countries() []Country {
	var out []Country
	for _, c := range countryNames() {
		if phonenumbers.GetCountryCodeForRegion(c[0]) != 0 {
			out = append(out, Country{Code: c[0], Name: c[1]})
		}
	}
	return out
}

// ValidCountry reports whether code is a country Countries lists.
func ValidCountry(code string) bool {
	return len(code) == 2 && code == strings.ToUpper(code) && phonenumbers.GetCountryCodeForRegion(code) != 0
}

// NormalizePhone reads a typed phone number as E.164 ("+15551234567"). A
// number in local format ("(555) 123-4567", "020 7946 0018") is read in
// country (ISO 3166-1 alpha-2; "" means DefaultPhoneRegion); one starting
// with + or the international prefix keeps its own country. A number that
// cannot be a phone number is ErrBadPhone.
func NormalizePhone(raw, country string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" || len(raw) > 32 {
		return "", ErrBadPhone
	}
	if country == "" {
		country = DefaultPhoneRegion
	}
	n, err := phonenumbers.Parse(raw, country)
	if err != nil || !phonenumbers.IsPossibleNumber(n) {
		return "", ErrBadPhone
	}
	e164 := phonenumbers.Format(n, phonenumbers.E164)
	if len(e164) < 8 || len(e164) > 16 {
		return "", ErrBadPhone
	}
	return e164, nil
}
