package model

import (
	"math"
	"net"
	"strconv"
	"strings"
)

// redirectKeys answer requests with a redirect, or refuse their bodies,
// before they reach a backend.
var redirectKeys = []configKey{
	onPath(&key[string]{KeyInfo: KeyInfo{Name: "redirect-to", Scope: ScopePath, Reload: true,
		Accepts: "an absolute http:// or https:// URL of a host name or IP address, an optional port, and a path and query of RFC 3986 characters",
		Doc:     "answer the requests of the path with a redirect (redirect-to-code) to this URL; the backend is not used"},
		parse: func(v string) (string, bool) { return v, v == "" || validRedirectURL(v) }},
		func(p *pathSettings) *string { return &p.redirectTo }),
	&key[int]{KeyInfo: KeyInfo{Name: "redirect-to-code", Scope: ScopeGlobal, Default: "302", Accepts: redirectCodes, Reload: true,
		Doc: "HTTP status of the redirect-to redirects"},
		parse: parseRedirectCode, global: func(g *Global) *int { return &g.RedirectToCode }},
	onPath(newKey(KeyInfo{Name: "proxy-body-size", Scope: ScopePath, Reload: true,
		Accepts: "unlimited, or a number of bytes with an optional unit k, m or g (1024, 1024², 1024³); 0: unlimited",
		Doc:     "refuse (413) request bodies larger than this; a chunked body is checked on what fits haproxy's buffer (tune.bufsize)"},
		parseBodySize, func(g *Global) *int64 { return &g.ProxyBodySize }),
		func(p *pathSettings) *int64 { return &p.maxBody }),
	onHost(&key[string]{KeyInfo: KeyInfo{Name: "redirect-from", Scope: ScopeHost, Reload: true,
		Accepts: "a host name, or *.<domain> for its subdomains of one more label",
		Doc:     "redirect (redirect-from-code) the requests of this other host to the Ingress's host, keeping scheme, path and query; a host that routes serve is never redirected"},
		parse: func(v string) (string, bool) {
			v = strings.ToLower(v)
			return v, v == "" || validDNSName(v, true)
		}},
		func(p *HostPolicy) *string { return &p.RedirectFrom }),
	onHost(&key[string]{KeyInfo: KeyInfo{Name: "redirect-from-regex", Scope: ScopeHost, Reload: true,
		Accepts: "a regular expression on the lower-case request host, unanchored (the subset regex paths accept)",
		Doc:     "as redirect-from, for the hosts the expression matches; tried after every redirect-from"},
		parse: func(v string) (string, bool) { return v, v == "" || checkRegexPath(v) == nil }},
		func(p *HostPolicy) *string { return &p.RedirectFromRegex }),
	&key[int]{KeyInfo: KeyInfo{Name: "redirect-from-code", Scope: ScopeGlobal, Default: "302", Accepts: redirectCodes, Reload: true,
		Doc: "HTTP status of the redirect-from redirects"},
		parse: parseRedirectCode, global: func(g *Global) *int { return &g.RedirectFromCode }},
}

const redirectCodes = "301, 302, 303, 307 or 308"

// parseRedirectCode reads the status of a redirect.
func parseRedirectCode(v string) (int, bool) {
	switch v {
	case "301", "302", "303", "307", "308":
		n, _ := strconv.Atoi(v)
		return n, true
	}
	return 0, false
}

// validRedirectURL accepts scheme://host[:port][/path][?query] with a
// lower-case http or https scheme: no user info or fragment, and only RFC
// 3986 characters, none of which ends a haproxy config word or a log-format
// string (the render escapes "%").
func validRedirectURL(v string) bool {
	if len(v) > 2048 {
		return false
	}
	rest, ok := strings.CutPrefix(v, "https://")
	if !ok {
		if rest, ok = strings.CutPrefix(v, "http://"); !ok {
			return false
		}
	}
	end := strings.IndexAny(rest, "/?")
	if end < 0 {
		end = len(rest)
	}
	if !validAuthority(rest[:end]) {
		return false
	}
	path, query, _ := strings.Cut(rest[end:], "?")
	// A query holds the characters of a path, and "?"; both may be empty.
	return (path == "" || validPath(path)) && (query == "" || validPath("/"+strings.ReplaceAll(query, "?", "/")))
}

// validAuthority accepts a DNS name (any case), an IPv4 address or a
// bracketed IPv6 address, with an optional port 1-65535.
func validAuthority(a string) bool {
	host, port := a, ""
	if i := strings.LastIndexByte(a, ':'); i >= 0 && !strings.HasSuffix(a, "]") {
		host, port = a[:i], a[i+1:]
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || port[0] == '0' {
			return false
		}
	}
	if ip, ok := strings.CutPrefix(host, "["); ok {
		ip, ok = strings.CutSuffix(ip, "]")
		return ok && strings.Contains(ip, ":") && net.ParseIP(ip) != nil
	}
	return validDNSName(strings.ToLower(host), false)
}

// parseBodySize reads upstream's sizes: bytes, or a number of k, m or g
// (powers of 1024), either case; "unlimited" and 0 are no limit (0).
func parseBodySize(v string) (int64, bool) {
	if v == "" || v == "unlimited" {
		return 0, true
	}
	unit := int64(1)
	switch v[len(v)-1] {
	case 'k', 'K':
		unit = 1 << 10
	case 'm', 'M':
		unit = 1 << 20
	case 'g', 'G':
		unit = 1 << 30
	}
	digits := v
	if unit > 1 {
		digits = v[:len(v)-1]
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || n < 0 || digits[0] == '+' || n > math.MaxInt64/unit {
		return 0, false
	}
	return n * unit, true
}
