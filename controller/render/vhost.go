package render

import (
	"path/filepath"
	"strings"

	"github.com/external-haproxy/kit/controller/files"
	"github.com/external-haproxy/kit/controller/model"
)

// Hosts with TLS options of their own (client certificates, ciphers, ALPN)
// get crt-list lines of their own: haproxy picks the line by SNI and runs
// the handshake with its options. The CA bundles are files under the
// certificates directory, named relative to ca-base like the bundles are
// to crt-base.

// CA bundles and CRLs live in directories of their own: a Secret name may
// hold dots, so no suffix could keep their names apart.
const (
	caDir  = "ca"
	crlDir = "crl"
)

// ownLines are the hosts whose SNI has a line of its own.
func ownLines(ts []model.TLSHost) map[string]bool {
	own := make(map[string]bool, len(ts))
	for _, t := range ts {
		own[t.Host] = true
	}
	return own
}

// tlsHostLines adds to list one line per certificate and set of options,
// for their hosts, and returns the CA and CRL files.
func tlsHostLines(m *model.Model, l files.Layout, list *strings.Builder) files.Set {
	type lineKey struct {
		cert string
		tls  model.HostTLS
	}
	var keys []lineKey
	hosts := map[lineKey][]string{}
	for _, t := range m.TLSHosts {
		k := lineKey{t.Cert, t.TLS}
		if hosts[k] == nil {
			keys = append(keys, k)
		}
		hosts[k] = append(hosts[k], t.Host)
	}
	for _, k := range keys {
		list.WriteString(k.cert + ".pem [" + strings.Join(crtListOptions(&k.tls), " ") + "] " + strings.Join(hosts[k], " ") + "\n")
	}
	var set files.Set
	for _, ca := range m.ClientCAs {
		set = append(set, files.File{Path: filepath.Join(l.Certs(), caDir, ca.Name+".pem"), Data: ca.PEM})
		if ca.CRL != nil {
			set = append(set, files.File{Path: filepath.Join(l.Certs(), crlDir, ca.Name+".pem"), Data: ca.CRL})
		}
	}
	return set
}

// crtListOptions are the ssl options of a crt-list line; the model
// validated every value as one word of known characters.
func crtListOptions(t *model.HostTLS) []string {
	var o []string
	if t.ClientCA != "" {
		// optional: the rules of the routes answer 495/496 (see
		// clientCertRules) rather than a failed handshake, and the bind
		// ignores verify errors so that they can.
		o = append(o, "ca-file", caDir+"/"+t.ClientCA+".pem", "verify", "optional")
		if t.HasCRL {
			o = append(o, "crl-file", crlDir+"/"+t.ClientCA+".pem")
		}
	}
	for _, kv := range [][2]string{{"ciphers", t.Ciphers}, {"ciphersuites", t.CipherSuites}, {"ssl-min-ver", t.Options.MinVer},
		{"ssl-max-ver", t.Options.MaxVer}, {"alpn", t.ALPN}} {
		if kv[1] != "" {
			o = append(o, kv[0], kv[1])
		}
	}
	if t.Options.NoCANames {
		o = append(o, "no-ca-names")
	}
	return o
}

// clientCertFeature refuses the requests of routes whose client
// certificate does not do, and tells the backend who the client is.
var clientCertFeature = feature{name: "clientcert", value: func(p *model.PathPolicy) (string, bool) {
	if p.ClientCert == nil {
		return "", false
	}
	c := p.ClientCert
	return strings.Join([]string{bitWord(c.Refuse), bitWord(c.Required), bitWord(c.Verified), c.ErrorPage}, " "), true
}, rules: clientCertRules}

// clientCertRules: 496 without a certificate where one is needed, 421 for
// a certificate sent under another host's SNI (its CA is not this host's),
// 495 for one that failed verification; then the X-SSL-Client-* headers,
// never the client's own.
func clientCertRules(c *cfg, acl string, g group) {
	cc := g.first.ClientCert
	// haproxy has no error page of its own for 495 and 496: the rule
	// brings its text.
	refuse := func(status, text, cond string) {
		if cc.ErrorPage != "" {
			c.line("http-request redirect location", quoteWord(logFormat(cc.ErrorPage)), "code 302 if", acl, cond)
		} else {
			c.line("http-request deny deny_status", status, "content-type text/plain string", quoteWord(text), "if", acl, cond)
		}
	}
	if cc.Refuse {
		refuse("496", noCertText, "")
		return
	}
	if cc.Required {
		refuse("496", noCertText, "!{ ssl_c_used }")
	}
	c.line("http-request deny deny_status 421 if", acl, "{ ssl_c_used } !{ ssl_fc_sni,lower,strcmp(txn.host) eq 0 }")
	if cc.Verified {
		refuse("495", "invalid client certificate", "{ ssl_c_used } !{ ssl_c_verify 0 }")
	}
	for _, h := range clientHeaders {
		c.line("http-request del-header", h.name, "if", acl)
		// json escapes what a certificate could hold that a header value
		// must not (control characters, non-ASCII).
		c.line("http-request set-header", h.name, "%["+h.sample+"]", "if", acl, "{ ssl_c_used }")
	}
}

const noCertText = "client certificate required"

var clientHeaders = []struct{ name, sample string }{
	{"X-SSL-Client-SHA1", "ssl_c_sha1,hex"},
	{"X-SSL-Client-DN", "ssl_c_s_dn"},
	{"X-SSL-Client-CN", "ssl_c_s_dn(cn)"},
}

// vhostBackend is auth-tls-cert-header: the certificate of the
// connection, never one the client wrote in the header.
func vhostBackend(c *cfg, p *model.BackendPolicy) {
	if p.ClientCertHeader {
		c.line("http-request del-header X-SSL-Client-Cert")
		c.line("http-request set-header X-SSL-Client-Cert %[ssl_c_der,base64] if { ssl_c_used }")
	}
}

// aliasRegexFile is the map of the server-alias-regex: a regex map, so
// first-match in file order, and changes reload (MapChanges).
const aliasRegexFile = "host-alias-regex.map"

// aliasRegexMap maps each regex to its host, in the model's order.
func aliasRegexMap(m *model.Model, l files.Layout) mapFile {
	var es []entry
	for i := range m.AliasRegexes {
		a := &m.AliasRegexes[i]
		es = append(es, entry{a.Regex, a.Host, 0, i, &a.Source, 0})
	}
	return mapFile{filepath.Join(l.Maps(), aliasRegexFile), es, ""}
}

// aliasLookup sets txn.aliaspath, the lookup key of a host an alias regex
// finds, when neither the host nor its wildcard has a route.
func aliasLookup(c *cfg, file string) {
	c.line("http-request set-var(txn.aliaspath) var(txn.host),map_reg(" + quoteArg(file) + "),concat(,txn.path,) if !{ var(txn.route) -m found }")
}

// passthroughFile maps the SNI of ssl-passthrough hosts to their backends.
const passthroughFile = "passthrough.map"

// httpsSocket is where the https frontend listens behind the passthrough
// frontend.
func httpsSocket(l files.Layout) string { return filepath.Join(l.Run, "https.sock") }

// httpsLocal is the backend of the passthrough frontend that leads to the
// https frontend; no Service backend starts with "_".
const httpsLocal = "_https_local"

func passthroughMap(m *model.Model, l files.Layout) files.File {
	var es []entry
	for _, p := range m.Passthrough {
		es = append(es, entry{p.Host, p.Backend, 0, 0, nil, 0})
	}
	return files.File{Path: filepath.Join(l.Maps(), passthroughFile), Data: mapData(es)}
}

// httpsBind is the https frontend's address: its own, or the local socket
// the passthrough frontend forwards to, with the client's address in the
// PROXY protocol.
func httpsBind(fs []model.Frontend, f model.Frontend, g *model.Global, l files.Layout) string {
	if hasFrontend(fs, model.FrontendPassthrough) {
		return quoteWord("unix@"+httpsSocket(l)) + " mode 600 accept-proxy"
	}
	return clientBind(g, f)
}

// passthroughSections are the TCP frontend on the https address, which
// reads the SNI of the TLS hello and picks the passthrough host's backend,
// or the https frontend; and those backends.
func passthroughSections(c *cfg, m *model.Model, l files.Layout) {
	for _, f := range m.Frontends {
		if f.Kind != model.FrontendPassthrough {
			continue
		}
		c.section("frontend passthrough from tcp")
		c.line("bind", clientBind(&m.Global, f))
		tcpLog(c, &m.Global)
		c.line("tcp-request inspect-delay 5s")
		// Before accept, which ends the rules; the condition waits for
		// the whole hello.
		c.line("tcp-request content set-var(txn.passthrough) req.ssl_sni,lower,map_str(" + quoteArg(filepath.Join(l.Maps(), passthroughFile)) + ") if { req.ssl_hello_type 1 }")
		c.line("tcp-request content accept if { req.ssl_hello_type 1 }")
		c.line("use_backend %[var(txn.passthrough)] if { var(txn.passthrough) -m found }")
		c.line("default_backend", httpsLocal)
		c.section("backend " + httpsLocal + " from tcp")
		c.line("server https", quoteWord("unix@"+httpsSocket(l)), "send-proxy-v2")
		// Their server options stay those passthrough always had: none.
		for _, p := range m.Passthrough {
			tcpBackend(c, m, p.Backend, false)
		}
	}
}

// bitWord is a boolean as the 0 or 1 of a sample comparison.
func bitWord(b bool) string {
	if b {
		return "1"
	}
	return "0"
}
