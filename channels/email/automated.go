package email

import (
	"strings"
)

// Automated tells whether a message was sent by a machine, by RFC 3834's
// signs and the usual others, so that nothing automatic ever answers it;
// reason names the header that said so.
func Automated(h Header) (automated bool, reason string) {
	if v := lowerValue(h, "Auto-Submitted"); v != "" && v != "no" {
		return true, "Auto-Submitted: " + v
	}
	switch v := lowerValue(h, "Precedence"); v {
	case "bulk", "junk", "list", "auto_reply":
		return true, "Precedence: " + v
	}
	if len(h.Values("X-Auto-Response-Suppress")) > 0 {
		return true, "X-Auto-Response-Suppress"
	}
	for _, k := range []string{"List-Id", "List-Unsubscribe"} {
		if len(h.Values(k)) > 0 {
			return true, k
		}
	}
	if v := h.Values("Return-Path"); len(v) > 0 {
		if p := strings.TrimSpace(v[len(v)-1]); p == "<>" || p == "" || strings.ReplaceAll(p, " ", "") == "<>" {
			return true, "null Return-Path"
		}
	}
	if local := senderLocal(h.Get("From")); local == "mailer-daemon" || local == "postmaster" {
		return true, "From: " + local
	}
	return false, ""
}

// lowerValue is the first word of the first value of key, lowercased,
// without a trailing comment or parameters ("auto-replied; owner=x").
func lowerValue(h Header, key string) string {
	v := strings.ToLower(strings.TrimSpace(h.Get(key)))
	if i := strings.IndexAny(v, "(; \t"); i >= 0 {
		v = v[:i]
	}
	return v
}

// senderLocal is the lowercased local part of the address in a From
// header, read leniently.
func senderLocal(from string) string {
	s := strings.ToLower(from)
	if i := strings.LastIndexByte(s, '<'); i >= 0 {
		s = s[i+1:]
	}
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return ""
	}
	s = s[:at]
	if i := strings.LastIndexAny(s, " \t\""); i >= 0 {
		s = s[i+1:]
	}
	return strings.TrimSpace(s)
}
