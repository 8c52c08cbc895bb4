// Package defaultcert provides the self-signed certificate haproxy serves when
// no Ingress certificate matches. It is kept on disk and reused, so that a
// restarted controller renders byte-equal files and needs no reload.
package defaultcert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"time"
)

// validity of a generated certificate; renewed when less than a tenth is left.
const validity = 365 * 24 * time.Hour

// LoadOrCreate returns the PEM bundle (certificate then key) at path when it
// is valid for a while yet, or a new one. It does not write: the render puts
// the bundle at path with the rest of the configuration.
func LoadOrCreate(path string, now time.Time) ([]byte, error) {
	pem, _, err := loadOrCreate(path, now)
	return pem, err
}

// Keeper holds the certificate LoadOrCreate returned, so that updates do not
// read and parse it from disk each time; it looks again once renewal is due.
type Keeper struct {
	Path    string
	pem     []byte
	renewAt time.Time
}

// Get returns the kept certificate, or LoadOrCreate's once renewal is due.
func (k *Keeper) Get(now time.Time) ([]byte, error) {
	if k.pem == nil || !now.Before(k.renewAt) {
		pem, notAfter, err := loadOrCreate(k.Path, now)
		if err != nil {
			return nil, err
		}
		k.pem, k.renewAt = pem, renewAt(notAfter)
	}
	return k.pem, nil
}

func loadOrCreate(path string, now time.Time) ([]byte, time.Time, error) {
	if b, err := os.ReadFile(path); err == nil {
		if notAfter, ok := expiry(b); ok && now.Before(renewAt(notAfter)) {
			return b, notAfter, nil
		}
	}
	pem, err := Generate(now)
	return pem, now.Add(validity), err
}

// renewAt is when a certificate valid until notAfter is replaced.
func renewAt(notAfter time.Time) time.Time { return notAfter.Add(-validity / 10) }

func expiry(bundle []byte) (time.Time, bool) {
	c, err := tls.X509KeyPair(bundle, bundle)
	if err != nil || c.Leaf == nil {
		return time.Time{}, false
	}
	return c.Leaf.NotAfter, true
}

// Generate makes a new self-signed ECDSA P-256 certificate.
func Generate(now time.Time) ([]byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "haproxy-ingress default certificate", Organization: []string{"external-haproxy kit"}},
		DNSNames:     []string{"ingress.local"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(validity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}
	out := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	return append(out, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})...), nil
}
