package render

import (
	"testing"

	"github.com/external-haproxy/kit/controller/files"
	"github.com/external-haproxy/kit/controller/model"
)

func TestHTTPSFrontendSnippets(t *testing.T) {
	base := model.Global{ForwardFor: "ignore"}
	https := []model.Frontend{{Kind: model.FrontendHTTPS, Port: 443}}
	runSnippets(t, base, []snippet{
		{name: "scheme", want: []string{"http-request set-header X-Forwarded-Proto https"}},
	}, func(g *model.Global) []byte { return frontends(https, g, policies{}, files.DefaultLayout("")) })
}

// TestBindSnippets: bind-http's addresses in one bind line, as haproxy
// takes them, with accept-proxy after the last.
func TestBindSnippets(t *testing.T) {
	fs := []model.Frontend{{Kind: model.FrontendHTTP, IP: "127.0.0.1", Port: 80, Also: []model.Addr{{IP: "::", Port: 80}, {Port: 8080}}}}
	runSnippets(t, model.Global{ForwardFor: "ignore", HTTPSPort: 443}, []snippet{
		{name: "addresses", want: []string{"bind 127.0.0.1:80,[::]:80,:8080"}},
		{name: "with the PROXY protocol", set: func(g *model.Global) { g.UseProxyProtocol = true }, want: []string{"bind 127.0.0.1:80,[::]:80,:8080 accept-proxy"}},
	}, func(g *model.Global) []byte { return frontends(fs, g, policies{}, files.DefaultLayout("")) })
}

func TestHTTPFrontendSnippets(t *testing.T) {
	base := model.Global{ForwardFor: "ignore", HTTPSPort: 443, SSLRedirectCode: 302, NoTLSRedirect: []string{"/.well-known/acme-challenge"}}
	http := []model.Frontend{{Kind: model.FrontendHTTP, IP: "::1", Port: 8080}}
	runSnippets(t, base, []snippet{
		{name: "bind ipv6", want: []string{"bind [::1]:8080"}},
		{name: "use-proxy-protocol", set: func(g *model.Global) { g.UseProxyProtocol = true }, want: []string{"bind [::1]:8080 accept-proxy"}},
		{name: "https redirect", want: []string{
			"acl no_tls_redirect path_beg '/.well-known/acme-challenge'",
			"http-request redirect location https://%[var(txn.host)]%[capture.req.uri] code 302 if { var(txn.route),field(3,@) -m str redirect } !no_tls_redirect",
		}},
		{name: "https redirect to another port, everywhere", set: func(g *model.Global) { g.HTTPSPort, g.SSLRedirectCode, g.NoTLSRedirect = 8443, 308, nil },
			want:   []string{"http-request redirect location https://%[var(txn.host)]:8443%[capture.req.uri] code 308 if { var(txn.route),field(3,@) -m str redirect }"},
			absent: []string{"no_tls_redirect"}},
		{name: "scheme", want: []string{"http-request set-header X-Forwarded-Proto http"}},
		// Only "add" replaces what the client sent; the others keep it.
		{name: "forwardfor add", set: func(g *model.Global) { g.ForwardFor = "add" },
			want: []string{"http-request del-header X-Forwarded-For"}},
		{name: "forwardfor ifmissing", set: func(g *model.Global) { g.ForwardFor = "ifmissing" },
			absent: []string{"http-request del-header X-Forwarded-For"}},
		{name: "forwardfor ignore", absent: []string{"http-request del-header X-Forwarded-For"}},
		{name: "httplog", set: func(g *model.Global) { g.SyslogEndpoint = "stdout" },
			want: []string{"option httplog"}},
		{name: "no httplog", absent: []string{"option httplog"}},
		{name: "host checks", want: []string{
			"acl host_absent req.hdr_cnt(host) eq 0",
			"acl host_valid req.hdr(host),lower -m reg " + quoteWord(hostHeaderRegex),
			"http-request deny deny_status 400 if { req.hdr_cnt(host) gt 1 } || host_absent !{ req.ver 1.0 } || !host_absent !host_valid || !{ path_beg / }",
			"http-request set-var(txn.host) req.hdr(host),lower,regsub(:[0-9]+$,),regsub([.]$,)",
			"http-request deny deny_status 400 if { var(txn.host),length gt 253 }",
			"http-request set-var(txn.wildcard) var(txn.host),regsub(^[a-z0-9-]+[.],*.)",
			// The lookup keys.
			"http-request set-var(txn.path) path",
			"http-request set-var(txn.hostpath) var(txn.host),concat(,txn.path,)",
			"http-request set-var(txn.wildpath) var(txn.wildcard),concat(,txn.path,)",
		}},
		// Exact host, then wildcard, then no host; exact, prefix, regex in each.
		{name: "lookups", want: []string{
			`http-request set-var(txn.route) var(txn.hostpath),map_str('"/etc/haproxy/maps/http-exact.map"')`,
			`http-request set-var(txn.route) var(txn.hostpath),map_beg('"/etc/haproxy/maps/http-prefix.map"') if !{ var(txn.route) -m found }`,
			`http-request set-var(txn.route) var(txn.wildpath),map_reg('"/etc/haproxy/maps/http-regex.map"') if !{ var(txn.route) -m found }`,
			`http-request set-var(txn.route) var(txn.path),map_reg('"/etc/haproxy/maps/http-regex-any.map"') if !{ var(txn.route) -m found }`,
			// The route's backend and policy.
			"http-request set-var(txn.backend) var(txn.route),field(1,@)",
			"http-request set-var(txn.policy) var(txn.route),field(2,@)",
			"use_backend %[var(txn.backend)] if { var(txn.backend) -m found }",
			"default_backend _default_backend",
		}},
	}, func(g *model.Global) []byte { return frontends(http, g, policies{}, files.DefaultLayout("")) })
}

func TestProbeFrontendSnippets(t *testing.T) {
	probes := []model.Frontend{{Kind: model.FrontendHealthz, Port: 10253}, {Kind: model.FrontendStats, IP: "127.0.0.1", Port: 1936}}
	runSnippets(t, model.Global{}, []snippet{
		{name: "healthz and stats", want: []string{
			"frontend healthz", "bind :10253", "monitor-uri /healthz",
			"frontend stats", "bind 127.0.0.1:1936", "stats enable", "stats uri /",
		}, absent: []string{"no log", "acl"}},
		{name: "probes not logged", set: func(g *model.Global) { g.SyslogEndpoint = "stdout" },
			want: []string{"no log"}},
	}, func(g *model.Global) []byte { return frontends(probes, g, policies{}, files.DefaultLayout("")) })
}
