package model

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"

	corev1 "k8s.io/api/core/v1"
)

// parseBundle checks that certPEM and keyPEM form a usable pair and returns
// a clean bundle: only CERTIFICATE blocks followed by the key block, so no
// stray text from a Secret reaches haproxy's files.
func parseBundle(certPEM, keyPEM []byte) ([]byte, error) {
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	if _, err := x509.ParseCertificate(pair.Certificate[0]); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	for _, der := range pair.Certificate {
		pem.Encode(&out, &pem.Block{Type: "CERTIFICATE", Bytes: der})
	}
	rest := keyPEM
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return nil, errors.New("no private key block")
		}
		if b.Type == "PRIVATE KEY" || b.Type == "RSA PRIVATE KEY" || b.Type == "EC PRIVATE KEY" {
			pem.Encode(&out, &pem.Block{Type: b.Type, Bytes: b.Bytes})
			return out.Bytes(), nil
		}
	}
}

// splitBundle separates a PEM bundle holding both chain and key, as given
// for the default certificate.
func splitBundle(bundle []byte) ([]byte, error) {
	return parseBundle(bundle, bundle)
}

// secretBundle validates a kubernetes.io/tls Secret.
func secretBundle(s *corev1.Secret) ([]byte, error) {
	if s.Type != corev1.SecretTypeTLS {
		return nil, errors.New("secret type is " + string(s.Type) + ", want " + string(corev1.SecretTypeTLS))
	}
	return parseBundle(s.Data[corev1.TLSCertKey], s.Data[corev1.TLSPrivateKeyKey])
}
