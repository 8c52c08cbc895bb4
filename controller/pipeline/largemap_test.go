package pipeline

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/external-haproxy/kit/controller/defaultcert"
	"github.com/external-haproxy/kit/controller/haproxy"
	"github.com/external-haproxy/kit/controller/health"
	"github.com/external-haproxy/kit/controller/model"
	"github.com/external-haproxy/kit/internal/loopback"
	"github.com/external-haproxy/kit/test/haproxybin"
)

// TestLargeMapChangeAtRunTime: 3,000 new hosts on an existing Service are
// one map change of some 200 kB, sent through the runtime API in commands
// that fit haproxy's buffer (haproxy 2.6 aborts its worker on a larger
// payload): every host is served by the same worker, with no reload.
func TestLargeMapChangeAtRunTime(t *testing.T) {
	haproxybin.Run(t, func(t *testing.T, hb haproxybin.Build) {
		l := initLayout(t)
		startExternal(t, hb.Path, l)
		ctx := context.Background()
		cert, err := defaultcert.Generate(time.Now())
		if err != nil {
			t.Fatal(err)
		}
		driver := haproxy.New(haproxy.Options{Layout: l, Binary: hb.Path, ConnectionTimeout: 10 * time.Second})
		s := &Syncer{Driver: driver, Layout: l, Metrics: health.NewMetrics(), Options: model.Options{DefaultCertificate: cert}}
		ports := loopback.Ports(t, 4)
		snap := &model.Snapshot{
			ConfigMap: map[string]string{"http-port": strconv.Itoa(ports[0]), "https-port": strconv.Itoa(ports[1]),
				"healthz-port": strconv.Itoa(ports[2]), "stats-port": strconv.Itoa(ports[3]), "bind-ip-addr-http": "127.0.0.1"},
			Services:       []*corev1.Service{service("app", "a")},
			EndpointSlices: endpointSlices("app", "a", backend(t, "a1")),
		}
		snap.Ingresses = append(snap.Ingresses, ingress("app", "first", map[string]string{"first.example": "a"}, "", ""))
		if err := s.Update(ctx, snap); err != nil {
			t.Fatal(err)
		}
		before, err := driver.Master().ShowProc(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 30 {
			rules := map[string]string{}
			for j := range 100 {
				rules[fmt.Sprintf("host-%d-%d.a-rather-long-domain-name.example", i, j)] = "a"
			}
			snap.Ingresses = append(snap.Ingresses, ingress("app", fmt.Sprintf("many-%d", i), rules, "", ""))
		}
		if err := s.Update(ctx, snap); err != nil {
			t.Fatal(err)
		}
		for _, host := range []string{"first.example", "host-0-0.a-rather-long-domain-name.example", "host-29-99.a-rather-long-domain-name.example"} {
			if r, err := get(ports[0], host, false); err != nil || r.status != 200 || r.body != "a1" {
				t.Fatalf("%s: %+v, %v", host, r, err)
			}
		}
		after, err := driver.Master().ShowProc(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if after.Master.Reloads != before.Master.Reloads || after.CurrentWorker() != before.CurrentWorker() {
			t.Fatalf("3,000 new hosts: reloads %d -> %d, worker %d -> %d; want the same worker, no reload",
				before.Master.Reloads, after.Master.Reloads, before.CurrentWorker(), after.CurrentWorker())
		}
	})
}
