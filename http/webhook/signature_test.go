package webhook_test

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/parley-chat/parley/channels/sms"
	"github.com/parley-chat/parley/models"
)

var allMethods = []sms.SignatureMethod{sms.SignatureMD5Hash, sms.SignatureMD5, sms.SignatureSHA1,
	sms.SignatureSHA256, sms.SignatureSHA512}

// TestSignatures: with a secret configured, a callback correctly signed
// by each method is accepted in every encoding; an unsigned one, or one
// signed wrongly, is answered 401 and stores and shows nothing.
func TestSignatures(t *testing.T) {
	for mi, m := range allMethods {
		t.Run(string(m), func(t *testing.T) {
			f := newFixture(t, signedConfig(m))
			other := allMethods[(mi+1)%len(allMethods)]
			type tc struct {
				name string
				make func(p url.Values) url.Values
				want int
			}
			cases := []tc{
				{"correctly signed", f.sign, http.StatusOK},
				{"sig in the other letter case", func(p url.Values) url.Values {
					q := f.sign(p)
					if s := q.Get("sig"); s == strings.ToLower(s) {
						q.Set("sig", strings.ToUpper(s))
					} else {
						q.Set("sig", strings.ToLower(s))
					}
					return q
				}, http.StatusOK},
				{"unsigned", func(p url.Values) url.Values { return p }, http.StatusUnauthorized},
				{"timestamp without sig", func(p url.Values) url.Values {
					q := f.sign(p)
					q.Del("sig")
					return q
				}, http.StatusUnauthorized},
				{"sig without timestamp", func(p url.Values) url.Values {
					q := cloneValues(p)
					q.Set("sig", sms.Sign(q, testSecret, m))
					return q
				}, http.StatusUnauthorized},
				{"empty sig", func(p url.Values) url.Values {
					q := f.sign(p)
					q.Set("sig", "")
					return q
				}, http.StatusUnauthorized},
				{"sig not hex", func(p url.Values) url.Values {
					q := f.sign(p)
					q.Set("sig", strings.Repeat("zz", len(q.Get("sig"))/2))
					return q
				}, http.StatusUnauthorized},
				{"sig truncated", func(p url.Values) url.Values {
					q := f.sign(p)
					q.Set("sig", q.Get("sig")[:len(q.Get("sig"))-2])
					return q
				}, http.StatusUnauthorized},
				{"wrong secret", func(p url.Values) url.Values { return signWith(p, testSecret+"x", m) }, http.StatusUnauthorized},
				{"empty secret", func(p url.Values) url.Values { return signWith(p, "", m) }, http.StatusUnauthorized},
				{"other method " + string(other), func(p url.Values) url.Values { return signWith(p, testSecret, other) }, http.StatusUnauthorized},
				{"signed before a parameter was added", func(p url.Values) url.Values {
					q := f.sign(p)
					q.Set("x-added", "1")
					return q
				}, http.StatusUnauthorized},
				{"sig covers another message", func(p url.Values) url.Values {
					q := f.sign(p)
					q2 := cloneValues(q)
					q2.Set("text", "Send me your password")
					q2.Set("sig", q.Get("sig"))
					return q2
				}, http.StatusUnauthorized},
			}
			for _, c := range cases {
				for _, enc := range encodings {
					for _, path := range []string{inboundPath, statusPath} {
						t.Run(c.name+"/"+enc.String()+"/"+path[len("/webhooks/vonage/"):], func(t *testing.T) {
							var p url.Values
							var check func() bool // whether the callback took effect
							if path == inboundPath {
								id := newID("sig")
								p = inbound(id, newPhone(), "Hi & bye = ok")
								check = func() bool { _, n := f.inboundBody(id); return n == 1 }
							} else {
								to, pid := newPhone(), newID("sigpart")
								id := f.sentMessage(to, pid)
								p = receipt(pid, to, "delivered", "0", strconv.FormatInt(id, 10))
								check = func() bool { return f.messageStatus(id) == models.MsgDelivered }
							}
							before, calls := f.counts(), f.rec.calls()
							code, body := f.send(path, enc, c.make(p))
							if code != c.want {
								t.Fatalf("status %d %q, want %d", code, body, c.want)
							}
							if took := check(); took != (c.want == http.StatusOK) {
								t.Fatalf("took effect: %v", took)
							}
							if c.want != http.StatusOK {
								if after := f.counts(); after != before {
									t.Errorf("rows changed: %+v -> %+v", before, after)
								}
								if f.rec.calls() != calls {
									t.Errorf("Notify called for a refused callback")
								}
							}
						})
					}
				}
			}
		})
	}

	t.Run("sig in the query of a POST", func(t *testing.T) {
		f := newFixture(t, signedConfig(sms.SignatureSHA256))
		id := newID("sigq")
		p := f.sign(inbound(id, newPhone(), "split"))
		q := url.Values{"sig": {p.Get("sig")}, "timestamp": {p.Get("timestamp")}}
		p.Del("sig")
		p.Del("timestamp")
		if code, body := f.raw(http.MethodPost, inboundPath, q.Encode(), "application/x-www-form-urlencoded", []byte(p.Encode())); code != http.StatusOK {
			t.Fatalf("status %d %q", code, body)
		}
		if _, n := f.inboundBody(id); n != 1 {
			t.Fatal("not stored")
		}
	})
}

// mutationsPerBase is how many raw one-byte mutations each signed request
// gets on top of the structured ones; PARLEY_TEST_MUTATIONS raises it (for
// R2's 10,000-mutation run).
func mutationsPerBase() int {
	if n, err := strconv.Atoi(os.Getenv("PARLEY_TEST_MUTATIONS")); err == nil && n > 0 {
		return n
	}
	return 12
}

// mutation is one changed copy of a signed request.
type mutation struct {
	name string
	// params, when set, is sent in the base's encoding.
	params url.Values
	// raw, when set, is sent as is (a byte changed in the encoded request).
	raw *rawReq
	// want is the exact status; 0 accepts 400 or 401.
	want int
}

// structuredMutations makes every one-character and one-parameter change of
// the signed params p that the signature must catch: each value with a
// character replaced (at its start, middle and end), inserted and deleted;
// each parameter dropped, renamed and given twice; a parameter added; the
// sig's hex digits changed. Replacements avoid what the signature scheme
// cannot tell apart: '&', '=' and '_' (all signed as '_') and the letter
// case of the sig's hex digits.
func structuredMutations(p url.Values, rng *rand.Rand) []mutation {
	var ms []mutation
	add := func(name string, q url.Values, want int) {
		ms = append(ms, mutation{name: name, params: q, want: want})
	}
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range p {
			if !yield(k) {
				return
			}
		}
	})
	for _, k := range keys {
		v := []rune(p.Get(k))
		positions := []int{0, len(v) / 2, len(v) - 1}
		if len(v) == 0 {
			positions = nil
		}
		for _, i := range slices.Compact(positions) {
			w := slices.Clone(v)
			w[i] = replacement(v[i], k == "sig", rng)
			q := cloneValues(p)
			q.Set(k, string(w))
			add(fmt.Sprintf("%s: char %d %q -> %q", k, i, v[i], w[i]), q, http.StatusUnauthorized)
		}
		ins := rng.IntN(len(v) + 1)
		c := replacement(0, k == "sig", rng)
		q := cloneValues(p)
		q.Set(k, string(v[:ins])+string(c)+string(v[ins:]))
		add(fmt.Sprintf("%s: %q inserted at %d", k, c, ins), q, http.StatusUnauthorized)
		if len(v) > 0 {
			del := rng.IntN(len(v))
			q := cloneValues(p)
			q.Set(k, string(v[:del])+string(v[del+1:]))
			add(fmt.Sprintf("%s: char %d deleted", k, del), q, http.StatusUnauthorized)
		}
		q = cloneValues(p)
		q.Del(k)
		add(k+" dropped", q, http.StatusUnauthorized)

		q = cloneValues(p)
		q.Add(k, p.Get(k))
		add(k+" given twice", q, http.StatusBadRequest) // a signature could not say which value it covers

		kr := []rune(k)
		for {
			i := rng.IntN(len(kr))
			r := rune('a' + rng.IntN(26))
			if rng.IntN(3) == 0 {
				r = unicode.ToUpper(r)
			}
			renamed := string(kr[:i]) + string(r) + string(kr[i+1:])
			if _, taken := p[renamed]; taken || renamed == k {
				continue
			}
			q = cloneValues(p)
			q.Del(k)
			q.Set(renamed, p.Get(k))
			add(fmt.Sprintf("%s renamed %s", k, renamed), q, http.StatusUnauthorized)
			break
		}
	}
	for _, extra := range [][2]string{{"network-code", "310260"}, {"nonce", ""}, {"sig2", p.Get("sig")}, {"Text", "x"}} {
		if _, taken := p[extra[0]]; taken {
			continue
		}
		q := cloneValues(p)
		q.Set(extra[0], extra[1])
		add(fmt.Sprintf("%s=%q added", extra[0], extra[1]), q, http.StatusUnauthorized)
	}
	return ms
}

// replacement picks a printable ASCII character other than r that the
// signature tells apart from r.
func replacement(r rune, inSig bool, rng *rand.Rand) rune {
	same := func(c rune) bool {
		if c == r {
			return true
		}
		if strings.ContainsRune("&=_", r) && strings.ContainsRune("&=_", c) {
			return true
		}
		return inSig && unicode.ToLower(c) == unicode.ToLower(r)
	}
	for {
		c := rune(0x20 + rng.IntN(0x7f-0x20))
		if !same(c) {
			return c
		}
	}
}

// rawMutations changes one byte of the encoded request (its query for a
// GET, its body for a POST) to any byte (any a URL can carry, for a
// GET), skipping changes the server
// cannot see (a different encoding of the same parameters).
func rawMutations(e encoding, p url.Values, n int, rng *rand.Rand) (ms []mutation, skipped int) {
	query, ct, body := encode(e, p)
	method := http.MethodPost
	enc := body
	if e == encGET {
		method, enc = http.MethodGet, []byte(query)
	}
	want := canonical(p)
	for len(ms) < n {
		b := slices.Clone(enc)
		i := rng.IntN(len(b))
		old := b[i]
		b[i] = byte(rng.IntN(256))
		if e == encGET {
			// What an HTTP client can put in a URL: printable ASCII but
			// the fragment's '#'.
			b[i] = byte(0x21 + rng.IntN(0x7f-0x21))
		}
		if b[i] == old || b[i] == '#' && e == encGET {
			continue
		}
		r := &rawReq{method: method, contentType: ct, body: b}
		if e == encGET {
			r.query, r.body = string(b), nil
		}
		if got, ok := requestParams(r); ok && got == want {
			skipped++
			continue
		}
		ms = append(ms, mutation{name: fmt.Sprintf("byte %d %q -> %q", i, old, b[i]), raw: r})
	}
	return ms, skipped
}

// canonical is what Vonage's signature covers, with the sig itself
// (case-insensitively): equal canonical forms verify alike.
func canonical(p url.Values) string {
	var b strings.Builder
	clean := strings.NewReplacer("&", "_", "=", "_")
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range p {
			if !yield(k) {
				return
			}
		}
	}) {
		for _, v := range p[k] {
			if k == "sig" {
				v = strings.ToLower(v)
			} else {
				v = clean.Replace(v)
			}
			fmt.Fprintf(&b, "&%q=%q", k, v)
		}
	}
	return b.String()
}

// requestParams reads a raw request's parameters as Vonage's format
// defines them; ok is false when the request is malformed.
func requestParams(r *rawReq) (string, bool) {
	q, err := url.ParseQuery(r.query)
	if err != nil {
		return "", false
	}
	p, err := sms.Request{Method: r.method, ContentType: r.contentType, Query: q, Body: r.body}.Params()
	if err != nil {
		return "", false
	}
	return canonical(p), true
}

// TestSignatureMutations is R2 at the scale of a unit test: for every
// method and encoding, signed inbound messages (one plain, one a part of a
// long message) and a signed receipt are each mutated in every
// one-character and one-parameter way, plus random one-byte changes of
// the encoded request. Every mutation is refused (401 for a bad
// signature, 400 for a request no signature could cover), no row is
// written, nothing is shown; then the unmutated requests are accepted,
// which shows the refusals were the mutations' doing.
func TestSignatureMutations(t *testing.T) {
	total, skippedAll := 0, 0
	for mi, m := range allMethods {
		for _, enc := range encodings {
			t.Run(string(m)+"/"+enc.String(), func(t *testing.T) {
				f := newFixture(t, signedConfig(m))
				rng := rand.New(rand.NewPCG(uint64(mi), uint64(enc)))
				from, to := newPhone(), newPhone()
				inID, partID, rcptPart := newID("mut"), newID("mutpart"), newID("mutrcpt")
				msgID := f.sentMessage(to, rcptPart)
				bases := []struct {
					name string
					path string
					p    url.Values
				}{
					{"inbound", inboundPath, f.sign(inbound(inID, from, "Hi & bye = ok_go + 50% ünï ✓"))},
					{"part", inboundPath, f.sign(part(partID, from, newID("ref"), 1, 2, "First half "))},
					{"receipt", statusPath, f.sign(receipt(rcptPart, to, "delivered", "0", strconv.FormatInt(msgID, 10)))},
				}
				before := f.counts()
				n := 0
				for _, b := range bases {
					ms := structuredMutations(b.p, rng)
					raws, skipped := rawMutations(enc, b.p, mutationsPerBase(), rng)
					skippedAll += skipped
					for _, mu := range append(ms, raws...) {
						n++
						var code int
						var body string
						if mu.raw != nil {
							code, body = f.raw(mu.raw.method, b.path, mu.raw.query, mu.raw.contentType, mu.raw.body)
						} else {
							code, body = f.send(b.path, enc, mu.params)
						}
						ok := code == mu.want || mu.want == 0 && (code == http.StatusBadRequest || code == http.StatusUnauthorized)
						if !ok {
							t.Errorf("%s %s: status %d %.100q, want %d", b.name, mu.name, code, body, mu.want)
						}
						if c := f.rec.calls(); c != 0 {
							t.Fatalf("%s %s: Notify called (%d)", b.name, mu.name, c)
						}
					}
				}
				if after := f.counts(); after != before {
					t.Errorf("rows changed by refused callbacks: %+v -> %+v", before, after)
				}
				if f.kicks.Load() != 0 {
					t.Errorf("kicked %d times by refused callbacks", f.kicks.Load())
				}
				if s := f.messageStatus(msgID); s != models.MsgSent {
					t.Errorf("receipt's message %s after the mutations, want sent", s)
				}
				total += n

				// The originals are accepted.
				for _, b := range bases {
					if code, body := f.send(b.path, enc, b.p); code != http.StatusOK {
						t.Fatalf("unmutated %s: %d %q", b.name, code, body)
					}
				}
				if _, c := f.inboundBody(inID); c != 1 {
					t.Error("unmutated inbound not stored")
				}
				if c := f.intQuery(`SELECT count(*) FROM inbound_parts WHERE provider_message_id = ?`, partID); c != 1 {
					t.Error("unmutated part not stored")
				}
				if s := f.messageStatus(msgID); s != models.MsgDelivered {
					t.Errorf("unmutated receipt: message %s", s)
				}
			})
		}
	}
	t.Logf("%d mutations refused (%d raw byte changes skipped as invisible to the server)", total, skippedAll)
}

// TestSignatureMisconfigured: a secret with no (or an unknown) method
// fails closed: every callback is refused, none stored.
func TestSignatureMisconfigured(t *testing.T) {
	for _, m := range []sms.SignatureMethod{"", "sha3", "SHA256"} {
		t.Run(fmt.Sprintf("%q", m), func(t *testing.T) {
			f := newFixture(t, signedConfig(m))
			id := newID("miscfg")
			p := signWith(inbound(id, newPhone(), "hello"), testSecret, sms.SignatureSHA256)
			if code, body := f.send(inboundPath, encForm, p); code != http.StatusUnauthorized {
				t.Fatalf("status %d %q, want 401", code, body)
			}
			if _, n := f.inboundBody(id); n != 0 || f.rec.calls() != 0 {
				t.Fatalf("stored %d, Notify %d", n, f.rec.calls())
			}
		})
	}
}

// TestMalformedQueryPair: a query string with a pair that does not decode
// (a bad %-escape, a ';') is malformed input (R14), and on a signed
// callback it is a parameter the signature does not cover (R2): it must be
// refused with nothing stored, not silently dropped.
func TestMalformedQueryPair(t *testing.T) {
	for _, tc := range []struct {
		name   string
		method string
		extra  string
	}{
		{name: "signed GET, junk=%zz", method: http.MethodGet, extra: "junk=%zz"},
		{name: "signed GET, a second msisdn=%zz", method: http.MethodGet, extra: "msisdn=%zz"},
		{name: "signed GET, a;b=1", method: http.MethodGet, extra: "a;b=1"},
		{name: "signed POST form, query junk=%zz", method: http.MethodPost, extra: "junk=%zz"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, signedConfig(sms.SignatureSHA256))
			id := newID("badq")
			p := f.sign(inbound(id, newPhone(), "hello"))
			before := f.counts()
			var code int
			var body string
			if tc.method == http.MethodGet {
				code, body = f.raw(http.MethodGet, inboundPath, p.Encode()+"&"+tc.extra, "", nil)
			} else {
				code, body = f.raw(http.MethodPost, inboundPath, tc.extra, "application/x-www-form-urlencoded", []byte(p.Encode()))
			}
			if code != http.StatusBadRequest {
				t.Errorf("status %d %q, want 400", code, body)
			}
			if after := f.counts(); after != before || f.rec.calls() != 0 {
				t.Errorf("rows %+v -> %+v, Notify %d; want nothing", before, after, f.rec.calls())
			}
		})
	}
}
