package sms

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParseInbound feeds arbitrary requests to the webhook parsers: they
// never panic, fail only with ErrMalformed, and what they accept holds
// E.164 numbers and valid UTF-8.
func FuzzParseInbound(f *testing.F) {
	const form = "application/x-www-form-urlencoded"
	f.Add("GET", "", inboundForm, []byte(nil))
	f.Add("GET", "", inboundForm+"&concat=true&concat-ref=1A&concat-part=2&concat-total=3", []byte(nil))
	f.Add("POST", form, "", []byte(inboundForm))
	f.Add("POST", form+"; charset=UTF-8", "timestamp=1&sig=abc", []byte(inboundForm+"&text=%FF"))
	f.Add("POST", "application/json", "", []byte(inboundJSON))
	f.Add("POST", "application/json", "", []byte(`{"msisdn":447700900001,"to":"447700900000","messageId":"X","text":"\u0000","type":"unicode","concat":true,"concat-ref":"1","concat-part":1,"concat-total":2}`))
	f.Add("POST", "", "", []byte(`{"a":{"b":[1,2]}}`))
	f.Add("POST", "application/json", "", []byte(`{"status":"delivered","messageId":"X1","err-code":"0","scts":"2611240915","price":"0.0333","msisdn":"15550100200"}`))
	f.Add("GET", "", "message-id=X1&status=failed&err-code=9&client-ref=4711", []byte(nil))
	f.Fuzz(func(t *testing.T, method, contentType, query string, body []byte) {
		q, _ := url.ParseQuery(query) // keep what parses, as a server would
		r := Request{Method: method, ContentType: contentType, Query: q, Body: body}
		in, err := ParseInbound(r)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("ParseInbound error %v does not wrap ErrMalformed", err)
			}
		} else {
			checkNumber(t, "From", in.From)
			checkNumber(t, "To", in.To)
			if !utf8.ValidString(in.Text) || strings.ContainsRune(in.Text, 0) || len(in.Text) > maxTextBytes {
				t.Fatalf("bad text %q", in.Text)
			}
			if in.MessageID == "" || in.Type == "" {
				t.Fatalf("accepted without id or type: %+v", in)
			}
			if c := in.Concat; c != nil && (c.Ref == "" || c.Part < 1 || c.Part > c.Total || c.Total > 255) {
				t.Fatalf("bad concat %+v", *c)
			}
		}
		rc, err := ParseReceipt(r)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("ParseReceipt error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if rc.To != "" {
			checkNumber(t, "receipt To", rc.To)
		}
		if rc.MessageID == "" || receiptStatus(rc.Status) != rc.Status || rc.ErrCode < 0 {
			t.Fatalf("bad receipt %+v", rc)
		}
	})
}

// checkNumber fails unless s is '+' and 7 to 15 digits.
func checkNumber(t *testing.T, name, s string) {
	t.Helper()
	if !strings.HasPrefix(s, "+") || len(s) < 8 || len(s) > 16 || !allDigits(s[1:]) {
		t.Fatalf("%s %q is not E.164 with '+'", name, s)
	}
}

// FuzzVerify checks that Verify never panics on arbitrary parameters and
// signatures, that a signature made by Sign verifies for the same
// parameters, secret and method, and that changing a value breaks it.
func FuzzVerify(f *testing.F) {
	f.Add("text", "Hi & bye = ok", "msisdn", "447700900001", "1795511700", testSecret, uint8(0), knownAnswers[SignatureMD5Hash])
	f.Add("keyword", "", "to", "447700900000", "1", "k", uint8(1), "")
	f.Add("a=b", "c", "a", "b=c", "1", "secret", uint8(2), "ZZ")
	f.Add("sig", "x", "timestamp", "", "", "", uint8(3), "00")
	f.Add("text", "ünïcödé ✓", "type", "unicode", "1795511700", "s3cr3t", uint8(4), strings.Repeat("A", 128))
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2, timestamp, secret string, mi uint8, sig string) {
		m := allMethods[int(mi)%len(allMethods)]
		p := url.Values{}
		p.Add(k1, v1)
		p.Add(k2, v2)
		p.Set("timestamp", timestamp)
		p.Set("sig", sig)
		if err := Verify(p, secret, m); err != nil && !errors.Is(err, ErrBadSignature) {
			t.Fatalf("Verify error %v does not wrap ErrBadSignature", err)
		}

		p.Set("sig", Sign(p, secret, m))
		err := Verify(p, secret, m)
		verifiable := secret != "" && timestamp != "" && len(p[k1]) == 1 && len(p[k2]) == 1 &&
			!strings.ContainsAny(k1+k2, "&=")
		if verifiable && err != nil {
			t.Fatalf("Verify(Sign(%v)) = %v", p, err)
		}
		if !verifiable && err == nil {
			t.Fatalf("Verify accepted unverifiable params %v with secret %q", p, secret)
		}
		if err != nil || k1 == "sig" {
			return
		}
		p.Set(k1, p.Get(k1)+"x")
		if Verify(p, secret, m) == nil {
			t.Fatalf("Verify accepted %v after %s changed", p, k1)
		}
	})
}
