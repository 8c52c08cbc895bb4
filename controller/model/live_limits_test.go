package model_test

import (
	"net/http"
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/external-haproxy/kit/controller/model"
	"github.com/external-haproxy/kit/test/haproxybin"
	"github.com/external-haproxy/kit/test/liveproxy"
)

// TestLiveRateLimits: limit-rps answers 429 once a client address sent more
// requests in a second; limit-whitelist exempts it; limit-connections
// answers 429 to a request beyond those in progress.
func TestLiveRateLimits(t *testing.T) {
	haproxybin.Run(t, func(t *testing.T, hb haproxybin.Build) {
		started, release := make(chan struct{}, 2), make(chan struct{})
		snap := &model.Snapshot{}
		liveproxy.Backend(t, snap, "ns", "web", nil)
		liveproxy.Backend(t, snap, "ns", "busy", holding(started, release))
		limited := ingress("limited", "limited.test", "/", "web")
		limited.Annotations = map[string]string{"haproxy-ingress.github.io/limit-rps": "3"}
		exempt := ingress("exempt", "exempt.test", "/", "web")
		exempt.Annotations = map[string]string{"haproxy-ingress.github.io/limit-rps": "3", "haproxy-ingress.github.io/limit-whitelist": "127.0.0.0/8"}
		// Another Service: the two rps Ingresses share backend web, whose
		// older Ingress (limited) sets its keys.
		liveproxy.Backend(t, snap, "ns", "open", nil)
		exempt.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Name = "open"
		busy := ingress("busy", "busy.test", "/", "busy")
		busy.Annotations = map[string]string{"haproxy-ingress.github.io/limit-connections": "1"}
		snap.Ingresses = []*networkingv1.Ingress{limited, exempt, busy}
		p := liveproxy.Start(t, hb.Path, snap, model.Options{})

		count := func(host string) (ok, limited int) {
			for range 8 {
				switch s := p.Get(t, "http", host, "/").Status; s {
				case http.StatusOK:
					ok++
				case http.StatusTooManyRequests:
					limited++
				default:
					t.Fatalf("%s: status %d", host, s)
				}
			}
			return ok, limited
		}
		// 8 requests take far less than a second on loopback: at most 3
		// pass (a second boundary in between lets a few more through).
		if ok, lim := count("limited.test"); lim == 0 || ok > 6 {
			t.Errorf("limited.test: %d served, %d refused with 429; want the requests over 3/s refused", ok, lim)
		}
		if ok, lim := count("exempt.test"); lim != 0 || ok != 8 {
			t.Errorf("exempt.test: %d served, %d refused; want all served (whitelisted)", ok, lim)
		}

		first := inBackground(t, p, "busy.test")
		held(t, started, first)
		r := p.Get(t, "http", "busy.test", "/")
		close(release)
		if r.Status != http.StatusTooManyRequests {
			t.Errorf("busy.test beyond limit-connections: %d, want 429", r.Status)
		}
		if r := <-first; r.status != http.StatusOK {
			t.Errorf("request in progress: %+v, want 200", r)
		}
	})
}

// TestRateLimitKeys: the limit-* values land in the backend policy, the
// ConfigMap's as every backend's default; a bad one is reported and left
// at its default.
func TestRateLimitKeys(t *testing.T) {
	ing := ingress("a", "a.test", "/", "web")
	ing.Annotations = map[string]string{"haproxy-ingress.github.io/limit-rps": "fast", "haproxy-ingress.github.io/limit-whitelist": "10.1.2.3, 192.0.2.0/24"}
	m, problems := model.Build(&model.Snapshot{Ingresses: []*networkingv1.Ingress{ing}, ConfigMap: map[string]string{"limit-connections": "7"}}, model.Options{})
	var l model.RateLimit
	for _, be := range m.Backends {
		if be.Name == "ns_web_80" {
			l = be.Policy.Limit
		}
	}
	if l.RPS != 0 || l.Connections != 7 || len(l.Whitelist) != 2 || l.Whitelist[0].String() != "10.1.2.3/32" {
		t.Errorf("limit %+v, want rps 0 (bad value), connections 7 (ConfigMap), whitelist 10.1.2.3/32 192.0.2.0/24", l)
	}
	found := false
	for _, p := range problems {
		found = found || p.Field == "annotation haproxy-ingress.github.io/limit-rps" && strings.Contains(p.Message, `"fast"`)
	}
	if !found {
		t.Errorf("no problem naming limit-rps and its value: %v", problems)
	}
}
