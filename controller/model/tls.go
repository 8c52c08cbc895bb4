package model

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// What haproxy loads is decided by OpenSSL at Debian's default security
// level (SECLEVEL=2 in /etc/ssl/openssl.cnf): keys of at least 112 bits of
// security, and no MD5 or SHA-1 signature on a certificate that is not
// self-signed (OpenSSL does not check the signature of a self-signed one).
// The model checks the same, so that such a Secret is reported here
// instead of freezing every later update at haproxy -c.
const minRSABits = 2048

// keyBlockTypes are the private key encodings haproxy reads.
var keyBlockTypes = map[string]bool{"PRIVATE KEY": true, "RSA PRIVATE KEY": true, "EC PRIVATE KEY": true}

// pemBlocks decodes every PEM block of data. pem.Decode silently skips a
// block it cannot decode and whatever follows the last one; both would drop
// a certificate of the chain, so both are errors here.
func pemBlocks(data []byte, field string) ([]*pem.Block, error) {
	var out []*pem.Block
	begin := []byte("-----BEGIN ")
	for rest := data; ; {
		i := bytes.Index(rest, begin)
		if i < 0 {
			return out, nil
		}
		rest = rest[i:]
		b, after := pem.Decode(rest)
		consumed := len(rest) - len(after)
		if next := bytes.Index(rest[1:], begin); b == nil || next >= 0 && next+1 < consumed {
			return nil, fmt.Errorf("%s block %d: not a valid PEM block", field, len(out))
		}
		out = append(out, b)
		rest = after
	}
}

// parseBundle checks that the chain and key form a pair haproxy loads and
// returns a clean bundle: the CERTIFICATE blocks followed by the key block,
// so no stray text from a Secret reaches haproxy's files.
func parseBundle(chain []*pem.Block, key *pem.Block) ([]byte, error) {
	if len(chain) == 0 {
		return nil, errors.New("no CERTIFICATE block")
	}
	if key == nil {
		return nil, errors.New("no private key block")
	}
	if !keyBlockTypes[key.Type] {
		return nil, fmt.Errorf("private key block %q: want PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY (unencrypted)", key.Type)
	}
	var out bytes.Buffer
	for i, b := range chain {
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate block %d: %v", i, err)
		}
		if err := checkCertificate(c); err != nil {
			return nil, fmt.Errorf("certificate block %d (%s): %v", i, c.Subject, err)
		}
		pem.Encode(&out, &pem.Block{Type: "CERTIFICATE", Bytes: b.Bytes})
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: key.Type, Bytes: key.Bytes})
	if _, err := tls.X509KeyPair(out.Bytes(), keyPEM); err != nil {
		return nil, fmt.Errorf("private key: %v", err)
	}
	out.Write(keyPEM)
	return out.Bytes(), nil
}

// checkCertificate applies OpenSSL's security level to one certificate of
// a chain: its key, and its signature unless it is self-signed.
func checkCertificate(c *x509.Certificate) error {
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		if n := k.N.BitLen(); n < minRSABits {
			return fmt.Errorf("RSA key of %d bits, want at least %d", n, minRSABits)
		}
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
		default:
			return fmt.Errorf("EC key on %s, want P-256, P-384 or P-521", k.Curve.Params().Name)
		}
	case ed25519.PublicKey:
	default:
		return fmt.Errorf("%s key, want RSA, EC or Ed25519", c.PublicKeyAlgorithm)
	}
	if selfSigned(c) {
		return nil
	}
	switch c.SignatureAlgorithm {
	case x509.MD2WithRSA, x509.MD5WithRSA, x509.SHA1WithRSA, x509.DSAWithSHA1, x509.ECDSAWithSHA1:
		return fmt.Errorf("signed with %s, want SHA-256 or stronger", c.SignatureAlgorithm)
	}
	return nil
}

// selfSigned tells what OpenSSL calls self-signed: issuer and subject are
// equal and the authority key id, if any, is the certificate's own.
func selfSigned(c *x509.Certificate) bool {
	return bytes.Equal(c.RawIssuer, c.RawSubject) &&
		(len(c.AuthorityKeyId) == 0 || bytes.Equal(c.AuthorityKeyId, c.SubjectKeyId))
}

// splitBlocks sorts the blocks of a field into certificates and the
// private key; EC PARAMETERS (written by openssl ecparam -genkey) are
// skipped, anything else is an error.
func splitBlocks(data []byte, field string) (certs []*pem.Block, key *pem.Block, err error) {
	blocks, err := pemBlocks(data, field)
	if err != nil {
		return nil, nil, err
	}
	for i, b := range blocks {
		switch {
		case b.Type == "CERTIFICATE":
			certs = append(certs, b)
		case strings.HasSuffix(b.Type, "PRIVATE KEY"):
			if key != nil {
				return nil, nil, fmt.Errorf("%s block %d: a second private key", field, i)
			}
			key = b
		case b.Type != "EC PARAMETERS":
			return nil, nil, fmt.Errorf("%s block %d: unexpected %q block", field, i, b.Type)
		}
	}
	return certs, key, nil
}

// splitBundle separates a PEM bundle holding both chain and key, as given
// for the default certificate.
func splitBundle(bundle []byte) ([]byte, error) {
	chain, key, err := splitBlocks(bundle, "bundle")
	if err != nil {
		return nil, err
	}
	return parseBundle(chain, key)
}

// secretBundle validates a kubernetes.io/tls Secret: tls.crt holds the
// chain only; tls.key the key, possibly with certificates, which are
// ignored there.
func secretBundle(s *corev1.Secret) ([]byte, error) {
	if s.Type != corev1.SecretTypeTLS {
		return nil, errors.New("secret type is " + string(s.Type) + ", want " + string(corev1.SecretTypeTLS))
	}
	chain, stray, err := splitBlocks(s.Data[corev1.TLSCertKey], corev1.TLSCertKey)
	if err != nil {
		return nil, err
	}
	if stray != nil {
		return nil, fmt.Errorf("%s holds a private key, want CERTIFICATE blocks only", corev1.TLSCertKey)
	}
	_, key, err := splitBlocks(s.Data[corev1.TLSPrivateKeyKey], corev1.TLSPrivateKeyKey)
	if err != nil {
		return nil, err
	}
	return parseBundle(chain, key)
}
