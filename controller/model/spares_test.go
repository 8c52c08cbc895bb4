package model

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// withApp adds Ingress <name> for host <name>.com to a new Service <name>
// with the given endpoints and Service annotations.
func withApp(s *Snapshot, name string, ann map[string]string, addrs ...string) *Snapshot {
	out := *s
	port := int32(8080)
	es := &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Name: name + "-1", Namespace: "ns", Labels: map[string]string{discoveryv1.LabelServiceName: name}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Port: &port}},
	}
	for _, a := range addrs {
		es.Endpoints = append(es.Endpoints, discoveryv1.Endpoint{Addresses: []string{a}})
	}
	out.Ingresses = append(slices.Clone(s.Ingresses), ingress(name, len(s.Ingresses), name+".com", "/", networkingv1.PathTypePrefix, name, nil))
	out.Services = append(slices.Clone(s.Services), &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", Annotations: ann},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}}})
	out.EndpointSlices = append(slices.Clone(s.EndpointSlices), es)
	return &out
}

func backendNames(m *Model) []string {
	var out []string
	for _, b := range m.Backends {
		name := b.Name
		if b.For != "" {
			name += "=" + b.For
		}
		out = append(out, name)
	}
	return out
}

func routeTo(m *Model, host string) string {
	for _, r := range m.Routes {
		if r.Host == host {
			return r.Backend
		}
	}
	return ""
}

// TestSpareBackends: a reload renders free spare backends; a new Service
// nothing annotates, with endpoints that fit, takes one without a reload
// (its routes name the spare, its endpoints fill the spare's slots) and
// keeps it across later changes until a reload gives it its own name.
func TestSpareBackends(t *testing.T) {
	opts := Options{SpareBackends: 2}
	build := func(s *Snapshot) *Model {
		m, _ := Build(s, opts)
		return m
	}
	snap := endpointsSnapshot("10.0.0.1")
	first := Diff(nil, build(snap))
	if want := []string{"_default_backend", "_spare_0001", "_spare_0002", "ns_s_80"}; !slices.Equal(backendNames(first.Next), want) {
		t.Fatalf("first configuration: backends %q, want %q", backendNames(first.Next), want)
	}
	running := first.Next

	snap = withApp(snap, "new", nil, "10.0.1.1", "10.0.1.2")
	c := Diff(running, build(snap))
	if c.Reload {
		t.Fatalf("a new plain Service reloads: %q", c.Reasons)
	}
	if want := []string{"_default_backend", "_spare_0001=ns_new_80", "_spare_0002", "ns_s_80"}; !slices.Equal(backendNames(c.Next), want) {
		t.Fatalf("backends %q, want %q", backendNames(c.Next), want)
	}
	if got := routeTo(c.Next, "new.com"); got != "_spare_0001" || !c.Routes {
		t.Fatalf("new.com routes to %q (routes changed: %v), want the spare", got, c.Routes)
	}
	wantSlots(t, "new Service in a spare", c,
		"_spare_0001/srv001 addr 10.0.1.1:8080", "_spare_0001/srv001 ready",
		"_spare_0001/srv002 addr 10.0.1.2:8080", "_spare_0001/srv002 ready")
	running = c.Next

	// A restarted controller, knowing only the spare layout, takes the
	// same model as running, so its first configuration is the same.
	if c := Diff(Resume(build(snap), running.SpareLayout()), build(snap)); c.Reload || !equal(c.Next.Backends, running.Backends) || !equal(c.Next.Routes, running.Routes) {
		t.Fatalf("resumed from %v: reload %v %q, backends %q, want %q", running.SpareLayout(), c.Reload, c.Reasons, backendNames(c.Next), backendNames(running))
	}

	// Later changes keep the spare: an endpoint change is a slot change.
	snap.EndpointSlices[len(snap.EndpointSlices)-1].Endpoints[1].Addresses = []string{"10.0.1.3"}
	c = Diff(running, build(snap))
	if c.Reload || routeTo(c.Next, "new.com") != "_spare_0001" {
		t.Fatalf("an endpoint change of the adopted Service: reload %v %q, route %q", c.Reload, c.Reasons, routeTo(c.Next, "new.com"))
	}
	wantSlots(t, "endpoint change in the spare", c,
		"_spare_0001/srv003 addr 10.0.1.3:8080", "_spare_0001/srv003 ready", "_spare_0001/srv002 drain")
	running = c.Next

	// An annotated Service has another policy than the spares: reload, and
	// the reload gives every backend its own name, with spares for twice
	// the backends added since the last reload (new and tuned).
	annotated := withApp(snap, "tuned", map[string]string{"haproxy-ingress.github.io/balance-algorithm": "leastconn"}, "10.0.2.1")
	c = Diff(running, build(annotated))
	if !c.Reload {
		t.Fatal("a Service with its own backend policy took a spare")
	}
	if want := []string{"_default_backend", "_spare_0001", "_spare_0002", "_spare_0003", "_spare_0004", "ns_new_80", "ns_s_80", "ns_tuned_80"}; !slices.Equal(backendNames(c.Next), want) {
		t.Fatalf("after the reload: backends %q, want %q", backendNames(c.Next), want)
	}
	if got := routeTo(c.Next, "new.com"); got != "ns_new_80" {
		t.Fatalf("after the reload new.com routes to %q", got)
	}

	// More new Services than free spares: reload with room for twice as
	// many (at most as many as there are backends).
	burst := snap
	for i := range 3 {
		burst = withApp(burst, fmt.Sprintf("b%d", i), nil, fmt.Sprintf("10.0.3.%d", i+1))
	}
	c = Diff(running, build(burst))
	spares := 0
	for _, name := range backendNames(c.Next) {
		if strings.HasPrefix(name, sparePrefix) {
			spares++
		}
	}
	if !c.Reload || spares != 6 {
		t.Fatalf("3 new Services, 1 free spare: reload %v, %d spares after it, want a reload and 6", c.Reload, spares)
	}

	// A Service with more endpoints than a spare has slots reloads.
	big := withApp(snap, "big", nil, "10.0.4.1", "10.0.4.2", "10.0.4.3", "10.0.4.4", "10.0.4.5", "10.0.4.6", "10.0.4.7")
	if c := Diff(running, build(big)); !c.Reload {
		t.Fatal("7 endpoints fit in a spare of 6 slots")
	}

	// The adopted Service outgrows its spare's slots: a reload in which
	// it has its own name and every spare is free.
	grown := *snap
	grown.EndpointSlices = slices.Clone(snap.EndpointSlices)
	es := grown.EndpointSlices[len(grown.EndpointSlices)-1].DeepCopy()
	for i := range 7 {
		es.Endpoints = append(es.Endpoints, discoveryv1.Endpoint{Addresses: []string{fmt.Sprintf("10.0.5.%d", i+1)}})
	}
	grown.EndpointSlices[len(grown.EndpointSlices)-1] = es
	if c := Diff(running, build(&grown)); !c.Reload || routeTo(c.Next, "new.com") != "ns_new_80" || slices.Contains(backendNames(c.Next), "_spare_0001=ns_new_80") {
		t.Fatalf("adopted Service beyond its spare's slots: reload %v, backends %q", c.Reload, backendNames(c.Next))
	}

	// The adopted Service goes away: a reload (backends are not returned to the pool).
	gone := *snap
	gone.Ingresses, gone.Services = snap.Ingresses[:1], snap.Services[:1]
	if c := Diff(running, build(&gone)); !c.Reload {
		t.Fatal("removing the adopted Service did not reload")
	}

	// Without spares, every new backend reloads.
	opts.SpareBackends = 0
	plain := Diff(nil, build(endpointsSnapshot("10.0.0.1"))).Next
	if c := Diff(plain, build(withApp(endpointsSnapshot("10.0.0.1"), "new", nil, "10.0.1.1"))); !c.Reload {
		t.Fatal("--spare-backends=0: a new Service did not reload")
	}
}
