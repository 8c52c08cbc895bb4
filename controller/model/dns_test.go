package model

import (
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestParseResolvers(t *testing.T) {
	ap := netip.MustParseAddrPort
	for _, c := range []struct {
		in   string
		want []Resolver
		ok   bool
	}{
		{"", nil, true},
		{"kube=10.0.0.10", []Resolver{{"kube", []netip.AddrPort{ap("10.0.0.10:53")}}}, true},
		{"a=10.0.0.1:5353, 10.0.0.2\n\nb.x=[fd00::1]:53", []Resolver{
			{"a", []netip.AddrPort{ap("10.0.0.1:5353"), ap("10.0.0.2:53")}}, {"b.x", []netip.AddrPort{ap("[fd00::1]:53")}}}, true},
		{"kube", nil, false},                   // no name servers
		{"kube=", nil, false},                  // empty name server
		{"kube=dns.local:53", nil, false},      // names would need resolving themselves
		{"kube=10.0.0.1:0", nil, false},        // no port 0
		{"kube=fe80::1%eth0", nil, false},      // zones are not haproxy's syntax
		{"a=10.0.0.1\na=10.0.0.2", nil, false}, // one name twice
		{"bad name=10.0.0.1", nil, false},      // space in the name
		{"-a=10.0.0.1", nil, false},            // starts with a dash
		{"a:b=10.0.0.1", nil, false},           // ':' reads as a port
		{" \n ", nil, false},                   // blanks are no list
		{"a=1.1.1.1,2.2.2.2,3.3.3.3,4.4.4.4,5.5.5.5,6.6.6.6,7.7.7.7,8.8.8.8,9.9.9.9", nil, false}, // over 8
	} {
		got, ok := parseResolvers(c.in)
		if ok != c.ok || ok && !reflect.DeepEqual(got, c.want) {
			t.Errorf("parseResolvers(%q) = %v, %v; want %v, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

// dnsSnapshot is endpointsSnapshot with the resolver kube declared and the
// Ingress's backend using resolver.
func dnsSnapshot(resolver string, addrs ...string) *Snapshot {
	s := endpointsSnapshot(addrs...)
	s.ConfigMap = map[string]string{"dns-resolvers": "kube=10.0.0.10", "dns-cluster-domain": "example.internal"}
	s.Ingresses[0].Annotations = map[string]string{"haproxy-ingress.github.io/use-resolver": resolver}
	return s
}

// withoutOptions leaves out the problems of the controller's options (no
// default certificate).
func withoutOptions(ps []Problem) []Problem {
	return slices.DeleteFunc(ps, func(p Problem) bool { return p.Object == optionsRef })
}

func backendNamed(m *Model, name string) *Backend {
	i := slices.IndexFunc(m.Backends, func(b Backend) bool { return b.Name == name })
	if i < 0 {
		return nil
	}
	return &m.Backends[i]
}

// TestUseResolver: the backend's servers are a template on the Service's
// name, at the endpoints' port, or the numeric targetPort.
func TestUseResolver(t *testing.T) {
	m, problems := Build(dnsSnapshot("kube", "10.0.0.1", "10.0.0.2"), Options{})
	if problems = withoutOptions(problems); len(problems) > 0 {
		t.Fatalf("problems: %v", problems)
	}
	be := backendNamed(m, "ns_s_80")
	want := &Discovery{Resolver: "kube", Name: "s.ns.svc.example.internal", Port: 8080, Slots: 32}
	if be == nil || !reflect.DeepEqual(be.DNS, want) || be.Servers != nil {
		t.Fatalf("backend %+v, want DNS %+v and no servers", be, want)
	}
	s := dnsSnapshot("kube")
	s.EndpointSlices = nil
	s.Services[0].Spec.Ports[0].TargetPort = intstr.FromInt(9090)
	m, _ = Build(s, Options{})
	if be := backendNamed(m, "ns_s_80"); be.DNS == nil || be.DNS.Port != 9090 {
		t.Errorf("without endpoints: %+v, want port 9090 of the targetPort", be.DNS)
	}
}

// TestUseResolverUnknown: a resolver dns-resolvers lacks is reported on
// the annotation, and the endpoints serve.
func TestUseResolverUnknown(t *testing.T) {
	m, problems := Build(dnsSnapshot("other", "10.0.0.1"), Options{})
	problems = withoutOptions(problems)
	if be := backendNamed(m, "ns_s_80"); be.DNS != nil || enabled(be.Servers) != 1 {
		t.Errorf("backend %+v, want its endpoint", be)
	}
	if len(problems) != 1 || problems[0].Field != "annotation haproxy-ingress.github.io/use-resolver" || !strings.Contains(problems[0].Message, `"other" is not in dns-resolvers`) {
		t.Errorf("problems %v, want one on the use-resolver annotation", problems)
	}
}

// TestUseResolverDiff: DNS finds the servers, so endpoint changes need
// nothing from the controller; only outgrowing the server template does.
func TestUseResolverDiff(t *testing.T) {
	build := func(addrs ...string) *Model {
		m, _ := Build(dnsSnapshot("kube", addrs...), Options{})
		return m
	}
	running := build("10.0.0.1")
	if c := Diff(running, build("10.0.0.2", "10.0.0.3")); c.Reload || len(c.Slots) > 0 || len(c.Before) > 0 {
		t.Errorf("endpoint change: %+v, want nothing to do", c)
	}
	many := make([]string, 31)
	for i := range many {
		many[i] = netip.AddrFrom4([4]byte{10, 0, 1, byte(i + 1)}).String()
	}
	if c := Diff(running, build(many...)); !c.Reload {
		t.Errorf("31 endpoints and 2 free slots outgrow 32 servers: %+v, want a reload", c)
	}
}
