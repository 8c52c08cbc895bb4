package e2e

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/external-haproxy/kit/test/e2eenv"
)

// haproxy crashes (Kill: SIGKILL to the container's main process, its
// master) and the kubelet restarts the container: the controller notices
// the new master — PID 1 again, as in any container — and the pod serves
// the current configuration, including changes made while haproxy was down.
func TestHAProxyRestartServesCurrentConfig(t *testing.T) {
	env, ctx, addrs := servingEcho1(t, "echo-2")
	restarts, err := env.Kill(ctx, e2eenv.Sidecar)
	if err != nil {
		t.Fatal(err)
	}
	// Changes right after the crash, while the kubelet brings haproxy back:
	// a new host, and the only endpoint moves to echo-2.
	if err := env.CreateIngress(ctx, "app", "while-down", "down.example.com", "echo"); err != nil {
		t.Fatal(err)
	}
	if err := env.SetEndpoints(ctx, "app", "echo", 8080, addrs["echo-2"]); err != nil {
		t.Fatal(err)
	}
	if err := env.WaitRestarted(ctx, e2eenv.Sidecar, restarts, 60*time.Second); err != nil {
		t.Fatal(err)
	}
	// The controller notices the new master either in its master check or
	// when its next update finds haproxy gone and reloads the new one.
	line, err := env.WaitLog(e2eenv.Controller, regexp.MustCompile(`(haproxy master changed from pid \d+|dynamic update failed, reloading instead)[^\n]*`), 30*time.Second)
	if err != nil {
		t.Fatalf("%v\ncontroller:\n%s", err, env.Tail(e2eenv.Controller, 30))
	}
	t.Logf("controller: %s", line)
	for host, want := range map[string]string{"echo.example.com": "echo-2", "down.example.com": "echo-2"} {
		took, _, err := env.Eventually(30*time.Second, func() (e2eenv.Response, error) { return env.Get(host, "/", false) }, e2eenv.ServedBy(want))
		if err != nil {
			t.Fatalf("%s: %v", host, err)
		}
		t.Logf("%s served by %s %v after the restart was noticed", host, want, took)
	}
	// And the restarted pair keeps working: a change after the restart.
	if err := env.SetEndpoints(ctx, "app", "echo", 8080, addrs["echo-1"]); err != nil {
		t.Fatal(err)
	}
	if err := env.Served("echo.example.com", 30*time.Second, "echo-1"); err != nil {
		t.Fatal(err)
	}
}

// The apiserver restarts: haproxy serves throughout, and the informers
// resume so that a change made after the restart is served.
func TestAPIServerRestartKeepsServing(t *testing.T) {
	env, ctx, addrs := servingEcho1(t, "echo-2")
	p := env.Poll("echo.example.com", "/", e2eenv.ServedBy("echo-1"))
	restartStart := time.Now()
	if err := env.Opts.Cluster.Restart(ctx); err != nil {
		p.Stop()
		t.Fatal(err)
	}
	t.Logf("apiserver restarted in %v", time.Since(restartStart).Round(time.Millisecond))
	// Keep polling a little past the restart: reconnecting informers relist
	// and must not disturb haproxy.
	morePolls(t, p, 100)
	total, failures := p.Stop()
	t.Logf("%d requests during and after the apiserver restart, %d failed", total, len(failures))
	if len(failures) > 0 {
		t.Errorf("requests failed while the apiserver restarted:\n%s", strings.Join(failures, "\n"))
	}

	// Informers resumed: an endpoint change and a new Ingress are served.
	changed := time.Now()
	if err := env.SetEndpoints(ctx, "app", "echo", 8080, addrs["echo-2"]); err != nil {
		t.Fatal(err)
	}
	if err := env.CreateIngress(ctx, "app", "after", "after.example.com", "echo"); err != nil {
		t.Fatal(err)
	}
	for _, host := range []string{"echo.example.com", "after.example.com"} {
		if _, _, err := env.Eventually(60*time.Second, func() (e2eenv.Response, error) { return env.Get(host, "/", false) }, e2eenv.ServedBy("echo-2")); err != nil {
			t.Fatalf("%s after the apiserver restart: %v", host, err)
		}
	}
	t.Logf("changes after the restart served %v after the write", time.Since(changed).Round(time.Millisecond))
}

// The controller container restarts gracefully (Stop: SIGTERM, then the
// kubelet starts it again): haproxy serves throughout, and the new controller finds the
// configuration it would write already loaded, so it does not reload. A
// crash in the middle of an update is TestFaultControllerKilledMidRuntimeUpdate.
func TestControllerRestartNoReload(t *testing.T) {
	env := start(t, nil)
	ctx := context.Background()
	if _, err := env.App(ctx, "app", "echo", "echo.example.com", "echo-1", "echo-2"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := env.Eventually(30*time.Second, func() (e2eenv.Response, error) { return env.Get("echo.example.com", "/", false) }, e2eenv.ServedByAny("echo-1", "echo-2")); err != nil {
		t.Fatal(err)
	}
	if _, err := env.WaitLog(e2eenv.Controller, regexp.MustCompile(`finish haproxy update id=\d+`), 10*time.Second); err != nil {
		t.Fatal(err)
	}
	before, err := env.StableMasterProc(ctx, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}

	p := env.Poll("echo.example.com", "/", e2eenv.ServedByAny("echo-1", "echo-2"))
	logStart := len(env.Log(e2eenv.Controller))
	restarts, err := env.Stop(ctx, e2eenv.Controller)
	if err != nil {
		t.Fatal(err)
	}
	if err := env.WaitRestarted(ctx, e2eenv.Controller, restarts, 60*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := env.WaitReady(ctx, 60*time.Second); err != nil {
		t.Fatal(err)
	}
	morePolls(t, p, 20)
	total, failures := p.Stop()
	t.Logf("%d requests across the controller restart, %d failed", total, len(failures))
	if len(failures) > 0 {
		t.Errorf("requests failed while the controller restarted:\n%s", strings.Join(failures, "\n"))
	}

	after, err := env.StableMasterProc(ctx, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if after.Master.PID != before.Master.PID || after.Master.Reloads != before.Master.Reloads || after.CurrentWorker() != before.CurrentWorker() {
		t.Errorf("haproxy reloaded on controller start: master %d reloads %d worker %d -> master %d reloads %d worker %d\ncontroller:\n%s",
			before.Master.PID, before.Master.Reloads, before.CurrentWorker(), after.Master.PID, after.Master.Reloads, after.CurrentWorker(),
			env.Log(e2eenv.Controller)[logStart:])
	}
	newLog := env.Log(e2eenv.Controller)[logStart:]
	if strings.Contains(newLog, "haproxy successfully reloaded") {
		t.Errorf("the restarted controller logged a reload:\n%s", newLog)
	}
	reloads, err := env.UpdatesTotal("reload")
	if err != nil {
		t.Fatal(err)
	}
	if reloads != 0 {
		t.Errorf("restarted controller: haproxyingress_updates_total{kind=\"reload\"} = %v, want 0 (haproxy did not reload)", reloads)
	}

	// The restarted controller is in charge: a change is served.
	if err := env.CreateIngress(ctx, "app", "after", "after.example.com", "echo"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := env.Eventually(30*time.Second, func() (e2eenv.Response, error) { return env.Get("after.example.com", "/", false) }, e2eenv.ServedByAny("echo-1", "echo-2")); err != nil {
		t.Fatal(err)
	}
}

// morePolls waits until the poller has sent n more requests.
func morePolls(t *testing.T, p *e2eenv.Poller, n int) {
	t.Helper()
	want := p.Total() + n
	if !eventually(30*time.Second, func() bool { return p.Total() >= want }) {
		t.Fatalf("the poller sent %d of %d more requests in 30 s", p.Total()-want+n, n)
	}
}
