package render_test

import (
	"fmt"
	"maps"
	"os"
	"testing"
	"time"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/external-haproxy/kit/controller/model"
	"github.com/external-haproxy/kit/controller/render"
)

// annotatedSnapshot is bigSnapshot(10000) with five keys on every Ingress,
// their values varying over a hundred Ingresses so that the frontends
// carry a few hundred distinct path policies.
func annotatedSnapshot() *model.Snapshot {
	s := bigSnapshot(10000)
	for i, ing := range s.Ingresses {
		ing.Annotations = map[string]string{
			"haproxy-ingress.github.io/rewrite-target":         fmt.Sprintf("/app%d", i%10),
			"haproxy-ingress.github.io/allowlist-source-range": fmt.Sprintf("10.%d.0.0/16,192.168.0.0/24", i%100),
			"haproxy-ingress.github.io/timeout-server":         fmt.Sprintf("%ds", 30+i%5),
			"haproxy-ingress.github.io/hsts-max-age":           fmt.Sprintf("%d", 3600*(1+i%3)),
			"haproxy-ingress.github.io/ssl-redirect":           fmt.Sprintf("%t", i%2 == 0),
		}
	}
	return s
}

func defaultCertPEM(b testing.TB) []byte {
	cert, err := os.ReadFile("testdata/default-cert.pem")
	if err != nil {
		b.Fatal(err)
	}
	return cert
}

// BenchmarkRender10kAnnotated times a full model build plus render of 10k
// Ingresses with five annotations each (10k Services, 50k endpoints).
func BenchmarkRender10kAnnotated(b *testing.B) {
	s := annotatedSnapshot()
	opts := model.Options{DefaultCertificate: defaultCertPEM(b)}
	b.ReportAllocs()
	var total time.Duration
	for b.Loop() {
		start := time.Now()
		m, _ := model.Build(s, opts)
		render.Render(m, goldenLayout)
		total += time.Since(start)
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/op")
}

// BenchmarkAnnotationChange10k times what the controller does when one
// annotation of one of those Ingresses changes, a Backend key
// (timeout-server) or a Path key (rewrite-target): Build of the new
// snapshot (with the cache the controller keeps between updates, which
// patches the last model), Diff against the running model, Render of the
// result (with the controller's render cache), which haproxy then runs.
// Every round changes the value again, on a new object as a watch
// delivers it.
func BenchmarkAnnotationChange10k(b *testing.B) {
	for _, c := range []struct{ key, format string }{
		{"timeout-server", "%ds"},
		{"rewrite-target", "/v%d"},
	} {
		b.Run(c.key, func(b *testing.B) { benchmarkAnnotationChange(b, "haproxy-ingress.github.io/"+c.key, c.format) })
	}
}

func benchmarkAnnotationChange(b *testing.B, key, format string) {
	s := annotatedSnapshot()
	opts := model.Options{DefaultCertificate: defaultCertPEM(b), Cache: model.NewCache()}
	running, _ := model.Build(s, opts)
	rc := render.NewCache()
	rc.Render(running, goldenLayout)
	changed := *s
	changed.Ingresses = append([]*networkingv1.Ingress(nil), s.Ingresses...)
	b.ReportAllocs()
	var build, diff, rend time.Duration
	round := 0
	for b.Loop() {
		b.StopTimer()
		ing := s.Ingresses[5000].DeepCopy()
		ing.Annotations = maps.Clone(ing.Annotations)
		round++
		ing.Annotations[key] = fmt.Sprintf(format, 60+round%2)
		changed.Ingresses[5000] = ing
		b.StartTimer()
		start := time.Now()
		m, _ := model.Build(&changed, opts)
		built := time.Now()
		ch := opts.Cache.Diff(running, m)
		diffed := time.Now()
		rc.Render(ch.Next, goldenLayout)
		// What haproxy runs now, as the pipeline keeps it.
		running = ch.Next
		build, diff, rend = build+built.Sub(start), diff+diffed.Sub(built), rend+time.Since(diffed)
	}
	perOp := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(b.N) }
	b.ReportMetric(perOp(build+diff+rend), "ms/op")
	b.ReportMetric(perOp(build), "build-ms/op")
	b.ReportMetric(perOp(diff), "diff-ms/op")
	b.ReportMetric(perOp(rend), "render-ms/op")
}
