package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os/exec"
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/external-haproxy/kit/controller/model"
	"github.com/external-haproxy/kit/test/cluster/clustertest"
	"github.com/external-haproxy/kit/test/testbin"
)

// TestCheckLiveCluster: `check --kubeconfig` reads a real apiserver the
// way the controller does (its class, its ConfigMap, the Services of its
// Ingresses) and exits 1 for a key it would ignore.
func TestCheckLiveCluster(t *testing.T) {
	ctx := context.Background()
	client := clustertest.Client(t)
	ns := clustertest.NewNamespace(t)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "haproxy-ingress"}, Data: map[string]string{"timeout-client": "30s"}}
	if _, err := client.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "svc", Annotations: map[string]string{"haproxy-ingress.github.io/balance-algorithm": "leastconn"}},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}}}
	if _, err := client.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for name, ann := range map[string]map[string]string{
		"ours":   {"kubernetes.io/ingress.class": "haproxy", "haproxy-ingress.github.io/waf": "modsecurity"},
		"theirs": {"kubernetes.io/ingress.class": "nginx", "haproxy-ingress.github.io/no-such-key": "1"},
	} {
		ing := routeIngress(name, "", routeRule(name+".example.com", prefixRoute("/", "svc")))
		ing.Namespace, ing.Annotations = ns, ann
		if _, err := client.NetworkingV1().Ingresses(ns).Create(ctx, ing, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(filepath.Join(testbin.Dir(t), "haproxy-ingress-controller"), "check", "--kubeconfig", clustertest.Shared(t).Kubeconfig,
		"--watch-namespace", ns, "--configmap", ns+"/haproxy-ingress", "-o", "json")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if exit := (*exec.ExitError)(nil); !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("check: %v, want exit 1\n%s", err, stderr.String())
	}
	var got []model.KeyUse
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
		t.Fatalf("%v:\n%s", err, stdout.String())
	}
	want := []model.KeyUse{
		{Object: model.Ref{Kind: "ConfigMap", Namespace: ns, Name: "haproxy-ingress"}, Key: "timeout-client", Value: "30s", Status: model.KeySupported},
		{Object: model.Ref{Kind: "Ingress", Namespace: ns, Name: "ours"}, Key: "haproxy-ingress.github.io/waf", Value: "modsecurity", Status: model.KeyIgnored, Detail: "unknown key, ignored"},
		{Object: model.Ref{Kind: "Service", Namespace: ns, Name: "svc"}, Key: "haproxy-ingress.github.io/balance-algorithm", Value: "leastconn", Status: model.KeySupported},
	}
	if !testbin.SameJSON(t, got, want) {
		t.Errorf("report %+v, want %+v", got, want)
	}
}
