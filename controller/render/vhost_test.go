package render

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/external-haproxy/kit/controller/files"
	"github.com/external-haproxy/kit/controller/model"
)

// TestTLSHostLines: a host with options of its own leaves its
// certificate's line for a line with the options; hosts sharing a
// certificate and options share a line; CA and CRL files are written.
func TestTLSHostLines(t *testing.T) {
	l := files.DefaultLayout("")
	tlsA := model.HostTLS{ClientCA: "ns_ca", HasCRL: true, Ciphers: "AES128-GCM-SHA256", CipherSuites: "TLS_AES_128_GCM_SHA256",
		Options: model.SSLOptions{MinVer: "TLSv1.2", MaxVer: "TLSv1.3", NoCANames: true}}
	m := &model.Model{
		DefaultCert: &model.Cert{Name: "default", PEM: []byte("d")},
		Certs: []model.Cert{{Name: "ns_a", PEM: []byte("a"), Hosts: []string{"a.test", "b.test"}},
			{Name: "ns_c", PEM: []byte("c"), Hosts: []string{"c.test"}}},
		TLSHosts: []model.TLSHost{{Host: "a.test", Cert: "ns_a", TLS: tlsA}, {Host: "c.test", Cert: "ns_c", TLS: model.HostTLS{ALPN: "http/1.1"}},
			{Host: "d.test", Cert: "default", TLS: model.HostTLS{ALPN: "http/1.1"}}, {Host: "e.test", Cert: "default", TLS: model.HostTLS{ALPN: "http/1.1"}}},
		ClientCAs: []model.ClientCA{{Name: "ns_ca", PEM: []byte("ca"), CRL: []byte("crl")}},
	}
	got := map[string]string{}
	for _, f := range certs(m, l) {
		got[strings.TrimPrefix(f.Path, l.Certs()+"/")] = string(f.Data)
	}
	checkLines(t, []byte(got[CrtListFile]), []string{
		"ns_a.pem b.test",
		"ns_a.pem [ca-file ca/ns_ca.pem verify optional crl-file crl/ns_ca.pem ciphers AES128-GCM-SHA256 ciphersuites TLS_AES_128_GCM_SHA256 ssl-min-ver TLSv1.2 ssl-max-ver TLSv1.3 no-ca-names] a.test",
		"ns_c.pem [alpn http/1.1] c.test",
		"default.pem [alpn http/1.1] d.test e.test",
	}, []string{"ns_c.pem c.test", "ns_a.pem a.test"})
	if got[filepath.Join(caDir, "ns_ca.pem")] != "ca" || got[filepath.Join(crlDir, "ns_ca.pem")] != "crl" {
		t.Errorf("CA files: %q", got)
	}
}

func TestClientCertSnippets(t *testing.T) {
	for _, tc := range []struct {
		name         string
		check        model.ClientCertCheck
		want, absent []string
	}{
		{"required", model.ClientCertCheck{Required: true, Verified: true}, []string{
			"http-request deny deny_status 496 content-type text/plain string 'client certificate required' if pol_clientcert_0 !{ ssl_c_used }",
			"http-request deny deny_status 421 if pol_clientcert_0 { ssl_c_used } !{ ssl_fc_sni,lower,strcmp(txn.host) eq 0 }",
			"http-request deny deny_status 495 content-type text/plain string 'invalid client certificate' if pol_clientcert_0 { ssl_c_used } !{ ssl_c_verify 0 }",
			"http-request del-header X-SSL-Client-DN if pol_clientcert_0",
			"http-request set-header X-SSL-Client-SHA1 %[ssl_c_sha1,hex] if pol_clientcert_0 { ssl_c_used }",
			"http-request set-header X-SSL-Client-DN %[ssl_c_s_dn] if pol_clientcert_0 { ssl_c_used }",
			"http-request set-header X-SSL-Client-CN %[ssl_c_s_dn(cn)] if pol_clientcert_0 { ssl_c_used }",
		}, nil},
		{"optional_no_ca", model.ClientCertCheck{}, []string{
			"http-request set-header X-SSL-Client-CN %[ssl_c_s_dn(cn)] if pol_clientcert_0 { ssl_c_used }",
		}, []string{"http-request deny deny_status 496", "http-request deny deny_status 495"}},
		{"error page", model.ClientCertCheck{Required: true, Verified: true, ErrorPage: "https://e.test/100%"}, []string{
			"http-request redirect location 'https://e.test/100%%' code 302 if pol_clientcert_0 !{ ssl_c_used }",
			"http-request redirect location 'https://e.test/100%%' code 302 if pol_clientcert_0 { ssl_c_used } !{ ssl_c_verify 0 }",
		}, []string{"http-request deny deny_status 496", "http-request deny deny_status 495"}},
		{"refuse", model.ClientCertCheck{Refuse: true}, []string{
			"http-request deny deny_status 496 content-type text/plain string 'client certificate required' if pol_clientcert_0",
		}, []string{"http-request set-header X-SSL-Client", "http-request deny deny_status 421"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			check := tc.check
			checkLines(t, policyFrontends(model.PathPolicy{ClientCert: &check}), tc.want, tc.absent)
		})
	}
}

func TestClientCertHeaderSnippet(t *testing.T) {
	g := model.Global{}
	be := func(on bool) []model.Backend {
		return []model.Backend{{Name: "ns_web_80", Service: model.Ref{Name: "web"}, Policy: model.BackendPolicy{ClientCertHeader: on}}}
	}
	lines := []string{"http-request del-header X-SSL-Client-Cert", "http-request set-header X-SSL-Client-Cert %[ssl_c_der,base64] if { ssl_c_used }"}
	checkLines(t, backends(&g, be(true)), lines, nil)
	checkLines(t, backends(&g, be(false)), nil, lines)
}

// TestAliasRegexMap: the alias regexes map to their hosts in model order,
// looked up after the host and its wildcard, before rules without host.
func TestAliasRegexMap(t *testing.T) {
	l := files.DefaultLayout("")
	m := &model.Model{Frontends: []model.Frontend{{Kind: model.FrontendHTTP, Port: 80}},
		AliasRegexes: []model.AliasRegex{{Regex: `^b[0-9]+\.test$`, Host: "b.test"}, {Regex: `^a`, Host: "a.test"}}}
	var data string
	for _, f := range routeMaps(m, l, policyIDs(m.Routes)) {
		if filepath.Base(f.Path) == aliasRegexFile {
			data = string(f.Data)
		}
	}
	if want := "^b[0-9]+\\.test$ b.test\n^a a.test\n"; data != want {
		t.Errorf("alias map %q, want %q", data, want)
	}
	text := string(frontends(m.Frontends, &model.Global{}, policies{}, l))
	wild := strings.Index(text, "var(txn.wildpath),map_reg(")
	alias := strings.Index(text, `http-request set-var(txn.aliaspath) var(txn.host),map_reg('"/etc/haproxy/maps/host-alias-regex.map"'),concat(,txn.path,) if !{ var(txn.route) -m found }`)
	lookup := strings.Index(text, `http-request set-var(txn.route) var(txn.aliaspath),map_str(`)
	any := strings.Index(text, "var(txn.path),map_str(")
	if wild < 0 || !(wild < alias && alias < lookup && lookup < any) {
		t.Errorf("alias lookup not between the wildcard and the hostless lookups:\n%s", text)
	}
}

// TestPassthroughSnippets: with a passthrough host the https frontend
// listens on a local socket behind the TCP frontend, which picks by SNI;
// the TCP backend leaves the HTTP backends' file.
func TestPassthroughSnippets(t *testing.T) {
	l := files.DefaultLayout("")
	g := model.Global{BalanceAlgorithm: "roundrobin", TimeoutClient: 1000}
	m := &model.Model{Global: g,
		Frontends:   []model.Frontend{{Kind: model.FrontendHTTPS, Port: 443}, {Kind: model.FrontendPassthrough, Port: 443}},
		Passthrough: []model.PassthroughHost{{Host: "p.test", Backend: "ns_tls_443"}},
		Backends: []model.Backend{{Name: "ns_tls_443", Service: model.Ref{Name: "tls"}, Policy: model.BackendPolicy{Balance: "roundrobin", TCP: true},
			Servers: []model.Server{{Name: "srv001", Addr: "10.0.0.1", Port: 8443, Enabled: true}}}},
	}
	got := map[string]string{}
	for _, f := range tcpFiles(m, l) {
		got[filepath.Base(f.Path)] = string(f.Data)
	}
	checkLines(t, []byte(got[TCPFile]), []string{
		"defaults tcp", "mode tcp", "timeout client 1s",
		"frontend passthrough from tcp", "bind :443",
		`tcp-request content set-var(txn.passthrough) req.ssl_sni,lower,map_str('"/etc/haproxy/maps/passthrough.map"') if { req.ssl_hello_type 1 }`,
		"tcp-request content accept if { req.ssl_hello_type 1 }",
		"use_backend %[var(txn.passthrough)] if { var(txn.passthrough) -m found }",
		"default_backend _https_local",
		"backend _https_local from tcp", "server https 'unix@/var/run/haproxy/https.sock' send-proxy-v2",
		"backend ns_tls_443 from tcp", "server srv001 10.0.0.1:8443",
	}, nil)
	if got[passthroughFile] != "p.test ns_tls_443\n" {
		t.Errorf("passthrough map %q", got[passthroughFile])
	}
	checkLines(t, frontends(m.Frontends, &g, policies{}, l), []string{
		"bind 'unix@/var/run/haproxy/https.sock' mode 600 accept-proxy ssl crt '/var/lib/haproxy/crt/default.pem' crt-list '/var/lib/haproxy/crt/crt-list.txt' alpn h2,http/1.1 ca-ignore-err all crt-ignore-err all",
	}, []string{"frontend passthrough"})
	checkLines(t, backends(&g, m.Backends), nil, []string{"backend ns_tls_443"})
	if tcpFiles(&model.Model{Frontends: m.Frontends[:1]}, l) != nil {
		t.Error("passthrough files without a passthrough frontend")
	}
}
