package model

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestInvalidEndpointsReported: unusable addresses and ports of an
// EndpointSlice are skipped with one warning on the slice naming the
// field, however many backends use it, while its valid endpoints serve.
func TestInvalidEndpointsReported(t *testing.T) {
	portName := "http"
	slice := func(name string, t discoveryv1.AddressType, port int32, addrs ...string) *discoveryv1.EndpointSlice {
		es := &discoveryv1.EndpointSlice{
			ObjectMeta:  metav1.ObjectMeta{Namespace: "ns", Name: name, Labels: map[string]string{discoveryv1.LabelServiceName: "web"}},
			AddressType: t,
			Ports:       []discoveryv1.EndpointPort{{Name: &portName, Port: &port}},
		}
		for _, a := range addrs {
			es.Endpoints = append(es.Endpoints, discoveryv1.Endpoint{Addresses: []string{a}})
		}
		return es
	}
	// Two Ingresses, two backends (by port number and by name) of one Service.
	ing := func(name string, port networkingv1.ServiceBackendPort) *networkingv1.Ingress {
		return &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name},
			Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{{Host: name + ".example",
				IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{{
					Path: "/", Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "web", Port: port}}}}}}}}}}
	}
	snap := &Snapshot{
		Ingresses: []*networkingv1.Ingress{ing("a", networkingv1.ServiceBackendPort{Number: 80}), ing("b", networkingv1.ServiceBackendPort{Name: "http"})},
		Services: []*corev1.Service{{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web"},
			Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80}}}}},
		EndpointSlices: []*discoveryv1.EndpointSlice{
			slice("web-v4", discoveryv1.AddressTypeIPv4, 8080, "10.0.0.1", "010.0.0.2", "web.example", "10.0.0.3"),
			slice("web-v6", discoveryv1.AddressTypeIPv6, 8080, "fe80::1%eth0", "fd00::1"),
			slice("web-port", discoveryv1.AddressTypeIPv4, 0, "10.0.0.9"),
		},
	}
	m, problems := Build(snap, Options{})
	var got []string
	for _, p := range problems {
		if p.Object.Kind == "EndpointSlice" {
			got = append(got, p.String())
		}
	}
	want := []string{
		`warning: EndpointSlice/ns/web-v4 endpoints[1].addresses[0]: invalid address "010.0.0.2" and 1 more (an IP address without zone), endpoint(s) skipped`,
		`warning: EndpointSlice/ns/web-v6 endpoints[0].addresses[0]: invalid address "fe80::1%eth0" (an IP address without zone), endpoint(s) skipped`,
		`warning: EndpointSlice/ns/web-port ports[0].port: invalid port 0, slice skipped`,
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("problems:\n%q\nwant:\n%q", got, want)
	}
	var addrs []string
	for _, be := range m.Backends {
		if be.Name == "ns_web_80" {
			for _, s := range be.Servers {
				if s.Enabled {
					addrs = append(addrs, s.Addr)
				}
			}
		}
	}
	if want := []string{"10.0.0.1", "10.0.0.3", "fd00::1"}; !slices.Equal(addrs, want) {
		t.Errorf("servers %v, want %v", addrs, want)
	}
}
