package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/external-haproxy/kit/test/e2eenv"
)

// Changes per kind measured by BenchmarkAPIWriteToServed, and bare reloads.
const (
	figureChanges = 25
	bareReloads   = 20
)

// BenchmarkAPIWriteToServed measures, on haproxy 2.6 and 3.0, for each kind
// of change, the time from just before the first API write to the first
// request served by the new configuration, polling every millisecond with
// a new connection each time (the 5 ms of the tests' waits added 2.5 ms on
// average to each figure). It prints median, p90 and max per kind, the updates
// and haproxy reloads each kind caused, and the controller's share (its
// log's update start and total). In the same environment it then times bare
// reloads sent to the master CLI on the running configuration, under the
// same polling, so that a change that reloads can be set against the
// reload itself. Changes are a
// quarter second apart so that each one is measured alone
// (--rate-limit-update spaces updates 100 ms apart). No thresholds.
//
//	make bench, or: go test -run '^$' -bench APIWriteToServed ./test/e2e/
func BenchmarkAPIWriteToServed(b *testing.B) {
	for _, v := range haproxyVersions {
		b.Run("haproxy-"+v, func(b *testing.B) {
			measureOnce(b, func(b *testing.B) []benchMetric { return measureAPIWriteToServed(b, v) })
		})
	}
}

// writeKind is one kind of change: change makes the i-th change with its
// API write(s) and returns the request to poll and what its answer must be.
type writeKind struct {
	name, key string // key names the kind in metrics
	change    func(i int) (wait func() (e2eenv.Response, error), ok func(e2eenv.Response) bool, err error)
}

func measureAPIWriteToServed(b *testing.B, haproxy string) []benchMetric {
	env := startWith(b, e2eenv.Options{Haproxy: haproxy})
	ctx := context.Background()
	names := []string{"echo-0", "echo-1", "echo-2", "echo-3"}
	addrs, err := env.App(ctx, "app", "echo", "echo.example.com", names...)
	if err != nil {
		b.Fatal(err)
	}
	if err := env.SetEndpoints(ctx, "app", "echo", 8080, addrs["echo-0"]); err != nil {
		b.Fatal(err)
	}
	if err := env.Served("echo.example.com", 30*time.Second, "echo-0"); err != nil {
		b.Fatal(err)
	}
	current := "echo-0" // the echo Service's one endpoint
	slice, err := env.Admin.DiscoveryV1().EndpointSlices("app").Get(ctx, "echo-e2e", metav1.GetOptions{})
	if err != nil {
		b.Fatal(err)
	}
	get := func(host string, https bool) func() (e2eenv.Response, error) {
		return func() (e2eenv.Response, error) { return env.Get(host, "/", https) }
	}
	servedHost := func(host, backend string) func(e2eenv.Response) bool {
		by := e2eenv.ServedBy(backend)
		return func(r e2eenv.Response) bool { return by(r) && strings.Contains(r.Body, "host="+host+" ") }
	}

	kinds := []writeKind{
		{"EndpointSlice (only endpoint replaced)", "endpoint", func(i int) (func() (e2eenv.Response, error), func(e2eenv.Response) bool, error) {
			// One Update call, from the object the last one returned.
			target := names[(i+1)%len(names)]
			slice.Endpoints[0].Addresses = []string{addrs[target]}
			var err error
			slice, err = env.Admin.DiscoveryV1().EndpointSlices("app").Update(ctx, slice, metav1.UpdateOptions{})
			current = target
			return get("echo.example.com", false), e2eenv.ServedBy(target), err
		}},
		{"Ingress (new host, existing Service)", "host", func(i int) (func() (e2eenv.Response, error), func(e2eenv.Response) bool, error) {
			host := fmt.Sprintf("host-%d.example.com", i)
			return get(host, false), servedHost(host, current), env.CreateIngress(ctx, "app", fmt.Sprintf("host-%d", i), host, "echo")
		}},
		{"Service+EndpointSlice+Ingress (new)", "new-service", func(i int) (func() (e2eenv.Response, error), func(e2eenv.Response) bool, error) {
			// Three writes, timed from the first.
			svc, host := fmt.Sprintf("svc-%d", i), fmt.Sprintf("svc-%d.example.com", i)
			target := names[i%len(names)]
			err := env.Service(ctx, "app", svc, 8080)
			if err == nil {
				_, err = env.Admin.DiscoveryV1().EndpointSlices("app").Create(ctx, e2eenv.EndpointSliceFor("app", svc, 8080, addrs[target]), metav1.CreateOptions{})
			}
			if err == nil {
				err = env.CreateIngress(ctx, "app", svc, host, svc)
			}
			return get(host, false), servedHost(host, target), err
		}},
		{"ConfigMap (server-header)", "configmap", func(i int) (func() (e2eenv.Response, error), func(e2eenv.Response) bool, error) {
			// A global key that reloads, seen on every answer (the echo
			// backend sends no Server header). hsts-max-age, used before,
			// now only shows on hosts with TLS configured.
			want := fmt.Sprintf("bench-%d", i)
			return get("echo.example.com", false), func(r e2eenv.Response) bool {
					return r.Status == 200 && r.Header.Get("Server") == want
				},
				env.PatchConfigMap(ctx, map[string]string{"server-header": want})
		}},
	}
	b.ResetTimer()

	var metrics []benchMetric
	var rows, shares []string
	reloadMedians := map[string]time.Duration{} // kinds that reloaded: their median
	for _, k := range kinds {
		updatesBefore := updateCounts(env)
		reloadsBefore, err := env.Reloads(ctx)
		if err != nil {
			b.Fatal(err)
		}
		logStart := len(env.Log(e2eenv.Controller))
		var took, calls []time.Duration
		var writes []time.Time
		for i := range figureChanges {
			time.Sleep(250 * time.Millisecond) // spacing, not an assertion
			start := time.Now()
			writes = append(writes, start)
			wait, ok, err := k.change(i)
			if err != nil {
				b.Fatalf("%s change %d: %v", k.name, i, err)
			}
			calls = append(calls, time.Since(start))
			if _, _, err := env.EventuallyEvery(30*time.Second, time.Millisecond, wait, ok); err != nil {
				b.Fatalf("%s change %d: %v", k.name, i, err)
			}
			took = append(took, time.Since(start))
		}
		time.Sleep(500 * time.Millisecond) // let the last update's metrics and log land; not an assertion
		phaseLog := env.Log(e2eenv.Controller)[logStart:]
		totals, toStart := controllerShare(phaseLog, writes)
		if testing.Verbose() {
			b.Logf("%s: sample of the controller log:\n%s", k.name, lastLines(phaseLog, 8))
		}
		updates, _ := updatesSince(env, updatesBefore)
		reloadsAfter, err := env.Reloads(ctx)
		if err != nil {
			b.Fatal(err)
		}
		reloads := reloadsAfter - reloadsBefore
		d := sorted(took)
		if reloads > 0 {
			reloadMedians[k.name] = d.median()
		}
		rows = append(rows, fmt.Sprintf("%-38s %3d %9v %9v %9v %9v %7d  %s", k.name, len(d),
			round(d.median()), round(d.p90()), round(d.max()), round(d.min()), reloads, updates))
		share := fmt.Sprintf("%-38s API call(s) median %v", k.name, round(sorted(calls).median()))
		if len(toStart) > 0 {
			share += fmt.Sprintf("; write -> update start median %v max %v", round(toStart.median()), round(toStart.max()))
		}
		if len(totals) > 0 {
			share += fmt.Sprintf("; update total median %v max %v over %d updates", round(totals.median()), round(totals.max()), len(totals))
		}
		shares = append(shares, share)
		metrics = append(metrics,
			benchMetric{ms(d.median()), k.key + "-p50-ms"}, benchMetric{ms(d.p90()), k.key + "-p90-ms"},
			benchMetric{ms(d.max()), k.key + "-max-ms"}, benchMetric{float64(reloads), k.key + "-reloads"})
	}

	// Bare reloads of the running configuration, through the master CLI as
	// the controller sends them; ReloadResult.Duration runs from sending
	// "reload" to haproxy's confirmation.
	cli := env.MasterCLI(10 * time.Second)
	reloadsBefore, err := env.Reloads(ctx)
	if err != nil {
		b.Fatal(err)
	}
	var bare []time.Duration
	for range bareReloads {
		time.Sleep(250 * time.Millisecond) // spacing, not an assertion
		// The same requests every millisecond as while a change is waited
		// for: the reload then competes for the CPU as the changes' do.
		polling, stop := context.WithCancel(ctx)
		polled := make(chan struct{})
		go func() {
			defer close(polled)
			for polling.Err() == nil {
				_, _ = env.Get("echo.example.com", "/", false)
				time.Sleep(time.Millisecond) // the poll interval, not a wait for a condition
			}
		}()
		res, err := cli.Reload(ctx)
		stop()
		<-polled
		if err != nil {
			b.Fatalf("bare reload: %v", err)
		}
		bare = append(bare, res.Duration)
	}
	reloadsAfter, err := env.Reloads(ctx)
	if err != nil {
		b.Fatal(err)
	}
	bd := sorted(bare)
	rows = append(rows, fmt.Sprintf("%-38s %3d %9v %9v %9v %9v %7d  (master CLI \"reload\" -> confirmed, polled as the changes)", "bare reload", len(bd),
		round(bd.median()), round(bd.p90()), round(bd.max()), round(bd.min()), reloadsAfter-reloadsBefore))
	metrics = append(metrics, benchMetric{ms(bd.median()), "bare-reload-p50-ms"}, benchMetric{ms(bd.p90()), "bare-reload-p90-ms"},
		benchMetric{ms(bd.max()), "bare-reload-max-ms"})
	var overhead []string
	for _, k := range kinds {
		if m, ok := reloadMedians[k.name]; ok {
			overhead = append(overhead, fmt.Sprintf("%-38s median %v - bare reload median %v = %v (%.1fx)", k.name,
				round(m), round(bd.median()), round(m-bd.median()), float64(m)/float64(bd.median())))
			metrics = append(metrics, benchMetric{ms(m - bd.median()), k.key + "-minus-bare-reload-ms"})
		}
	}
	if err := env.Served("echo.example.com", 30*time.Second, current); err != nil {
		b.Fatalf("after the bare reloads: %v", err)
	}

	fmt.Printf("\nAPI write -> first request served by the new configuration (haproxy %s, %d changes per kind, 250 ms apart):\n"+
		"%-38s %3s %9s %9s %9s %9s %7s  %s\n%s\n\ncontroller's share:\n%s\n\nchanges that reloaded, against the bare reload:\n%s\n",
		haproxyVersion(env), figureChanges, "kind", "n", "median", "p90", "max", "min", "reloads", "updates",
		strings.Join(rows, "\n"), strings.Join(shares, "\n"), strings.Join(overhead, "\n"))
	return metrics
}
