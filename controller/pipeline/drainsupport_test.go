package pipeline

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/external-haproxy/kit/controller/haproxy/runtime"
	"github.com/external-haproxy/kit/controller/model"
	"github.com/external-haproxy/kit/test/haproxybin"
)

// TestDrainSupportOnRealHAProxy: with drain-support, an endpoint whose pod
// turned not ready keeps serving the client its affinity cookie pins to it,
// while new clients go to the ready one; its slot stays up at weight 0
// (not drained, which would end once it is idle), set through the runtime
// API without a reload.
func TestDrainSupportOnRealHAProxy(t *testing.T) {
	haproxybin.Run(t, func(t *testing.T, hb haproxybin.Build) {
		s, ports, cm := externalSyncer(t, hb, model.Options{})
		ctx := context.Background()
		cm["drain-support"] = "true"
		a1, a2 := backend(t, "a1"), backend(t, "a2")
		ing := ingress("app", "web", map[string]string{"web.example": "a"}, "", "")
		ing.Annotations = map[string]string{"haproxy-ingress.github.io/affinity": "cookie"}
		snap := &model.Snapshot{ConfigMap: cm, Services: []*corev1.Service{service("app", "a")},
			EndpointSlices: endpointSlices("app", "a", a1, a2), Ingresses: []*networkingv1.Ingress{ing}}
		if err := s.Update(ctx, snap); err != nil {
			t.Fatal(err)
		}
		send := func(cookie *http.Cookie) (string, *http.Cookie) {
			t.Helper()
			req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d/", ports[0]), nil)
			req.Host = "web.example"
			if cookie != nil {
				req.AddCookie(cookie)
			}
			resp, err := (&http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			for _, c := range resp.Cookies() {
				if c.Name == "INGRESSCOOKIE" {
					return string(body), c
				}
			}
			return string(body), nil
		}
		pinned, cookie := send(nil)
		if cookie == nil {
			t.Fatalf("no affinity cookie from %s", pinned)
		}
		before, err := s.Driver.Master().ShowProc(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// The pinned endpoint's pod turns not ready.
		notReady := false
		i := map[string]int{"a1": 0, "a2": 1}[pinned]
		snap.EndpointSlices[i].Endpoints[0].Conditions.Ready = &notReady
		if err := s.Update(ctx, snap); err != nil {
			t.Fatal(err)
		}
		for n := range 6 {
			if got, _ := send(nil); got == pinned {
				t.Errorf("new client %d served by the not ready %s", n, pinned)
			}
		}
		if got, _ := send(cookie); got != pinned {
			t.Errorf("client pinned to %s served by %s after its pod turned not ready", pinned, got)
		}
		be := s.running.Backends[len(s.running.Backends)-1]
		out, err := s.Driver.Runtime(ctx, runtime.ShowStat(be.Name))
		if err != nil {
			t.Fatal(err)
		}
		stats, err := runtime.ParseStat(out)
		if err != nil {
			t.Fatal(err)
		}
		// Slots are in the order of the endpoints' ports.
		port, slot := map[string]int{"a1": a1, "a2": a2}[pinned], ""
		for _, srv := range be.Servers {
			if srv.Port == port {
				slot = srv.Name
			}
		}
		if st := stats[slot]; st["status"] != "UP" && st["status"] != "no check" || st["weight"] != "0" {
			t.Errorf("slot of the not ready endpoint: status %q weight %q, want up at weight 0", st["status"], st["weight"])
		}
		after, err := s.Driver.Master().ShowProc(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if after.Master.Reloads != before.Master.Reloads {
			t.Errorf("a not ready endpoint reloaded haproxy (%d -> %d reloads)", before.Master.Reloads, after.Master.Reloads)
		}
	})
}
