package email

import (
	"crypto/rand"
	"encoding/base32"
	"strings"
)

// tokenEncoding is lowercase base32 without padding: letters and digits
// only, so a token survives URLs, local parts and mail software that
// lowercases addresses.
var tokenEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewToken returns a fresh reply token: 160 random bits as 32 lowercase
// base32 characters.
func NewToken() string {
	b := make([]byte, 20)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return tokenEncoding.EncodeToString(b)
}

// ReplyAddress is the per-conversation address
// <local>+<token>@<domain>.
func ReplyAddress(local, token, domain string) string {
	return local + "+" + token + "@" + strings.ToLower(domain)
}

// ParseReplyAddress reads addr as <local>+<token>@<domain>. The domain must
// match domain ignoring case; the token is lowercased, as NewToken makes
// them. ok is false for any other shape, an empty part, or a token that is
// not one NewToken could have made.
func ParseReplyAddress(addr, domain string) (local, token string, ok bool) {
	addr = strings.TrimSpace(addr)
	at := strings.LastIndexByte(addr, '@')
	if at < 0 || !strings.EqualFold(addr[at+1:], domain) || domain == "" {
		return "", "", false
	}
	local, token, found := strings.Cut(addr[:at], "+")
	token = strings.ToLower(token)
	if !found || local == "" || !validToken(token) {
		return "", "", false
	}
	return local, token, true
}

// validToken: 32 characters of tokenEncoding's alphabet.
func validToken(t string) bool {
	if len(t) != 32 {
		return false
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !('a' <= c && c <= 'z' || '2' <= c && c <= '7') {
			return false
		}
	}
	return true
}

// bouncePrefix starts the local part of a bounce address. It has no "+",
// so no bounce address reads as a reply address.
const bouncePrefix = "bounce-"

// BounceAddress is the per-message return path (the envelope sender)
// bounce-<token>@<domain>: a delivery status notification sent there names
// the message it reports on.
func BounceAddress(token, domain string) string {
	return bouncePrefix + token + "@" + strings.ToLower(domain)
}

// ParseBounceAddress reads addr as bounce-<token>@<domain> (domain matched
// ignoring case) and returns the token, lowercased; ok is false for any
// other shape or a token NewToken could not have made.
func ParseBounceAddress(addr, domain string) (token string, ok bool) {
	addr = strings.TrimSpace(addr)
	at := strings.LastIndexByte(addr, '@')
	if at < 0 || domain == "" || !strings.EqualFold(addr[at+1:], domain) {
		return "", false
	}
	local := strings.ToLower(addr[:at])
	token, found := strings.CutPrefix(local, bouncePrefix)
	if !found || !validToken(token) {
		return "", false
	}
	return token, true
}
