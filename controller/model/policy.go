package model

import (
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
	"reflect"
)

// Policies are what the keys of a scope do, as typed values the render turns
// into haproxy rules. Settings (pathSettings) hold each key's value as
// resolved; a policy holds the effect, so that paths that behave alike have
// equal policies: a path whose host has no TLS gets no HSTS, whatever hsts
// says.

// PathPolicy is what happens to the requests of one route before they reach
// its backend, and to their answers. The zero value does nothing.
type PathPolicy struct {
	// AllowSources: only clients in these ranges reach the path (403 for
	// the others); empty: all. DenySources are refused (403).
	AllowSources []netip.Prefix `json:",omitempty"`
	DenySources  []netip.Prefix `json:",omitempty"`
	// Rewrite replaces the matched prefix of the request path; nil: none.
	Rewrite *Rewrite `json:",omitempty"`
	// HSTS is the Strict-Transport-Security header of https answers; nil:
	// none (off, or the route's host has no TLS configured).
	HSTS *HSTS `json:",omitempty"`
	// AppRoot: a request for "/" is redirected (302) there; empty: none.
	AppRoot string `json:",omitempty"`
	Auth    *Auth  `json:",omitempty"` // basic authentication; nil: none
	CORS    *CORS  `json:",omitempty"` // nil: no CORS handling

	RedirectTo *RedirectTo `json:",omitempty"` // see policy_redirect.go
	BodyLimit  *BodyLimit  `json:",omitempty"`
	// ClientCert checks client certificates (auth-tls-*); nil: none.
	ClientCert *ClientCertCheck `json:",omitempty"`
}

// Rewrite sends a request for Prefix/<rest> as Target/<rest>.
type Rewrite struct {
	Prefix, Target string
}

// HSTS is a Strict-Transport-Security value.
type HSTS struct {
	MaxAge            int
	IncludeSubdomains bool
	Preload           bool
}

// ID names a policy in the routing maps and the rules that apply it: equal
// policies, equal IDs, whatever the routes that share them, so that a new
// route with an existing policy is only a map entry. Empty for the zero
// policy, which needs no rule.
func (p PathPolicy) ID() string {
	if reflect.ValueOf(p).IsZero() {
		return ""
	}
	// A hash an attacker cannot steer: a tenant's policy that took another
	// tenant's ID would run that one's rules.
	sum := sha256.Sum256(appendCanonical(make([]byte, 0, 256), reflect.ValueOf(p)))
	return "p" + hex.EncodeToString(sum[:6])
}

// pathSettings are the values of the Path keys for one path, and of the
// Host keys of its host, as resolved from its layers.
type pathSettings struct {
	pathType    Match
	sslRedirect bool
	allow, deny []netip.Prefix
	rewrite     string
	hsts        HSTS
	hstsEnabled bool
	host        HostPolicy
	auth        authSettings
	cors        CORSSettings
	redirectTo  string
	maxBody     int64
	clientCert  *ClientCertCheck
}

// policy is the effect of the settings on a route in g; hasTLS: its host
// has TLS configured.
func (s *pathSettings) policy(g *Global, r *Route, hasTLS bool) PathPolicy {
	p := PathPolicy{AllowSources: s.allow, DenySources: s.deny}
	if s.rewrite != "" {
		p.Rewrite = &Rewrite{Prefix: r.Path, Target: s.rewrite}
	}
	p.AppRoot = s.host.AppRoot
	p.CORS = s.cors.policy()
	p.ClientCert = s.clientCert
	if s.hstsEnabled && hasTLS {
		h := s.hsts
		p.HSTS = &h
	}
	s.redirectPolicy(g, &p)
	return p
}

// BackendPolicy is how a backend balances and times its servers.
type BackendPolicy struct {
	Balance   string
	Timeouts  BackendTimeouts
	Snippet   BackendSnippet // config-backend
	Cookie    Cookie
	Upstream  Upstream
	Server    ServerOptions
	BlueGreen BlueGreen
	// ClientCertHeader: the client certificate goes to the servers in
	// X-SSL-Client-Cert.
	ClientCertHeader bool
	// TCP: the backend takes the TLS connections of ssl-passthrough hosts.
	TCP   bool
	Limit RateLimit // limit-*
	// Resolver is use-resolver's: the resolvers section whose DNS answers
	// are the servers (see Backend.DNS).
	Resolver string
}

// BackendTimeouts are the haproxy timeouts a backend can set.
type BackendTimeouts struct {
	Connect, HTTPRequest, KeepAlive, Queue, Server, ServerFin, Tunnel Duration
}

// HostPolicy is what the Host keys set for one host.
type HostPolicy struct {
	AppRoot string

	RedirectFrom, RedirectFromRegex string // see policy_redirect.go
	// The server-alias, auth-tls and crt-list keys (keys_vhost.go).
	Aliases             []string
	AliasRegex          string
	ClientAuth          clientAuthSettings
	TLS                 hostTLSSettings
	Passthrough         bool
	PassthroughHTTPPort int
}
