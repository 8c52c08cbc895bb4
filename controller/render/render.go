// Package render writes a model as haproxy configuration files: numbered
// *.cfg files in the -f directory (haproxy loads them in byte order), map
// files for routing, and certificate bundles with their crt-list. It is
// pure: equal models give byte-equal sets.
package render

import (
	"path/filepath"
	"strconv"
	"strings"

	"github.com/external-haproxy/kit/controller/files"
	"github.com/external-haproxy/kit/controller/model"
)

// File names inside the layout directories.
const (
	GlobalFile    = "00-global.cfg"
	DefaultsFile  = "10-defaults.cfg"
	FrontendsFile = "20-frontends.cfg"
	BackendsFile  = "30-backends.cfg"

	CrtListFile     = "crt-list.txt"
	DefaultCertFile = "default.pem"
)

// Render produces every file of the configuration of m placed in l.
func Render(m *model.Model, l files.Layout) files.Set {
	set := files.Set{
		{Path: filepath.Join(l.Etc, GlobalFile), Data: global(m, l)},
		{Path: filepath.Join(l.Etc, DefaultsFile), Data: defaults(m)},
		{Path: filepath.Join(l.Etc, FrontendsFile), Data: frontends(m, l)},
		{Path: filepath.Join(l.Etc, BackendsFile), Data: backends(m)},
	}
	set = append(set, routeMaps(m, l)...)
	set = append(set, certs(m, l)...)
	set.Sort()
	return set
}

// line appends one indented config line.
func line(b *strings.Builder, parts ...string) {
	b.WriteString("    ")
	for i, p := range parts {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(p)
	}
	b.WriteByte('\n')
}

func itoa(n int) string { return strconv.Itoa(n) }

// quoteWord makes s one word of haproxy's config parser. Inside single
// quotes nothing is interpreted (no escapes, no "${VAR}"); a quote in s
// closes them, adds an escaped quote and opens them again.
func quoteWord(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// argEscaper escapes for the double quotes of a sample argument.
var argEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`)

// quoteArg makes s one argument of a sample fetch or converter: the
// argument parser ends an argument at "," or ")" unless it is quoted, and
// its quotes must themselves get past the top-level parser as a word.
func quoteArg(s string) string {
	return quoteWord(`"` + argEscaper.Replace(s) + `"`)
}

// PathForms are the texts that stand for path p in the rendered files: p
// itself and its escaped forms inside the quotes of quoteWord and quoteArg,
// for a checker that moves the files and rewrites the paths in them.
func PathForms(p string) []string {
	w, a := quoteWord(p), quoteArg(p)
	return []string{p, w[1 : len(w)-1], a[2 : len(a)-2]}
}

// hostHeaderRegex is a valid lower-cased Host header: a DNS name (labels
// of letters, digits, "-" and "_", which also covers IPv4) with an
// optional final dot, or a bracketed IPv6 literal without zone; then an
// optional port 1-65535 without leading zeros.
const hostHeaderRegex = `^(([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?[.])*[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?[.]?|\[[0-9a-f.]*:[0-9a-f:.]*\])` +
	`(:(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3}))?$`

func global(m *model.Model, l files.Layout) []byte {
	g := &m.Global
	var b strings.Builder
	b.WriteString("global\n")
	line(&b, "master-worker")
	// expose-fd listeners lets a reload started through the master hand the
	// listening sockets over without dropping connections.
	line(&b, "stats socket", quoteWord(l.AdminSocket()), "mode 600 level admin expose-fd listeners")
	// crt-list lines cannot quote a path: they name bundles relative to this.
	line(&b, "crt-base", quoteWord(l.Certs()))
	line(&b, "hard-stop-after", g.TimeoutStop.String())
	line(&b, "maxconn", itoa(g.MaxConnections))
	if g.NbThread > 0 {
		line(&b, "nbthread", itoa(g.NbThread))
	}
	switch g.SyslogEndpoint {
	case "":
	case "stdout":
		line(&b, "log stdout format raw local0")
	default:
		line(&b, "log", g.SyslogEndpoint, "format", g.SyslogFormat, "local0")
	}
	if g.SyslogTag != "" {
		line(&b, "log-tag", g.SyslogTag)
	}
	return []byte(b.String())
}

func defaults(m *model.Model) []byte {
	g := &m.Global
	var b strings.Builder
	b.WriteString("defaults\n")
	line(&b, "mode http")
	if g.SyslogEndpoint != "" {
		line(&b, "log global")
		line(&b, "option dontlognull")
	}
	line(&b, "option http-keep-alive")
	// Closes idle keep-alive connections as soon as the stopping worker
	// answers, so old workers finish quickly after a reload (2.6+).
	line(&b, "option idle-close-on-response")
	switch g.ForwardFor {
	case "add":
		line(&b, "option forwardfor")
	case "ifmissing":
		line(&b, "option forwardfor if-none")
	}
	line(&b, "balance", g.BalanceAlgorithm)
	line(&b, "timeout client", g.TimeoutClient.String())
	line(&b, "timeout client-fin", g.TimeoutClientFin.String())
	line(&b, "timeout connect", g.TimeoutConnect.String())
	line(&b, "timeout http-request", g.TimeoutHTTPRequest.String())
	line(&b, "timeout http-keep-alive", g.TimeoutKeepAlive.String())
	line(&b, "timeout queue", g.TimeoutQueue.String())
	line(&b, "timeout server", g.TimeoutServer.String())
	line(&b, "timeout server-fin", g.TimeoutServerFin.String())
	line(&b, "timeout tunnel", g.TimeoutTunnel.String())
	return []byte(b.String())
}

func bindAddr(f model.Frontend) string {
	if strings.Contains(f.IP, ":") {
		return "[" + f.IP + "]:" + itoa(f.Port)
	}
	return f.IP + ":" + itoa(f.Port)
}

func frontends(m *model.Model, l files.Layout) []byte {
	var b strings.Builder
	for i, f := range m.Frontends {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString("frontend " + string(f.Kind) + "\n")
		switch f.Kind {
		case model.FrontendHTTP:
			line(&b, "bind", bindAddr(f))
			proxyFrontend(&b, m, l, "http")
		case model.FrontendHTTPS:
			line(&b, "bind", bindAddr(f), "ssl crt", quoteWord(filepath.Join(l.Certs(), DefaultCertFile)),
				"crt-list", quoteWord(filepath.Join(l.Certs(), CrtListFile)), "alpn h2,http/1.1")
			proxyFrontend(&b, m, l, "https")
			if g := &m.Global; g.HSTS {
				v := "max-age=" + itoa(g.HSTSMaxAge)
				if g.HSTSIncludeSubdomains {
					v += "; includeSubDomains"
				}
				if g.HSTSPreload {
					v += "; preload"
				}
				line(&b, "http-response set-header Strict-Transport-Security", strconv.Quote(v))
			}
		case model.FrontendHealthz:
			line(&b, "bind", bindAddr(f))
			noLog(&b, m)
			line(&b, "monitor-uri /healthz")
			line(&b, "http-request return status 404")
		case model.FrontendStats:
			line(&b, "bind", bindAddr(f))
			noLog(&b, m)
			line(&b, "stats enable")
			line(&b, "stats uri /")
			line(&b, "stats refresh 10s")
		}
	}
	return []byte(b.String())
}

// noLog keeps probes and stats scraping out of the logs.
func noLog(b *strings.Builder, m *model.Model) {
	if m.Global.SyslogEndpoint != "" {
		line(b, "no log")
	}
}

// proxyFrontend writes the routing of the http or https frontend: the
// backend is looked up in the map files of that frontend, first for the
// exact host, then for the host's wildcard ("a.b.c" → "*.b.c", one label
// only), then for rules without host; within each, exact paths before
// longest prefix before regex. No match goes to the default backend.
func proxyFrontend(b *strings.Builder, m *model.Model, l files.Layout, scheme string) {
	// httplog here rather than in defaults: frontends without logs would
	// warn about an unused log format.
	if m.Global.SyslogEndpoint != "" {
		line(b, "option httplog")
	}
	line(b, "http-request set-header X-Forwarded-Proto", scheme)
	if m.Global.ForwardFor == "add" {
		// Clients must not be able to choose the address backends see.
		line(b, "http-request del-header X-Forwarded-For")
	}
	// The map keys are "<host><path>": a host that could hold "/" (or
	// anything but a name) would choose the path, and a path that did not
	// start with "/" would extend the host. haproxy itself already rejects
	// two different Host headers and an absolute URI whose authority is not
	// the Host; the comma of a Host list ("a, b") counts as a second value.
	line(b, "acl host_absent req.hdr_cnt(host) eq 0")
	line(b, "acl host_valid req.hdr(host),lower -m reg", quoteWord(hostHeaderRegex))
	line(b, "http-request deny deny_status 400 if { req.hdr_cnt(host) gt 1 } || host_absent !{ req.ver 1.0 } || !host_absent !host_valid || !{ path_beg / }")
	line(b, "http-request set-var(txn.path) path")
	// The port and a final dot of an absolute name do not select a host.
	line(b, "http-request set-var(txn.host) req.hdr(host),lower,regsub(:[0-9]+$,),regsub([.]$,)")
	line(b, "http-request deny deny_status 400 if { var(txn.host),length gt 253 }")
	// Only a valid DNS label is replaced, so a wildcard match (and an
	// https redirect built from txn.host) never carries odd characters.
	line(b, "http-request set-var(txn.wildcard) var(txn.host),regsub(^[a-z0-9-]+[.],*.)")
	line(b, "http-request set-var(txn.hostpath) var(txn.host),concat(,txn.path,)")
	line(b, "http-request set-var(txn.wildpath) var(txn.wildcard),concat(,txn.path,)")
	maps := mapPaths(l, scheme)
	first := true
	lookup := func(subject, conv, file string) {
		rule := "http-request set-var(txn.backend) var(" + subject + ")," + conv + "(" + quoteArg(file) + ")"
		if !first {
			rule += " if !{ var(txn.backend) -m found }"
		}
		first = false
		line(b, rule)
	}
	for _, subject := range []string{"txn.hostpath", "txn.wildpath"} {
		lookup(subject, "map_str", maps.exact)
		lookup(subject, "map_beg", maps.prefix)
		lookup(subject, "map_reg", maps.regex)
	}
	lookup("txn.path", "map_str", maps.exact)
	lookup("txn.path", "map_beg", maps.prefix)
	lookup("txn.path", "map_reg", maps.regexAny)
	line(b, "use_backend %[var(txn.backend)] if { var(txn.backend) -m found }")
	line(b, "default_backend", model.DefaultBackendName)
}

func backends(m *model.Model) []byte {
	var b strings.Builder
	b.Grow(len(m.Backends) * 128)
	b.WriteString("backend " + model.RedirectBackendName + "\n")
	port := ""
	if p := m.Global.HTTPSPort; p != 443 {
		port = ":" + itoa(p)
	}
	line(&b, "http-request redirect location https://%[var(txn.host)]"+port+"%[capture.req.uri] code", itoa(m.Global.SSLRedirectCode))
	for i := range m.Backends {
		be := &m.Backends[i]
		b.WriteString("\nbackend ")
		b.WriteString(be.Name)
		b.WriteByte('\n')
		if be.Name == model.DefaultBackendName && be.Service.Name == "" {
			line(&b, "http-request return status 404")
			continue
		}
		for _, s := range be.Servers {
			b.WriteString("    server ")
			b.WriteString(s.Name)
			b.WriteByte(' ')
			if strings.IndexByte(s.Addr, ':') >= 0 {
				b.WriteString("[" + s.Addr + "]")
			} else {
				b.WriteString(s.Addr)
			}
			b.WriteByte(':')
			b.WriteString(itoa(s.Port))
			if !s.Enabled {
				b.WriteString(" disabled")
			}
			b.WriteByte('\n')
		}
	}
	return []byte(b.String())
}
