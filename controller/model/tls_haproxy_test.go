package model_test

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/external-haproxy/kit/controller/model"
	"github.com/external-haproxy/kit/test/haproxybin"
)

// certCase is a certificate chain and key, and whether haproxy (OpenSSL at
// Debian's default security level) loads it.
type certCase struct {
	name      string
	chain     []byte // PEM, leaf first
	key       []byte // PEM
	loads     loads  // whether haproxy -c accepts the raw files
	modelWant string // substring of the model's problem; "" when accepted
}

type loads int

const (
	refused loads = iota
	loaded
	varies // 2.6 and 3.0 differ
)

var serial int64

// issue makes a certificate for pub signed by signer (self-signed when
// parent is nil) with SHA-256, or with the weak hash given, which crypto/x509
// refuses to produce: the SHA-256 certificate is then re-signed by hand.
func issue(t *testing.T, cn string, pub crypto.PublicKey, parent *x509.Certificate, signer crypto.Signer, weak crypto.Hash) *x509.Certificate {
	t.Helper()
	serial++
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn}, DNSNames: []string{cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		BasicConstraintsValid: true, IsCA: parent == nil,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
	}
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	if err != nil {
		t.Fatal(err)
	}
	if weak != 0 {
		der = resign(t, der, signer.(*rsa.PrivateKey), weak)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var (
	oidSHA256RSA = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
	oidWeakRSA   = map[crypto.Hash]asn1.ObjectIdentifier{crypto.MD5: {1, 2, 840, 113549, 1, 1, 4}, crypto.SHA1: {1, 2, 840, 113549, 1, 1, 5}}
)

// resign replaces the sha256WithRSA signature of der by one with h.
func resign(t *testing.T, der []byte, key *rsa.PrivateKey, h crypto.Hash) []byte {
	var c struct {
		TBS asn1.RawValue
		Alg pkix.AlgorithmIdentifier
		Sig asn1.BitString
	}
	if _, err := asn1.Unmarshal(der, &c); err != nil {
		t.Fatal(err)
	}
	oldOID, _ := asn1.Marshal(oidSHA256RSA)
	newOID, _ := asn1.Marshal(oidWeakRSA[h])
	tbs := bytes.Replace(c.TBS.FullBytes, oldOID, newOID, 1) // same length: the TBS lengths hold
	var digest []byte
	if h == crypto.MD5 {
		s := md5.Sum(tbs)
		digest = s[:]
	} else {
		s := sha1.Sum(tbs)
		digest = s[:]
	}
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, h, digest)
	if err != nil {
		t.Fatal(err)
	}
	c.TBS = asn1.RawValue{FullBytes: tbs}
	c.Alg = pkix.AlgorithmIdentifier{Algorithm: oidWeakRSA[h], Parameters: asn1.NullRawValue}
	c.Sig = asn1.BitString{Bytes: sig, BitLength: 8 * len(sig)}
	out, err := asn1.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func certPEM(cs ...*x509.Certificate) []byte {
	var b bytes.Buffer
	for _, c := range cs {
		pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	return b.Bytes()
}

func keyPEM(t *testing.T, k crypto.Signer) []byte {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

func rsaKey(t *testing.T, bits int) *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func ecKey(t *testing.T, c elliptic.Curve) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func certCases(t *testing.T) []certCase {
	rsa2048, rsa1024, ca := rsaKey(t, 2048), rsaKey(t, 1024), rsaKey(t, 2048)
	caCert := issue(t, "ca.test", ca.Public(), nil, ca, 0)
	weakCA := issue(t, "weak-ca.test", rsa1024.Public(), nil, rsa1024, 0)
	selfSigned := func(k crypto.Signer) []byte { return certPEM(issue(t, "a.test", k.Public(), nil, k, 0)) }
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	p224, p256, p384, p521 := ecKey(t, elliptic.P224()), ecKey(t, elliptic.P256()), ecKey(t, elliptic.P384()), ecKey(t, elliptic.P521())
	leaf := func(weak crypto.Hash) []byte {
		return certPEM(issue(t, "a.test", rsa2048.Public(), caCert, ca, weak), caCert)
	}
	good := selfSigned(rsa2048)
	notDER := append(append([]byte{}, good...), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("not DER at all")})...)
	trailing := append(append([]byte{}, good...), []byte("-----BEGIN CERTIFICATE-----\nMIIB\n")...)
	corrupt := append(append([]byte{}, good...), []byte("-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n")...)
	return []certCase{
		{"RSA-2048", good, keyPEM(t, rsa2048), loaded, ""},
		{"RSA-1024", selfSigned(rsa1024), keyPEM(t, rsa1024), refused, "RSA key of 1024 bits, want at least 2048"},
		// OpenSSL loads P-224, but TLS 1.3 and current clients do not sign
		// with it: the model is stricter.
		{"EC P-224", selfSigned(p224), keyPEM(t, p224), loaded, "EC key on P-224"},
		{"EC P-256", selfSigned(p256), keyPEM(t, p256), loaded, ""},
		{"EC P-384", selfSigned(p384), keyPEM(t, p384), loaded, ""},
		{"EC P-521", selfSigned(p521), keyPEM(t, p521), loaded, ""},
		{"Ed25519", selfSigned(edKey), keyPEM(t, edKey), loaded, ""},
		{"chain SHA-256", leaf(0), keyPEM(t, rsa2048), loaded, ""},
		{"chain leaf SHA-1", leaf(crypto.SHA1), keyPEM(t, rsa2048), refused, "signed with SHA1-RSA"},
		{"chain leaf MD5", leaf(crypto.MD5), keyPEM(t, rsa2048), refused, "signed with MD5-RSA"},
		{"self-signed SHA-1", certPEM(issue(t, "a.test", rsa2048.Public(), nil, rsa2048, crypto.SHA1)), keyPEM(t, rsa2048), loaded, ""},
		{"chain with RSA-1024 CA", certPEM(issue(t, "a.test", rsa2048.Public(), weakCA, rsa1024, 0), weakCA), keyPEM(t, rsa2048), refused, "certificate block 1 (CN=weak-ca.test): RSA key of 1024 bits"},
		{"chain with non-DER block", notDER, keyPEM(t, rsa2048), refused, "certificate block 1: x509:"},
		{"key of another certificate", good, keyPEM(t, ca), refused, "private key: tls: private key does not match public key"},
		// pem.Decode would skip these blocks silently, losing a certificate
		// of the chain (or, here, the key that follows).
		{"unterminated block", trailing, keyPEM(t, rsa2048), refused, "tls.crt block 1: not a valid PEM block"},
		{"undecodable block", corrupt, keyPEM(t, rsa2048), varies, "tls.crt block 1: not a valid PEM block"},
	}
}

// TestCertificatesAsHAProxyLoads checks every certificate rule of the model
// against the real haproxy: a raw chain+key haproxy refuses is refused by the
// model with a problem naming the rule, one it loads is accepted, and the
// model's clean bundle loads too.
func TestCertificatesAsHAProxyLoads(t *testing.T) {
	cases := certCases(t)
	haproxybin.Run(t, func(t *testing.T, b haproxybin.Build) {
		dir := haproxybin.TempDir(t)
		for _, c := range cases {
			raw := append(append([]byte{}, c.chain...), c.key...)
			if got := haproxyLoads(t, b.Path, dir, raw); c.loads != varies && got != (c.loads == loaded) {
				t.Errorf("%s: haproxy loads it: %v, want %v", c.name, got, c.loads == loaded)
			}
			secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "ns"}, Type: corev1.SecretTypeTLS,
				Data: map[string][]byte{"tls.crt": c.chain, "tls.key": c.key}}
			for _, via := range []string{"secret", "default"} {
				problem, bundle := modelCert(t, via, secret, raw)
				if c.modelWant == "" {
					if problem != "" {
						t.Errorf("%s via %s: model refused it: %s", c.name, via, problem)
					} else if !haproxyLoads(t, b.Path, dir, bundle) {
						t.Errorf("%s via %s: haproxy refuses the model's bundle", c.name, via)
					}
					continue
				}
				want := c.modelWant
				if via == "default" {
					want = strings.Replace(want, "tls.crt block", "bundle block", 1)
				}
				if !strings.Contains(problem, want) {
					t.Errorf("%s via %s: problem %q, want one containing %q", c.name, via, problem, want)
				}
			}
		}
	})
}

// modelCert builds a model with the certificate as Ingress Secret or as
// default certificate, and returns the problem about it or the bundle.
func modelCert(t *testing.T, via string, secret *corev1.Secret, raw []byte) (problem string, bundle []byte) {
	snap := &model.Snapshot{}
	o := model.Options{DefaultCertificate: raw}
	if via == "secret" {
		o.DefaultCertificate = defaultCert(t)
		snap.Secrets = []*corev1.Secret{secret}
		ing := ingress("i", "a.test", "/", "s")
		ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{"a.test"}, SecretName: "s"}}
		snap.Ingresses = append(snap.Ingresses, ing)
	}
	m, problems := model.Build(snap, o)
	for _, p := range problems {
		if via == "secret" && strings.HasPrefix(p.Field, "spec.tls") || via == "default" && p.Field == "default-certificate" {
			return p.String(), nil
		}
	}
	if via == "secret" {
		return "", m.Certs[0].PEM
	}
	return "", m.DefaultCert.PEM
}

// haproxyLoads runs haproxy -c on a frontend serving bundle.
func haproxyLoads(t *testing.T, bin, dir string, bundle []byte) bool {
	t.Helper()
	crt := filepath.Join(dir, "bundle.pem")
	if err := os.WriteFile(crt, bundle, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "tls.cfg")
	conf := "defaults\n    mode http\n    timeout client 1s\n    timeout connect 1s\n    timeout server 1s\n" +
		"frontend f\n    bind 127.0.0.1:1 ssl crt " + crt + "\n    http-request return status 200\n"
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-c", "-f", cfg).CombinedOutput()
	if err != nil {
		t.Logf("haproxy -c: %v: %s", err, lastLine(out))
	}
	return err == nil
}

func lastLine(out []byte) string {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	for _, l := range lines {
		if strings.Contains(l, "ALERT") {
			return l
		}
	}
	return lines[len(lines)-1]
}
