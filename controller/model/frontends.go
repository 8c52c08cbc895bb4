package model

import "strconv"

// frontendSpec ties a frontend to the ConfigMap keys that place it.
type frontendSpec struct {
	kind    FrontendKind
	portKey string
	port    *int
	ip      string
}

// buildFrontends lists the listening addresses and resolves clashes that
// haproxy -c does not catch (it only fails at bind time). Frontends on
// default ports claim their address first, so the user-set key of a clash is
// the one that falls back to its default; a frontend that still clashes is
// dropped. Priority among user-set keys: http, https, healthz, stats.
func buildFrontends(g *Global, withHTTPS bool, report func(Problem)) []Frontend {
	specs := []frontendSpec{
		{FrontendHTTP, "http-port", &g.HTTPPort, g.BindIPHTTP},
		{FrontendHTTPS, "https-port", &g.HTTPSPort, g.BindIPHTTP},
		{FrontendHealthz, "healthz-port", &g.HealthzPort, g.BindIPHealthz},
		{FrontendStats, "stats-port", &g.StatsPort, g.BindIPStats},
	}
	if !withHTTPS {
		specs = append(specs[:1], specs[2:]...)
	}
	var claimed []Frontend
	clash := func(ip string, port int) (FrontendKind, bool) {
		for _, f := range claimed {
			if f.Port == port && (f.IP == ip || f.IP == "" || ip == "") {
				return f.Kind, true
			}
		}
		return "", false
	}
	var userSet []frontendSpec
	for _, s := range specs {
		if *s.port != defaultPort(s.portKey) {
			userSet = append(userSet, s)
			continue
		}
		if _, taken := clash(s.ip, *s.port); !taken {
			claimed = append(claimed, Frontend{s.kind, s.ip, *s.port})
		}
	}
	for _, s := range userSet {
		holder, taken := clash(s.ip, *s.port)
		if !taken {
			claimed = append(claimed, Frontend{s.kind, s.ip, *s.port})
			continue
		}
		msg := "port " + strconv.Itoa(*s.port) + " is already used by the " + string(holder) + " frontend"
		*s.port = defaultPort(s.portKey)
		if _, taken := clash(s.ip, *s.port); taken {
			report(Problem{configMapRef, s.portKey, msg + "; the default is taken too, " + string(s.kind) + " frontend disabled", Error})
			continue
		}
		report(Problem{configMapRef, s.portKey, msg + ", using default " + strconv.Itoa(*s.port), Error})
		claimed = append(claimed, Frontend{s.kind, s.ip, *s.port})
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
