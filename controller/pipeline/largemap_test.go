package pipeline

import (
	"context"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/external-haproxy/kit/controller/model"
	"github.com/external-haproxy/kit/test/haproxybin"
)

// TestLargeMapChangeAtRunTime: 3,000 new hosts on an existing Service are
// one map change of some 200 kB, sent through the runtime API in commands
// that fit haproxy's buffer (haproxy 2.6 aborts its worker on a larger
// payload): every host is served by the same worker, with no reload.
func TestLargeMapChangeAtRunTime(t *testing.T) {
	haproxybin.Run(t, func(t *testing.T, hb haproxybin.Build) {
		s, ports, cm := externalSyncer(t, hb, model.Options{})
		driver, ctx := s.Driver, context.Background()
		snap := &model.Snapshot{
			ConfigMap:      cm,
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
