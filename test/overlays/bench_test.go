package overlays

import (
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/external-haproxy/kit/test/testbin"
)

// BenchmarkFunctionOverlayVsStatic times `kustomize build` of the function
// overlay against the static one, alternating so that both see the same
// machine load, and reports the ratio users pay for the function.
func BenchmarkFunctionOverlayVsStatic(b *testing.B) {
	kz := testbin.Kustomize(b)
	env := testbin.EnvWithFn(b)
	run := func(args ...string) time.Duration {
		cmd := exec.Command(kz, args...)
		cmd.Env = env
		start := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("kustomize %v: %v\n%s", args, err, out)
		}
		return time.Since(start)
	}
	var fn, static time.Duration
	for b.Loop() {
		fn += run("build", "--enable-alpha-plugins", "--enable-exec", filepath.Join(root, "overlays/external-haproxy"))
		static += run("build", filepath.Join(root, "overlays/external-haproxy-static"))
	}
	b.ReportMetric(float64(fn.Microseconds())/float64(b.N)/1000, "fn-ms/build")
	b.ReportMetric(float64(static.Microseconds())/float64(b.N)/1000, "static-ms/build")
	b.ReportMetric(float64(fn)/float64(static), "fn/static")
}
