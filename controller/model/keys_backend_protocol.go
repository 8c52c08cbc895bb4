package model

import "strings"

// protocolKeys say how haproxy talks to a backend's servers: HTTP/1.1 or
// HTTP/2, in clear or over TLS.
var protocolKeys = []configKey{
	onBackend(newKey(KeyInfo{Name: "backend-protocol", Scope: ScopeBackend, Default: "h1",
		Accepts: "h1, h2, h1-ssl or h2-ssl (also http, grpc, https, grpcs: h1, h2, h1-ssl, h2-ssl)", Reload: true,
		Doc: "protocol to the servers: h2 for HTTP/2 (gRPC), -ssl over TLS"}, parseBackendProtocol, func(g *Global) *string { return &g.Upstream.Protocol }),
		func(p *BackendPolicy) *string { return &p.Upstream.Protocol }),
	onBackend(boolKey("secure-backends", ScopeBackend, "false", "talk to the servers over TLS, whatever backend-protocol says",
		func(g *Global) *bool { return &g.Upstream.Secure }),
		func(p *BackendPolicy) *bool { return &p.Upstream.Secure }),
	onBackend(newKey(KeyInfo{Name: "secure-sni", Scope: ScopeBackend, Accepts: "sni, host or a DNS name", Reload: true,
		Doc: "SNI sent to TLS servers: sni, the client's; host, the request's Host; or that name"},
		func(v string) (string, bool) {
			return v, v == "" || v == "sni" || v == "host" || validDNSName(v, false)
		},
		func(g *Global) *string { return &g.Upstream.SNI }),
		func(p *BackendPolicy) *string { return &p.Upstream.SNI }),
	onBackend(newKey(KeyInfo{Name: "secure-crt-secret", Scope: ScopeBackend, Accepts: "the name of a kubernetes.io/tls Secret of the backend's namespace", Reload: true,
		Doc: "client certificate haproxy presents to TLS servers"}, parseSecretName, nil),
		func(p *BackendPolicy) *string { return &p.Upstream.CrtSecret }),
	onBackend(newKey(KeyInfo{Name: "secure-verify-ca-secret", Scope: ScopeBackend, Accepts: "the name of a kubernetes.io/tls or Opaque Secret of the backend's namespace with a ca.crt", Reload: true,
		Doc: "CA bundle (the Secret's ca.crt) that TLS servers' certificates must chain to; none: not verified"}, parseSecretName, nil),
		func(p *BackendPolicy) *string { return &p.Upstream.CASecret }),
}

// parseSecretName accepts a Secret name: only the backend's own namespace,
// so that an Ingress cannot make haproxy use another tenant's keys.
func parseSecretName(v string) (string, bool) { return v, v == "" || validName(v) }

// parseBackendProtocol gives upstream's aliases their h1/h2 name.
func parseBackendProtocol(v string) (string, bool) {
	v = strings.ToLower(v)
	switch v {
	case "h1", "h2", "h1-ssl", "h2-ssl":
		return v, true
	}
	alias, ok := map[string]string{"http": "h1", "grpc": "h2", "https": "h1-ssl", "grpcs": "h2-ssl"}[v]
	return alias, ok
}
