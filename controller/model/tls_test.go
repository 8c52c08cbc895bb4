package model_test

import (
	"bytes"
	"encoding/pem"
	"strings"
	"testing"
)

// TestSecretStructure covers the PEM layouts found in real Secrets: what
// is accepted, and what is refused with the block named.
func TestSecretStructure(t *testing.T) {
	cert, key := tlsPair(t)
	ecParams := pem.EncodeToMemory(&pem.Block{Type: "EC PARAMETERS", Bytes: []byte{6, 8, 42, 134, 72, 206, 61, 3, 1, 7}})
	encrypted := pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{1}})
	join := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	for _, c := range []struct {
		name     string
		crt, key []byte
		want     string // "" accepted
	}{
		{"plain", cert, key, ""},
		{"text around the blocks", join([]byte("subject=CN=a\n"), cert, []byte("trailing notes\n")), key, ""},
		{"EC PARAMETERS before the key", cert, join(ecParams, key), ""},
		{"certificates in tls.key", cert, join(cert, key), ""},
		{"key in tls.crt", join(cert, key), key, "tls.crt holds a private key"},
		{"two keys", cert, join(key, key), "tls.key block 1: a second private key"},
		{"encrypted key", cert, encrypted, `private key block "ENCRYPTED PRIVATE KEY"`},
		{"no key", cert, nil, "no private key block"},
		{"no certificate", nil, key, "no CERTIFICATE block"},
		{"other block in tls.crt", join(cert, pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: []byte{1}})), key, `tls.crt block 1: unexpected "X509 CRL" block`},
	} {
		secret := tlsSecret("s", c.crt, c.key)
		problem, bundle := modelCert(t, "secret", secret, nil)
		switch {
		case c.want == "" && problem != "":
			t.Errorf("%s: refused: %s", c.name, problem)
		case c.want == "" && string(bundle) != string(cert)+string(key):
			t.Errorf("%s: bundle is not the clean chain and key:\n%s", c.name, bundle)
		case c.want != "" && !strings.Contains(problem, c.want):
			t.Errorf("%s: problem %q, want one containing %q", c.name, problem, c.want)
		}
	}
}
