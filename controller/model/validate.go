package model

import (
	"errors"
	"fmt"
	"regexp/syntax"
	"strconv"
	"strings"
)

// Everything that reaches a config or map line is checked here, so that no
// value can end its line, start a comment or split a map key.

// validDNSName accepts a lower-case DNS subdomain, and "*.<subdomain>" when
// wildcard is true.
func validDNSName(h string, wildcard bool) bool {
	if wildcard && strings.HasPrefix(h, "*.") {
		h = h[2:]
	}
	if h == "" || len(h) > 253 {
		return false
	}
	for label := range strings.SplitSeq(h, ".") {
		if !validLabel(label) {
			return false
		}
	}
	return true
}

func validLabel(l string) bool {
	if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
		return false
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// validName accepts Kubernetes object names (namespaces, Services, Secrets,
// port names): DNS subdomains, which are also safe in file and backend names.
func validName(n string) bool { return validDNSName(n, false) }

// validPath accepts an absolute path made of RFC 3986 pchars and "/":
// unreserved, percent-encoded and sub-delims, ":" and "@". None of them is
// whitespace, "#" or a backslash, so the path is safe as a map key.
func validPath(p string) bool {
	if p == "" || p[0] != '/' || len(p) > 2048 {
		return false
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("-._~!$&'()*+,;=:@/", c) >= 0:
		case c == '%':
			if i+2 >= len(p) || !isHex(p[i+1]) || !isHex(p[i+2]) {
				return false
			}
			i += 2
		default:
			return false
		}
	}
	return true
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// Regex paths land in map_reg files that haproxy compiles with PCRE2, while
// the model can only parse them with Go's RE2. checkRegexPath accepts the
// subset whose meaning is the same in both, and fits the host wrapper of the
// render (a host literal is prepended, a leading "^" dropped):
//   - literals: printable ASCII except spaces and "#" (map files split keys
//     on whitespace, and "#" starts a comment on the runtime API); the
//     metacharacters \ ^ $ . | ? * + ( ) [ ] { } are literal only escaped;
//   - escapes: a backslash before punctuation, \d \D \w \W \s \S (ASCII in
//     both engines; PCRE2's \s also matches VT, which a path cannot hold);
//   - ".", classes [...] and [^...] of literals, escapes and ranges a-z, with
//     "-" unescaped only first or last;
//   - "^" only as the first character, and then no top-level "|" (write
//     ^(/a|/b)), so that the anchor covers the whole pattern; "$" anywhere;
//   - groups (...) and (?:...) nested at most maxRegexDepth deep, "|";
//   - quantifiers * + ? {n} {n,} {n,m} (bounds up to maxRegexRepeat), each
//     optionally lazy with "?"; on a group only bounded ones, the bounds of
//     nested repeated groups multiplying to at most maxRegexRepeat (haproxy
//     runs PCRE2 with a JIT stack that "(a|b)*" exhausts after about 1000
//     repetitions, and the route then silently stops matching), and never
//     on a group holding an unbounded one ("(a+){2,9}": exponential
//     backtracking); at most maxUnbounded unbounded ones in all.
//
// PCRE2 backtracks and gives up past its match limit, RE2 does not: on
// paths longer than a few hundred bytes a pattern with overlapping
// repetitions can still stop matching in haproxy (the request then goes to
// a later route or the default backend; the config is never refused).
//
// Everything else is rejected: \Q..\E, \x.., \p{..}, backreferences, \b, \z,
// \A, (?flags), lookarounds, named groups, POSIX classes, possessive
// quantifiers and PCRE2 verbs, whose meaning differs or is not needed.
const (
	maxRegexLen    = 1024
	maxRegexDepth  = 8
	maxRegexRepeat = 255
	// maxUnbounded bounds the unbounded quantifiers of a pattern: each one
	// can multiply PCRE2's backtracking on a long path, past its limit.
	maxUnbounded = 4
)

func checkRegexPath(p string) error {
	if p == "" {
		return errors.New("empty regex")
	}
	if len(p) > maxRegexLen {
		return fmt.Errorf("longer than %d characters", maxRegexLen)
	}
	if err := scanRegex(p); err != nil {
		return err
	}
	if _, err := syntax.Parse(p, syntax.Perl); err != nil {
		return err
	}
	return nil
}

// regexGroup is what the scanner knows of an open group.
type regexGroup struct {
	unbounded bool // holds an unbounded quantifier
	repeats   int  // most repetitions of nested groups inside it, 0: none
}

func scanRegex(p string) error {
	groups := []regexGroup{{}}
	lastGroup := regexGroup{} // the group just closed, if the last atom was one
	atGroup := false
	canRepeat := false // the last item is an atom a quantifier may follow
	unbounded := 0
	for i := 0; i < len(p); i++ {
		c := p[i]
		at := func(format string, args ...any) error {
			return fmt.Errorf("offset %d: "+format, append([]any{i}, args...)...)
		}
		wasGroup, couldRepeat := atGroup, canRepeat
		atGroup, canRepeat = false, true
		switch {
		case !regexChar(c):
			return at("%v", badRegexChar(c))
		case c == '\\':
			if _, err := regexEscape(p, i); err != nil {
				return at("%v", err)
			}
			i++
		case c == '[':
			end, err := scanClass(p, i)
			if err != nil {
				return at("%v", err)
			}
			i = end
		case c == '(':
			switch {
			case strings.HasPrefix(p[i:], "(?:"):
				i += 2
			case strings.HasPrefix(p[i:], "(?"), strings.HasPrefix(p[i:], "(*"):
				return at("only (...) and (?:...) groups are supported")
			}
			if len(groups) > maxRegexDepth {
				return at("groups nested deeper than %d", maxRegexDepth)
			}
			groups = append(groups, regexGroup{})
			canRepeat = false
		case c == ')':
			if len(groups) == 1 {
				return at("unmatched )")
			}
			lastGroup = groups[len(groups)-1]
			groups = groups[:len(groups)-1]
			parent := &groups[len(groups)-1]
			parent.unbounded = parent.unbounded || lastGroup.unbounded
			parent.repeats = max(parent.repeats, lastGroup.repeats)
			atGroup = true
		case c == '|', c == '$':
			canRepeat = false
			if c == '|' && len(groups) == 1 && p[0] == '^' {
				return at("a leading ^ must cover the whole pattern: group the alternatives, as in ^(/a|/b)")
			}
		case c == '^':
			canRepeat = false
			if i != 0 {
				return at("^ is supported only as the first character")
			}
		case c == '*', c == '+', c == '?', c == '{':
			if !couldRepeat {
				return at("%c does not follow something to repeat", c)
			}
			canRepeat = false
			end, max, err := regexQuantifier(p, i)
			if err != nil {
				return at("%v", err)
			}
			if wasGroup {
				if err := groupRepeat(&groups[len(groups)-1], lastGroup, max); err != nil {
					return at("%v", err)
				}
			}
			if max < 0 {
				groups[len(groups)-1].unbounded = true
				if unbounded++; unbounded > maxUnbounded {
					return at("more than %d unbounded repetitions (*, +, {n,}): haproxy's backtracking PCRE2 gives up on long paths", maxUnbounded)
				}
			}
			i = end
			if i+1 < len(p) && p[i+1] == '?' {
				i++ // lazy
			}
		case c == ']', c == '}':
			return at("a literal %c must be escaped as \\%c", c, c)
		}
	}
	if len(groups) > 1 {
		return errors.New("missing )")
	}
	return nil
}

// groupRepeat checks a quantifier of maximum bound on group g, closed inside
// parent, and records its repetitions there.
func groupRepeat(parent *regexGroup, g regexGroup, bound int) error {
	switch {
	case bound < 0:
		return fmt.Errorf("a group repeated without bound stops matching long paths in haproxy's PCRE2: bound it, as in {0,%d}", maxRegexRepeat)
	case bound > 1 && g.unbounded:
		return errors.New("repeated group already holds an unbounded repetition (exponential backtracking in haproxy's PCRE2)")
	}
	n := bound * max(g.repeats, 1)
	if n > maxRegexRepeat {
		return fmt.Errorf("nested repeated groups allow %d repetitions, at most %d", n, maxRegexRepeat)
	}
	parent.repeats = max(parent.repeats, n)
	return nil
}

// regexChar tells whether c may appear in a regex path at all.
func regexChar(c byte) bool { return c > ' ' && c < 0x7f && c != '#' }

func badRegexChar(c byte) error {
	return fmt.Errorf("character %s: only printable ASCII without spaces or \"#\"", strconv.QuoteToASCII(string([]byte{c})))
}

// regexEscape checks the escape at p[i] ('\\') and tells whether it stands
// for one character (escaped punctuation) rather than a class (\d...).
func regexEscape(p string, i int) (single bool, err error) {
	if i+1 >= len(p) {
		return false, errors.New("trailing backslash")
	}
	c := p[i+1]
	switch {
	case !regexChar(c):
		return false, badRegexChar(c)
	case strings.IndexByte("dDwWsS", c) >= 0:
		return false, nil
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return false, fmt.Errorf("escape \\%c is not supported (only \\ before punctuation, \\d \\D \\w \\W \\s \\S)", c)
	}
	return true, nil
}

// scanClass checks the class starting at p[i] ('[') and returns the offset
// of its closing ']'.
func scanClass(p string, i int) (int, error) {
	j := i + 1
	if j < len(p) && p[j] == '^' {
		j++
	}
	first := j
	for ; j < len(p) && p[j] != ']'; j++ {
		lo, loSingle, n, err := classAtom(p, j, first)
		if err != nil {
			return 0, err
		}
		j += n
		if j+2 < len(p) && p[j+1] == '-' && p[j+2] != ']' {
			hi, hiSingle, m, err := classAtom(p, j+2, first)
			if err != nil {
				return 0, err
			}
			if !loSingle || !hiSingle || lo > hi {
				return 0, fmt.Errorf("invalid range %s in class", p[j-n:j+3+m])
			}
			j += 2 + m
		}
	}
	if j == first {
		return 0, errors.New("empty class, or a literal ] first (escape it as \\])")
	}
	if j >= len(p) {
		return 0, errors.New("missing ]")
	}
	return j, nil
}

// classAtom reads one class member at p[j]: the character it stands for,
// whether it is a single character, and how many extra bytes it takes.
func classAtom(p string, j, first int) (byte, bool, int, error) {
	switch c := p[j]; {
	case !regexChar(c):
		return 0, false, 0, badRegexChar(c)
	case c == '\\':
		single, err := regexEscape(p, j)
		return p[j+1], single, 1, err
	case c == '[':
		return 0, false, 0, errors.New("[ inside a class (POSIX classes, nesting) is not supported: escape it as \\[")
	case c == '-' && j != first && j+1 < len(p) && p[j+1] != ']':
		return 0, false, 0, errors.New("a literal - inside a class must be first, last or escaped as \\-")
	default:
		return c, true, 0, nil
	}
}

// regexQuantifier checks the quantifier at p[i] and returns the offset of
// its last byte and its maximum (-1: unbounded).
func regexQuantifier(p string, i int) (end, max int, err error) {
	switch p[i] {
	case '*', '+':
		end, max = i, -1
	case '?':
		end, max = i, 1
	case '{':
		close := strings.IndexByte(p[i:], '}')
		if close < 0 {
			return 0, 0, errors.New("a literal { must be escaped as \\{")
		}
		lo, hi, ok := parseBounds(p[i+1 : i+close])
		if !ok {
			return 0, 0, errors.New("a literal { must be escaped as \\{; quantifiers are {n}, {n,} and {n,m}")
		}
		if lo > maxRegexRepeat || hi > maxRegexRepeat || hi >= 0 && hi < lo {
			return 0, 0, fmt.Errorf("repetition %s: bounds must be ordered and at most %d", p[i:i+close+1], maxRegexRepeat)
		}
		end, max = i+close, hi
	}
	if end+1 < len(p) && p[end+1] == '+' {
		return 0, 0, errors.New("possessive quantifiers are not supported")
	}
	return end, max, nil
}

// parseBounds parses "n", "n," and "n,m" (hi -1: unbounded).
func parseBounds(s string) (lo, hi int, ok bool) {
	a, b, comma := strings.Cut(s, ",")
	lo, ok = smallUint(a)
	if !ok {
		return 0, 0, false
	}
	switch {
	case !comma:
		return lo, lo, true
	case b == "":
		return lo, -1, true
	}
	hi, ok = smallUint(b)
	return lo, hi, ok
}

// smallUint parses 1 to 9 decimal digits.
func smallUint(s string) (int, bool) {
	if s == "" || len(s) > 9 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

// quoteValue quotes a rejected value for a Problem, cut short: a hostile
// value may be a megabyte long, and Event messages are limited to 1 kB.
func quoteValue(v string) string {
	const max = 64
	if len(v) > max {
		return strconv.Quote(v[:max]) + fmt.Sprintf("… (%d bytes)", len(v))
	}
	return strconv.Quote(v)
}
