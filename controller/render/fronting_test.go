package render

import (
	"testing"

	"github.com/external-haproxy/kit/controller/files"
	"github.com/external-haproxy/kit/controller/model"
)

// TestFrontingProxySnippets: the fronting-proxy frontend sends on to the
// https frontend, or by X-Forwarded-Proto to the http one, through the
// plain socket binds of those two; nothing of it without the frontend.
func TestFrontingProxySnippets(t *testing.T) {
	l := files.DefaultLayout("")
	fs := []model.Frontend{{Kind: model.FrontendHTTP, Port: 80}, {Kind: model.FrontendHTTPS, Port: 443}, {Kind: model.FrontendFronting, IP: "10.0.0.1", Port: 8000}}
	binds := []string{"bind 'unix@/var/run/haproxy/fronting-http.sock' mode 600 accept-proxy", "bind 'unix@/var/run/haproxy/fronting-https.sock' mode 600 accept-proxy",
		"server http 'unix@/var/run/haproxy/fronting-http.sock' send-proxy-v2", "server https 'unix@/var/run/haproxy/fronting-https.sock' send-proxy-v2"}
	runSnippets(t, model.Global{HTTPSPort: 443}, []snippet{
		{name: "by X-Forwarded-Proto", set: func(g *model.Global) { g.UseForwardedProto = true }, want: append([]string{"frontend fronting-proxy", "bind 10.0.0.1:8000",
			"use_backend _fronting_https if { req.hdr(x-forwarded-proto),lower -m str https }", "default_backend _fronting_http"}, binds...)},
		{name: "always https", want: append([]string{"default_backend _fronting_https"}, binds...), absent: []string{"use_backend _fronting"}},
		{name: "behind a PROXY protocol balancer", set: func(g *model.Global) { g.UseProxyProtocol = true }, want: []string{"bind 10.0.0.1:8000 accept-proxy"}},
	}, func(g *model.Global) []byte { return frontends(fs, g, policies{}, l) })
	runSnippets(t, model.Global{HTTPSPort: 443}, []snippet{
		{name: "no fronting proxy", absent: []string{"fronting"}},
	}, func(g *model.Global) []byte { return frontends(fs[:2], g, policies{}, l) })
}
