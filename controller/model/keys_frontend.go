package model

// frontendKeys place the http and https frontends.
var frontendKeys = []configKey{
	intKey("http-port", ScopeFrontend, "80", 1, 65535, "port of the http frontend", func(g *Global) *int { return &g.HTTPPort }),
	intKey("https-port", ScopeFrontend, "443", 1, 65535, "port of the https frontend", func(g *Global) *int { return &g.HTTPSPort }),
	ipKey("bind-ip-addr-http", ScopeFrontend, "address the http and https frontends bind; empty: all", func(g *Global) *string { return &g.BindIPHTTP }),
}
