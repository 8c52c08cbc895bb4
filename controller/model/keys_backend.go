package model

// backendKeys set how a backend reaches its servers; an Ingress annotation
// sets them for the backends of its paths, the oldest Ingress winning.
var backendKeys = []configKey{
	onBackend(timeKey("timeout-connect", ScopeBackend, "5s", "timeout of a connection to a server", func(g *Global) *Duration { return &g.TimeoutConnect }),
		func(p *BackendPolicy) *Duration { return &p.Timeouts.Connect }),
	onBackend(timeKey("timeout-http-request", ScopeBackend, "5s", "time a client has to send a whole request", func(g *Global) *Duration { return &g.TimeoutHTTPRequest }),
		func(p *BackendPolicy) *Duration { return &p.Timeouts.HTTPRequest }),
	onBackend(timeKey("timeout-keep-alive", ScopeBackend, "1m", "time to wait for the next request on a kept-alive connection", func(g *Global) *Duration { return &g.TimeoutKeepAlive }),
		func(p *BackendPolicy) *Duration { return &p.Timeouts.KeepAlive }),
	onBackend(timeKey("timeout-queue", ScopeBackend, "5s", "time a request may wait for a free server", func(g *Global) *Duration { return &g.TimeoutQueue }),
		func(p *BackendPolicy) *Duration { return &p.Timeouts.Queue }),
	onBackend(timeKey("timeout-server", ScopeBackend, "50s", "server inactivity timeout", func(g *Global) *Duration { return &g.TimeoutServer }),
		func(p *BackendPolicy) *Duration { return &p.Timeouts.Server }),
	onBackend(timeKey("timeout-server-fin", ScopeBackend, "50s", "server inactivity timeout once half-closed", func(g *Global) *Duration { return &g.TimeoutServerFin }),
		func(p *BackendPolicy) *Duration { return &p.Timeouts.ServerFin }),
	onBackend(timeKey("timeout-tunnel", ScopeBackend, "1h", "inactivity timeout of tunnels (websockets, CONNECT)", func(g *Global) *Duration { return &g.TimeoutTunnel }),
		func(p *BackendPolicy) *Duration { return &p.Timeouts.Tunnel }),
	onBackend(&key[string]{KeyInfo: KeyInfo{Name: "balance-algorithm", Scope: ScopeBackend, Default: "roundrobin",
		Accepts: "roundrobin, static-rr, leastconn, first, source, random or random(N) with N from 1 to 99", Reload: true,
		Doc: "how a backend picks a server"},
		parse:  func(v string) (string, bool) { return v, balanceRe.MatchString(v) },
		global: func(g *Global) *string { return &g.BalanceAlgorithm }},
		func(p *BackendPolicy) *string { return &p.Balance }),
	intKey("backend-server-slots-increment", ScopeBackend, "1", 1, 1024, "server slots of a backend are a multiple of this", func(g *Global) *int { return &g.SlotsIncrement }),
	intKey("slots-min-free", ScopeBackend, "2", 0, 1024, "spare server slots per backend, so that endpoints can change without a reload", func(g *Global) *int { return &g.SlotsMinFree }),
}
