package model

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// Upstream is how haproxy talks to the servers of a backend.
type Upstream struct {
	Protocol string // h1, h2, h1-ssl or h2-ssl
	Secure   bool   // secure-backends: TLS whatever Protocol says
	// SNI is sent over TLS: "sni" the client's, "host" the request's
	// host, else that DNS name; "": none.
	SNI string
	// CrtSecret and CASecret name the Secrets of secure-crt-secret and
	// secure-verify-ca-secret; ClientCert and CA are their validated PEM
	// (nil: none; the servers' certificates are then not verified).
	CrtSecret, CASecret string
	ClientCert, CA      []byte
}

// H2 tells whether the servers speak HTTP/2.
func (u Upstream) H2() bool { return strings.HasPrefix(u.Protocol, "h2") }

// TLS tells whether haproxy talks TLS to the servers.
func (u Upstream) TLS() bool { return u.Secure || strings.HasSuffix(u.Protocol, "-ssl") }

// effective is u as it applies: the protocol names TLS itself when
// secure-backends asks for it, no SNI or certificates without TLS, and the
// Secrets of the backend's namespace ns read (secret looks one up), each
// problem reported where src (or the global ConfigMap) sets the key.
func (u Upstream) effective(ns string, secret func(ns, name string) *corev1.Secret, src sources, report func(Problem)) Upstream {
	tls := u.TLS()
	u.Protocol = strings.TrimSuffix(u.Protocol, "-ssl")
	u.Secure = false
	if !tls {
		return Upstream{Protocol: u.Protocol}
	}
	u.Protocol += "-ssl"
	u.ClientCert = readSecret("secure-crt-secret", ns, u.CrtSecret, secret, secretBundle, src, report)
	u.CA = readSecret("secure-verify-ca-secret", ns, u.CASecret, secret, caCerts, src, report)
	return u
}

// readSecret is what read makes of the Secret ns/name, nil if name is
// empty or the Secret is missing or invalid, which is reported.
func readSecret(key, ns, name string, secret func(ns, name string) *corev1.Secret, read func(*corev1.Secret) ([]byte, error), src sources, report func(Problem)) []byte {
	if name == "" {
		return nil
	}
	s := secret(ns, name)
	if s == nil {
		reportOn(src, key, "secret "+ns+"/"+name+" not found (kubernetes.io/tls and Opaque Secrets are read); ignored", report)
		return nil
	}
	b, err := read(s)
	if err != nil {
		reportOn(src, key, "secret "+ns+"/"+name+": "+err.Error()+"; ignored", report)
	}
	return b
}

// caCerts is the CA bundle of a Secret (see caBundle) without its CRL:
// what verify of a server needs.
func caCerts(s *corev1.Secret) ([]byte, error) {
	ca, err := caBundle(s)
	if err != nil {
		return nil, err
	}
	return ca.PEM, nil
}
