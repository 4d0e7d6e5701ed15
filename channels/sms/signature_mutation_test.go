package sms

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

// The one alteration a Vonage signature cannot catch: a character of a
// value among '_', '&' and '=' replaced by another of them, since the
// signed string writes all three as '_' (see signedString).
const signedAlike = "_&="

// alteration is how a mutated request's parameters differ from the
// original's.
type alteration int

const (
	sameParams  alteration = iota // the same parameters (another encoding of them; sig's hex case)
	alikeSwap                     // one value character among '_', '&', '=' swapped for another of them
	otherChange                   // anything else
)

// classify compares the parameters a mutated request decodes to with the
// original's.
func classify(orig, got url.Values) alteration {
	if len(orig) != len(got) {
		return otherChange
	}
	swaps := 0
	for k, ov := range orig {
		gv, ok := got[k]
		if !ok || len(gv) != len(ov) {
			return otherChange
		}
		for i := range ov {
			a, b := ov[i], gv[i]
			if k == "sig" {
				a, b = strings.ToUpper(a), strings.ToUpper(b)
			}
			if a == b {
				continue
			}
			ra, rb := []rune(a), []rune(b)
			if len(ra) != len(rb) || k == "sig" {
				return otherChange
			}
			for j := range ra {
				if ra[j] == rb[j] {
					continue
				}
				if !strings.ContainsRune(signedAlike, ra[j]) || !strings.ContainsRune(signedAlike, rb[j]) {
					return otherChange
				}
				swaps++
			}
		}
	}
	switch swaps {
	case 0:
		return sameParams
	case 1:
		return alikeSwap
	}
	return otherChange
}

// mutations returns every single-character deletion, substitution and
// insertion of raw over alphabet.
func mutations(raw string, alphabet []rune) []string {
	rs := []rune(raw)
	var out []string
	for i := range len(rs) + 1 {
		if i < len(rs) {
			out = append(out, string(rs[:i])+string(rs[i+1:]))
		}
		for _, c := range alphabet {
			if i < len(rs) && c != rs[i] {
				out = append(out, string(rs[:i])+string(c)+string(rs[i+1:]))
			}
			out = append(out, string(rs[:i])+string(c)+string(rs[i:]))
		}
	}
	return out
}

// TestSignatureRefusesEveryMutationButTheDocumentedOne takes a signed
// inbound callback as a GET query, a POST form and a POST JSON body and
// tries every single-character deletion, substitution and insertion of
// its raw text. Each one must be refused (it does not parse, or its
// signature does not verify) unless it decodes to the very same
// parameters, except exactly the documented class: a value character
// among '_', '&', '=' swapped for another of them, which every method
// accepts because Vonage signs the three alike (README, security notes).
// The test also checks that class is reachable, so the README's warning
// stays true.
func TestSignatureRefusesEveryMutationButTheDocumentedOne(t *testing.T) {
	params := signedParams()
	params.Set("text", "Hi & bye = ok_go")
	// The class is in the signed string, not the method: each encoding is
	// tried with one method, the legacy hash and two HMACs.
	for _, enc := range []struct {
		name   string
		method SignatureMethod
		raw    func(signed url.Values) string
		req    func(raw string) (Request, error)
	}{
		{"GET query", SignatureMD5Hash, url.Values.Encode, func(raw string) (Request, error) {
			q, err := url.ParseQuery(raw) // as http/webhook reads the query
			return Request{Method: "GET", Query: q}, err
		}},
		{"POST form", SignatureSHA512, url.Values.Encode, func(raw string) (Request, error) {
			return Request{Method: "POST", ContentType: "application/x-www-form-urlencoded", Body: []byte(raw)}, nil
		}},
		{"POST JSON", SignatureSHA256, func(signed url.Values) string {
			flat := map[string]string{}
			for k := range signed {
				flat[k] = signed.Get(k)
			}
			js, err := json.Marshal(flat)
			if err != nil {
				t.Fatal(err)
			}
			return string(js)
		}, func(raw string) (Request, error) {
			return Request{Method: "POST", ContentType: "application/json", Body: []byte(raw)}, nil
		}},
	} {
		t.Run(enc.name, func(t *testing.T) {
			signed := url.Values{}
			for k, v := range params {
				signed[k] = append([]string(nil), v...)
			}
			signed.Set("sig", Sign(params, testSecret, enc.method))
			checkMutations(t, signed, enc.method, enc.raw(signed), enc.req)
		})
	}
}

// checkMutations tries every single-character mutation of raw, a signed
// request that req turns into the webhook's Request, over an alphabet of
// the characters raw holds and a few that matter to the encodings.
func checkMutations(t *testing.T, signed url.Values, m SignatureMethod, raw string, req func(string) (Request, error)) {
	t.Helper()
	r, err := req(raw)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := r.Params(); err != nil || Verify(p, testSecret, m) != nil {
		t.Fatalf("the unaltered request is refused: %v", err)
	}
	seen := map[rune]bool{'é': true, ' ': true, '\t': true, '\\': true, '"': true, '%': true, '+': true, ';': true, '#': true}
	for _, c := range raw {
		seen[c] = true
	}
	alphabet := make([]rune, 0, len(seen))
	for c := range seen {
		alphabet = append(alphabet, c)
	}
	var tried, refused, alike int
	for _, mut := range mutations(raw, alphabet) {
		tried++
		r, err := req(mut)
		var p url.Values
		if err == nil {
			p, err = r.Params()
		}
		if err == nil {
			err = Verify(p, testSecret, m)
		}
		if err != nil {
			refused++
			if p != nil && classify(signed, p) == alikeSwap {
				t.Errorf("refused a swap of '_', '&', '=' (signed alike, so it must verify): %q", mut)
			}
			continue
		}
		switch classify(signed, p) {
		case alikeSwap:
			alike++
		case otherChange:
			t.Errorf("accepted an altered request: %q decodes to %v", mut, p)
		}
	}
	if alike == 0 {
		t.Errorf("no swap of '_', '&', '=' was accepted: the documented class is not exercised")
	}
	t.Logf("%d mutations: %d refused, %d accepted swaps of '_', '&', '=', %d accepted decoding to the same parameters",
		tried, refused, alike, tried-refused-alike)
}
