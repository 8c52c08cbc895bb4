package render

import "github.com/external-haproxy/kit/controller/model"

// defaults is the defaults section every proxy inherits: mode, logging,
// client address forwarding, balancing and timeouts.
func defaults(g *model.Global) []byte {
	var c cfg
	c.section("defaults")
	c.line("mode http")
	if g.SyslogEndpoint != "" {
		c.line("log global")
		c.line("option dontlognull")
	}
	c.line("option http-keep-alive")
	// Closes idle keep-alive connections as soon as the stopping worker
	// answers, so old workers finish quickly after a reload (2.6+).
	c.line("option idle-close-on-response")
	switch g.ForwardFor {
	case "add":
		c.line("option forwardfor")
	case "ifmissing":
		c.line("option forwardfor if-none")
	}
	// drain-support: affinity sessions stay on their server even when
	// health checks mark it down (option persist), and a refused
	// connection goes to another server on the last retry, unless
	// drain-support-redispatch is off. Upstream redispatches without
	// drain-support too; here that stays off so that maxqueue-server
	// answers 503 to a pinned request rather than queueing it elsewhere.
	if g.DrainSupport {
		c.line("option persist")
		if g.DrainRedispatch {
			c.line("option redispatch")
		}
	}
	serverStateFromFile(&c, g)
	c.line("balance", g.BalanceAlgorithm)
	c.line("timeout client", g.TimeoutClient.String())
	c.line("timeout client-fin", g.TimeoutClientFin.String())
	c.line("timeout connect", g.TimeoutConnect.String())
	c.line("timeout http-request", g.TimeoutHTTPRequest.String())
	c.line("timeout http-keep-alive", g.TimeoutKeepAlive.String())
	c.line("timeout queue", g.TimeoutQueue.String())
	c.line("timeout server", g.TimeoutServer.String())
	c.line("timeout server-fin", g.TimeoutServerFin.String())
	c.line("timeout tunnel", g.TimeoutTunnel.String())
	pasteSnippet(&c, g.ConfigDefaults)
	return c.bytes()
}
