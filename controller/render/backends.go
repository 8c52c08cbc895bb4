package render

import (
	"strings"

	"github.com/external-haproxy/kit/controller/files"
	"github.com/external-haproxy/kit/controller/model"
)

// backendSections is one backend section per backend of the model.
func backendSections(g *model.Global, bes []model.Backend, l files.Layout) []byte {
	var c cfg
	c.Grow(len(bes) * 128)
	for i := range bes {
		if bes[i].Policy.TCP {
			continue // tcpFiles
		}
		backend(&c, g, &bes[i], l)
	}
	return c.bytes()
}

func backend(c *cfg, g *model.Global, be *model.Backend, l files.Layout) {
	c.section("backend", be.Name)
	if be.Name == model.DefaultBackendName && be.Service.Name == "" {
		notFound(c, g)
		return
	}
	backendPolicy(c, g, &be.Policy)
	cookie(c, g, &be.Policy.Cookie)
	serverDefaults(c, be)
	vhostBackend(c, &be.Policy)
	rateLimit(c, &be.Policy.Limit)
	pasteSnippet(c, be.Policy.Snippet.Lines)
	blueGreenSelectors(c, be, l)
	servers(c, be)
}

// servers writes a backend's server slots, or the template of servers
// haproxy resolves (use-resolver).
func servers(c *cfg, be *model.Backend) {
	if be.DNS != nil {
		serverTemplate(c, be.DNS)
	}
	for i := range be.Servers {
		server(c, &be.Policy, &be.Servers[i])
	}
}

// server writes a slot's line piece by piece: backends can hold tens of
// thousands of them.
func server(c *cfg, p *model.BackendPolicy, s *model.Server) {
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
	serverCookie(c, &p.Cookie, s)
	if s.Weighted && s.Weight != p.Server.BaseWeight() {
		// default-server has the backend's weight.
		c.WriteString(" weight ")
		c.WriteString(itoa(s.Weight))
	}
	if !s.Enabled {
		c.WriteString(" disabled")
	}
	c.WriteByte('\n')
}

// backendPolicy writes what a backend sets differently from the defaults
// section.
func backendPolicy(c *cfg, g *model.Global, p *model.BackendPolicy) {
	if p.Balance != g.BalanceAlgorithm {
		c.line("balance", p.Balance)
	}
	for _, t := range []struct {
		name     string
		own, def model.Duration
	}{
		{"connect", p.Timeouts.Connect, g.TimeoutConnect},
		{"http-request", p.Timeouts.HTTPRequest, g.TimeoutHTTPRequest},
		{"http-keep-alive", p.Timeouts.KeepAlive, g.TimeoutKeepAlive},
		{"queue", p.Timeouts.Queue, g.TimeoutQueue},
		{"server", p.Timeouts.Server, g.TimeoutServer},
		{"server-fin", p.Timeouts.ServerFin, g.TimeoutServerFin},
		{"tunnel", p.Timeouts.Tunnel, g.TimeoutTunnel},
	} {
		if t.own != t.def {
			c.line("timeout", t.name, t.own.String())
		}
	}
}
