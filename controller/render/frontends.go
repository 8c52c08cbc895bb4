package render

import (
	"path/filepath"
	"strings"

	"github.com/external-haproxy/kit/controller/files"
	"github.com/external-haproxy/kit/controller/model"
	"github.com/external-haproxy/kit/internal/podlayout"
)

// frontends is one frontend section per frontend of the model; pols are
// the path policies the http and https frontends apply.
func frontends(fs []model.Frontend, g *model.Global, pols policies, l files.Layout) []byte {
	var c cfg
	for _, f := range fs {
		if f.Kind == model.FrontendPassthrough {
			continue // tcpFiles
		}
		c.section("frontend " + string(f.Kind))
		switch f.Kind {
		case model.FrontendHTTP:
			c.line("bind", clientBind(g, f))
			frontingBind(&c, fs, l, "http")
			proxyFrontend(&c, g, pols, l, "http")
		case model.FrontendHTTPS:
			c.line("bind", httpsBind(fs, f, g, l), "ssl crt", quoteWord(filepath.Join(l.Certs(), DefaultCertFile)),
				"crt-list", quoteWord(filepath.Join(l.Certs(), CrtListFile)), "alpn", model.DefaultALPN,
				// Client certificate errors are for the routes' rules to answer.
				"ca-ignore-err all crt-ignore-err all")
			frontingBind(&c, fs, l, "https")
			proxyFrontend(&c, g, pols, l, "https")
		case model.FrontendHealthz:
			c.line("bind", bindAddr(f))
			noLog(&c, g)
			c.line("monitor-uri", podlayout.HealthzPath)
			c.line("http-request return status 404")
		case model.FrontendFronting:
			frontingFrontend(&c, g, f, l)
		case model.FrontendStats:
			c.line("bind", bindAddr(f))
			noLog(&c, g)
			c.line("stats enable")
			c.line("stats uri /")
			c.line("stats refresh 10s")
		}
	}
	return c.bytes()
}

// clientBind is the address of a frontend clients connect to, which takes
// the PROXY protocol header first when haproxy is behind another proxy
// (use-proxy-protocol): the client address of the requests is then the
// one that proxy received.
func clientBind(g *model.Global, f model.Frontend) string {
	if g.UseProxyProtocol {
		return bindAddr(f) + " accept-proxy"
	}
	return bindAddr(f)
}

// bindAddr is a frontend's addresses, comma-separated as haproxy's bind
// takes several.
func bindAddr(f model.Frontend) string {
	out := addr(f.IP, f.Port)
	for _, a := range f.Also {
		out += "," + addr(a.IP, a.Port)
	}
	return out
}

func addr(ip string, port int) string {
	if strings.Contains(ip, ":") {
		return "[" + ip + "]:" + itoa(port)
	}
	return ip + ":" + itoa(port)
}

// noLog keeps probes and stats scraping out of the logs.
func noLog(c *cfg, g *model.Global) {
	if g.SyslogEndpoint != "" {
		c.line("no log")
	}
}

// hostHeaderRegex is a valid lower-cased Host header: a DNS name (labels
// of letters, digits, "-" and "_", which also covers IPv4) with an
// optional final dot, or a bracketed IPv6 literal without zone; then an
// optional port 1-65535 without leading zeros.
const hostHeaderRegex = `^(([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?[.])*[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?[.]?|\[[0-9a-f.]*:[0-9a-f:.]*\])` +
	`(:(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3}))?$`

// proxyFrontend writes the routing of the http or https frontend: the
// route is looked up in the map files of that frontend, first for the
// exact host, then for the host's wildcard ("a.b.c" → "*.b.c", one label
// only), then for rules without host; within each, exact paths before
// longest prefix before regex. The route (see mapValue) gives the backend,
// the path policy whose rules run, and on http whether to redirect to
// https. No match goes to the default backend.
func proxyFrontend(c *cfg, g *model.Global, pols policies, l files.Layout, scheme string) {
	httpLog(c, g)
	serverHeader(c, g)
	errorFileLines(c, g, l)
	c.line("http-request set-header X-Forwarded-Proto", scheme)
	if g.ForwardFor == "add" {
		// Clients must not be able to choose the address backends see.
		c.line("http-request del-header X-Forwarded-For")
	}
	hostChecks(c)
	hostRedirectRules(c, g, pols.redirects, l, scheme)
	lookups(c, mapPaths(l, scheme))
	c.line("http-request set-var(txn.backend) var(txn.route),field(1,@)")
	c.line("http-request set-var(txn.policy) var(txn.route),field(2,@)")
	if scheme == "http" {
		httpsRedirect(c, g)
	}
	pathRules(c, pols, scheme)
	pasteSnippet(c, g.ConfigFrontend)
	c.line("use_backend %[var(txn.backend)] if { var(txn.backend) -m found }")
	c.line("default_backend", model.DefaultBackendName)
}

// hostChecks refuses requests whose Host cannot select a route and sets
// the lookup keys txn.hostpath, txn.wildpath and txn.path.
func hostChecks(c *cfg) {
	// The map keys are "<host><path>": a host that could hold "/" (or
	// anything but a name) would choose the path, and a path that did not
	// start with "/" would extend the host. haproxy itself already rejects
	// two different Host headers and an absolute URI whose authority is not
	// the Host; the comma of a Host list ("a, b") counts as a second value.
	c.line("acl host_absent req.hdr_cnt(host) eq 0")
	c.line("acl host_valid req.hdr(host),lower -m reg", quoteWord(hostHeaderRegex))
	c.line("http-request deny deny_status 400 if { req.hdr_cnt(host) gt 1 } || host_absent !{ req.ver 1.0 } || !host_absent !host_valid || !{ path_beg / }")
	c.line("http-request set-var(txn.path) path")
	// The port and a final dot of an absolute name do not select a host.
	c.line("http-request set-var(txn.host) req.hdr(host),lower,regsub(:[0-9]+$,),regsub([.]$,)")
	c.line("http-request deny deny_status 400 if { var(txn.host),length gt 253 }")
	// Only a valid DNS label is replaced, so a wildcard match (and an
	// https redirect built from txn.host) never carries odd characters.
	c.line("http-request set-var(txn.wildcard) var(txn.host),regsub(^[a-z0-9-]+[.],*.)")
	c.line("http-request set-var(txn.hostpath) var(txn.host),concat(,txn.path,)")
	c.line("http-request set-var(txn.wildpath) var(txn.wildcard),concat(,txn.path,)")
}

// httpsRedirect sends the requests of ssl-redirect routes to https, but
// for the no-tls-redirect-locations (ACME challenges must stay on http).
func httpsRedirect(c *cfg, g *model.Global) {
	port := ""
	if g.HTTPSPort != 443 {
		port = ":" + itoa(g.HTTPSPort)
	}
	cond := "{ var(txn.route),field(3,@) -m str " + redirectMark + " }"
	if len(g.NoTLSRedirect) > 0 {
		words := make([]string, len(g.NoTLSRedirect))
		for i, p := range g.NoTLSRedirect {
			words[i] = quoteWord(p)
		}
		aclLines(c, "no_tls_redirect", "path_beg", words)
		cond += " !no_tls_redirect"
	}
	c.line("http-request redirect location https://%[var(txn.host)]"+port+"%[capture.req.uri] code", itoa(g.SSLRedirectCode), "if", cond)
}

// lookups sets txn.route from the first map that matches, in the order
// proxyFrontend describes.
func lookups(c *cfg, maps mapFiles) {
	first := true
	lookup := func(subject, conv, file string) {
		rule := "http-request set-var(txn.route) var(" + subject + ")," + conv + "(" + quoteArg(file) + ")"
		if !first {
			rule += " if !{ var(txn.route) -m found }"
		}
		first = false
		c.line(rule)
	}
	for _, subject := range []string{"txn.hostpath", "txn.wildpath", "txn.aliaspath"} {
		if subject == "txn.aliaspath" {
			aliasLookup(c, maps.aliasRegex)
		}
		lookup(subject, "map_str", maps.exact)
		lookup(subject, "map_beg", maps.prefix)
		lookup(subject, "map_reg", maps.regex)
	}
	lookup("txn.path", "map_str", maps.exact)
	lookup("txn.path", "map_beg", maps.prefix)
	lookup("txn.path", "map_reg", maps.regexAny)
}
