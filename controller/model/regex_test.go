package model

import (
	"strings"
	"testing"
)

// acceptedRegexes are regex paths of the supported subset; the haproxy
// test renders them and checks that PCRE2 agrees with RE2 on their matches.
var acceptedRegexes = []string{
	`/a`, `^/a`, `^/a$`, `/v[0-9]+/items$`, `^/(a|b)/c`, `/a|/b`, `^(/a|/b)$`,
	`/a\.b`, `/a\\b`, `\/x\-y`, `/[a-z\d_-]+`, `/[-a]`, `/[^/]*x`, `^/\w+\s?\S\W\D`,
	`/(?:ab){0,9}c`, `/(a|b){0,255}`, `/((a|b){0,15}){0,17}`, `/(a+)?`, `/a{2}`, `/a{2,}`, `/a{2,5}`, `/a*?b+?c??`, `/a{1,3}?`, `/x.y`, `^/$`, `^`, `/a()b`,
	`/[.]`, `/[\]\[]`, `/a\{\}`, `/%7e`, `/a'b"c`, `/a;b,c=d@e:f!g~h`, `/[a-c][x-z]`,
	`^/api/v[12]/(users|groups)/[0-9]{1,10}$`, `^/api/v[0-9]+/[a-z]+/[0-9]+/.*$`, `/(a(b(c)))`, `/\*`, `/\^`, `/a$`, `/a$|/b$`,
}

func TestRegexAccepted(t *testing.T) {
	for _, r := range acceptedRegexes {
		if err := checkRegexPath(r); err != nil {
			t.Errorf("%q rejected: %v", r, err)
		}
	}
}

func TestRegexRejected(t *testing.T) {
	for _, c := range []struct{ re, msg string }{
		{`/a\Q`, `escape \Q is not supported`},
		{`/a\Qb\E`, `escape \Q`},
		{`/a\x{100}`, `escape \x`},
		{`/a\x41`, `escape \x`},
		{`/\p{L}`, `escape \p`},
		{`/(a)\1`, `escape \1`},
		{`/a\b`, `escape \b`},
		{`/a\z`, `escape \z`},
		{`\A/a`, `escape \A`},
		{`/a\Z`, `escape \Z`},
		{`(?i)/a`, `only (...) and (?:...) groups`},
		{`/(?P<n>a)`, `only (...) and (?:...) groups`},
		{`/(?=a)`, `only (...) and (?:...) groups`},
		{`(*UTF)/a`, `only (...) and (?:...) groups`},
		{`/[[:alpha:]]`, `[ inside a class`},
		{`/[]a]`, `literal ] first`},
		{`/[]`, `empty class`},
		{`/[a-\d]`, `invalid range`},
		{`/[z-a]`, `invalid range`},
		{`/[a-c-e]`, `literal - inside a class`},
		{`/[abc`, `missing ]`},
		{`/a{,3}`, `literal { must be escaped`},
		{`/a{x}`, `literal { must be escaped`},
		{`/a{1,70000}`, `at most 255`},
		{`/a{5,2}`, `bounds must be ordered`},
		{`/a}`, `literal } must be escaped`},
		{`/a]`, `literal ] must be escaped`},
		{`/a*+`, `possessive`},
		{`/a++`, `possessive`},
		{`/a{2}+`, `possessive`},
		{`/a|^/b`, `^ is supported only as the first character`},
		{`^/a|/b`, `a leading ^ must cover the whole pattern`},
		{`/(^a)`, `^ is supported only`},
		{`^*`, `does not follow something to repeat`},
		{`*a`, `does not follow something to repeat`},
		{`/(*)`, `only (...)`},
		{`/$*`, `does not follow something to repeat`},
		{`/a**`, `does not follow something to repeat`},
		{`/(a+){2}`, `exponential backtracking`},
		{`/(?:[a-z]+/){1,9}x`, `exponential backtracking`},
		{`/((a*)b){0,3}`, `exponential backtracking`},
		{`/(a+)*`, `a group repeated without bound`},
		{`/(a|b)*`, `a group repeated without bound`},
		{`/(?:ab)+`, `a group repeated without bound`},
		{`/(ab){2,}`, `a group repeated without bound`},
		{`/((a){0,16}){0,16}`, `nested repeated groups allow 256 repetitions`},
		{`/a*b+c*d+e*`, `more than 4 unbounded repetitions`},
		{`/(a`, `missing )`},
		{`/a)`, `unmatched )`},
		{`/a\`, `trailing backslash`},
		{`/a b`, `character " "`},
		{`/a#b`, `character "#"`},
		{"/a\nb", `character "\n"`},
		{"/ä", `character "\xc3"`},
		{`/((((((((((a))))))))))`, `nested deeper than 8`},
		{"/" + strings.Repeat("a", 1024), `longer than 1024`},
		{``, `empty`},
	} {
		err := checkRegexPath(c.re)
		if err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%q: error %v, want one containing %q", c.re, err, c.msg)
		}
	}
}
