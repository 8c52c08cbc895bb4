package model

import (
	"regexp"
	"slices"
	"strings"
)

// affinityGlobalKeys are the global keys of cookie affinity.
var affinityGlobalKeys = []configKey{
	&key[string]{KeyInfo: KeyInfo{Name: "cookie-key", Scope: ScopeGlobal, Default: "Ingress", Accepts: cookieKeyAccepts, Reload: true,
		Doc: "secret haproxy hashes with a server's address into its dynamic affinity cookie"},
		parse:  func(v string) (string, bool) { return v, cookieKeyRe.MatchString(v) },
		global: func(g *Global) *string { return &g.CookieKey }},
}

// affinityKeys make a backend stick a client to one server with a cookie.
var affinityKeys = []configKey{
	onBackend(newKey(KeyInfo{Name: "affinity", Scope: ScopeBackend, Accepts: "cookie, or empty for none", Reload: true,
		Doc: "sticky sessions: cookie keeps a client on the server that answered it first"},
		func(v string) (bool, bool) { return v == "cookie", v == "" || v == "cookie" }, func(g *Global) *bool { return &g.Cookie.On }),
		func(p *BackendPolicy) *bool { return &p.Cookie.On }),
	onBackend(newKey(KeyInfo{Name: "session-cookie-name", Scope: ScopeBackend, Default: "INGRESSCOOKIE", Accepts: cookieNameAccepts, Reload: true,
		Doc: "name of the affinity cookie"},
		func(v string) (string, bool) { return v, cookieNameRe.MatchString(v) }, func(g *Global) *string { return &g.Cookie.Name }),
		func(p *BackendPolicy) *string { return &p.Cookie.Name }),
	onBackend(newKey(KeyInfo{Name: "session-cookie-strategy", Scope: ScopeBackend, Default: "insert", Accepts: "insert, rewrite or prefix", Reload: true,
		Doc: "insert: haproxy adds its cookie; rewrite: it replaces the value of the server's; prefix: it prefixes the server's value"},
		func(v string) (string, bool) { return v, slices.Contains([]string{"insert", "rewrite", "prefix"}, v) }, func(g *Global) *string { return &g.Cookie.Strategy }),
		func(p *BackendPolicy) *string { return &p.Cookie.Strategy }),
	onBackend(newKey(KeyInfo{Name: "session-cookie-keywords", Scope: ScopeBackend, Accepts: cookieKeywordsAccepts, Reload: true,
		Doc: "options of the cookie; empty with insert: indirect nocache httponly"},
		parseCookieKeywords, func(g *Global) *[]CookieKeyword { return &g.Cookie.Keywords }),
		func(p *BackendPolicy) *[]CookieKeyword { return &p.Cookie.Keywords }),
	onBackend(boolKey("session-cookie-dynamic", ScopeBackend, "true",
		"the cookie value is a hash of cookie-key and the server's address, so it follows an endpoint whatever slot it takes; false: the slot name", func(g *Global) *bool { return &g.Cookie.Dynamic }),
		func(p *BackendPolicy) *bool { return &p.Cookie.Dynamic }),
	onBackend(boolKey("session-cookie-preserve", ScopeBackend, "false", "keep a cookie the server sets itself instead of haproxy's", func(g *Global) *bool { return &g.Cookie.Preserve }),
		func(p *BackendPolicy) *bool { return &p.Cookie.Preserve }),
	onBackend(boolKey("session-cookie-same-site", ScopeBackend, "false", "the browser sends the cookie with cross-site requests too (attr SameSite=None and secure)", func(g *Global) *bool { return &g.Cookie.SameSite }),
		func(p *BackendPolicy) *bool { return &p.Cookie.SameSite }),
	onBackend(boolKey("session-cookie-shared", ScopeBackend, "false", "the cookie is valid for every host routed to the backend: its domain is their common parent domain (a warning when they share none; a host added or removed then reloads)", func(g *Global) *bool { return &g.Cookie.Shared }),
		func(p *BackendPolicy) *bool { return &p.Cookie.Shared }),
	onBackend(newKey(KeyInfo{Name: "session-cookie-value-strategy", Scope: ScopeBackend, Default: "server-name",
		Accepts: "server-name (pod-uid is not supported: the slot's cookie cannot change at run time when another pod takes it)", Reload: true,
		Doc: "value of a non-dynamic cookie: the server slot name (srv001...)"},
		func(v string) (string, bool) { return v, v == "server-name" }, func(g *Global) *string { return &g.Cookie.ValueStrategy }),
		func(p *BackendPolicy) *string { return &p.Cookie.ValueStrategy }),
}

const (
	cookieKeyAccepts  = "1 to 64 printable ASCII characters, no space or quote"
	cookieNameAccepts = "1 to 64 letters, digits or any of ! # $ % & * + - . ^ _ | ~ (an RFC 6265 cookie name)"
	// cookieKeywordsAccepts lists haproxy's cookie options but the mode
	// (session-cookie-strategy) and dynamic (session-cookie-dynamic).
	cookieKeywordsAccepts = "space-separated indirect, nocache, postonly, preserve, httponly, secure, " +
		"domain <DNS name, may start with a dot>, maxidle <time>, maxlife <time>, attr <printable ASCII without space, quote, backslash or ;>"
)

var (
	cookieKeyRe  = regexp.MustCompile(`^[!#-&(-~]{1,64}$`)
	cookieNameRe = regexp.MustCompile(`^[A-Za-z0-9!#$%&*+.^_|~-]{1,64}$`)
	cookieAttrRe = regexp.MustCompile(`^[!#-&(-:<-\[\]-~]{1,256}$`)
)

// parseCookieKeywords reads session-cookie-keywords into typed options.
func parseCookieKeywords(v string) ([]CookieKeyword, bool) {
	var kws []CookieKeyword
	words := strings.Fields(v)
	for i := 0; i < len(words); i++ {
		kw := CookieKeyword{Name: words[i]}
		switch kw.Name {
		case "indirect", "nocache", "postonly", "preserve", "httponly", "secure":
		case "domain", "maxidle", "maxlife", "attr":
			i++
			if i == len(words) {
				return nil, false
			}
			arg, ok := cookieArg(kw.Name, words[i])
			if !ok {
				return nil, false
			}
			kw.Arg = arg
		default:
			return nil, false
		}
		kws = append(kws, kw)
	}
	return kws, true
}

// cookieArg validates the argument of a cookie option; a time comes back
// in haproxy's units.
func cookieArg(name, arg string) (string, bool) {
	switch name {
	case "domain":
		return arg, validDNSName(strings.TrimPrefix(arg, "."), false)
	case "maxidle", "maxlife":
		d, ok := parseDuration(arg)
		return d.String(), ok
	}
	return arg, cookieAttrRe.MatchString(arg)
}
