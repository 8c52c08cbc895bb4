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

func TestRoutesToBackendInNetworkNamespace(t *testing.T) {
	env := start(t, nil)
	ctx := context.Background()
	if err := env.Namespace(ctx, "app"); err != nil {
		t.Fatal(err)
	}
	ip, err := env.AddBackend(ctx, "echo-1", 8080)
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Service(ctx, "app", "echo", 8080); err != nil {
		t.Fatal(err)
	}
	if err := env.SetEndpoints(ctx, "app", "echo", 8080, ip); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Admin.NetworkingV1().Ingresses("app").Create(ctx, ingress("app", "echo", e2eenv.ClassName, "echo.example.com", "/", networkingv1.PathTypePrefix, "echo"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	took, r, err := env.Eventually(30*time.Second, func() (e2eenv.Response, error) { return env.Get("echo.example.com", "/hello", false) },
		func(r e2eenv.Response) bool { return r.Status == 200 && strings.Contains(r.Body, "server=echo-1") })
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("served %q %v after the Ingress was created", strings.TrimSpace(r.Body), took)
	if r, err := env.Get("other.example.com", "/", false); err != nil || r.Status != 404 {
		t.Errorf("unknown host: %d %v, want 404", r.Status, err)
	}
}
