package render

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/external-haproxy/kit/controller/files"
	"github.com/external-haproxy/kit/controller/model"
)

func TestDNSSnippets(t *testing.T) {
	dns := model.DNS{PayloadSize: 8192, HoldValid: 1000, TimeoutRetry: 1000,
		Resolvers: []model.Resolver{{Name: "kube", Nameservers: []netip.AddrPort{netip.MustParseAddrPort("10.0.0.10:53"), netip.MustParseAddrPort("[fd00::a]:5353")}}}}
	runSnippets(t, model.Global{}, []snippet{
		{name: "no resolvers", absent: []string{"resolvers", "nameserver"}},
		{name: "resolvers", set: func(g *model.Global) { g.DNS = dns }, want: []string{"resolvers kube",
			"nameserver ns1 10.0.0.10:53", "nameserver ns2 [fd00::a]:5353", "accepted_payload_size 8192", "timeout retry 1s", "hold valid 1s"},
			absent: []string{"hold obsolete"}},
		{name: "hold obsolete", set: func(g *model.Global) { g.DNS = dns; g.DNS.HoldObsolete = 30000 }, want: []string{"hold obsolete 30s"}},
	}, func(g *model.Global) []byte { return global(g, files.DefaultLayout("")) })
	be := []model.Backend{{Name: "ns_web_80", Service: model.Ref{Kind: "Service", Namespace: "ns", Name: "web"},
		DNS: &model.Discovery{Resolver: "kube", Name: "web.ns.svc.cluster.local", Port: 8080, Slots: 32}}}
	runSnippets(t, model.Global{}, []snippet{
		{name: "server template", want: []string{"server-template srv 32 web.ns.svc.cluster.local:8080 resolvers kube init-addr none"},
			absent: []string{"    server "}},
	}, func(g *model.Global) []byte { return backends(g, be) })
}

// TestDNSPassthroughBackend: an ssl-passthrough backend of use-resolver
// resolves its servers too.
func TestDNSPassthroughBackend(t *testing.T) {
	m := &model.Model{Backends: []model.Backend{{Name: "ns_p_443", Policy: model.BackendPolicy{TCP: true},
		DNS: &model.Discovery{Resolver: "kube", Name: "p.ns.svc.cluster.local", Port: 8443, Slots: 32}}}}
	var c cfg
	tcpBackend(&c, m, "ns_p_443", true)
	if got := string(c.bytes()); !strings.Contains(got, "\n    server-template srv 32 p.ns.svc.cluster.local:8443 resolvers kube init-addr none\n") {
		t.Errorf("passthrough backend:\n%s", got)
	}
}
