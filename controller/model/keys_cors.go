package model

// corsKeys set the cross-origin policy of a path, with upstream's defaults.
var corsKeys = []configKey{
	onPath(boolKey("cors-enable", ScopePath, "false", "answer CORS preflights in haproxy and add CORS headers to the answers", func(g *Global) *bool { return &g.CORS.Enable }),
		func(p *pathSettings) *bool { return &p.cors.Enable }),
	onPath(&key[[]string]{KeyInfo: KeyInfo{Name: "cors-allow-origin", Scope: ScopePath, Default: "*", Reload: true,
		Accepts: `"*", or a comma-separated list of up to 100 origins scheme://host[:port]`,
		Doc:     `origins allowed: "*" for any, else a listed Origin is echoed in Access-Control-Allow-Origin (others get none)`},
		parse:  func(v string) ([]string, bool) { return parseOrigins(v) },
		global: func(g *Global) *[]string { return &g.CORS.CORS.Origins }},
		func(p *pathSettings) *[]string { return &p.cors.CORS.Origins }),
	onPath(&key[[]string]{KeyInfo: KeyInfo{Name: "cors-allow-origin-regex", Scope: ScopePath, Reload: true,
		Accepts: "a space-separated list of up to 100 regexes of at most 256 characters of the regex path subset (see path-type regex)",
		Doc:     "an Origin one of these matches (unanchored unless the regex is) is also echoed"},
		parse:  parseOriginRegexes,
		global: func(g *Global) *[]string { return &g.CORS.CORS.OriginRegexes }},
		func(p *pathSettings) *[]string { return &p.cors.CORS.OriginRegexes }),
	onPath(tokensKey("cors-allow-methods", "GET, PUT, POST, DELETE, PATCH, OPTIONS", "methods", "Access-Control-Allow-Methods of preflight answers",
		func(c *CORS) *[]string { return &c.Methods })),
	onPath(tokensKey("cors-allow-headers", "DNT,X-CustomHeader,Keep-Alive,User-Agent,X-Requested-With,If-Modified-Since,Cache-Control,Content-Type,Authorization",
		"header names", "Access-Control-Allow-Headers of preflight answers", func(c *CORS) *[]string { return &c.Headers })),
	onPath(tokensKey("cors-expose-headers", "", "header names", "Access-Control-Expose-Headers of answers to allowed origins; empty: none",
		func(c *CORS) *[]string { return &c.Expose })),
	onPath(boolKey("cors-allow-credentials", ScopePath, "true", "send Access-Control-Allow-Credentials: true to allowed origins", func(g *Global) *bool { return &g.CORS.CORS.Credentials }),
		func(p *pathSettings) *bool { return &p.cors.CORS.Credentials }),
	onPath(intKey("cors-max-age", ScopePath, "86400", 0, 1<<31-1, "Access-Control-Max-Age of preflight answers, in seconds", func(g *Global) *int { return &g.CORS.CORS.MaxAge }),
		func(p *pathSettings) *int { return &p.cors.CORS.MaxAge }),
}

// tokensKey is a key of comma-separated HTTP tokens (or "*") landing in
// field of the CORS of Global and of each path.
func tokensKey(name, def, what, doc string, field func(*CORS) *[]string) (*key[[]string], func(*pathSettings) *[]string) {
	return &key[[]string]{KeyInfo: KeyInfo{Name: name, Scope: ScopePath, Default: def, Reload: true, Doc: doc,
			Accepts: `"*" or a comma-separated list of up to 100 ` + what + " (at most 512 characters)"},
			parse: parseTokens, global: func(g *Global) *[]string { return field(&g.CORS.CORS) }},
		func(p *pathSettings) *[]string { return field(&p.cors.CORS) }
}
