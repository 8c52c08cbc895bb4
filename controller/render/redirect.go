package render

import (
	"path/filepath"
	"slices"
	"strconv"

	"github.com/external-haproxy/kit/controller/files"

	"github.com/external-haproxy/kit/controller/model"
)

// The path features of the redirect keys (see features for their order).

// redirectToFeature answers the requests of a path with a redirect.
var redirectToFeature = feature{name: "redirto", value: func(p *model.PathPolicy) (string, bool) {
	if p.RedirectTo == nil {
		return "", false
	}
	return p.RedirectTo.URL + " " + itoa(p.RedirectTo.Code), true
}, rules: func(c *cfg, acl string, g group) {
	r := g.first.RedirectTo
	c.line("http-request redirect location", quoteWord(logFormat(r.URL)), "code", itoa(r.Code), "if", acl)
}}

// maxBodyWait bounds how much of a body without Content-Length is
// awaited: haproxy stops waiting once its buffer (tune.bufsize, 16 kB by
// default) is full anyway, and parses at-least as a 32-bit size.
const maxBodyWait = 1 << 20

// bodyLimitFeature refuses bodies over the limit with 413. A Content-Length
// is the body's size (haproxy refuses a body that does not match it), so
// those requests are checked on their headers; other bodies are awaited
// first, one byte past the limit being enough to refuse them.
var bodyLimitFeature = feature{name: "body", value: func(p *model.PathPolicy) (string, bool) {
	if p.BodyLimit == nil {
		return "", false
	}
	return strconv.FormatInt(p.BodyLimit.Max, 10) + " " + p.BodyLimit.Wait.String(), true
}, rules: func(c *cfg, acl string, g group) {
	l := g.first.BodyLimit
	max := strconv.FormatInt(l.Max, 10)
	c.line("http-request wait-for-body time", l.Wait.String(), "at-least", strconv.FormatInt(min(l.Max+1, maxBodyWait), 10),
		"if", acl, "!{ req.hdr(content-length) -m found }")
	c.line("http-request deny deny_status 413 if", acl, "{ req.body_size gt", max, "}")
}}

// servedMark is the value of a route host in the redirect-from map: found
// before any source that covers it, it keeps its requests from being
// redirected.
const servedMark = "_served" // not a DNS name: no target is

func hostRedirectPaths(l files.Layout) (exact, regex string) {
	return filepath.Join(l.Maps(), "redirect-from.map"), filepath.Join(l.Maps(), "redirect-from-regex.map")
}

// frontendPolicies are the rules of the path policies and host redirects
// of m; ids are its routes' policy IDs.
func frontendPolicies(m *model.Model, ids []string) policies {
	p := distinctPolicies(m.Routes, ids)
	p.redirects = m.HostRedirects
	return p
}

// hostRedirectMaps are the redirect-from maps: sources and the route hosts
// they cover by host, for map_str, and the regexes in order, for map_reg.
func hostRedirectMaps(m *model.Model, l files.Layout) files.Set {
	if len(m.HostRedirects) == 0 {
		return nil
	}
	var exact, regex []entry
	for i, r := range m.HostRedirects {
		if r.Regex {
			regex = append(regex, entry{key: r.From, value: r.To, order: i})
		} else {
			exact = append(exact, entry{key: r.From, value: r.To})
		}
		for _, h := range r.Served {
			exact = append(exact, entry{key: h, value: servedMark})
		}
	}
	exactPath, regexPath := hostRedirectPaths(l)
	return files.Set{{Path: exactPath, Data: mapData(exact)}, {Path: regexPath, Data: mapData(regex)}}
}

// hostRedirectRules redirect the requests of a redirect-from source host,
// in the frontend of scheme, to the same scheme and port on its target.
func hostRedirectRules(c *cfg, g *model.Global, rs []model.HostRedirect, l files.Layout, scheme string) {
	if len(rs) == 0 {
		return
	}
	exact, regex := hostRedirectPaths(l)
	const v = "txn.redirect_from"
	c.line("http-request set-var(" + v + ") var(txn.host),map_str(" + quoteArg(exact) + ")")
	c.line("http-request set-var(" + v + ") var(txn.wildcard),map_str(" + quoteArg(exact) + ") if !{ var(" + v + ") -m found }")
	if slices.ContainsFunc(rs, func(r model.HostRedirect) bool { return r.Regex }) {
		c.line("http-request set-var(" + v + ") var(txn.host),map_reg(" + quoteArg(regex) + ") if !{ var(" + v + ") -m found }")
	}
	port := ""
	if scheme == "http" && g.HTTPPort != 80 {
		port = ":" + itoa(g.HTTPPort)
	} else if scheme == "https" && g.HTTPSPort != 443 {
		port = ":" + itoa(g.HTTPSPort)
	}
	c.line("http-request redirect prefix "+scheme+"://%[var("+v+")]"+port+" code", itoa(g.RedirectFromCode),
		"if { var("+v+") -m found } !{ var("+v+") -m str "+servedMark+" }")
}
