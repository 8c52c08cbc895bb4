package e2e

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/external-haproxy/kit/test/e2eenv"
	"github.com/external-haproxy/kit/test/testbin"
)

// TestBindDefaultsOnTheNode: haproxy binds :80 and :443 of the node
// (hostNetwork) with the shipped defaults; the old default (uid 99 with
// NET_BIND_SERVICE, which the kubelet cannot make effective: no ambient
// capabilities) leaves haproxy crash-looping with "Permission denied".
func TestBindDefaultsOnTheNode(t *testing.T) {
	env := start(t, nil)
	ctx := context.Background()
	for _, https := range []bool{false, true} {
		if r, err := env.Get("nobody.example.com", "/", https); err != nil || r.Status != 404 {
			t.Fatalf("default pod, https=%v: %d %v, want the default backend's 404", https, r.Status, err)
		}
	}

	old := func(spec *corev1.PodSpec) {
		for i := range spec.Containers {
			if c := &spec.Containers[i]; c.Name == e2eenv.Sidecar {
				yes, uid := true, int64(99)
				c.SecurityContext.RunAsNonRoot, c.SecurityContext.RunAsUser = &yes, &uid
				c.SecurityContext.Capabilities.Add = []corev1.Capability{"NET_BIND_SERVICE"}
			}
		}
	}
	crashed := func(p *corev1.Pod) bool {
		for _, s := range p.Status.ContainerStatuses {
			if s.Name == e2eenv.Sidecar && s.RestartCount > 0 {
				return true
			}
		}
		return false
	}
	if err := env.RollUntil(ctx, old, crashed); err != nil {
		t.Fatal(err)
	}
	if _, err := env.WaitLog(e2eenv.Sidecar, bindDenied, 30*time.Second); err != nil {
		t.Fatalf("%v\n%s", err, env.Tail(e2eenv.Sidecar, 10))
	}
	p, err := env.Pod(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("old default: pod %s:%s; haproxy: %s", p.Name, e2eenv.ContainerStates(p), strings.TrimSpace(bindDenied.FindString(env.Log(e2eenv.Sidecar))))
}

var bindDenied = regexp.MustCompile(`[^\n]*cannot bind socket \(Permission denied\) for \[0\.0\.0\.0:80\][^\n]*`)

// TestBindEmbeddedModeServes: the base as it is (embedded mode: the
// controller runs haproxy itself) serves :80 on the node too.
func TestBindEmbeddedModeServes(t *testing.T) {
	env := startWith(t, e2eenv.Options{Overlay: filepath.Join(testbin.RepoRoot(), "base")})
	if r, err := env.Get("nobody.example.com", "/", false); err != nil || r.Status != 404 {
		t.Fatalf("embedded pod: %d %v, want the default backend's 404", r.Status, err)
	}
}
