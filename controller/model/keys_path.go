package model

import (
	"net/netip"
	"slices"
	"strings"
)

// pathKeys set what happens to the requests of a path; an Ingress
// annotation sets them for its own paths, a Service annotation for the
// paths that use the Service.
var pathKeys = []configKey{
	onPath(boolKey("ssl-redirect", ScopePath, "true", "redirect http to https for paths whose host has TLS", func(g *Global) *bool { return &g.SSLRedirect }),
		func(p *pathSettings) *bool { return &p.sslRedirect }),
	onPath(&key[Match]{KeyInfo: KeyInfo{Name: "path-type", Scope: ScopePath, Default: "begin", Accepts: "begin, prefix, exact or regex", Reload: true,
		Doc: "how ImplementationSpecific paths match; a change to or from regex needs a reload (order-dependent map)"},
		parse: func(v string) (Match, bool) {
			switch m := Match(v); m {
			case MatchBegin, MatchPrefix, MatchExact, MatchRegex:
				return m, true
			}
			return "", false
		}}, func(p *pathSettings) *Match { return &p.pathType }),
	onPath(boolKey("hsts", ScopePath, "true", "send Strict-Transport-Security on https answers of hosts with TLS configured", func(g *Global) *bool { return &g.HSTS }),
		func(p *pathSettings) *bool { return &p.hstsEnabled }),
	onPath(boolKey("hsts-include-subdomains", ScopePath, "false", "add includeSubDomains to Strict-Transport-Security", func(g *Global) *bool { return &g.HSTSIncludeSubdomains }),
		func(p *pathSettings) *bool { return &p.hsts.IncludeSubdomains }),
	onPath(intKey("hsts-max-age", ScopePath, "15768000", 0, 1<<31-1, "max-age of Strict-Transport-Security, in seconds", func(g *Global) *int { return &g.HSTSMaxAge }),
		func(p *pathSettings) *int { return &p.hsts.MaxAge }),
	onPath(boolKey("hsts-preload", ScopePath, "false", "add preload to Strict-Transport-Security", func(g *Global) *bool { return &g.HSTSPreload }),
		func(p *pathSettings) *bool { return &p.hsts.Preload }),
	onPath(sourceRangeKey("allowlist-source-range", "only clients from these ranges reach the path, others get 403", "whitelist-source-range"),
		func(p *pathSettings) *[]netip.Prefix { return &p.allow }),
	onPath(sourceRangeKey("denylist-source-range", "clients from these ranges get 403"),
		func(p *pathSettings) *[]netip.Prefix { return &p.deny }),
	onPath(&key[string]{KeyInfo: KeyInfo{Name: "rewrite-target", Scope: ScopePath, Accepts: "an absolute path", Reload: true,
		Doc: "replace the matched path prefix with this path before the request reaches the backend (not for regex paths)"},
		parse: func(v string) (string, bool) { return v, v == "" || validPath(v) }},
		func(p *pathSettings) *string { return &p.rewrite }),
}

// maxSourceRanges bounds a source range list: each range is a pattern
// haproxy compares on every request of the path.
const maxSourceRanges = 1000

func sourceRangeKey(name, doc string, aliases ...string) *key[[]netip.Prefix] {
	return &key[[]netip.Prefix]{KeyInfo: KeyInfo{Name: name, Scope: ScopePath, Reload: true, Doc: doc, Aliases: aliases,
		Accepts: "a comma-separated list of IPv4 or IPv6 addresses or CIDR ranges (at most 1000)"},
		parse: parseSourceRanges}
}

// parseSourceRanges reads "10.0.0.0/8, 192.0.2.1" into sorted, distinct
// prefixes with their host bits cleared; an address is a one-address range.
func parseSourceRanges(v string) ([]netip.Prefix, bool) {
	if strings.TrimSpace(v) == "" {
		return nil, true
	}
	var out []netip.Prefix
	for f := range strings.SplitSeq(v, ",") {
		f = strings.TrimSpace(f)
		p, err := netip.ParsePrefix(f)
		if err != nil {
			a, aerr := netip.ParseAddr(f)
			if aerr != nil || a.Zone() != "" {
				return nil, false
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		if p.Addr().Is4In6() {
			p = netip.PrefixFrom(p.Addr().Unmap(), max(p.Bits()-96, 0))
		}
		out = append(out, p.Masked())
	}
	slices.SortFunc(out, func(a, b netip.Prefix) int {
		if c := a.Addr().Compare(b.Addr()); c != 0 {
			return c
		}
		return a.Bits() - b.Bits()
	})
	out = slices.Compact(out)
	return out, len(out) <= maxSourceRanges
}
