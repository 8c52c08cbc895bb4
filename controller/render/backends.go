package render

import (
	"strings"

	"github.com/external-haproxy/kit/controller/model"
)

// backends is the redirect backend and one backend section per backend
// of the model.
func backends(g *model.Global, bes []model.Backend) []byte {
	var c cfg
	c.Grow(len(bes) * 128)
	redirectBackend(&c, g)
	for i := range bes {
		backend(&c, &bes[i])
	}
	return c.bytes()
}

// redirectBackend sends http requests of ssl-redirect routes to https.
func redirectBackend(c *cfg, g *model.Global) {
	c.section("backend", model.RedirectBackendName)
	port := ""
	if g.HTTPSPort != 443 {
		port = ":" + itoa(g.HTTPSPort)
	}
	c.line("http-request redirect location https://%[var(txn.host)]"+port+"%[capture.req.uri] code", itoa(g.SSLRedirectCode))
}

func backend(c *cfg, be *model.Backend) {
	c.section("backend", be.Name)
	if be.Name == model.DefaultBackendName && be.Service.Name == "" {
		c.line("http-request return status 404")
		return
	}
	for _, s := range be.Servers {
		server(c, s)
	}
}

// server writes a slot's line piece by piece: backends can hold tens of
// thousands of them.
func server(c *cfg, s model.Server) {
	c.WriteString("    server ")
	c.WriteString(s.Name)
	c.WriteByte(' ')
	if strings.IndexByte(s.Addr, ':') >= 0 {
		c.WriteString("[" + s.Addr + "]")
	} else {
		c.WriteString(s.Addr)
	}
	c.WriteByte(':')
	c.WriteString(itoa(s.Port))
	if !s.Enabled {
		c.WriteString(" disabled")
	}
	c.WriteByte('\n')
}
