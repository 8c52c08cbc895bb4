package render

import (
	"strings"

	"github.com/external-haproxy/kit/controller/model"
)

// CORS runs in two steps. Before authentication, txn.cors_origin is set to
// what Access-Control-Allow-Origin answers an allowed origin ("*", or its
// Origin echoed), and preflights are answered by haproxy, never reaching
// the backend (browsers send them without credentials). On the answer of
// other requests, the headers go to allowed origins only.

// corsOrigin is the fetch of the Origin header: the whole value, commas
// and all, so that the value echoed is the one that matched.
const corsOrigin = "req.fhdr(origin)"

// corsPreflight answers the preflights of the policies that share a value.
var corsPreflight = feature{name: "corspre",
	value: func(p *model.PathPolicy) (string, bool) {
		if p.CORS == nil {
			return "", false
		}
		return corsKey(p.CORS), true
	},
	rules: func(c *cfg, acl string, g group) {
		p := g.first.CORS
		if len(p.Origins) == 0 {
			c.line("http-request set-var(txn.cors_origin) str(*) if", acl)
		} else {
			quoted := make([]string, len(p.Origins))
			for i, o := range p.Origins {
				quoted[i] = quoteWord(o)
			}
			aclLines(c, acl+"_origin", corsOrigin+",lower -m str", quoted)
			c.line("http-request set-var(txn.cors_origin) "+corsOrigin+" if", acl, acl+"_origin")
		}
		if len(p.OriginRegexes) > 0 {
			quoted := make([]string, len(p.OriginRegexes))
			for i, re := range p.OriginRegexes {
				quoted[i] = quoteWord(re)
			}
			aclLines(c, acl+"_origin_re", corsOrigin+" -m reg", quoted)
			c.line("http-request set-var(txn.cors_origin) "+corsOrigin+" if", acl, acl+"_origin_re")
		}
		preflight := acl + " METH_OPTIONS { req.hdr(access-control-request-method) -m found }"
		hdrs := []string{"http-request return status 204",
			"hdr Access-Control-Allow-Origin %[var(txn.cors_origin)]",
			"hdr Access-Control-Allow-Methods", headerList(p.Methods),
			"hdr Access-Control-Allow-Headers", headerList(p.Headers),
			"hdr Access-Control-Max-Age", itoa(p.MaxAge)}
		if p.Credentials {
			hdrs = append(hdrs, "hdr Access-Control-Allow-Credentials true")
		}
		if echoes(p) {
			hdrs = append(hdrs, "hdr Vary Origin")
		}
		c.line(append(hdrs, "if", preflight, "{ var(txn.cors_origin) -m found }")...)
		// A preflight of another origin is answered without permission.
		c.line("http-request return status 204 if", preflight)
	}}

// corsAnswer adds the CORS headers to the answers of allowed origins.
var corsAnswer = feature{name: "cors",
	value: corsPreflight.value,
	rules: func(c *cfg, acl string, g group) {
		p := g.first.CORS
		allowed := acl + " { var(txn.cors_origin) -m found }"
		c.line("http-response set-header Access-Control-Allow-Origin %[var(txn.cors_origin)] if", allowed)
		if p.Credentials {
			c.line("http-response set-header Access-Control-Allow-Credentials true if", allowed)
		}
		if len(p.Expose) > 0 {
			c.line("http-response set-header Access-Control-Expose-Headers", headerList(p.Expose), "if", allowed)
		}
		if echoes(p) {
			// Caches must not serve one origin's answer to another.
			c.line("http-response add-header Vary Origin if", acl)
		}
	}}

// echoes tells whether the answer depends on the Origin.
func echoes(p *model.CORS) bool { return len(p.Origins) > 0 || len(p.OriginRegexes) > 0 }

// corsKey is the whole policy as a string: the rules of a group use every
// field.
func corsKey(p *model.CORS) string {
	return strings.Join([]string{strings.Join(p.Origins, ","), strings.Join(p.OriginRegexes, " "),
		strings.Join(p.Methods, ","), strings.Join(p.Headers, ","), strings.Join(p.Expose, ","),
		itoa(p.MaxAge), boolWord(p.Credentials)}, "\n")
}

func boolWord(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// headerList is a list header value as one log-format word: tokens may
// hold "%" and "'".
func headerList(items []string) string {
	return quoteWord(logFormat(strings.Join(items, ", ")))
}
