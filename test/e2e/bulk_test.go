package e2e

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/external-haproxy/kit/test/e2eenv"
)

// bulkWriters is how many goroutines write the bulk objects.
const bulkWriters = 16

// BenchmarkBulkIngresses creates, on a fresh pod for each run, n Ingresses
// at once: 16 writers create, per index i, a Service bulk-<i>, its
// EndpointSlice pointing at one shared echo backend and an Ingress for
// bulk-<i>.example.com on it. It measures first write -> all served and
// last write -> last host served (polling the host whose Ingress write
// returned last, then checking every host once: each must answer 200 from
// the backend, or the benchmark fails), and during that burst the haproxy
// reloads, the controller's updates by kind, the CPU of the controller and
// of haproxy, and their memory. No thresholds.
//
//	make bench, or: go test -run '^$' -bench BulkIngresses/2.6/1000 ./test/e2e/
func BenchmarkBulkIngresses(b *testing.B) {
	for _, v := range haproxyVersions {
		b.Run(v, func(b *testing.B) {
			for _, n := range []int{1000, 5000} {
				b.Run(strconv.Itoa(n), func(b *testing.B) {
					measureOnce(b, func(b *testing.B) []benchMetric { return measureBulk(b, v, n) })
				})
			}
		})
	}
}

func measureBulk(b *testing.B, haproxy string, n int) []benchMetric {
	env := startWith(b, e2eenv.Options{Haproxy: haproxy})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const ns, backend = "bulk", "bulk-echo"
	addrs, err := env.App(ctx, ns, "echo", "echo.example.com", backend)
	if err != nil {
		b.Fatal(err)
	}
	if err := env.Served("echo.example.com", 30*time.Second, backend); err != nil {
		b.Fatal(err)
	}
	ip := addrs[backend]
	hostOf := func(i int) string { return fmt.Sprintf("bulk-%d.example.com", i) }
	served := func(host string) func(e2eenv.Response) bool {
		by := e2eenv.ServedBy(backend)
		return func(r e2eenv.Response) bool { return by(r) && strings.Contains(r.Body, "host="+host+" ") }
	}

	reloadsBefore, err := env.Reloads(ctx)
	if err != nil {
		b.Fatal(err)
	}
	updatesBefore := updateCounts(env)
	ctrlBefore, err := env.ControllerUsage()
	if err != nil {
		b.Fatal(err)
	}
	hapBefore, err := env.HaproxyUsage()
	if err != nil {
		b.Fatal(err)
	}
	logStart := len(env.Log(e2eenv.Controller))
	b.ResetTimer()

	// The burst: indexes handed out in order, each writer creating the
	// three objects of one index before taking the next.
	var (
		next     atomic.Int64
		mu       sync.Mutex
		lastAt   time.Time // the Ingress write that returned last
		lastHost string
		firstErr error
		wg       sync.WaitGroup
	)
	firstWrite := time.Now()
	for range bulkWriters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				svc, host := fmt.Sprintf("bulk-%d", i), hostOf(i)
				// Headless: the test control plane's Service range holds
				// 254 ClusterIPs, and the controller routes to the
				// EndpointSlice's addresses, never to a ClusterIP.
				s := e2eenv.ServiceFor(ns, svc, 8080)
				s.Spec.ClusterIP = corev1.ClusterIPNone
				_, err := env.Admin.CoreV1().Services(ns).Create(ctx, s, metav1.CreateOptions{})
				if err == nil {
					_, err = env.Admin.DiscoveryV1().EndpointSlices(ns).Create(ctx, e2eenv.EndpointSliceFor(ns, svc, 8080, ip), metav1.CreateOptions{})
				}
				if err == nil {
					err = env.CreateIngress(ctx, ns, svc, host, svc)
				}
				now := time.Now()
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = fmt.Errorf("index %d: %w", i, err)
					cancel()
				}
				if err == nil && now.After(lastAt) {
					lastAt, lastHost = now, host
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		b.Fatalf("writing %d Services, EndpointSlices and Ingresses: %v", n, firstErr)
	}
	lastWrite := lastAt
	if _, _, err := env.Eventually(10*time.Minute, func() (e2eenv.Response, error) { return env.Get(lastHost, "/", false) }, served(lastHost)); err != nil {
		b.Fatalf("last host written, %s: %v", lastHost, err)
	}
	allServed := time.Now()
	b.StopTimer()
	ctrl, err := env.ControllerUsage()
	if err != nil {
		b.Fatal(err)
	}
	hap, err := env.HaproxyUsage()
	if err != nil {
		b.Fatal(err)
	}
	reloadsServed, err := env.Reloads(ctx)
	if err != nil {
		b.Fatal(err)
	}
	statusServed := withStatus(ctx, b, env, ns)

	// Every host once: the last one being served says nothing of the rest
	// unless each is asked.
	sweepStart := time.Now()
	var failed atomic.Int64
	var failures []string
	idx := make(chan int)
	var sw sync.WaitGroup
	for range 4 {
		sw.Add(1)
		go func() {
			defer sw.Done()
			for i := range idx {
				host := hostOf(i)
				r, err := env.Get(host, "/", false)
				if err == nil && served(host)(r) {
					continue
				}
				if failed.Add(1) <= 5 {
					mu.Lock()
					failures = append(failures, fmt.Sprintf("%s: %d %q %v", host, r.Status, strings.TrimSpace(r.Body), err))
					mu.Unlock()
				}
			}
		}()
	}
	for i := range n {
		idx <- i
	}
	close(idx)
	sw.Wait()
	sweep := time.Since(sweepStart)
	if f := failed.Load(); f > 0 {
		b.Fatalf("%d of %d hosts not served by %s once the last one was, e.g.:\n%s\ncontroller:\n%s", f, n, backend,
			strings.Join(failures, "\n"), env.Tail(e2eenv.Controller, 25))
	}
	if testing.Verbose() {
		var lines []string
		for _, l := range strings.Split(env.Log(e2eenv.Controller)[logStart:], "\n") {
			if strings.Contains(l, "haproxy update id=") || strings.Contains(l, "reloaded") || strings.HasPrefix(l, "E") || strings.HasPrefix(l, "W") {
				lines = append(lines, l)
			}
		}
		b.Logf("controller's updates during the burst:\n%s", strings.Join(lines, "\n"))
	}
	reloadsEnd, err := env.Reloads(ctx)
	if err != nil {
		b.Fatal(err)
	}
	statusEnd, sinceServed := withStatus(ctx, b, env, ns), time.Since(allServed)
	// Read last: haproxy serves a reload's new worker before the controller
	// has confirmed the reload and counted the update.
	updates, upd := updatesSince(env, updatesBefore)

	const mb = 1 << 20
	writes, toAll, lastToServed := lastWrite.Sub(firstWrite), allServed.Sub(firstWrite), allServed.Sub(lastWrite)
	ctrlCPU, ctrlChildCPU := ctrl.CPU-ctrlBefore.CPU, ctrl.ChildrenCPU-ctrlBefore.ChildrenCPU
	hapCPU := hap.CPU - hapBefore.CPU
	reloads := reloadsServed - reloadsBefore
	later := ""
	if d := reloadsEnd - reloadsServed; d != 0 {
		later = fmt.Sprintf(" (+%d during the check)", d)
	}
	fmt.Printf("\nBulk Ingresses, haproxy %s: %d writers, Service+EndpointSlice+Ingress each; CPU during the burst (first write -> all served); controller CPU = own + its haproxy -c children; checked %d hosts in %v;\n"+
		"Ingresses with a status (of %d, the echo one included): %d when all were served, %d %v later\n"+
		"updates counted until after the check\n"+
		"%6s %9s %9s %14s %13s %8s  %-28s %19s %11s %17s %20s\n"+
		"%6d %9v %9.0f %14v %13v %8s  %-28s %9v + %7v %11v %8.0f / %6.0f %13.0f (%d)\n",
		haproxyVersion(env), bulkWriters, n, round(sweep), n+1, statusServed, statusEnd, round(sinceServed),
		"n", "writes", "obj/s", "first->served", "last->served", "reloads", "updates", "controller CPU", "haproxy CPU", "ctrl RSS/HWM MB", "haproxy RSS MB (procs)",
		n, round(writes), float64(3*n)/writes.Seconds(), round(toAll), round(lastToServed), strconv.Itoa(reloads)+later, updates,
		ctrlCPU, ctrlChildCPU, hapCPU, float64(ctrl.RSS)/mb, float64(ctrl.HWM)/mb, float64(hap.RSS)/mb, hap.Processes)
	return []benchMetric{
		{writes.Seconds(), "writes-s"}, {toAll.Seconds(), "first-write-to-all-served-s"}, {ms(lastToServed), "last-write-to-served-ms"},
		{float64(reloads), "reloads"}, {upd["reload"], "updates-reload"}, {upd["dynamic"], "updates-dynamic"}, {upd["noop"], "updates-noop"},
		{ctrlCPU.Seconds(), "controller-cpu-s"}, {ctrlChildCPU.Seconds(), "controller-children-cpu-s"}, {hapCPU.Seconds(), "haproxy-cpu-s"},
		{float64(statusServed), "status-when-served"},
		{float64(ctrl.RSS) / mb, "controller-rss-MB"}, {float64(ctrl.HWM) / mb, "controller-hwm-MB"}, {float64(hap.RSS) / mb, "haproxy-rss-MB"},
	}
}

// withStatus counts the Ingresses of ns whose status holds an address.
func withStatus(ctx context.Context, b *testing.B, env *e2eenv.Env, ns string) int {
	l, err := env.Admin.NetworkingV1().Ingresses(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	for _, ing := range l.Items {
		if len(ing.Status.LoadBalancer.Ingress) > 0 {
			n++
		}
	}
	return n
}
