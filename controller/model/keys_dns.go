package model

// dnsKeys and dnsBackendKeys let haproxy find a backend's servers through
// DNS instead of the EndpointSlices: dns-resolvers declares the resolvers,
// use-resolver picks one for a backend.
var dnsKeys = []configKey{
	newKey(KeyInfo{Name: "dns-resolvers", Scope: ScopeGlobal, Accepts: resolversAccepts, Reload: true,
		Doc: "resolvers haproxy sends the DNS queries of use-resolver backends to"},
		parseResolvers, func(g *Global) *[]Resolver { return &g.DNS.Resolvers }),
	intKey("dns-accepted-payload-size", ScopeGlobal, "8192", 512, 8192, "largest DNS answer announced to the name servers (EDNS0)",
		func(g *Global) *int { return &g.DNS.PayloadSize }),
	newKey(KeyInfo{Name: "dns-cluster-domain", Scope: ScopeGlobal, Default: "cluster.local", Accepts: "a DNS name", Reload: true,
		Doc: "domain of the cluster's Service names: a use-resolver backend resolves <service>.<namespace>.svc.<domain>"},
		func(v string) (string, bool) { return v, validDNSName(v, false) }, func(g *Global) *string { return &g.DNS.Domain }),
	timeKey("dns-hold-valid", ScopeGlobal, "1s", "how long a DNS answer stays valid (hold valid); keep it near the DNS cache's TTL",
		func(g *Global) *Duration { return &g.DNS.HoldValid }),
	newKey(KeyInfo{Name: "dns-hold-obsolete", Scope: ScopeGlobal, Default: "0s", Accepts: "0, or " + timeAccepts, Reload: true,
		Doc: "how long a server an answer no longer lists keeps its address (hold obsolete)"},
		parseHold, func(g *Global) *Duration { return &g.DNS.HoldObsolete }),
	timeKey("dns-timeout-retry", ScopeGlobal, "1s", "time between two queries without a valid answer (timeout retry)",
		func(g *Global) *Duration { return &g.DNS.TimeoutRetry }),
}

var dnsBackendKeys = []configKey{
	onBackend(&key[string]{KeyInfo: KeyInfo{Name: "use-resolver", Scope: ScopeBackend, Reload: true,
		Accepts: "the name of a resolver of dns-resolvers",
		Doc:     "haproxy resolves the backend's servers through this resolver (server-template on the Service's DNS name, for headless Services) instead of reading its endpoints"},
		parse: func(v string) (string, bool) { return v, v == "" || resolverNameRe.MatchString(v) }},
		func(p *BackendPolicy) *string { return &p.Resolver }),
}
