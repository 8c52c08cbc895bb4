package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/external-haproxy/kit/test/e2eenv"
)

func ingress(ns, name, class, host, path string, pathType networkingv1.PathType, svc string) *networkingv1.Ingress {
	ing := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	if class != "" {
		ing.Spec.IngressClassName = &class
	}
	ing.Spec.Rules = []networkingv1.IngressRule{{Host: host, IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
		Paths: []networkingv1.HTTPIngressPath{{Path: path, PathType: &pathType, Backend: networkingv1.IngressBackend{
			Service: &networkingv1.IngressServiceBackend{Name: svc, Port: networkingv1.ServiceBackendPort{Name: "http"}}}}},
	}}}}
	return ing
}

// TestRoutesToEchoDeployment: a Deployment's pods behind a Service with a
// selector, their EndpointSlice written by the controller-manager, are
// served through the pod on the node; every replica takes requests.
func TestRoutesToEchoDeployment(t *testing.T) {
	env := start(t, nil)
	ctx := context.Background()
	if err := env.Namespace(ctx, "app"); err != nil {
		t.Fatal(err)
	}
	if err := env.EchoDeployment(ctx, "app", "echo", 2); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Admin.NetworkingV1().Ingresses("app").Create(ctx, ingress("app", "echo", e2eenv.ClassName, "echo.example.com", "/", networkingv1.PathTypePrefix, "echo"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	took, _, err := env.Eventually(60*time.Second, func() (e2eenv.Response, error) { return env.Get("echo.example.com", "/hello", false) },
		func(r e2eenv.Response) bool {
			if r.Status == 200 && strings.Contains(r.Body, "server=echo-") && strings.Contains(r.Body, "path=/hello") {
				seen[strings.Fields(r.Body)[0]] = true
			}
			return len(seen) == 2
		})
	if err != nil {
		t.Fatalf("served by %v, want both replicas: %v", seen, err)
	}
	t.Logf("both replicas %v served %v after the Ingress was created", seen, took)
	slices, err := env.Admin.DiscoveryV1().EndpointSlices("app").List(ctx, metav1.ListOptions{LabelSelector: "kubernetes.io/service-name=echo"})
	if err != nil || len(slices.Items) != 1 || slices.Items[0].Labels["endpointslice.kubernetes.io/managed-by"] != "endpointslice-controller.k8s.io" {
		t.Errorf("EndpointSlices of Service echo: %v (%v), want one from the controller-manager", slices, err)
	}
	if r, err := env.Get("other.example.com", "/", false); err != nil || r.Status != 404 {
		t.Errorf("unknown host: %d %v, want 404", r.Status, err)
	}
}
