package model

import (
	"regexp"
	"slices"
	"strings"
)

// checkURIRe is a plain path for the health check: the check request
// needs no more, and nothing in it needs quoting.
var checkURIRe = regexp.MustCompile(`^/[A-Za-z0-9._~/%?=&-]*$`)

// serverKeys set options of every server of a backend: limits, health
// checks and the PROXY protocol.
var serverKeys = []configKey{
	onBackend(intKey("maxconn-server", ScopeBackend, "0", 0, maxConnections, "concurrent requests per server, the others queue; 0: no limit", func(g *Global) *int { return &g.Server.MaxConn }),
		func(p *BackendPolicy) *int { return &p.Server.MaxConn }),
	onBackend(intKey("maxqueue-server", ScopeBackend, "0", 0, maxConnections, "requests queued per server beyond maxconn-server, the others go to another server or fail; 0: no limit", func(g *Global) *int { return &g.Server.MaxQueue }),
		func(p *BackendPolicy) *int { return &p.Server.MaxQueue }),
	onBackend(intKey("initial-weight", ScopeBackend, "1", 1, maxWeight, "weight of every server of the backend (haproxy's weight); matters once servers differ, e.g. by blue-green-deploy", func(g *Global) *int { return &g.Server.Weight }),
		func(p *BackendPolicy) *int { return &p.Server.Weight }),
	onBackend(newKey(KeyInfo{Name: "health-check-uri", Scope: ScopeBackend, Accepts: "an absolute path of at most 256 letters, digits and - . _ ~ / % ? = &, without ..", Reload: true,
		Doc: "HTTP health check of every server: a GET of this path must answer 2xx or 3xx"},
		func(v string) (string, bool) {
			return v, v == "" || len(v) <= 256 && checkURIRe.MatchString(v) && !strings.Contains(v, "..")
		}, func(g *Global) *string { return &g.Server.Check.URI }),
		func(p *BackendPolicy) *string { return &p.Server.Check.URI }),
	onBackend(newKey(KeyInfo{Name: "health-check-interval", Aliases: []string{"backend-check-interval"}, Scope: ScopeBackend, Accepts: "empty or " + timeAccepts, Reload: true,
		Doc: "time between health checks; set alone: TCP checks; empty: haproxy's 2s when health-check-uri is set"},
		parseOptionalDuration, func(g *Global) *Duration { return &g.Server.Check.Interval }),
		func(p *BackendPolicy) *Duration { return &p.Server.Check.Interval }),
	onBackend(intKey("health-check-rise-count", ScopeBackend, "0", 0, 1000, "passed checks that bring a server back; 0: haproxy's 2", func(g *Global) *int { return &g.Server.Check.Rise }),
		func(p *BackendPolicy) *int { return &p.Server.Check.Rise }),
	onBackend(intKey("health-check-fall-count", ScopeBackend, "0", 0, 1000, "failed checks that take a server down; 0: haproxy's 3", func(g *Global) *int { return &g.Server.Check.Fall }),
		func(p *BackendPolicy) *int { return &p.Server.Check.Fall }),
	onBackend(newKey(KeyInfo{Name: "proxy-protocol", Scope: ScopeBackend, Accepts: "v1, v2, v2-ssl or v2-ssl-cn, or empty for none", Reload: true,
		Doc: "send the PROXY protocol header to the servers (v2-ssl: with the client's TLS details, v2-ssl-cn: and certificate CN)"},
		func(v string) (string, bool) {
			return v, slices.Contains([]string{"", "v1", "v2", "v2-ssl", "v2-ssl-cn"}, v)
		}, func(g *Global) *string { return &g.Server.ProxyProtocol }),
		func(p *BackendPolicy) *string { return &p.Server.ProxyProtocol }),
}

// drainKeys keep the endpoints of pods that are not ready or terminating
// for the sessions their affinity cookies pin to them.
var drainKeys = []configKey{
	boolKey("drain-support", ScopeGlobal, "false", "endpoints that are not ready or terminating stay, with weight 0: no new clients, but those whose affinity cookie names them keep reaching them while the EndpointSlice lists them",
		func(g *Global) *bool { return &g.DrainSupport }),
	boolKey("drain-support-redispatch", ScopeGlobal, "true", "with drain-support, a request whose server refuses the connection goes to another server (option redispatch) instead of failing with 503",
		func(g *Global) *bool { return &g.DrainRedispatch }),
}

// parseOptionalDuration is a time, or 0 for empty.
func parseOptionalDuration(v string) (Duration, bool) {
	if v == "" {
		return 0, true
	}
	return parseDuration(v)
}
