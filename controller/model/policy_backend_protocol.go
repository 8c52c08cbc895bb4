package model

import "strings"

// Upstream is how haproxy talks to the servers of a backend.
type Upstream struct {
	Protocol string // h1, h2, h1-ssl or h2-ssl
	Secure   bool   // secure-backends: TLS whatever Protocol says
	// SNI is sent over TLS: "sni" the client's, "host" the request's
	// host, else that DNS name; "": none.
	SNI string
}

// H2 tells whether the servers speak HTTP/2.
func (u Upstream) H2() bool { return strings.HasPrefix(u.Protocol, "h2") }

// TLS tells whether haproxy talks TLS to the servers.
func (u Upstream) TLS() bool { return u.Secure || strings.HasSuffix(u.Protocol, "-ssl") }

// effective is u as it applies: the protocol names TLS itself when
// secure-backends asks for it, and no SNI without TLS.
func (u Upstream) effective() Upstream {
	tls := u.TLS()
	u.Protocol = strings.TrimSuffix(u.Protocol, "-ssl")
	if tls {
		u.Protocol += "-ssl"
	} else {
		u.SNI = ""
	}
	u.Secure = false
	return u
}
