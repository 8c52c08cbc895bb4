package model

import (
	"regexp"
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
	for _, label := range strings.Split(h, ".") {
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

// validRegexPath accepts a regular expression that compiles and contains
// only printable ASCII without whitespace or "#": map files split keys on
// whitespace and the runtime API treats "#" specially. Backslashes are kept
// verbatim in map files, so regex escapes are allowed.
func validRegexPath(p string) bool {
	if p == "" || len(p) > 2048 {
		return false
	}
	for i := 0; i < len(p); i++ {
		if p[i] <= ' ' || p[i] >= 0x7f || p[i] == '#' {
			return false
		}
	}
	_, err := regexp.Compile(p)
	return err == nil
}
