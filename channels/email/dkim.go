package email

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"

	"github.com/emersion/go-msgauth/dkim"
)

// DKIM signs built messages for a domain (RFC 6376), relaxed/relaxed,
// with an RSA or Ed25519 key.
type DKIM struct {
	domain, selector string
	key              crypto.Signer
}

// dkimHeaders are the headers signed: everything a reader or a filter
// trusts, the one-click unsubscribe pair included (RFC 8058 requires
// them signed). From is listed twice so no second From can be added.
var dkimHeaders = []string{"From", "From", "To", "Cc", "Subject", "Date", "Message-ID", "In-Reply-To", "References",
	"Reply-To", "MIME-Version", "Content-Type", "Content-Transfer-Encoding", "Auto-Submitted",
	"List-Unsubscribe", "List-Unsubscribe-Post"}

// LoadDKIM reads a PEM private key file (PKCS#8 RSA or Ed25519, or
// PKCS#1 RSA) for signing as domain with selector.
func LoadDKIM(keyFile, selector, domain string) (*DKIM, error) {
	b, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, fmt.Errorf("email: dkim key: %w", err)
	}
	return NewDKIM(b, selector, domain)
}

// NewDKIM is LoadDKIM for the PEM bytes.
func NewDKIM(pemBytes []byte, selector, domain string) (*DKIM, error) {
	if selector == "" || domain == "" {
		return nil, errors.New("email: dkim: a selector and a domain are required")
	}
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, errors.New("email: dkim key: no PEM block")
	}
	var key crypto.Signer
	switch block.Type {
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("email: dkim key: %w", err)
		}
		key = k
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("email: dkim key: %w", err)
		}
		switch k := k.(type) {
		case *rsa.PrivateKey:
			key = k
		case ed25519.PrivateKey:
			key = k
		default:
			return nil, fmt.Errorf("email: dkim key: %T is neither RSA nor Ed25519", k)
		}
	default:
		return nil, fmt.Errorf("email: dkim key: PEM block %q is not a private key", block.Type)
	}
	if k, ok := key.(*rsa.PrivateKey); ok && k.N.BitLen() < 1024 {
		return nil, fmt.Errorf("email: dkim key: RSA keys need at least 1024 bits, not %d", k.N.BitLen())
	}
	return &DKIM{domain: domain, selector: selector, key: key}, nil
}

// Sign returns raw with a DKIM-Signature header in front.
func (d *DKIM) Sign(raw []byte) ([]byte, error) {
	var out bytes.Buffer
	out.Grow(len(raw) + 1024)
	err := dkim.Sign(&out, bytes.NewReader(raw), &dkim.SignOptions{
		Domain: d.domain, Selector: d.selector, Signer: d.key,
		HeaderCanonicalization: dkim.CanonicalizationRelaxed, BodyCanonicalization: dkim.CanonicalizationRelaxed,
		HeaderKeys: dkimHeaders,
	})
	if err != nil {
		return nil, fmt.Errorf("email: dkim sign: %w", err)
	}
	return out.Bytes(), nil
}
