package model

import (
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// vhostKeys set what a host answers for and how its TLS handshake goes:
// aliases, client certificates and the crt-list options of its SNI. Like
// every Host key, the oldest Ingress that sets one for a host wins.
var vhostKeys = []configKey{
	onHost(&key[[]string]{KeyInfo: KeyInfo{Name: "server-alias", Scope: ScopeHost, Reload: true,
		Accepts: "a comma-separated list of host names, \"*.\" wildcards allowed (at most 100)",
		Doc:     "other host names the host's paths answer for, with the host's certificate; a name some Ingress uses as a host stays that host's"},
		parse: parseAliases}, func(p *HostPolicy) *[]string { return &p.Aliases }),
	onHost(&key[string]{KeyInfo: KeyInfo{Name: "server-alias-regex", Scope: ScopeHost, Reload: true,
		Accepts: "a regular expression (as path-type regex paths)",
		Doc:     "the host's paths also answer for hosts (lower case, without port) this regex finds, unless a host or wildcard of some Ingress matches; the default certificate and TLS options serve them"},
		parse: func(v string) (string, bool) { return v, v == "" || checkRegexPath(v) == nil }},
		func(p *HostPolicy) *string { return &p.AliasRegex }),
	onHost(boolKey("ssl-passthrough", ScopeHost, "false",
		"TLS connections for the host go unterminated, by SNI, to the backend of its path / (its only route; plain http gets no route)", nil),
		func(p *HostPolicy) *bool { return &p.Passthrough }),
	onHost(intKey("ssl-passthrough-http-port", ScopeHost, "0", 0, 65535,
		"port of the ssl-passthrough host's Service that its plain http requests go to; 0: none (404)", nil),
		func(p *HostPolicy) *int { return &p.PassthroughHTTPPort }),
	onHost(&key[string]{KeyInfo: KeyInfo{Name: "auth-tls-secret", Scope: ScopeHost, Reload: true,
		Accepts: "a Secret name of the Ingress's namespace, or namespace/name of that namespace",
		Doc:     "Secret whose ca.crt (and optional ca.crl) verifies client certificates of the host"},
		parse: func(v string) (string, bool) { return v, v == "" || validSecretRef(v) }},
		func(p *HostPolicy) *string { return &p.ClientAuth.Secret }),
	onHost(&key[VerifyClient]{KeyInfo: KeyInfo{Name: "auth-tls-verify-client", Scope: ScopeHost, Reload: true,
		Accepts: "off, on, optional or optional_no_ca",
		Doc:     "on: a valid client certificate is required (496 without, 495 invalid); optional: checked when sent; optional_no_ca: asked for, not checked; default on with auth-tls-secret"},
		parse: func(v string) (VerifyClient, bool) {
			return VerifyClient(v), slices.Contains([]VerifyClient{"", VerifyOff, VerifyOn, VerifyOptional, VerifyOptionalNoCA}, VerifyClient(v))
		}}, func(p *HostPolicy) *VerifyClient { return &p.ClientAuth.Verify }),
	onHost(boolKey("auth-tls-strict", ScopeHost, "true", "with auth-tls-secret unusable, refuse every request (496) instead of serving without client certificates", nil),
		func(p *HostPolicy) *bool { return &p.ClientAuth.Strict }),
	onHost(&key[string]{KeyInfo: KeyInfo{Name: "auth-tls-error-page", Scope: ScopeHost, Reload: true,
		Accepts: "an http or https URL without query, or an absolute path",
		Doc:     "redirect (302) clients whose certificate is missing or invalid here instead of answering 495 or 496"},
		parse: func(v string) (string, bool) { return v, v == "" || validLocation(v) }},
		func(p *HostPolicy) *string { return &p.ClientAuth.ErrorPage }),
	onHost(&key[string]{KeyInfo: KeyInfo{Name: "ssl-ciphers", Scope: ScopeHost, Reload: true,
		Accepts: "a colon-separated list of OpenSSL TLS 1.2 cipher names (" + strings.Join(tls12Ciphers, ", ") + ")",
		Doc:     "TLS 1.2 ciphers of the host; empty: haproxy's"},
		parse: func(v string) (string, bool) { return v, v == "" || knownList(v, tls12Ciphers) }},
		func(p *HostPolicy) *string { return &p.TLS.Ciphers }),
	onHost(&key[string]{KeyInfo: KeyInfo{Name: "ssl-cipher-suites", Scope: ScopeHost, Reload: true,
		Accepts: "a colon-separated list of TLS 1.3 suites (" + strings.Join(tls13Suites, ", ") + ")",
		Doc:     "TLS 1.3 cipher suites of the host; empty: haproxy's"},
		parse: func(v string) (string, bool) { return v, v == "" || knownList(v, tls13Suites) }},
		func(p *HostPolicy) *string { return &p.TLS.CipherSuites }),
	onHost(&key[SSLOptions]{KeyInfo: KeyInfo{Name: "ssl-options-host", Scope: ScopeHost, Reload: true,
		Accepts: "space-separated options: ssl-min-ver V, ssl-max-ver V (V: " + strings.Join(tlsVersions, ", ") + ", min not above max), no-ca-names",
		Doc:     "TLS versions and options of the host's handshake"},
		parse: parseSSLOptions}, func(p *HostPolicy) *SSLOptions { return &p.TLS.Options }),
	onHost(&key[string]{KeyInfo: KeyInfo{Name: "tls-alpn", Scope: ScopeHost, Default: DefaultALPN, Reload: true,
		Accepts: "a comma-separated list of protocol IDs such as h2, http/1.1 or acme-tls/1",
		Doc:     "protocols the host offers in the TLS ALPN extension"},
		parse: parseALPN}, func(p *HostPolicy) *string { return &p.TLS.ALPN }),
}

// vhostBackendKeys are the Backend keys of client certificates.
var vhostBackendKeys = []configKey{
	onBackend(boolKey("auth-tls-cert-header", ScopeBackend, "false", "send the client certificate (DER, base64) to the backend in X-SSL-Client-Cert", nil),
		func(p *BackendPolicy) *bool { return &p.ClientCertHeader }),
}

// DefaultALPN is what the https bind offers; a host that offers it needs no
// option of its own.
const DefaultALPN = "h2,http/1.1"

// maxAliases bounds the routes a host's aliases add: each alias repeats
// every path of the host.
const maxAliases = 100

// parseAliases reads "a.test, *.b.test"; an empty name (",,", " ") is
// a mistake, not no alias.
func parseAliases(v string) ([]string, bool) {
	if v == "" {
		return nil, true
	}
	var out []string
	for _, f := range strings.Split(v, ",") {
		f = strings.ToLower(strings.TrimSpace(f))
		if !validDNSName(f, true) {
			return nil, false
		}
		out = append(out, f)
	}
	slices.Sort(out)
	out = slices.Compact(out)
	return out, len(out) <= maxAliases
}

// validLocation is a redirect target: an absolute path, or an http(s) URL
// whose host is a DNS name, with an optional port and a path; paths are
// validPath's (a query is not needed for an error page).
func validLocation(v string) bool {
	if strings.HasPrefix(v, "/") {
		return !strings.HasPrefix(v, "//") && validPath(v)
	}
	u, err := url.Parse(v)
	if err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Opaque != "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" ||
		!validDNSName(strings.ToLower(u.Hostname()), false) || strings.HasSuffix(u.Host, ":") {
		return false
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 || p[0] == '0' {
			return false
		}
	}
	return u.RawPath == "" && (u.Path == "" || validPath(u.Path)) && v == u.Scheme+"://"+u.Host+u.Path
}

// tls12Ciphers are the OpenSSL names of the TLS 1.2 ciphers haproxy's
// OpenSSL (1.1.1 to 3.x) has at its default security level. Only names
// are accepted, no aliases or operators: OpenSSL ignores an unknown name,
// and haproxy refuses the whole configuration when a list selects nothing.
var tls12Ciphers = []string{
	"ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
	"ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
	"ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
	"ECDHE-ECDSA-AES128-SHA256", "ECDHE-RSA-AES128-SHA256",
	"ECDHE-ECDSA-AES256-SHA384", "ECDHE-RSA-AES256-SHA384",
	"DHE-RSA-AES128-GCM-SHA256", "DHE-RSA-AES256-GCM-SHA384", "DHE-RSA-CHACHA20-POLY1305",
	"AES128-GCM-SHA256", "AES256-GCM-SHA384",
}

// tls13Suites are the TLS 1.3 suites OpenSSL knows; it rejects a list with
// any other name.
var tls13Suites = []string{"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_CCM_SHA256", "TLS_AES_128_CCM_8_SHA256"}

// knownList is a colon-separated list of known names, each once.
func knownList(v string, known []string) bool {
	names := strings.Split(v, ":")
	for i, n := range names {
		if !slices.Contains(known, n) || slices.Contains(names[:i], n) {
			return false
		}
	}
	return true
}

// tlsVersions are haproxy's ssl-min-ver / ssl-max-ver values, oldest
// first; SSLv3 is left out, OpenSSL 3 builds have none.
var tlsVersions = []string{"TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3"}

func parseSSLOptions(v string) (SSLOptions, bool) {
	var o SSLOptions
	words := strings.Fields(v)
	for i := 0; i < len(words); i++ {
		switch w := words[i]; w {
		case "no-ca-names":
			o.NoCANames = true
		case "ssl-min-ver", "ssl-max-ver":
			if i+1 == len(words) || !slices.Contains(tlsVersions, words[i+1]) {
				return SSLOptions{}, false
			}
			i++
			if w == "ssl-min-ver" {
				o.MinVer = words[i]
			} else {
				o.MaxVer = words[i]
			}
		default:
			return SSLOptions{}, false
		}
	}
	if len(words) == 0 && v != "" {
		return SSLOptions{}, false // blanks only: a mistake, not no option
	}
	if o.MinVer != "" && o.MaxVer != "" && slices.Index(tlsVersions, o.MinVer) > slices.Index(tlsVersions, o.MaxVer) {
		return SSLOptions{}, false
	}
	return o, true
}

// alpnRe is a protocol ID as IANA lists them: h2, http/1.1, acme-tls/1.
var alpnRe = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]*(/[0-9][0-9.]*)?$`)

// parseALPN reads "h2, http/1.1" as "h2,http/1.1": haproxy's alpn word.
func parseALPN(v string) (string, bool) {
	var out []string
	for _, f := range strings.Split(v, ",") {
		f = strings.TrimSpace(f)
		if len(f) > 255 || !alpnRe.MatchString(f) {
			return "", false
		}
		out = append(out, f)
	}
	return strings.Join(out, ","), len(out) > 0 && len(out) <= 16
}
