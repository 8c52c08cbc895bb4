package e2e

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/external-haproxy/kit/controller/haproxy/mastercli"
	"github.com/external-haproxy/kit/test/e2eenv"
)

// The fault tests crash one part of the pod with SIGKILL (never SIGTERM: a
// graceful stop would hide what a crash leaves behind), let it come back as
// the kubelet restart it, and require the latest state to be served. Each logs its
// downtime (fault to the first good answer) and convergence (fault to the
// latest state served) as "FAULT <name>: ...".

// TestFaultHAProxyWorkerKilled: kill -9 of haproxy's worker. haproxy's master
// then exits too (exit-on-failure), the container ends and the kubelet starts
// it again; the new haproxy loads the files, which hold an endpoint change
// applied at run time just before the crash.
func TestFaultHAProxyWorkerKilled(t *testing.T) {
	env, ctx, addrs := servingEcho1(t, "echo-2")
	proc := switchAtRuntime(t, env, ctx, addrs["echo-2"], "echo-2")

	restarts, err := env.RestartCount(ctx, e2eenv.Sidecar)
	if err != nil {
		t.Fatal(err)
	}
	// The worker's PID as the host sees it: show proc gives the one inside
	// the container's PID namespace.
	worker, err := env.HostPID(ctx, e2eenv.Sidecar, proc.CurrentWorker())
	if err != nil {
		t.Fatal(err)
	}
	fault := time.Now()
	if err := syscall.Kill(worker, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if err := env.WaitRestarted(ctx, e2eenv.Sidecar, restarts, 60*time.Second); err != nil {
		t.Fatal(err)
	}
	reportRecovery(t, env, "haproxy worker kill -9", fault, "echo-2")
}

// TestFaultHAProxyMasterKilled: kill -9 of haproxy's master, the container's
// main process. The kubelet restarts the container, the new haproxy loads
// the files, and the controller keeps driving it.
func TestFaultHAProxyMasterKilled(t *testing.T) {
	env, ctx, addrs := servingEcho1(t, "echo-2")
	switchAtRuntime(t, env, ctx, addrs["echo-2"], "echo-2")

	fault := time.Now()
	restarts, err := env.Kill(ctx, e2eenv.Sidecar)
	if err != nil {
		t.Fatal(err)
	}
	if err := env.WaitRestarted(ctx, e2eenv.Sidecar, restarts, 60*time.Second); err != nil {
		t.Fatal(err)
	}
	reportRecovery(t, env, "haproxy master kill -9", fault, "echo-2")
	// The controller drives the new master (whether or not its 2 s master
	// check saw the old one): a change is served.
	if err := env.SetEndpoints(ctx, "app", "echo", 8080, addrs["echo-1"]); err != nil {
		t.Fatal(err)
	}
	if err := env.Served("echo.example.com", 30*time.Second, "echo-1"); err != nil {
		t.Fatal(err)
	}
}

// TestFaultControllerKilledMidRuntimeUpdate: the controller is killed -9
// while it sends the runtime commands of a scale-up (a second endpoint in a
// free server slot: "set server … addr", then "… state ready"). haproxy is
// paused (SIGSTOP) so the first command waits in its socket, the controller
// dies, and haproxy resumes (SIGCONT) and runs what reached it: the slot
// has its address but stays in maintenance. The files already hold the
// scale-up, exactly as a fresh controller renders it, so only the loaded
// marker tells the restarted controller whether haproxy runs them: it must
// not, and the restart reloads; the new endpoint then takes traffic, with no
// failed request.
func TestFaultControllerKilledMidRuntimeUpdate(t *testing.T) {
	// Four slots for one endpoint as for two: the scale-up leaves the files
	// exactly as a fresh controller renders them (with the default slot
	// rule the fresh render adds a slot, differs, and reloads anyway).
	env := start(t, map[string]string{"backend-server-slots-increment": "4", "slots-min-free": "1"})
	ctx := context.Background()
	addrs, err := env.App(ctx, "app", "echo", "echo.example.com", "echo-1")
	if err != nil {
		t.Fatal(err)
	}
	// A backend that never was an endpoint, so that its slot is a free one
	// and needs both commands (a drained slot would need only "ready").
	fresh, err := env.AddBackend(ctx, "echo-2", 8080)
	if err != nil {
		t.Fatal(err)
	}
	converge(t, env, time.Now(), "echo-1")
	backends := env.Path(e2eenv.Controller, "/etc/haproxy")
	if err := env.Signal(ctx, e2eenv.Sidecar, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	resumed := false
	resume := func() {
		if !resumed {
			resumed = true
			if err := env.Signal(ctx, e2eenv.Sidecar, syscall.SIGCONT); err != nil {
				t.Error(err)
			}
		}
	}
	defer resume()

	fault := time.Now()
	if err := env.SetEndpoints(ctx, "app", "echo", 8080, addrs["echo-1"], fresh); err != nil {
		t.Fatal(err)
	}
	// The files are written before the first runtime command is sent, and
	// that command then blocks on the paused master.
	enabled := regexp.MustCompile(`(?m)^\s*server \S+ ` + regexp.QuoteMeta(fresh) + `:8080$`)
	if !eventually(20*time.Second, func() bool { return dirMatches(backends, enabled) }) {
		t.Fatalf("the controller did not write the new endpoint\ncontroller:\n%s", env.Tail(e2eenv.Controller, 20))
	}
	logStart := len(env.Log(e2eenv.Controller))
	restarts, err := env.Kill(ctx, e2eenv.Controller)
	if err != nil {
		t.Fatal(err)
	}
	resume()
	if err := env.WaitRestarted(ctx, e2eenv.Controller, restarts, 60*time.Second); err != nil {
		t.Fatal(err)
	}
	restart := time.Now()
	_, converged := converge(t, env, restart, "echo-1", "echo-2")
	t.Logf("FAULT controller kill -9 mid runtime update: haproxy paused %v, converged %v after the controller restart (then %d requests in a row served by echo-1 and echo-2)",
		restart.Sub(fault).Round(time.Millisecond), converged.Round(time.Millisecond), stableRun)
	if log := env.Log(e2eenv.Controller)[logStart:]; !strings.Contains(log, "haproxy successfully reloaded") {
		t.Errorf("the restarted controller trusted the half-updated worker (no reload):\n%s", log)
	}
}

// TestFaultAPIServerOutage: kube-apiserver is down for 12 s. haproxy serves
// throughout; a change written during the outage (rejected, so the test
// retries it as a user would) and one written after are served soon after
// the apiserver is ready again, the controller logs the watches failing and
// recovering, and Ingress status is written again.
func TestFaultAPIServerOutage(t *testing.T) {
	const outage = 12 * time.Second
	env, ctx, addrs := servingEcho1(t, "echo-2")
	p := env.Poll("echo.example.com", "/", e2eenv.ServedByAny("echo-1", "echo-2"))
	logStart := len(env.Log(e2eenv.Controller))

	down := time.Now()
	env.Opts.Cluster.StopAPIServer()
	rejected := 0
	for time.Since(down) < outage {
		if err := env.SetEndpoints(ctx, "app", "echo", 8080, addrs["echo-2"]); err == nil {
			t.Fatal("the apiserver accepted a write while stopped")
		}
		rejected++
		time.Sleep(500 * time.Millisecond) // the retry interval of the writer, not a wait on a condition
	}
	if err := env.Opts.Cluster.StartAPIServer(ctx); err != nil {
		t.Fatal(err)
	}
	ready := time.Now()
	t.Logf("apiserver down %v (%d writes rejected), ready again", ready.Sub(down).Round(time.Millisecond), rejected)
	if err := env.SetEndpoints(ctx, "app", "echo", 8080, addrs["echo-2"]); err != nil {
		t.Fatalf("the retried write: %v", err)
	}
	if err := env.CreateIngress(ctx, "app", "after", "after.example.com", "echo"); err != nil {
		t.Fatal(err)
	}

	// Served within 15 s of ready: the target is 3 s, with slack for a shared
	// machine; client-go's default back-off took 20–26 s. (The kubernetes
	// Service keeps pointing at the apiserver while it is down, see
	// test/cluster, so this measures the controller and not kube-proxy.)
	for _, host := range []string{"echo.example.com", "after.example.com"} {
		if _, _, err := env.Eventually(15*time.Second-time.Since(ready), func() (e2eenv.Response, error) { return env.Get(host, "/", false) }, e2eenv.ServedBy("echo-2")); err != nil {
			t.Fatalf("%s after the outage: %v", host, err)
		}
	}
	served := time.Since(ready)
	var status time.Duration
	if eventually(30*time.Second, func() bool {
		ips, err := env.IngressStatusIPs(ctx, "app", "after")
		return err == nil && len(ips) > 0
	}) {
		status = time.Since(ready)
	} else {
		t.Error("no status on an Ingress created after the outage")
	}
	total, failures := p.Stop()
	t.Logf("FAULT apiserver down %v: downtime 0 (%d requests, %d failed), changes served %v after ready, status %v after ready",
		outage, total, len(failures), served.Round(time.Millisecond), status.Round(time.Millisecond))
	if len(failures) > 0 {
		t.Errorf("requests failed during the apiserver outage:\n%s", strings.Join(failures, "\n"))
	}
	// A fresh apiserver may refuse watches (RBAC not synced yet) for a few
	// seconds after it is ready: the recovery line can come after the
	// changes were served, so it is waited for.
	for _, re := range []string{`watch of [\w ]+ failed, retrying`, `watches of \[[^\]]+\] recovered after`} {
		if m, err := env.WaitLog(e2eenv.Controller, regexp.MustCompile(`[^\n]*`+re+`[^\n]*`), 20*time.Second); err != nil {
			t.Errorf("controller log does not match %q: %v\n%s", re, err, env.Log(e2eenv.Controller)[logStart:])
		} else {
			t.Logf("controller: %s", strings.TrimSpace(m))
		}
	}
}

// switchAtRuntime moves echo.example.com's only endpoint to addr, waits until
// name alone serves it, and returns haproxy's processes then.
func switchAtRuntime(t *testing.T, env *e2eenv.Env, ctx context.Context, addr, name string) mastercli.Proc {
	t.Helper()
	if err := env.SetEndpoints(ctx, "app", "echo", 8080, addr); err != nil {
		t.Fatal(err)
	}
	converge(t, env, time.Now(), name)
	proc, err := env.StableMasterProc(ctx, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return proc
}

// stableRun is how many requests in a row, one connection each, must reach
// the expected backend for the pod to count as converged (about 1 s).
const stableRun = 100

// converge waits until echo.example.com answers from the given backends
// only, every one of them among the answers, and then for stableRun more
// requests in a row. It returns the downtime (since to the first 200 answer)
// and the convergence time (since to the request at which the last of the
// backends joined an unbroken run). A failed or stale answer breaks the run,
// so a 503 after recovery shows as a late convergence or, if it keeps
// coming, a failure.
func converge(t *testing.T, env *e2eenv.Env, since time.Time, backends ...string) (downtime, converged time.Duration) {
	t.Helper()
	var firstOK, allSeen, sent time.Time
	after, seen := 0, map[string]bool{}
	get := func() (e2eenv.Response, error) {
		sent = time.Now()
		r, err := env.Get("echo.example.com", "/", false)
		if err != nil {
			r.Body = err.Error() // a failed answer breaks the run
		}
		return r, nil
	}
	_, last, err := env.Eventually(60*time.Second, get, func(r e2eenv.Response) bool {
		if r.Status == 200 && firstOK.IsZero() {
			firstOK = sent
		}
		if !e2eenv.ServedByAny(backends...)(r) {
			after, seen, allSeen = 0, map[string]bool{}, time.Time{}
			return false
		}
		for _, b := range backends {
			if e2eenv.ServedBy(b)(r) {
				seen[b] = true
			}
		}
		if len(seen) < len(backends) {
			return false
		}
		if allSeen.IsZero() {
			allSeen = sent
		}
		after++
		return after >= stableRun
	})
	if err != nil {
		t.Fatalf("not served by %v alone: %v (last %d %q)\nhaproxy:\n%s", backends, err, last.Status, last.Body, env.Tail(e2eenv.Sidecar, 20))
	}
	return firstOK.Sub(since), allSeen.Sub(since)
}

// reportRecovery waits for backend alone to serve after a fault at since and
// logs the figures.
func reportRecovery(t *testing.T, env *e2eenv.Env, fault string, since time.Time, backend string) {
	t.Helper()
	downtime, converged := converge(t, env, since, backend)
	t.Logf("FAULT %s: downtime %v, converged %v (then %d requests in a row served by %s)",
		fault, downtime.Round(time.Millisecond), converged.Round(time.Millisecond), stableRun, backend)
}

// dirMatches says whether some file under dir matches re.
func dirMatches(dir string, re *regexp.Regexp) bool {
	found := false
	_ = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !found {
			b, _ := os.ReadFile(path)
			found = re.Match(b)
		}
		return nil
	})
	return found
}
