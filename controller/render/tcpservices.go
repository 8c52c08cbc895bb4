package render

import (
	"cmp"
	"path/filepath"
	"slices"

	"github.com/external-haproxy/kit/controller/files"
	"github.com/external-haproxy/kit/controller/model"
)

// TCPFile holds the TCP sections, of ssl-passthrough and of
// --tcp-services-configmap, after every other section: its defaults
// section is the last one, which sections without "from" would inherit.
const TCPFile = "40-tcp.cfg"

// tcpFiles are the TCP sections and the files they read, if the model has
// any.
func tcpFiles(m *model.Model, l files.Layout) files.Set {
	passthrough := hasFrontend(m.Frontends, model.FrontendPassthrough)
	if !passthrough && len(m.TCPServices) == 0 {
		return nil
	}
	var c cfg
	tcpDefaults(&c, &m.Global)
	var set files.Set
	if passthrough {
		passthroughSections(&c, m, l)
		set = append(set, passthroughMap(m, l))
	}
	for i := range m.TCPServices {
		set = append(set, tcpService(&c, m, &m.TCPServices[i], l)...)
	}
	return append(set, files.File{Path: filepath.Join(l.Etc, TCPFile), Data: c.bytes()})
}

// tcpDefaults are the defaults of the TCP sections: the HTTP options of
// the other defaults would be warnings there.
func tcpDefaults(c *cfg, g *model.Global) {
	c.section("defaults tcp")
	c.line("mode tcp")
	c.line("balance", g.BalanceAlgorithm)
	if g.SyslogEndpoint != "" {
		c.line("log global")
	}
	for _, t := range []struct {
		name string
		d    model.Duration
	}{{"client", g.TimeoutClient}, {"client-fin", g.TimeoutClientFin}, {"connect", g.TimeoutConnect},
		{"queue", g.TimeoutQueue}, {"server", g.TimeoutServer}, {"server-fin", g.TimeoutServerFin}, {"tunnel", g.TimeoutTunnel}} {
		c.line("timeout", t.name, t.d.String())
	}
}

// tcpBackend is the section of the TCP backend called name, with the
// default-server line of its server options when withDefaults.
func tcpBackend(c *cfg, m *model.Model, name string, withDefaults bool) {
	i, found := slices.BinarySearchFunc(m.Backends, name, func(be model.Backend, name string) int { return cmp.Compare(be.Name, name) })
	if !found {
		panic("model without its TCP backend " + name)
	}
	be := &m.Backends[i]
	c.section("backend " + be.Name + " from tcp")
	backendPolicy(c, &m.Global, &be.Policy)
	if withDefaults {
		serverDefaults(c, be)
	}
	servers(c, be)
}

// tcpService is the frontend of a TCP service and its backend, and returns
// the certificate files its bind reads.
func tcpService(c *cfg, m *model.Model, s *model.TCPService, l files.Layout) files.Set {
	name := "tcp_" + itoa(s.Addr.Port)
	c.section("frontend " + name + " from tcp")
	bind := []string{"bind", addr(s.Addr.IP, s.Addr.Port)}
	if s.AcceptProxy {
		bind = append(bind, "accept-proxy")
	}
	var set files.Set
	if s.Cert != nil {
		// Files of their own, named by the port: the https frontend's
		// crt-list must not offer this certificate.
		file := func(kind string, data []byte, private bool) string {
			path := filepath.Join(l.Certs(), "tcp", name+"-"+kind+".pem")
			set = append(set, files.File{Path: path, Data: data, Private: private})
			return quoteWord(path)
		}
		bind = append(bind, "ssl crt", file("crt", s.Cert.PEM, true))
		if ca := s.ClientCA; ca != nil {
			bind = append(bind, "ca-file", file("ca", ca.PEM, false), "verify required")
			if ca.CRL != nil {
				bind = append(bind, "crl-file", file("crl", ca.CRL, false))
			}
		}
	}
	c.line(bind...)
	switch g := &m.Global; {
	case g.SyslogEndpoint == "":
	case g.TCPLogFormat == "":
		c.line("option tcplog")
	default:
		c.line("log-format", quoteWord(g.TCPLogFormat))
	}
	c.line("default_backend", s.Backend)
	tcpBackend(c, m, s.Backend, true)
	return set
}
