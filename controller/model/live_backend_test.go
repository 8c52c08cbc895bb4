package model_test

import (
	"net/http"
	"strconv"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/external-haproxy/kit/controller/model"
	"github.com/external-haproxy/kit/test/haproxybin"
	"github.com/external-haproxy/kit/test/liveproxy"
)

// hangs answers nothing until haproxy gives up on the request.
var hangs = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })

// twoEndpoints adds the echo Service ns/name with two endpoints and
// returns their addresses, in slot order.
func twoEndpoints(t *testing.T, snap *model.Snapshot, name string) [2]string {
	a := liveproxy.Backend(t, snap, "ns", name, nil)
	b := liveproxy.Endpoint(t, snap, "ns", name, nil)
	addr := func(p int) string { return "127.0.0.1:" + strconv.Itoa(p) }
	if a > b {
		return [2]string{addr(b), addr(a)}
	}
	return [2]string{addr(a), addr(b)}
}

// served is the endpoint that answered a request for host, failing unless
// it is an echo.
func served(t *testing.T, p *liveproxy.Proxy, host string) string {
	t.Helper()
	r := p.Get(t, "http", host, "/")
	e := r.Echo()
	if r.Status != 200 || e == nil {
		t.Fatalf("%s: status %d %q, want an echo", host, r.Status, r.Body)
	}
	return e.Server
}

// TestLiveTimeoutServer: the backend of the Ingress that sets
// timeout-server answers 504 once its server is silent that long; another
// backend, with the default, still serves.
func TestLiveTimeoutServer(t *testing.T) {
	haproxybin.Run(t, func(t *testing.T, hb haproxybin.Build) {
		snap := &model.Snapshot{}
		liveproxy.Backend(t, snap, "ns", "slow", &http.Server{Handler: hangs})
		liveproxy.Backend(t, snap, "ns", "web", nil)
		slow := ingress("slow", "slow.test", "/", "slow")
		slow.Annotations = map[string]string{"haproxy-ingress.github.io/timeout-server": "200ms"}
		snap.Ingresses = []*networkingv1.Ingress{slow, ingress("web", "web.test", "/", "web")}
		p := liveproxy.Start(t, hb.Path, snap, model.Options{})
		if r := p.Get(t, "http", "slow.test", "/"); r.Status != 504 {
			t.Errorf("slow.test: status %d, want 504 after timeout-server", r.Status)
		}
		served(t, p, "web.test")
	})
}

// TestLiveBalanceAlgorithm: balance-algorithm first sends every request to
// the first server while it is up; the default roundrobin alternates.
func TestLiveBalanceAlgorithm(t *testing.T) {
	haproxybin.Run(t, func(t *testing.T, hb haproxybin.Build) {
		snap := &model.Snapshot{}
		firstEps := twoEndpoints(t, snap, "first")
		rrEps := twoEndpoints(t, snap, "rr")
		first := ingress("first", "first.test", "/", "first")
		first.Annotations = map[string]string{"haproxy-ingress.github.io/balance-algorithm": "first"}
		snap.Ingresses = []*networkingv1.Ingress{first, ingress("rr", "rr.test", "/", "rr")}
		p := liveproxy.Start(t, hb.Path, snap, model.Options{})
		for i := range 4 {
			if got := served(t, p, "first.test"); got != firstEps[0] {
				t.Errorf("first.test request %d: served by %s, want the first server %s", i, got, firstEps[0])
			}
		}
		prev := served(t, p, "rr.test")
		for i := range 4 {
			got := served(t, p, "rr.test")
			if got == prev || got != rrEps[0] && got != rrEps[1] {
				t.Errorf("rr.test request %d: served by %s after %s, want the other of %v", i, got, prev, rrEps)
			}
			prev = got
		}
	})
}
