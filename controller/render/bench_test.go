package render_test

import (
	"fmt"
	"os"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/external-haproxy/kit/controller/model"
	"github.com/external-haproxy/kit/controller/render"
)

// bigSnapshot has ingresses Ingresses of two hosts' paths each, 10k
// Services and 5 endpoints per Service (50k endpoints).
func bigSnapshot(ingresses int) *model.Snapshot {
	const services = 10000
	s := &model.Snapshot{}
	prefix := networkingv1.PathTypePrefix
	port := int32(8080)
	for i := 0; i < services; i++ {
		name := fmt.Sprintf("svc-%05d", i)
		ns := fmt.Sprintf("ns-%03d", i%100)
		s.Services = append(s.Services, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}}})
		es := &discoveryv1.EndpointSlice{
			ObjectMeta:  metav1.ObjectMeta{Name: name + "-a", Namespace: ns, Labels: map[string]string{discoveryv1.LabelServiceName: name}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Ports:       []discoveryv1.EndpointPort{{Port: &port}},
		}
		for j := 0; j < 5; j++ {
			es.Endpoints = append(es.Endpoints, discoveryv1.Endpoint{Addresses: []string{fmt.Sprintf("10.%d.%d.%d", i/256%256, i%256, j+1)}})
		}
		s.EndpointSlices = append(s.EndpointSlices, es)
	}
	for i := 0; i < ingresses; i++ {
		svc := fmt.Sprintf("svc-%05d", i%services)
		ing := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("ing-%05d", i), Namespace: fmt.Sprintf("ns-%03d", i%services%100)}}
		ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{fmt.Sprintf("h%05d.example.com", i)}, SecretName: "none"}}
		ing.Spec.Rules = []networkingv1.IngressRule{{Host: fmt.Sprintf("h%05d.example.com", i),
			IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{
				{Path: "/", PathType: &prefix, Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: svc, Port: networkingv1.ServiceBackendPort{Number: 80}}}},
				{Path: "/api", PathType: &prefix, Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: svc, Port: networkingv1.ServiceBackendPort{Number: 80}}}},
			}}}}}
		s.Ingresses = append(s.Ingresses, ing)
	}
	return s
}

func benchmarkRender(b *testing.B, ingresses int) {
	s := bigSnapshot(ingresses)
	cert, err := os.ReadFile("testdata/default-cert.pem")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		m, _ := model.Build(s, model.Options{DefaultCertificate: cert})
		render.Render(m, goldenLayout)
	}
}

// BenchmarkRender1k and BenchmarkRender10k time a full model build plus
// render: 1k or 10k Ingresses, 10k Services, 50k endpoints.
func BenchmarkRender1k(b *testing.B)  { benchmarkRender(b, 1000) }
func BenchmarkRender10k(b *testing.B) { benchmarkRender(b, 10000) }
