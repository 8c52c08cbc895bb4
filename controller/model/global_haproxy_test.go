package model_test

import (
	"runtime"
	"strconv"
	"testing"

	"github.com/external-haproxy/kit/controller/model"
	"github.com/external-haproxy/kit/test/haproxybin"
)

// TestGlobalLimitsOnHAProxy checks the ConfigMap limits against haproxy
// from both sides: the largest values the model keeps render into a
// configuration haproxy -c accepts without warnings, and one step beyond
// each (forced into the model, as the ConfigMap cannot give it) is refused.
func TestGlobalLimitsOnHAProxy(t *testing.T) {
	max := map[string]string{
		"timeout-client": "2147483647ms", "timeout-client-fin": "24d", "timeout-connect": "1us", "timeout-http-request": "2147483647",
		"timeout-keep-alive": "596h", "timeout-queue": "35791m", "timeout-server": "2147483s", "timeout-server-fin": "1ms",
		"timeout-stop": "2147483647ms", "timeout-tunnel": "24d",
		"nbthread": strconv.Itoa(runtime.NumCPU()), "balance-algorithm": "random(99)", "hsts-max-age": "2147483647", "max-connections": "500000",
		"syslog-endpoint": "localhost:514", // resolved from /etc/hosts: no DNS traffic
	}
	resolves := func(h string) bool { return h == "localhost" }
	m, problems := model.Build(&model.Snapshot{ConfigMap: max}, model.Options{DefaultCertificate: defaultCert(t), Resolves: resolves})
	for _, p := range problems {
		if p.Object == model.ConfigMapRef {
			t.Errorf("limit refused: %s", p)
		}
	}
	// haproxy 3.0 warns when nbthread is above the CPU count, which depends
	// on the machine: the largest value is checked apart, warnings allowed.
	maxThreads := *m
	maxThreads.Global.NbThread = 64
	beyond := []struct {
		name  string
		force func(g *model.Global)
	}{
		{"timeout client", func(g *model.Global) { g.TimeoutClient = 1 << 31 }},
		{"hard-stop-after", func(g *model.Global) { g.TimeoutStop = 1 << 31 }},
		{"nbthread", func(g *model.Global) { g.NbThread = 65 }},
		{"balance random(0)", func(g *model.Global) { g.BalanceAlgorithm = "random(0)" }},
	}
	haproxybin.Run(t, func(t *testing.T, b haproxybin.Build) {
		dir := haproxybin.TempDir(t)
		if err := haproxyCheck(t, b.Path, writeRendered(t, m, dir)); err != nil {
			t.Fatalf("largest accepted values: %v", err)
		}
		if out, err := haproxyC(b.Path, writeRendered(t, &maxThreads, dir)); err != nil {
			t.Errorf("nbthread 64: %v\n%s", err, out)
		}
		for _, c := range beyond {
			over := *m
			c.force(&over.Global)
			if _, err := haproxyC(b.Path, writeRendered(t, &over, dir)); err == nil {
				t.Errorf("%s: haproxy accepts one step beyond the model's limit", c.name)
			}
		}
	})
}
