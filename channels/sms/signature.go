package sms

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"net/url"
	"slices"
	"strings"
)

// SignatureMethod is how Vonage signs SMS-API webhooks, as chosen in the
// account's settings.
type SignatureMethod string

// The signature methods. MD5Hash is the legacy md5(params + secret); the
// others are HMACs keyed with the signature secret and should be preferred.
const (
	SignatureMD5Hash SignatureMethod = "md5hash"
	SignatureMD5     SignatureMethod = "md5"
	SignatureSHA1    SignatureMethod = "sha1"
	SignatureSHA256  SignatureMethod = "sha256"
	SignatureSHA512  SignatureMethod = "sha512"
)

// ErrBadSignature means a webhook's signature is missing or wrong. The
// webhook refuses the request; errors wrap it with the reason.
var ErrBadSignature = errors.New("sms: bad webhook signature")

// ParseSignatureMethod reads a configured method name (case and
// surrounding space ignored).
func ParseSignatureMethod(s string) (SignatureMethod, error) {
	m := SignatureMethod(strings.ToLower(strings.TrimSpace(s)))
	if m.hash() == nil {
		return "", fmt.Errorf("sms: unknown signature method %q: want md5hash, md5, sha1, sha256 or sha512", s)
	}
	return m, nil
}

// hash returns the method's hash constructor, nil for an unknown method.
func (m SignatureMethod) hash() func() hash.Hash {
	switch m {
	case SignatureMD5Hash, SignatureMD5:
		return md5.New
	case SignatureSHA1:
		return sha1.New
	case SignatureSHA256:
		return sha256.New
	case SignatureSHA512:
		return sha512.New
	}
	return nil
}

// signedString is what Vonage signs: the parameters other than sig, sorted
// by name, each value with '&' and '=' replaced by '_', joined as
// "&name=value&name2=value2". Empty values are included.
//
// So '_', '&' and '=' inside a value are signed alike: a captured request
// with one swapped for another still verifies, and no receiver can tell
// (README, security notes). Every other alteration changes this string;
// TestSignatureRefusesEveryMutationButTheDocumentedOne keeps it so.
func signedString(params url.Values) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		if k != "sig" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	clean := strings.NewReplacer("&", "_", "=", "_")
	var b strings.Builder
	for _, k := range keys {
		for _, v := range params[k] {
			b.WriteString("&")
			b.WriteString(k)
			b.WriteString("=")
			b.WriteString(clean.Replace(v))
		}
	}
	return b.String()
}

// digest computes the raw signature of params; nil for an unknown method.
func digest(params url.Values, secret string, m SignatureMethod) []byte {
	h := m.hash()
	if h == nil {
		return nil
	}
	s := signedString(params)
	if m == SignatureMD5Hash {
		sum := md5.Sum([]byte(s + secret))
		return sum[:]
	}
	mac := hmac.New(h, []byte(secret))
	mac.Write([]byte(s))
	return mac.Sum(nil)
}

// Sign returns the sig Vonage would send with params (any sig among them
// is ignored): lower-case hex for md5hash, upper-case hex for the HMACs, as
// Vonage's own libraries produce them; "" for an unknown method. The
// simulator and the tests sign with it.
func Sign(params url.Values, secret string, m SignatureMethod) string {
	d := digest(params, secret, m)
	if d == nil {
		return ""
	}
	if m == SignatureMD5Hash {
		return hex.EncodeToString(d)
	}
	return strings.ToUpper(hex.EncodeToString(d))
}

// Verify checks params' sig, in either case, against secret and m with a
// constant-time compare. It also requires Vonage's timestamp parameter
// (which the signature covers) but not its freshness: Vonage retries a
// callback it gets no 2xx for over 24 hours, so a replay is defeated by
// de-duplicating on messageId, not by a time window. Every parameter must
// have exactly one value and no '&' or '=' in its name, since the signed
// string could not tell such parameters apart. The error wraps
// ErrBadSignature.
func Verify(params url.Values, secret string, m SignatureMethod) error {
	if m.hash() == nil {
		return fmt.Errorf("%w: unknown method %.20q", ErrBadSignature, m)
	}
	if secret == "" {
		return fmt.Errorf("%w: no signature secret configured", ErrBadSignature)
	}
	for k, vs := range params {
		if len(vs) != 1 {
			return fmt.Errorf("%w: parameter %.64q has %d values", ErrBadSignature, k, len(vs))
		}
		if strings.ContainsAny(k, "&=") {
			return fmt.Errorf("%w: parameter name %.64q has '&' or '='", ErrBadSignature, k)
		}
	}
	sig := params.Get("sig")
	if sig == "" {
		return fmt.Errorf("%w: missing sig", ErrBadSignature)
	}
	if params.Get("timestamp") == "" {
		return fmt.Errorf("%w: missing timestamp", ErrBadSignature)
	}
	got, err := hex.DecodeString(sig)
	if err != nil {
		return fmt.Errorf("%w: sig is not hex", ErrBadSignature)
	}
	if !hmac.Equal(got, digest(params, secret, m)) {
		return fmt.Errorf("%w: signature does not match", ErrBadSignature)
	}
	return nil
}
