package render

import (
	"strconv"

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
