package sms

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"hash"
	"net/url"
	"strings"
	"testing"
)

const testSecret = "s3cr3t-Signature"

// signedParams is an inbound callback; its signed string, written out by
// hand below, sorts the names byte-wise and replaces '&' and '=' in values.
func signedParams() url.Values {
	return url.Values{
		"msisdn":            {"447700900001"},
		"to":                {"447700900000"},
		"messageId":         {"0A0000001234ABCD"},
		"text":              {"Hi & bye = ok"},
		"type":              {"text"},
		"keyword":           {"HI"},
		"message-timestamp": {"2026-11-24 09:15:00"},
		"timestamp":         {"1795511700"},
	}
}

const signedParamsString = "&keyword=HI&message-timestamp=2026-11-24 09:15:00&messageId=0A0000001234ABCD" +
	"&msisdn=447700900001&text=Hi _ bye _ ok&timestamp=1795511700&to=447700900000&type=text"

// knownAnswers were computed outside Go (Python's hashlib and hmac) over
// signedParamsString and testSecret.
var knownAnswers = map[SignatureMethod]string{
	SignatureMD5Hash: "eb6e9bc6c2fe85d8cca2746d0a6d4426",
	SignatureMD5:     "09EEB2139D331176E138C4ECF28EB566",
	SignatureSHA1:    "D1E6FBD7B19E3A737F80637461E930EBBF5E89BB",
	SignatureSHA256:  "9A035457E6D7F111AB163044D3E5350D7534CFAEB072E7DAF4F81EDD5109FF78",
	SignatureSHA512: "53B83D97C5AF1EE326282224B10A770D0B9E62E29F6CC7E2148BD4FA28117F61" +
		"583C50CDA61A31A971431432764017BC6C0096FF77C651EE14B694AA5CB1E693",
}

var allMethods = []SignatureMethod{SignatureMD5Hash, SignatureMD5, SignatureSHA1, SignatureSHA256, SignatureSHA512}

func TestSignedString(t *testing.T) {
	p := signedParams()
	p.Set("sig", "ignored")
	if got := signedString(p); got != signedParamsString {
		t.Fatalf("signedString =\n%q, want\n%q", got, signedParamsString)
	}
}

func TestSignKnownAnswers(t *testing.T) {
	direct := map[SignatureMethod]func() hash.Hash{
		SignatureMD5: md5.New, SignatureSHA1: sha1.New, SignatureSHA256: sha256.New, SignatureSHA512: sha512.New,
	}
	for _, m := range allMethods {
		t.Run(string(m), func(t *testing.T) {
			got := Sign(signedParams(), testSecret, m)
			if got != knownAnswers[m] {
				t.Errorf("Sign = %s, want %s", got, knownAnswers[m])
			}
			// The same digest computed here straight from the hand-written string.
			var want string
			if m == SignatureMD5Hash {
				sum := md5.Sum([]byte(signedParamsString + testSecret))
				want = hex.EncodeToString(sum[:])
			} else {
				mac := hmac.New(direct[m], []byte(testSecret))
				mac.Write([]byte(signedParamsString))
				want = strings.ToUpper(hex.EncodeToString(mac.Sum(nil)))
			}
			if got != want {
				t.Errorf("Sign = %s, direct computation %s", got, want)
			}
		})
	}
}

func TestVerify(t *testing.T) {
	signed := func(m SignatureMethod) url.Values {
		p := signedParams()
		p.Set("sig", knownAnswers[m])
		return p
	}
	other := map[SignatureMethod]SignatureMethod{
		SignatureMD5Hash: SignatureMD5, SignatureMD5: SignatureMD5Hash,
		SignatureSHA1: SignatureSHA256, SignatureSHA256: SignatureSHA512, SignatureSHA512: SignatureSHA1,
	}
	for _, m := range allMethods {
		t.Run(string(m), func(t *testing.T) {
			if err := Verify(signed(m), testSecret, m); err != nil {
				t.Fatalf("Verify(known answer) = %v", err)
			}
			p := signed(m)
			p.Set("sig", flipCase(knownAnswers[m]))
			if err := Verify(p, testSecret, m); err != nil {
				t.Errorf("Verify with the sig's case flipped = %v", err)
			}
			for _, tc := range []struct {
				name   string
				mutate func(url.Values)
				secret string
				method SignatureMethod
			}{
				{name: "missing sig", mutate: func(p url.Values) { p.Del("sig") }},
				{name: "empty sig", mutate: func(p url.Values) { p.Set("sig", "") }},
				{name: "sig not hex", mutate: func(p url.Values) { p.Set("sig", "zz"+p.Get("sig")[2:]) }},
				{name: "wrong sig", mutate: func(p url.Values) { p.Set("sig", flipNibble(p.Get("sig"))) }},
				{name: "truncated sig", mutate: func(p url.Values) { p.Set("sig", p.Get("sig")[:len(p.Get("sig"))-2]) }},
				{name: "two sigs", mutate: func(p url.Values) { p.Add("sig", p.Get("sig")) }},
				{name: "mutated value", mutate: func(p url.Values) { p.Set("text", "Hi & bye = OK") }},
				{name: "mutated number", mutate: func(p url.Values) { p.Set("msisdn", "447700900002") }},
				{name: "added param", mutate: func(p url.Values) { p.Set("concat", "true") }},
				{name: "added empty param", mutate: func(p url.Values) { p.Set("nonce", "") }},
				{name: "removed param", mutate: func(p url.Values) { p.Del("keyword") }},
				{name: "repeated param", mutate: func(p url.Values) { p.Add("text", "again") }},
				{name: "renamed param", mutate: func(p url.Values) { p["Keyword"] = p["keyword"]; p.Del("keyword") }},
				{name: "missing timestamp", mutate: func(p url.Values) { p.Del("timestamp") }},
				{name: "merged params", mutate: func(p url.Values) {
					// "&keyword=HI&message-timestamp=..." again, as one parameter.
					p.Set("keyword=HI&message-timestamp", p.Get("message-timestamp"))
					p.Del("keyword")
					p.Del("message-timestamp")
				}},
				{name: "different secret", secret: testSecret + "x"},
				{name: "empty secret", secret: "-"},
				{name: "different method", method: other[m]},
				{name: "unknown method", method: "sha384"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					p, secret, method := signed(m), testSecret, m
					if tc.mutate != nil {
						tc.mutate(p)
					}
					if tc.secret == "-" {
						secret = ""
					} else if tc.secret != "" {
						secret = tc.secret
					}
					if tc.method != "" {
						method = tc.method
					}
					if err := Verify(p, secret, method); !errors.Is(err, ErrBadSignature) {
						t.Fatalf("Verify = %v, want ErrBadSignature", err)
					}
				})
			}
		})
	}
}

func TestSignRoundTrip(t *testing.T) {
	for _, m := range allMethods {
		for _, p := range []url.Values{
			{"timestamp": {"1"}},
			{"timestamp": {"1"}, "text": {""}, "keyword": {""}},
			{"timestamp": {"1"}, "text": {"ünïcödé ✓ 😀 a=b&c"}, "to": {"15550100100"}},
		} {
			p.Set("sig", Sign(p, testSecret, m))
			if err := Verify(p, testSecret, m); err != nil {
				t.Errorf("%s: Verify(Sign(%v)) = %v", m, p, err)
			}
		}
	}
	if got := Sign(signedParams(), testSecret, "sha384"); got != "" {
		t.Errorf("Sign with an unknown method = %q, want empty", got)
	}
}

func TestParseSignatureMethod(t *testing.T) {
	for in, want := range map[string]SignatureMethod{
		"md5hash": SignatureMD5Hash, "MD5": SignatureMD5, " sha1 ": SignatureSHA1,
		"sha256": SignatureSHA256, "SHA512": SignatureSHA512,
	} {
		if got, err := ParseSignatureMethod(in); err != nil || got != want {
			t.Errorf("ParseSignatureMethod(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "sha384", "hmac-sha256", "md5 hash"} {
		if _, err := ParseSignatureMethod(in); err == nil {
			t.Errorf("ParseSignatureMethod(%q) succeeded", in)
		}
	}
}

// flipCase swaps the case of hex letters.
func flipCase(s string) string {
	if strings.ToUpper(s) == s {
		return strings.ToLower(s)
	}
	return strings.ToUpper(s)
}

// flipNibble changes the first hex digit.
func flipNibble(s string) string {
	c := byte('0')
	if s[0] == '0' {
		c = '1'
	}
	return string(c) + s[1:]
}
