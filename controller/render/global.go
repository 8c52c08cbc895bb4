package render

import (
	"github.com/external-haproxy/kit/controller/files"
	"github.com/external-haproxy/kit/controller/model"
)

// global is the global section: process, sockets, limits and logging.
func global(g *model.Global, l files.Layout) []byte {
	var c cfg
	c.section("global")
	c.line("master-worker")
	masterWorker(&c, g, l)
	// expose-fd listeners lets a reload started through the master hand the
	// listening sockets over without dropping connections.
	c.line("stats socket", quoteWord(l.AdminSocket()), "mode 600 level admin expose-fd listeners")
	// crt-list lines cannot quote a path: they name bundles relative to this.
	c.line("crt-base", quoteWord(l.Certs()))
	// crt-list ca-file and crl-file, and the CA bundles of the backends
	// (backendTLSDir), are relative to it.
	c.line("ca-base", quoteWord(l.Certs()))
	c.line("hard-stop-after", g.TimeoutStop.String())
	c.line("maxconn", itoa(g.MaxConnections))
	if g.NbThread > 0 {
		c.line("nbthread", itoa(g.NbThread))
	}
	switch g.SyslogEndpoint {
	case "":
	case "stdout":
		c.line("log stdout format raw local0")
	default:
		c.line("log", g.SyslogEndpoint, "format", g.SyslogFormat, "local0")
	}
	if g.SyslogTag != "" {
		c.line("log-tag", g.SyslogTag)
	}
	pasteSnippet(&c, g.ConfigGlobal)
	resolvers(&c, &g.DNS)
	return c.bytes()
}
