// Package e2e runs the external-haproxy pod end to end: the function overlay
// applied to a real cluster with a real node (scheduler, controller-manager,
// kubelet, containerd, runc, kube-proxy), the DaemonSet's pod run by the
// kubelet with the controller on its own ServiceAccount, and real requests to
// echo pods.
package e2e

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/external-haproxy/kit/test/cluster/clustertest"
	"github.com/external-haproxy/kit/test/e2eenv"
	"github.com/external-haproxy/kit/test/testbin"
)

func TestMain(m *testing.M) { clustertest.Main(m) }

// start runs a pod on a cluster and node of its own: the overlay's cluster-scoped
// objects (IngressClass, ClusterRole) and fixed names would clash between
// tests sharing one.
func start(t testing.TB, configMap map[string]string) *e2eenv.Env {
	t.Helper()
	return startWith(t, e2eenv.Options{ConfigMap: configMap})
}

// startWith is start with more options (ConfigMap, Haproxy); the fields
// saying where things are and the subnet are set here.
func startWith(t testing.TB, o e2eenv.Options) *e2eenv.Env {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	node, err := e2eenv.NodeOptions(ctx, o.Haproxy, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	c := clustertest.StartNode(t, node)
	dir := t.TempDir()
	o.Cluster, o.Dir, o.Bin, o.Kustomize, o.Repo = c, dir, testbin.Dir(t), testbin.Kustomize(t), testbin.RepoRoot()
	env, err := e2eenv.Start(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	return env
}

// servingEcho1 starts a pod serving echo.example.com from backend echo-1.
// Spare backends are started too, for the test to switch to, but are not
// endpoints yet.
func servingEcho1(t *testing.T, spare ...string) (*e2eenv.Env, context.Context, map[string]string) {
	t.Helper()
	env := start(t, nil)
	ctx := context.Background()
	addrs, err := env.App(ctx, "app", "echo", "echo.example.com", append([]string{"echo-1"}, spare...)...)
	if err != nil {
		t.Fatal(err)
	}
	if len(spare) > 0 {
		if err := env.SetEndpoints(ctx, "app", "echo", 8080, addrs["echo-1"]); err != nil {
			t.Fatal(err)
		}
	}
	if err := env.Served("echo.example.com", 30*time.Second, "echo-1"); err != nil {
		t.Fatal(err)
	}
	return env, ctx, addrs
}
