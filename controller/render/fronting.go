package render

import (
	"path/filepath"
	"slices"

	"github.com/external-haproxy/kit/controller/files"
	"github.com/external-haproxy/kit/controller/model"
)

// frontingSocket is where the http or https frontend takes the requests of
// the fronting-proxy frontend: plain http with the client's address in the
// PROXY protocol.
func frontingSocket(l files.Layout, scheme string) string {
	return filepath.Join(l.Run, "fronting-"+scheme+".sock")
}

// frontingBackend is the fronting-proxy frontend's way to the frontend of
// scheme; no Service backend starts with "_".
func frontingBackend(scheme string) string { return "_fronting_" + scheme }

// frontingBind is the extra bind of the http or https frontend that the
// fronting-proxy frontend, if any, sends to: without TLS, so that https
// rules see a request whose TLS a load balancer ended.
func frontingBind(c *cfg, fs []model.Frontend, l files.Layout, scheme string) {
	if hasFrontend(fs, model.FrontendFronting) {
		c.line("bind", quoteWord("unix@"+frontingSocket(l, scheme)), "mode 600 accept-proxy")
	}
}

// hasFrontend tells whether fs has a frontend of kind.
func hasFrontend(fs []model.Frontend, kind model.FrontendKind) bool {
	return slices.ContainsFunc(fs, func(f model.Frontend) bool { return f.Kind == kind })
}

// frontingFrontend takes plain http from the load balancer in front and
// hands each request to the https frontend, or, with use-forwarded-proto,
// to the http one when X-Forwarded-Proto is not https: so a request keeps
// the rules of the scheme the client used (ssl-redirect, HSTS), per request
// also on connections the balancer shares between clients.
func frontingFrontend(c *cfg, g *model.Global, f model.Frontend, l files.Layout) {
	c.line("bind", clientBind(g, f))
	// The frontend the request goes on to logs it.
	noLog(c, g)
	if g.UseForwardedProto {
		c.line("use_backend", frontingBackend("https"), "if { req.hdr(x-forwarded-proto),lower -m str https }")
		c.line("default_backend", frontingBackend("http"))
	} else {
		c.line("default_backend", frontingBackend("https"))
	}
	for _, scheme := range []string{"http", "https"} {
		c.section("backend", frontingBackend(scheme))
		c.line("server", scheme, quoteWord("unix@"+frontingSocket(l, scheme)), "send-proxy-v2")
	}
}
