package model

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
)

// VerifyClient is auth-tls-verify-client: whether and how the host asks
// for client certificates.
type VerifyClient string

const (
	VerifyOff          VerifyClient = "off"
	VerifyOn           VerifyClient = "on"             // required and verified
	VerifyOptional     VerifyClient = "optional"       // verified when sent
	VerifyOptionalNoCA VerifyClient = "optional_no_ca" // asked for, never verified
)

// clientAuthSettings are the auth-tls keys of a host as set.
type clientAuthSettings struct {
	Secret    string // "name" or "namespace/name"; empty: no client certificates
	Verify    VerifyClient
	Strict    bool
	ErrorPage string
}

// hostTLSSettings are the crt-list keys of a host as set.
type hostTLSSettings struct {
	Ciphers, CipherSuites string
	Options               SSLOptions
	ALPN                  string
}

// SSLOptions are the ssl-options-host options.
type SSLOptions struct {
	MinVer, MaxVer string // TLSv1.0 ... TLSv1.3; empty: haproxy's
	NoCANames      bool
}

// ClientCertCheck is what a route asks of client certificates, after the
// TLS handshake of its host verified (or not) the certificate sent.
type ClientCertCheck struct {
	// Refuse: the host's CA is unusable and auth-tls-strict holds: every
	// request is refused (496).
	Refuse bool `json:",omitempty"`
	// Required: a request without certificate is refused (496).
	Required bool `json:",omitempty"`
	// Verified: a certificate that failed verification is refused (495).
	Verified bool `json:",omitempty"`
	// ErrorPage: the refusals redirect here (302) instead.
	ErrorPage string `json:",omitempty"`
}

// TLSHost is a host (or alias) whose TLS handshake has options of its own:
// a crt-list line with the certificate that serves it and its SNI.
type TLSHost struct {
	Host string
	Cert string // name of the Cert serving it, "default" for the default
	TLS  HostTLS
}

// HostTLS are the crt-list options of a host.
type HostTLS struct {
	ClientCA              string // name of the ClientCA verifying client certificates; empty: none asked for
	HasCRL                bool   // the ClientCA has a CRL
	Ciphers, CipherSuites string
	Options               SSLOptions
	ALPN                  string // empty: the bind's
}

// AliasRegex sends the requests for the hosts Regex finds to Host's
// routes.
type AliasRegex struct {
	Regex, Host string
	Source      Ref // who set it
}

// ClientCA is a bundle of CA certificates, with an optional CRL, from a
// Secret.
type ClientCA struct {
	Name   string // <ns>_<secret>
	PEM    []byte // CERTIFICATE blocks only
	CRL    []byte // X509 CRL blocks; nil: none
	Source Ref
}

// hostSetting is the winning setting of a key for a host, to name it in a
// problem.
func (b *builder) hostSetting(host, name string) setting {
	st, _ := resolve(keysByName[name].info(), b.hosts.sources(host, nil))
	return st
}

// vhosts resolves the aliases, client certificates and TLS options of the
// hosts: the routes the aliases add, the TLS hosts and their CAs. It runs
// in finish, once every Ingress claimed its hosts, before the policies.
func (b *builder) vhosts(hosts map[string]HostPolicy) {
	names := slices.Sorted(maps.Keys(hosts))
	checks := map[string]*ClientCertCheck{}
	cas := map[string]*ClientCA{}
	tlsOf := map[string]HostTLS{}
	for _, h := range names {
		hp := hosts[h]
		var t HostTLS
		checks[h], t.ClientCA = b.clientAuth(h, hp.ClientAuth, cas)
		t.HasCRL = t.ClientCA != "" && cas[t.ClientCA].CRL != nil
		t.Ciphers, t.CipherSuites, t.Options = hp.TLS.Ciphers, hp.TLS.CipherSuites, hp.TLS.Options
		if hp.TLS.ALPN != DefaultALPN {
			t.ALPN = hp.TLS.ALPN
		}
		tlsOf[h] = t
	}
	b.passthrough(names, hosts)
	b.aliasRegexes(names, hosts)
	b.aliases(names, hosts, checks, tlsOf)
	for i := range b.pending {
		b.pending[i].clientCert = checks[b.pending[i].route.Host]
	}
	if b.m.DefaultCert == nil {
		return
	}
	for _, h := range slices.Sorted(maps.Keys(tlsOf)) {
		if t := tlsOf[h]; t != (HostTLS{}) {
			b.m.TLSHosts = append(b.m.TLSHosts, TLSHost{Host: h, Cert: b.certOf(h), TLS: t})
		}
	}
	for _, name := range slices.Sorted(maps.Keys(cas)) {
		b.m.ClientCAs = append(b.m.ClientCAs, *cas[name])
	}
}

// aliases adds, for each server-alias of a host, a copy of the host's
// routes, its client certificate check and TLS options, and its
// certificate. A name that is a host of some Ingress, or an alias of
// another host (by name order), stays theirs.
func (b *builder) aliases(names []string, hosts map[string]HostPolicy, checks map[string]*ClientCertCheck, tlsOf map[string]HostTLS) {
	owner := map[string]string{}
	// Only the routes of hosts with aliases are copied.
	aliased := map[string]bool{}
	for _, h := range names {
		if len(hosts[h].Aliases) > 0 {
			aliased[h] = true
		}
	}
	if len(aliased) == 0 {
		return
	}
	routes := map[string][]pendingRoute{}
	for _, p := range b.pending {
		if aliased[p.route.Host] {
			routes[p.route.Host] = append(routes[p.route.Host], p)
		}
	}
	for _, h := range names {
		for _, a := range hosts[h].Aliases {
			st := b.hostSetting(h, "server-alias")
			if _, real := hosts[a]; real {
				b.report(Problem{st.ref, st.field, "alias " + a + " of host " + h + " ignored: it is a host of its own", Warning})
				continue
			}
			if o, taken := owner[a]; taken {
				b.report(Problem{st.ref, st.field, "alias " + a + " of host " + h + " ignored: already an alias of host " + o, Warning})
				continue
			}
			owner[a] = h
			for _, p := range routes[h] {
				p.route.Host = a
				b.pending = append(b.pending, p)
			}
			checks[a], tlsOf[a] = checks[h], tlsOf[h]
			b.aliasCert(h, a)
		}
	}
	// After the checks above, which tell hosts from aliases: the alias
	// routes get their host's Host keys.
	for a, h := range owner {
		hosts[a] = hosts[h]
	}
}

// aliasRegexes lists the server-alias-regex of the hosts, by host name:
// the render's lookup finds the host whose routes answer, so the routes
// are not copied.
func (b *builder) aliasRegexes(names []string, hosts map[string]HostPolicy) {
	for _, h := range names {
		if re := hosts[h].AliasRegex; re != "" {
			b.m.AliasRegexes = append(b.m.AliasRegexes, AliasRegex{Regex: re, Host: h, Source: b.hostSetting(h, "server-alias-regex").ref})
		}
	}
}

// aliasCert serves alias a with the certificate of host h, unless a has
// one of its own.
func (b *builder) aliasCert(h, a string) {
	if _, own := b.hostCert[a]; own {
		return
	}
	if name := b.certOf(h); name != "default" {
		b.hostCert[a] = name
		b.certs[name].Hosts = append(b.certs[name].Hosts, a)
	}
}

// certOf is the name of the certificate haproxy serves for SNI h: an
// Ingress certificate for h itself or its wildcard, else the default.
func (b *builder) certOf(h string) string {
	if name, ok := b.hostCert[h]; ok {
		return name
	}
	if _, rest, ok := strings.Cut(h, "."); ok && !strings.HasPrefix(h, "*.") {
		if name, ok := b.hostCert["*."+rest]; ok {
			return name
		}
	}
	return "default"
}

// clientAuth resolves the auth-tls keys of host h: the check its routes
// make and the name of the CA its handshake verifies with (added to cas).
func (b *builder) clientAuth(h string, s clientAuthSettings, cas map[string]*ClientCA) (*ClientCertCheck, string) {
	if s.Secret == "" || s.Verify == VerifyOff {
		return nil, ""
	}
	st := b.hostSetting(h, "auth-tls-secret")
	ca, err := b.clientCA(st.ref.Namespace, s.Secret, cas)
	if err != nil {
		msg := "host " + h + ": " + err.Error()
		if s.Strict {
			msg += "; auth-tls-strict: every request refused"
		} else {
			msg += "; served without client certificates"
		}
		b.report(Problem{st.ref, st.field, msg, Error})
		if s.Strict {
			return &ClientCertCheck{Refuse: true, ErrorPage: s.ErrorPage}, ""
		}
		return nil, ""
	}
	v := s.Verify
	if v == "" {
		v = VerifyOn
	}
	return &ClientCertCheck{Required: v == VerifyOn, Verified: v != VerifyOptionalNoCA, ErrorPage: s.ErrorPage}, ca.Name
}

// clientCA loads the CA bundle of Secret ref (name, or namespace/name of
// namespace ns) once.
func (b *builder) clientCA(ns, ref string, cas map[string]*ClientCA) (*ClientCA, error) {
	name := ref
	if n, nm, cut := strings.Cut(ref, "/"); cut {
		if n != ns {
			return nil, errors.New("secret " + ref + " is in another namespace")
		}
		name = nm
	}
	id := ns + "_" + name
	if ca := cas[id]; ca != nil {
		return ca, nil
	}
	sec := b.secrets[ns+"/"+name]
	if sec == nil {
		return nil, errors.New("secret " + name + " not found")
	}
	ca, err := caBundle(sec)
	if err != nil {
		return nil, fmt.Errorf("secret %s: %v", name, err)
	}
	ca.Name, ca.Source = id, Ref{Kind: "Secret", Namespace: ns, Name: name}
	cas[id] = ca
	return ca, nil
}

// caCertKey and caCRLKey are the Secret keys of a CA bundle, as upstream.
const (
	caCertKey = "ca.crt"
	caCRLKey  = "ca.crl"
)

// caBundle reads ca.crt (CERTIFICATE blocks) and the optional ca.crl
// (X509 CRL blocks) of a Secret, re-encoded so that only what was parsed
// reaches haproxy's files.
func caBundle(s *corev1.Secret) (*ClientCA, error) {
	blocks, err := pemBlocks(s.Data[caCertKey], caCertKey)
	if err != nil {
		return nil, err
	}
	var ca ClientCA
	var out bytes.Buffer
	for i, bl := range blocks {
		if bl.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("%s block %d: unexpected %q block, want CERTIFICATE", caCertKey, i, bl.Type)
		}
		c, err := x509.ParseCertificate(bl.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s block %d: %v", caCertKey, i, err)
		}
		if err := checkCertificate(c); err != nil {
			return nil, fmt.Errorf("%s block %d (%s): %v", caCertKey, i, c.Subject, err)
		}
		pem.Encode(&out, &pem.Block{Type: "CERTIFICATE", Bytes: bl.Bytes})
	}
	if out.Len() == 0 {
		return nil, errors.New("no CERTIFICATE block in " + caCertKey)
	}
	ca.PEM = out.Bytes()
	if crl, ok := s.Data[caCRLKey]; ok {
		if ca.CRL, err = crlBundle(crl); err != nil {
			return nil, err
		}
	}
	return &ca, nil
}

func crlBundle(data []byte) ([]byte, error) {
	blocks, err := pemBlocks(data, caCRLKey)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	for i, bl := range blocks {
		if bl.Type != "X509 CRL" {
			return nil, fmt.Errorf("%s block %d: unexpected %q block, want X509 CRL", caCRLKey, i, bl.Type)
		}
		if _, err := x509.ParseRevocationList(bl.Bytes); err != nil {
			return nil, fmt.Errorf("%s block %d: %v", caCRLKey, i, err)
		}
		pem.Encode(&out, &pem.Block{Type: "X509 CRL", Bytes: bl.Bytes})
	}
	if out.Len() == 0 {
		return nil, errors.New("no X509 CRL block in " + caCRLKey)
	}
	return out.Bytes(), nil
}

// FrontendPassthrough is the TCP frontend on the https address that sends
// the connections of ssl-passthrough hosts to their backends by SNI and
// the others to the https frontend, which then listens locally.
const FrontendPassthrough FrontendKind = "passthrough"

// PassthroughHost sends the TLS connections for SNI Host to Backend.
type PassthroughHost struct {
	Host, Backend string
}

// passthrough takes the ssl-passthrough hosts out of HTTP routing: the
// backend of a host's path "/" gets its TLS connections, in TCP mode, so
// no HTTP route may use that backend.
func (b *builder) passthrough(names []string, hosts map[string]HostPolicy) {
	users := map[string]int{}
	for _, p := range b.pending {
		users[p.route.Backend]++
	}
	drop := map[string]bool{}
	for _, h := range names {
		if !hosts[h].Passthrough || b.m.DefaultCert == nil {
			continue
		}
		st := b.hostSetting(h, "ssl-passthrough")
		be, own := "", map[string]int{}
		for _, p := range b.pending {
			if p.route.Host == h {
				own[p.route.Backend]++
				if p.route.Path == "/" && (p.route.Match == MatchPrefix || p.route.Match == MatchBegin) {
					be = p.route.Backend
				}
			}
		}
		switch {
		case be == "" || be == DefaultBackendName:
			b.report(Problem{st.ref, st.field, "host " + h + " has no path / with a service: ssl-passthrough ignored", Error})
		case users[be] != own[be]:
			b.report(Problem{st.ref, st.field, "host " + h + ": backend " + be + " also serves other hosts over HTTP: ssl-passthrough ignored", Error})
		default:
			drop[h] = true
			b.backends.built[be].Policy.TCP = true
			b.m.Passthrough = append(b.m.Passthrough, PassthroughHost{Host: h, Backend: be})
		}
	}
	if len(drop) == 0 {
		return
	}
	var httpRoutes []pendingRoute
	for _, ph := range b.m.Passthrough {
		httpRoutes = append(httpRoutes, b.passthroughHTTP(ph, hosts[ph.Host].PassthroughHTTPPort)...)
	}
	b.pending = append(slices.DeleteFunc(b.pending, func(p pendingRoute) bool { return drop[p.route.Host] }), httpRoutes...)
	for _, f := range b.m.Frontends {
		if f.Kind == FrontendHTTPS {
			b.m.Frontends = append(b.m.Frontends, Frontend{Kind: FrontendPassthrough, IP: f.IP, Port: f.Port, Also: f.Also})
			break
		}
	}
}

// passthroughHTTP is the route of the plain http requests of a
// passthrough host: to port of its Service, if any.
func (b *builder) passthroughHTTP(ph PassthroughHost, port int) []pendingRoute {
	if port == 0 {
		return nil
	}
	svc := b.backends.built[ph.Backend].Service
	st := b.hostSetting(ph.Host, "ssl-passthrough-http-port")
	name := b.backends.forIngress(svc.Namespace, &networkingv1.IngressServiceBackend{Name: svc.Name, Port: networkingv1.ServiceBackendPort{Number: int32(port)}},
		st.ref, st.field, sources{}, nil)
	if name == ph.Backend {
		b.report(Problem{st.ref, st.field, "host " + ph.Host + ": the passthrough port itself, ignored", Error})
		return nil
	}
	return []pendingRoute{{route: Route{Host: ph.Host, Path: "/", Match: MatchPrefix, Backend: name, Source: st.ref}, settings: &pathSettings{}}}
}
