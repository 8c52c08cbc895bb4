package e2e

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/external-haproxy/kit/test/e2eenv"
)

// figuresEnv turns on TestFiguresAPIWriteToServed; it only measures.
const figuresEnv = "KIT_E2E_FIGURES"

// Changes per kind measured by TestFiguresAPIWriteToServed.
const figureChanges = 25

// TestFiguresAPIWriteToServed measures, for each kind of change, the time
// from just before the API write (one call) to the first request served by
// the new configuration, polling every 5 ms with a new connection each time.
// It prints median, p90 and max per kind, and the controller's share (its
// log's update start and total); there are no thresholds. Changes are a
// quarter second apart so that each one is measured alone
// (--rate-limit-update spaces updates 100 ms apart).
//
//	KIT_E2E_FIGURES=1 KIT_BIN=$PWD/bin go test -count=1 -v -run TestFigures ./test/e2e/
func TestFiguresAPIWriteToServed(t *testing.T) {
	if os.Getenv(figuresEnv) != "1" {
		t.Skipf("measurements only: set %s=1", figuresEnv)
	}
	env := start(t, nil)
	ctx := context.Background()
	names := []string{"echo-0", "echo-1", "echo-2", "echo-3"}
	addrs, err := env.App(ctx, "app", "echo", "echo.example.com", names...)
	if err != nil {
		t.Fatal(err)
	}
	if err := env.SetEndpoints(ctx, "app", "echo", 8080, addrs["echo-0"]); err != nil {
		t.Fatal(err)
	}
	if err := env.Served("echo.example.com", 30*time.Second, "echo-0"); err != nil {
		t.Fatal(err)
	}
	slice, err := env.Admin.DiscoveryV1().EndpointSlices("app").Get(ctx, "echo-e2e", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	get := func(host string, https bool) func() (e2eenv.Response, error) {
		return func() (e2eenv.Response, error) { return env.Get(host, "/", https) }
	}

	type kind struct {
		name   string
		change func(i int) (wait func() (e2eenv.Response, error), ok func(e2eenv.Response) bool, err error)
	}
	kinds := []kind{
		{"EndpointSlice (only endpoint replaced)", func(i int) (func() (e2eenv.Response, error), func(e2eenv.Response) bool, error) {
			// One Update call, from the object the last one returned.
			target := names[(i+1)%len(names)]
			slice.Endpoints[0].Addresses = []string{addrs[target]}
			var err error
			slice, err = env.Admin.DiscoveryV1().EndpointSlices("app").Update(ctx, slice, metav1.UpdateOptions{})
			return get("echo.example.com", false), e2eenv.ServedBy(target), err
		}},
		{"Ingress (new host)", func(i int) (func() (e2eenv.Response, error), func(e2eenv.Response) bool, error) {
			host := fmt.Sprintf("host-%d.example.com", i)
			return get(host, false), func(r e2eenv.Response) bool { return r.Status == 200 && strings.Contains(r.Body, "host="+host) },
				env.CreateIngress(ctx, "app", fmt.Sprintf("host-%d", i), host, "echo")
		}},
		{"ConfigMap (hsts-max-age)", func(i int) (func() (e2eenv.Response, error), func(e2eenv.Response) bool, error) {
			want := fmt.Sprintf("max-age=%d", 1000+i)
			return get("echo.example.com", true), func(r e2eenv.Response) bool {
					return r.Status == 200 && strings.HasPrefix(r.Header.Get("Strict-Transport-Security"), want)
				},
				env.PatchConfigMap(ctx, map[string]string{"hsts-max-age": fmt.Sprint(1000 + i)})
		}},
	}
	var report []string
	for _, k := range kinds {
		before := map[string]float64{}
		for _, u := range []string{"noop", "dynamic", "reload"} {
			before[u], _ = env.UpdatesTotal(u)
		}
		reloadsBefore, _ := env.Reloads(ctx)
		logStart := len(env.Pod.Log(e2eenv.Controller))
		var took []time.Duration
		var writes []time.Time
		var calls []time.Duration
		for i := range figureChanges {
			time.Sleep(250 * time.Millisecond) // spacing, not an assertion
			start := time.Now()
			writes = append(writes, start)
			wait, ok, err := k.change(i)
			if err != nil {
				t.Fatal(err)
			}
			calls = append(calls, time.Since(start))
			if _, _, err := env.Eventually(30*time.Second, wait, ok); err != nil {
				t.Fatalf("%s change %d: %v", k.name, i, err)
			}
			took = append(took, time.Since(start))
		}
		slices.Sort(took)
		time.Sleep(500 * time.Millisecond) // let the last update's metrics and log land; not an assertion
		phaseLog := env.Pod.Log(e2eenv.Controller)[logStart:]
		var totals []time.Duration
		for _, m := range finishTotal.FindAllStringSubmatch(phaseLog, -1) {
			if d, err := time.ParseDuration(strings.ReplaceAll(m[1], "µ", "u")); err == nil {
				totals = append(totals, d)
			}
		}
		slices.Sort(totals)
		controllerPart := "?"
		if len(totals) > 0 {
			controllerPart = fmt.Sprintf("median %v max %v over %d updates", totals[len(totals)/2].Round(100*time.Microsecond), totals[len(totals)-1].Round(100*time.Microsecond), len(totals))
		}
		slices.Sort(calls)
		controllerPart += fmt.Sprintf("; API call(s) median %v", calls[len(calls)/2].Round(100*time.Microsecond))
		toStart := updateStartDelays(phaseLog, writes)
		if len(toStart) > 0 {
			controllerPart += fmt.Sprintf("; write -> update start: median %v max %v", toStart[len(toStart)/2].Round(100*time.Microsecond), toStart[len(toStart)-1].Round(100*time.Microsecond))
		}
		t.Logf("%s: sample of the controller log:\n%s", k.name, lastLines(phaseLog, 8))
		updates := []string{}
		for _, u := range []string{"noop", "dynamic", "reload"} {
			n, _ := env.UpdatesTotal(u)
			if d := n - before[u]; d > 0 {
				updates = append(updates, fmt.Sprintf("%s=%v", u, d))
			}
		}
		reloadsAfter, _ := env.Reloads(ctx)
		line := fmt.Sprintf("%-40s n=%d median=%v p90=%v max=%v min=%v  updates: %s, haproxy reloads: %d; controller update total: %s",
			k.name, len(took), took[len(took)/2].Round(100*time.Microsecond), took[len(took)*9/10].Round(100*time.Microsecond),
			took[len(took)-1].Round(100*time.Microsecond), took[0].Round(100*time.Microsecond), strings.Join(updates, " "), reloadsAfter-reloadsBefore, controllerPart)
		t.Log(line)
		report = append(report, line)
	}
	fmt.Printf("\nAPI write -> first request served by the new configuration (haproxy %s):\n%s\n", haproxyVersion(env), strings.Join(report, "\n"))
}

var finishTotal = regexp.MustCompile(`finish haproxy update id=\d+: .* total=(\S+)`)

var updateStart = regexp.MustCompile(`(?m)^I(\d{4} \d\d:\d\d:\d\d\.\d{6}) +\d+ pipeline\.go:\d+\] starting haproxy update id=`)

// updateStartDelays pairs each write with the first "starting haproxy
// update" logged after it (klog prints local time without a year).
func updateStartDelays(log string, writes []time.Time) []time.Duration {
	var starts []time.Time
	for _, m := range updateStart.FindAllStringSubmatch(log, -1) {
		ts, err := time.ParseInLocation("0102 15:04:05.000000", m[1], time.Local)
		if err != nil {
			continue
		}
		now := time.Now()
		starts = append(starts, ts.AddDate(now.Year(), 0, 0))
	}
	var out []time.Duration
	for _, w := range writes {
		for _, s := range starts {
			if s.After(w) {
				out = append(out, s.Sub(w))
				break
			}
		}
	}
	slices.Sort(out)
	return out
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func haproxyVersion(env *e2eenv.Env) string {
	p, err := env.StableMasterProc(context.Background(), 5*time.Second)
	if err != nil {
		return "?"
	}
	return p.Master.Version
}
