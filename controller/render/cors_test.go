package render

import (
	"strings"
	"testing"

	"github.com/external-haproxy/kit/controller/model"
)

func TestCORSSnippets(t *testing.T) {
	wildcard := model.PathPolicy{CORS: &model.CORS{Methods: []string{"GET"}, Headers: []string{"*"}, MaxAge: 60}}
	checkLines(t, policyFrontends(wildcard), []string{
		"acl pol_corspre_0 var(txn.policy) -m str " + wildcard.ID(),
		"http-request set-var(txn.cors_origin) str(*) if pol_corspre_0",
		"http-request return status 204 hdr Access-Control-Allow-Origin %[var(txn.cors_origin)] hdr Access-Control-Allow-Methods 'GET'" +
			" hdr Access-Control-Allow-Headers '*' hdr Access-Control-Max-Age 60" +
			" if pol_corspre_0 METH_OPTIONS { req.hdr(access-control-request-method) -m found } { var(txn.cors_origin) -m found }",
		"http-request return status 204 if pol_corspre_0 METH_OPTIONS { req.hdr(access-control-request-method) -m found }",
		"http-response set-header Access-Control-Allow-Origin %[var(txn.cors_origin)] if pol_cors_0 { var(txn.cors_origin) -m found }",
	}, []string{"acl pol_corspre_0_origin", "http-response add-header Vary", "http-response set-header Access-Control-Allow-Credentials",
		"http-response set-header Access-Control-Expose-Headers"})

	listed := model.PathPolicy{CORS: &model.CORS{Origins: []string{"https://a.test", "http://[2001:db8::1]:8080"}, OriginRegexes: []string{`^https://[a-z]+\.b\.test$`},
		Methods: []string{"GET", "X-%'"}, Headers: []string{"X-A"}, Expose: []string{"X-Total", "X-Page"}, Credentials: true}}
	checkLines(t, policyFrontends(listed), []string{
		"acl pol_corspre_0_origin req.fhdr(origin),lower -m str 'https://a.test' 'http://[2001:db8::1]:8080'",
		"http-request set-var(txn.cors_origin) req.fhdr(origin) if pol_corspre_0 pol_corspre_0_origin",
		`acl pol_corspre_0_origin_re req.fhdr(origin) -m reg '^https://[a-z]+\.b\.test$'`,
		"http-request set-var(txn.cors_origin) req.fhdr(origin) if pol_corspre_0 pol_corspre_0_origin_re",
		`http-request return status 204 hdr Access-Control-Allow-Origin %[var(txn.cors_origin)] hdr Access-Control-Allow-Methods 'GET, X-%%'\''' hdr Access-Control-Allow-Headers 'X-A' hdr Access-Control-Max-Age 0` +
			" hdr Access-Control-Allow-Credentials true hdr Vary Origin if pol_corspre_0 METH_OPTIONS { req.hdr(access-control-request-method) -m found } { var(txn.cors_origin) -m found }",
		"http-response set-header Access-Control-Allow-Credentials true if pol_cors_0 { var(txn.cors_origin) -m found }",
		"http-response set-header Access-Control-Expose-Headers 'X-Total, X-Page' if pol_cors_0 { var(txn.cors_origin) -m found }",
		"http-response add-header Vary Origin if pol_cors_0",
	}, []string{"http-request set-var(txn.cors_origin) str(*)"})
}

// TestCORSLineLimits: the longest lists the keys accept stay within
// haproxy's 64 words and 2048 characters per line.
func TestCORSLineLimits(t *testing.T) {
	c := &model.CORS{MaxAge: 1 << 30, Credentials: true}
	tokens := strings.Split(strings.Repeat("X-Header-Name-01234567890123,", 17), ",")
	c.Methods, c.Headers, c.Expose = tokens, tokens, tokens
	for i := range 100 {
		c.Origins = append(c.Origins, "https://"+strings.Repeat("a", 60)+"."+strings.Repeat("b", 60)+"."+strings.Repeat("c", 60)+"."+itoa(i)+".test:65535")
		c.OriginRegexes = append(c.OriginRegexes, strings.Repeat("'", 256))
	}
	for _, l := range strings.Split(string(policyFrontends(model.PathPolicy{CORS: c})), "\n") {
		if len(l) > 2047 || words(l) > 63 {
			t.Errorf("line of %d characters, %d words: %.80s", len(l), words(l), l)
		}
	}
}

// words counts the words of a config line as haproxy splits it: spaces
// inside single quotes do not split.
func words(l string) int {
	n, quoted, in := 0, false, false
	for _, c := range l {
		switch {
		case c == '\'':
			quoted = !quoted
		case c == ' ' && !quoted:
			in = false
			continue
		}
		if !in {
			in = true
			n++
		}
	}
	return n
}
