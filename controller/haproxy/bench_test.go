package haproxy

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/external-haproxy/kit/internal/loopback"
	"github.com/external-haproxy/kit/test/haproxybin"
)

// BenchmarkUpdateVsBareReload compares an Update with a changed config (diff,
// validation, write, reload, confirmation) with a bare confirmed reload of an
// unchanged config through the same client, on one external haproxy.
func BenchmarkUpdateVsBareReload(b *testing.B) {
	haproxybin.Run(b, benchmarkUpdateVsBareReload)
}

func benchmarkUpdateVsBareReload(b *testing.B, _ haproxybin.Build) {
	l := newLayout(b)
	startExternal(b, l)
	ctx := context.Background()
	port := loopback.Ports(b, 1)[0]
	validating := New(Options{Layout: l, Binary: haproxyBinary(b), ConnectionTimeout: 10 * time.Second, Validate: ValidateAlways})
	if _, err := validating.Update(ctx, configSet(l, port, "gen-0", "")); err != nil {
		b.Fatal(err)
	}
	gen := 0
	update := func(b *testing.B, d *Driver) {
		var t Timings
		for b.Loop() {
			gen++
			res, err := d.Update(ctx, configSet(l, port, fmt.Sprintf("gen-%d", gen), ""))
			if err != nil || !res.Reloaded {
				b.Fatalf("%+v %v", res, err)
			}
			t.Validate += res.Timings.Validate
			t.WriteConfig += res.Timings.WriteConfig
			t.ReloadHAProxy += res.Timings.ReloadHAProxy
		}
		n := float64(b.N)
		b.ReportMetric(float64(t.Validate.Microseconds())/1000/n, "validate-ms/op")
		b.ReportMetric(float64(t.WriteConfig.Microseconds())/1000/n, "write-ms/op")
		b.ReportMetric(float64(t.ReloadHAProxy.Microseconds())/1000/n, "reload-ms/op")
	}
	b.Run("Update", func(b *testing.B) { update(b, validating) })
	b.Run("UpdateNoValidation", func(b *testing.B) {
		d := New(Options{Layout: l, ConnectionTimeout: 10 * time.Second})
		update(b, d)
	})
	b.Run("BareReload", func(b *testing.B) {
		for b.Loop() {
			if _, err := validating.Master().Reload(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}
