package email

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"testing"

	"github.com/emersion/go-msgauth/dkim"
)

// verifyDKIM checks raw's signatures against a DNS record made from pub.
func verifyDKIM(t *testing.T, raw []byte, keyType string, pub any) error {
	t.Helper()
	var p []byte
	if k, ok := pub.(ed25519.PublicKey); ok {
		p = k
	} else {
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		p = der
	}
	record := "v=DKIM1; k=" + keyType + "; p=" + base64.StdEncoding.EncodeToString(p)
	vs, err := dkim.VerifyWithOptions(bytes.NewReader(raw), &dkim.VerifyOptions{LookupTXT: func(domain string) ([]string, error) {
		if domain != "parley2026._domainkey.harbour.example" {
			t.Errorf("looked up %s", domain)
		}
		return []string{record}, nil
	}})
	if err != nil {
		return err
	}
	if len(vs) != 1 {
		t.Fatalf("%d signatures", len(vs))
	}
	return vs[0].Err
}

// TestDKIMSignVerifies: RSA (PKCS#1 and PKCS#8) and Ed25519 signatures
// over a built message verify, and cover the unsubscribe headers; a
// changed body fails.
func TestDKIMSignVerifies(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8RSA, _ := x509.MarshalPKCS8PrivateKey(rsaKey)
	edPub, edKey, _ := ed25519.GenerateKey(rand.Reader)
	pkcs8Ed, _ := x509.MarshalPKCS8PrivateKey(edKey)
	for _, c := range []struct {
		name, keyType string
		pem           []byte
		pub           any
	}{
		{"rsa pkcs1", "rsa", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)}), &rsaKey.PublicKey},
		{"rsa pkcs8", "rsa", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8RSA}), &rsaKey.PublicKey},
		{"ed25519", "ed25519", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8Ed}), edPub},
	} {
		t.Run(c.name, func(t *testing.T) {
			d, err := NewDKIM(c.pem, "parley2026", "harbour.example")
			if err != nil {
				t.Fatal(err)
			}
			raw := builtMessage(t)
			signed, err := d.Sign(raw)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(signed, []byte("DKIM-Signature: ")) || !bytes.HasSuffix(signed, raw) {
				t.Fatalf("signed message:\n%.600s", signed)
			}
			hdr := signed[:bytes.Index(signed, raw)]
			if !bytes.Contains(bytes.ToLower(hdr), []byte("list-unsubscribe:list-unsubscribe-post")) {
				t.Errorf("unsubscribe headers not signed: %s", hdr)
			}
			if err := verifyDKIM(t, signed, c.keyType, c.pub); err != nil {
				t.Errorf("verify: %v", err)
			}
			tampered := bytes.Replace(signed, []byte("Thursday at 7"), []byte("Thursday at 8"), 1)
			if bytes.Equal(tampered, signed) {
				t.Fatal("nothing tampered")
			}
			if err := verifyDKIM(t, tampered, c.keyType, c.pub); err == nil {
				t.Error("a changed body verified")
			}
		})
	}
}

// TestNewDKIMRefuses: no PEM, a public key, no selector.
func TestNewDKIMRefuses(t *testing.T) {
	small, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&small.PublicKey)
	for name, c := range map[string]struct {
		pem      []byte
		selector string
	}{
		"garbage":     {[]byte("not a key"), "s"},
		"public key":  {pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), "s"},
		"no selector": {pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(small)}), ""},
	} {
		if _, err := NewDKIM(c.pem, c.selector, "harbour.example"); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
}
