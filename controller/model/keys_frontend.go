package model

// frontendKeys place the http and https frontends.
var frontendKeys = []configKey{
	boolKey("use-proxy-protocol", ScopeFrontend, "false", "the http and https frontends take the PROXY protocol (v1 or v2) from the proxy in front of haproxy, whose client address the requests then have", func(g *Global) *bool { return &g.UseProxyProtocol }),
	intKey("http-port", ScopeFrontend, "80", 1, 65535, "port of the http frontend", func(g *Global) *int { return &g.HTTPPort }),
	intKey("https-port", ScopeFrontend, "443", 1, 65535, "port of the https frontend", func(g *Global) *int { return &g.HTTPSPort }),
	ipKey("bind-ip-addr-http", ScopeFrontend, "address the http and https frontends bind; empty: all", func(g *Global) *string { return &g.BindIPHTTP }),
}
