package model

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// frontendKeys place the http and https frontends.
var frontendKeys = []configKey{
	boolKey("use-proxy-protocol", ScopeFrontend, "false", "the http and https frontends take the PROXY protocol (v1 or v2) from the proxy in front of haproxy, whose client address the requests then have", func(g *Global) *bool { return &g.UseProxyProtocol }),
	intKey("http-port", ScopeFrontend, "80", 1, 65535, "port of the http frontend", func(g *Global) *int { return &g.HTTPPort }),
	intKey("https-port", ScopeFrontend, "443", 1, 65535, "port of the https frontend", func(g *Global) *int { return &g.HTTPSPort }),
	ipKey("bind-ip-addr-http", ScopeFrontend, "address the http and https frontends bind; empty: all", func(g *Global) *string { return &g.BindIPHTTP }),
	bindKey("bind-http", "http", func(g *Global) *[]Addr { return &g.BindHTTP }),
	bindKey("bind-https", "https", func(g *Global) *[]Addr { return &g.BindHTTPS }),
	withAliases(intKey("fronting-proxy-port", ScopeFrontend, "0", 0, 65535,
		"port (on bind-ip-addr-http) of plain http from a load balancer that ended TLS: its requests are served as https ones (HSTS, no ssl-redirect), "+
			"or as http ones when use-forwarded-proto finds X-Forwarded-Proto is not https; trust the network in between; 0: none",
		func(g *Global) *int { return &g.FrontingProxyPort }), "https-to-http-port"),
	boolKey("use-forwarded-proto", ScopeFrontend, "true", "fronting-proxy-port: a request whose X-Forwarded-Proto is not https is served as an http one (ssl-redirect applies); "+
		"false: every request is served as https (X-Forwarded-Proto becomes https)", func(g *Global) *bool { return &g.UseForwardedProto }),
}

// maxBinds bounds bind-http and bind-https: a few families and ports.
const maxBinds = 8

func bindKey(name, frontend string, field func(*Global) *[]Addr) *key[[]Addr] {
	return newKey(KeyInfo{Name: name, Scope: ScopeFrontend, Reload: true,
		Accepts: "a comma-separated list of up to " + strconv.Itoa(maxBinds) + " addresses IP:PORT, [IPv6]:PORT, :PORT (all IPv4) or :::PORT (all IPv6), PORT from 1 to 65535",
		Doc:     "addresses the " + frontend + " frontend listens on, instead of bind-ip-addr-http and " + frontend + "-port; the first one's port is the one redirects name"},
		parseBinds, field)
}

// parseBinds reads bind-http's addresses: haproxy's own syntax without
// options, so that nothing but addresses reaches the bind line.
func parseBinds(v string) ([]Addr, bool) {
	if v == "" {
		return nil, true
	}
	items := strings.Split(v, ",")
	if len(items) > maxBinds {
		return nil, false
	}
	var out []Addr
	for _, it := range items {
		it = strings.TrimSpace(it)
		i := strings.LastIndexByte(it, ':')
		if i < 0 {
			return nil, false
		}
		host, portText := it[:i], it[i+1:]
		port, err := strconv.Atoi(portText)
		if err != nil || port < 1 || port > 65535 || strconv.Itoa(port) != portText {
			return nil, false
		}
		switch {
		case host == "":
		case host == "::" || strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]"):
			ip, err := netip.ParseAddr(strings.Trim(host, "[]"))
			if err != nil || !ip.Is6() || ip.Zone() != "" {
				return nil, false
			}
			host = ip.String()
		default:
			ip, err := netip.ParseAddr(host)
			if err != nil || !ip.Is4() {
				return nil, false
			}
		}
		a := Addr{host, port}
		if slices.Contains(out, a) {
			return nil, false
		}
		out = append(out, a)
	}
	return out, true
}
