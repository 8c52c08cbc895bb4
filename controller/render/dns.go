package render

import (
	"github.com/external-haproxy/kit/controller/model"
)

// resolvers writes a resolvers section per resolver of dns-resolvers.
func resolvers(c *cfg, d *model.DNS) {
	for _, r := range d.Resolvers {
		c.section("resolvers", r.Name)
		for i, ns := range r.Nameservers {
			c.line("nameserver", "ns"+itoa(i+1), ns.String())
		}
		c.line("accepted_payload_size", itoa(d.PayloadSize))
		c.line("timeout retry", d.TimeoutRetry.String())
		c.line("hold valid", d.HoldValid.String())
		if d.HoldObsolete > 0 {
			c.line("hold obsolete", d.HoldObsolete.String())
		}
	}
}

// serverTemplate is the servers of a backend haproxy resolves itself:
// init-addr none starts them without an address until DNS answers, so a
// name that does not resolve yet never fails the load.
func serverTemplate(c *cfg, d *model.Discovery) {
	c.line("server-template srv", itoa(d.Slots), d.Name+":"+itoa(d.Port), "resolvers", d.Resolver, "init-addr none")
}
