package model

import "strconv"

// frontendSpec ties a frontend to the ConfigMap keys that place it.
type frontendSpec struct {
	kind    FrontendKind
	portKey string
	port    *int
	ip      string
	// binds replace ip and port when set (bindKey: bind-http, bind-https).
	binds   []Addr
	bindKey string
}

// addrs are the addresses of f.
func addrs(f Frontend) []Addr { return append([]Addr{{f.IP, f.Port}}, f.Also...) }

// overlap tells whether two addresses take the same port: same IP, or
// either is a wildcard (an empty IP is all IPv4; "::" is all addresses on
// Linux, whose IPv6 sockets take IPv4 too).
func overlap(a, b Addr) bool {
	return a.Port == b.Port && (a.IP == b.IP || a.IP == "" || b.IP == "" || a.IP == "::" || b.IP == "::")
}

// buildFrontends lists the listening addresses and resolves clashes that
// haproxy -c does not catch (it only fails at bind time). Frontends on
// default ports claim their address first, so the user-set key of a clash is
// the one that falls back to its default; a frontend that still clashes is
// dropped. Priority among user-set keys: http, https, healthz, stats, fronting-proxy. A
// bind-http or bind-https address that clashes drops that key.
func buildFrontends(g *Global, withHTTPS bool, report func(Problem)) []Frontend {
	specs := []frontendSpec{
		{FrontendHTTP, "http-port", &g.HTTPPort, g.BindIPHTTP, g.BindHTTP, "bind-http"},
		{FrontendHTTPS, "https-port", &g.HTTPSPort, g.BindIPHTTP, g.BindHTTPS, "bind-https"},
		{kind: FrontendHealthz, portKey: "healthz-port", port: &g.HealthzPort, ip: g.BindIPHealthz},
		{kind: FrontendStats, portKey: "stats-port", port: &g.StatsPort, ip: g.BindIPStats},
	}
	switch {
	case !withHTTPS && g.FrontingProxyPort > 0:
		report(Problem{configMapRef, "fronting-proxy-port", "needs the https frontend, which has no default certificate; fronting-proxy frontend disabled", Error})
	case g.FrontingProxyPort > 0:
		specs = append(specs, frontendSpec{kind: FrontendFronting, portKey: "fronting-proxy-port", port: &g.FrontingProxyPort, ip: g.BindIPHTTP})
	}
	if !withHTTPS {
		specs = append(specs[:1], specs[2:]...)
	}
	var claimed []Frontend
	clash := func(f Frontend) (FrontendKind, Addr, bool) {
		for _, c := range claimed {
			for _, a := range addrs(f) {
				for _, b := range addrs(c) {
					if overlap(a, b) {
						return c.Kind, a, true
					}
				}
			}
		}
		return "", Addr{}, false
	}
	frontend := func(s frontendSpec) Frontend { return Frontend{Kind: s.kind, IP: s.ip, Port: *s.port} }
	var userSet []frontendSpec
	for _, s := range specs {
		if len(s.binds) > 0 || *s.port != defaultPort(s.portKey) {
			userSet = append(userSet, s)
			continue
		}
		if _, _, taken := clash(frontend(s)); !taken {
			claimed = append(claimed, frontend(s))
		}
	}
	for _, s := range userSet {
		if len(s.binds) > 0 {
			f := Frontend{Kind: s.kind, IP: s.binds[0].IP, Port: s.binds[0].Port, Also: s.binds[1:]}
			holder, a, taken := clash(f)
			if !taken {
				// Redirects name the first address's port.
				*s.port = f.Port
				claimed = append(claimed, f)
				continue
			}
			report(Problem{configMapRef, s.bindKey, "port " + strconv.Itoa(a.Port) + " of " + quoteValue(a.IP) + " is already used by the " + string(holder) + " frontend; " + s.bindKey + " ignored", Error})
		}
		holder, _, taken := clash(frontend(s))
		if !taken {
			claimed = append(claimed, frontend(s))
			continue
		}
		msg := "port " + strconv.Itoa(*s.port) + " is already used by the " + string(holder) + " frontend"
		*s.port = defaultPort(s.portKey)
		if *s.port == 0 {
			// No default port: fronting-proxy-port.
			report(Problem{configMapRef, s.portKey, msg + ", " + string(s.kind) + " frontend disabled", Error})
			continue
		}
		if _, _, taken := clash(frontend(s)); taken {
			report(Problem{configMapRef, s.portKey, msg + "; the default is taken too, " + string(s.kind) + " frontend disabled", Error})
			continue
		}
		report(Problem{configMapRef, s.portKey, msg + ", using default " + strconv.Itoa(*s.port), Error})
		claimed = append(claimed, frontend(s))
	}
	// Render order is fixed by kind, not by claim order.
	var out []Frontend
	for _, s := range specs {
		for _, f := range claimed {
			if f.Kind == s.kind {
				out = append(out, f)
			}
		}
	}
	return out
}
