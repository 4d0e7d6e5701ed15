package email

import (
	"strings"
	"testing"
)

func TestNewToken(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		tok := NewToken()
		// 32 base32 characters are 160 bits.
		if !validToken(tok) || strings.ToLower(tok) != tok {
			t.Fatalf("token %q is not 32 lowercase base32 characters", tok)
		}
		if seen[tok] {
			t.Fatalf("token %q repeated", tok)
		}
		seen[tok] = true
	}
}

func TestReplyAddressRoundTrip(t *testing.T) {
	tok := NewToken()
	addr := ReplyAddress("bookings", tok, "Mail.Harbour.Example")
	if addr != "bookings+"+tok+"@mail.harbour.example" {
		t.Fatalf("ReplyAddress = %q", addr)
	}
	for _, a := range []string{addr, strings.ToUpper(addr), " " + addr + " "} {
		local, token, ok := ParseReplyAddress(a, "mail.harbour.EXAMPLE")
		if !ok || !strings.EqualFold(local, "bookings") || token != tok {
			t.Errorf("ParseReplyAddress(%q) = %q, %q, %v", a, local, token, ok)
		}
	}
}

func TestParseReplyAddressRefuses(t *testing.T) {
	tok := NewToken()
	for _, tc := range []struct{ addr, domain string }{
		{"bookings@harbour.example", "harbour.example"},
		{"bookings+" + tok + "@other.example", "harbour.example"},
		{"bookings+" + tok + "@harbour.example.evil", "harbour.example"},
		{"bookings+" + tok + "@sub.harbour.example", "harbour.example"},
		{"+" + tok + "@harbour.example", "harbour.example"},
		{"bookings+@harbour.example", "harbour.example"},
		{"bookings+" + tok[:31] + "@harbour.example", "harbour.example"},
		{"bookings+" + tok + "x@harbour.example", "harbour.example"},
		{"bookings+" + tok[:31] + "1@harbour.example", "harbour.example"},
		{"bookings+" + tok + "+x@harbour.example", "harbour.example"},
		{"bookings+" + tok, "harbour.example"},
		{"bookings+" + tok + "@", ""},
		{"", "harbour.example"},
	} {
		if local, token, ok := ParseReplyAddress(tc.addr, tc.domain); ok || local != "" || token != "" {
			t.Errorf("ParseReplyAddress(%q, %q) = %q, %q, %v", tc.addr, tc.domain, local, token, ok)
		}
	}
}

func TestBounceAddressRoundTrip(t *testing.T) {
	tok := NewToken()
	addr := BounceAddress(tok, "Mail.Example.COM")
	if addr != "bounce-"+tok+"@mail.example.com" {
		t.Fatalf("BounceAddress = %q", addr)
	}
	if got, ok := ParseBounceAddress(strings.ToUpper(addr), "mail.example.com"); !ok || got != tok {
		t.Errorf("ParseBounceAddress(upper) = %q, %v", got, ok)
	}
	for _, bad := range []string{
		"bounce-" + tok + "@other.example.com", // another domain
		"bounce-" + tok[:31] + "@mail.example.com",
		"bounce+" + tok + "@mail.example.com",
		"desk+" + tok + "@mail.example.com", // a reply address
		tok + "@mail.example.com",
		"bounce-@mail.example.com",
	} {
		if got, ok := ParseBounceAddress(bad, "mail.example.com"); ok {
			t.Errorf("ParseBounceAddress(%q) = %q, true", bad, got)
		}
	}
	if _, _, ok := ParseReplyAddress(addr, "mail.example.com"); ok {
		t.Errorf("a bounce address reads as a reply address")
	}
}
