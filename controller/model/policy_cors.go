package model

import (
	"net/netip"
	"strconv"
	"strings"
)

// CORS is the cross-origin policy of a route: haproxy answers preflights
// (OPTIONS with Access-Control-Request-Method) itself and adds the
// Access-Control-Allow-* headers to the answers of allowed origins.
type CORS struct {
	// Origins are the allowed origins, lower-case scheme://host[:port],
	// whose requests get their Origin echoed; empty: any origin, answered
	// with "*". OriginRegexes also allow an Origin one of them matches.
	Origins       []string `json:",omitempty"`
	OriginRegexes []string `json:",omitempty"`
	Methods       []string // methods tokens or "*"
	Headers       []string // header names or "*"
	Expose        []string `json:",omitempty"`
	Credentials   bool
	MaxAge        int // seconds
}

// CORSSettings are the cors-* keys as resolved for a path, or their
// global ConfigMap values.
type CORSSettings struct {
	Enable bool
	CORS   CORS
}

// policy is the CORS of a path; nil when off.
func (s *CORSSettings) policy() *CORS {
	if !s.Enable {
		return nil
	}
	c := s.CORS
	return &c
}

// maxCORSItems bounds each list: every item is a pattern or header word.
// maxTokensLen bounds a header list and maxOriginRegexLen a regex, so that
// the lines holding them stay within haproxy's 2048 characters (a regex's
// quotes can grow fourfold in quoteWord).
const (
	maxCORSItems      = 100
	maxTokensLen      = 512
	maxOriginRegexLen = 256
)

// parseOrigins reads cors-allow-origin: "*" alone, or a comma-separated
// list of origins.
func parseOrigins(v string) (origins []string, ok bool) {
	if strings.TrimSpace(v) == "*" {
		return nil, true
	}
	for _, f := range strings.Split(v, ",") {
		o, ok := parseOrigin(strings.TrimSpace(f))
		if !ok {
			return nil, false
		}
		origins = append(origins, o)
	}
	return origins, len(origins) <= maxCORSItems
}

// parseOrigin accepts a serialized origin as browsers send it:
// scheme://host[:port], host a DNS name, an IPv4 address or a bracketed
// IPv6 address; it returns it lower-cased.
func parseOrigin(o string) (string, bool) {
	o = strings.ToLower(o)
	scheme, rest, ok := strings.Cut(o, "://")
	if !ok || !validScheme(scheme) {
		return "", false
	}
	host, port := rest, ""
	if i := strings.LastIndexByte(rest, ':'); i >= 0 && !strings.HasSuffix(rest, "]") {
		host, port = rest[:i], rest[i+1:]
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != port {
			return "", false
		}
	}
	if v6, ok := strings.CutPrefix(host, "["); ok {
		a, err := netip.ParseAddr(strings.TrimSuffix(v6, "]"))
		if err != nil || !a.Is6() || a.Zone() != "" || !strings.HasSuffix(v6, "]") {
			return "", false
		}
	} else if !validDNSName(host, false) {
		return "", false
	}
	return o, true
}

// validScheme accepts an RFC 3986 scheme: a letter, then letters, digits,
// "+", "-" or ".".
func validScheme(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// parseOriginRegexes reads cors-allow-origin-regex: space-separated
// regexes of the subset that PCRE2 and Go read alike (checkRegexPath).
func parseOriginRegexes(v string) ([]string, bool) {
	res := strings.Fields(v)
	if len(res) == 0 {
		return nil, true
	}
	for _, re := range res {
		if len(re) > maxOriginRegexLen || checkRegexPath(re) != nil {
			return nil, false
		}
	}
	return res, len(res) <= maxCORSItems
}

// parseTokens reads a comma-separated list of HTTP tokens (methods, header
// names), or "*"; empty gives none.
func parseTokens(v string) ([]string, bool) {
	if len(v) > maxTokensLen {
		return nil, false
	}
	var out []string
	for _, f := range strings.Split(v, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if f != "*" && !validToken(f) {
			return nil, false
		}
		out = append(out, f)
	}
	return out, len(out) <= maxCORSItems
}

// validToken accepts an RFC 9110 token.
func validToken(t string) bool {
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return t != "" && len(t) <= 64
}
