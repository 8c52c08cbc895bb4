package e2e

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/external-haproxy/kit/test/e2eenv"
)

// Helpers of the end-to-end benchmarks: they measure, print their figures
// as text tables and b.ReportMetric, and assert nothing about speed.

// haproxyVersions are the sidecar versions the benchmarks run on: each has
// its image, and e2eenv.Start checks the master runs it.
var haproxyVersions = e2eenv.HaproxyVersions

// benchMetric is one b.ReportMetric.
type benchMetric struct {
	value float64
	unit  string
}

// measureOnce runs an end-to-end measurement once per run of the benchmark,
// whatever b.N. One measurement takes many seconds, so Go calls the
// benchmark with b.N=1 and stops there; should it call again with a larger
// N, the metrics of the b.N=1 call are reported again instead of starting
// new environments. (-count repeats start at b.N=1 and do measure again.)
func measureOnce(b *testing.B, measure func(b *testing.B) []benchMetric) {
	b.Helper()
	if b.N > 1 {
		if ms, ok := measured[b.Name()]; ok {
			b.StopTimer()
			reportMetrics(b, ms)
			return
		}
	}
	ms := measure(b)
	b.StopTimer()
	measured[b.Name()] = ms
	reportMetrics(b, ms)
}

// measured are the metrics of each benchmark's last b.N=1 call (benchmarks
// run one at a time).
var measured = map[string][]benchMetric{}

func reportMetrics(b *testing.B, ms []benchMetric) {
	for _, m := range ms {
		b.ReportMetric(m.value, m.unit)
	}
}

// ms is d in milliseconds, for b.ReportMetric.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// durations are sorted figures.
type durations []time.Duration

func sorted(d []time.Duration) durations {
	s := slices.Clone(d)
	slices.Sort(s)
	return s
}

// q is the nearest-rank quantile (q=0.5: median, 0.9: p90, 1: max).
func (d durations) q(q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(d)))) - 1
	return d[max(i, 0)]
}

func (d durations) median() time.Duration { return d.q(0.5) }
func (d durations) p90() time.Duration    { return d.q(0.9) }
func (d durations) max() time.Duration    { return d.q(1) }
func (d durations) min() time.Duration    { return d.q(0) }

// round keeps figures readable: 0.1 ms below a second, 1 ms above.
func round(d time.Duration) time.Duration {
	if d >= time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(100 * time.Microsecond)
}

// updateKinds are the values of the controller's
// haproxyingress_updates_total kind label.
var updateKinds = []string{"noop", "dynamic", "reload"}

// updateCounts reads env.UpdatesTotal for every kind.
func updateCounts(env *e2eenv.Env) map[string]float64 {
	c := map[string]float64{}
	for _, u := range updateKinds {
		c[u], _ = env.UpdatesTotal(u)
	}
	return c
}

// updatesSince formats the updates counted since before: "dynamic=3 reload=1".
func updatesSince(env *e2eenv.Env, before map[string]float64) (string, map[string]float64) {
	now := updateCounts(env)
	diff := map[string]float64{}
	var parts []string
	for _, u := range updateKinds {
		if d := now[u] - before[u]; d > 0 {
			diff[u] = d
			parts = append(parts, fmt.Sprintf("%s=%v", u, d))
		}
	}
	if len(parts) == 0 {
		return "none", diff
	}
	return strings.Join(parts, " "), diff
}

var finishTotal = regexp.MustCompile(`finish haproxy update id=\d+: .* total=(\S+)`)

var updateStart = regexp.MustCompile(`(?m)^I(\d{4} \d\d:\d\d:\d\d\.\d{6}) +\d+ pipeline\.go:\d+\] starting haproxy update id=`)

// controllerShare reads a stretch of the controller log: the total time of
// each update it finished, and the delay from each write to the first
// "starting haproxy update" after it.
func controllerShare(log string, writes []time.Time) (totals, toStart durations) {
	var t []time.Duration
	for _, m := range finishTotal.FindAllStringSubmatch(log, -1) {
		if d, err := time.ParseDuration(strings.ReplaceAll(m[1], "µ", "u")); err == nil {
			t = append(t, d)
		}
	}
	return sorted(t), updateStartDelays(log, writes)
}

// updateStartDelays pairs each write with the first "starting haproxy
// update" logged after it (klog prints local time without a year).
func updateStartDelays(log string, writes []time.Time) durations {
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
	return sorted(out)
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
