package model

import "net/netip"

// maxRateLimit bounds limit-rps and limit-connections: far beyond what one
// client address does, well inside haproxy's counters.
const maxRateLimit = 1000000

// limitKeys limit what one client address may ask of a backend; the
// answer over a limit is 429.
var limitKeys = []configKey{
	onBackend(intKey("limit-rps", ScopeBackend, "0", 0, maxRateLimit, "requests per second one client address may send to the backend, the others get 429; 0: no limit", func(g *Global) *int { return &g.Limit.RPS }),
		func(p *BackendPolicy) *int { return &p.Limit.RPS }),
	onBackend(intKey("limit-connections", ScopeBackend, "0", 0, maxRateLimit, "requests one client address may have in progress at the backend, the others get 429; 0: no limit", func(g *Global) *int { return &g.Limit.Connections }),
		func(p *BackendPolicy) *int { return &p.Limit.Connections }),
	onBackend(newKey(KeyInfo{Name: "limit-whitelist", Scope: ScopeBackend, Reload: true,
		Accepts: "a comma-separated list of IPv4 or IPv6 addresses or CIDR ranges (at most 1000)",
		Doc:     "client addresses limit-rps and limit-connections do not apply to"},
		parseSourceRanges, func(g *Global) *[]netip.Prefix { return &g.Limit.Whitelist }),
		func(p *BackendPolicy) *[]netip.Prefix { return &p.Limit.Whitelist }),
}
