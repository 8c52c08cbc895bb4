package e2e

import (
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/external-haproxy/kit/test/e2eenv"
)

// What the node does for the pod: the kubelet's liveness probe restarts a
// haproxy that stopped answering, and the DaemonSet controller replaces a
// deleted pod.

// TestLivenessProbeRestartsFrozenHAProxy: haproxy frozen (SIGSTOP to every
// process of its container: alive but silent, which no exit code shows) fails
// its liveness probe; the kubelet kills and restarts the container, and the
// pod serves again.
func TestLivenessProbeRestartsFrozenHAProxy(t *testing.T) {
	env, ctx, _ := servingEcho1(t)
	restarts, err := env.RestartCount(ctx, e2eenv.Sidecar)
	if err != nil {
		t.Fatal(err)
	}
	frozen := time.Now()
	if err := env.Signal(ctx, e2eenv.Sidecar, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	// The base's probe: 60 s initial delay, then every 10 s, 3 failures.
	if err := env.WaitRestarted(ctx, e2eenv.Sidecar, restarts, 150*time.Second); err != nil {
		t.Fatal(err)
	}
	restarted := time.Since(frozen)
	if err := env.Served("echo.example.com", 60*time.Second, "echo-1"); err != nil {
		t.Fatal(err)
	}
	t.Logf("NODE liveness: haproxy frozen, restarted by the kubelet %v later, serving again %v after the freeze",
		restarted.Round(time.Millisecond), time.Since(frozen).Round(time.Millisecond))
}

// TestPodDeletionRecreatesPod: a deleted pod (graceful: the kubelet sends
// SIGTERM) is replaced by the DaemonSet controller; the new one serves.
func TestPodDeletionRecreatesPod(t *testing.T) {
	env, ctx, _ := servingEcho1(t)
	old := env.PodUID
	deleted := time.Now()
	if err := env.Admin.CoreV1().Pods(e2eenv.Namespace).Delete(ctx, env.PodName, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := env.WaitPod(ctx, 120*time.Second, old, nil); err != nil {
		t.Fatal(err)
	}
	if err := env.WaitReady(ctx, 60*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := env.Served("echo.example.com", 60*time.Second, "echo-1"); err != nil {
		t.Fatal(err)
	}
	t.Logf("NODE pod deleted: new pod %s serving %v later", env.PodName, time.Since(deleted).Round(time.Millisecond))
}
