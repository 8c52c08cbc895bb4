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

// TestSnippetsLive: with --allow-config-snippets each snippet does on the
// real haproxy what its lines say, in its section: config-global (a header
// count limit), config-defaults (an error page every proxy inherits),
// config-frontend (a request header the backend sees) and config-backend
// (an answer header, from an Ingress for its backend only, and from a
// Service); without the flag none of them does anything.
func TestSnippetsLive(t *testing.T) {
	haproxybin.Run(t, func(t *testing.T, hb haproxybin.Build) {
		for _, allowed := range []bool{true, false} {
			t.Run("allowed="+strconv.FormatBool(allowed), func(t *testing.T) {
				snap := &model.Snapshot{ConfigMap: map[string]string{
					"config-global":   "tune.http.maxhdr 20",
					"config-defaults": `http-error status 503 content-type text/plain string "no snippet server"`,
					"config-frontend": "http-request set-header X-Front yes",
				}}
				a := ingress("a", "a.test", "/", "a")
				a.Annotations = map[string]string{"haproxy-ingress.github.io/config-backend": "http-response set-header X-Snippet a"}
				b := ingress("b", "b.test", "/", "b")
				down := ingress("down", "down.test", "/", "down") // a Service without endpoints: 503
				snap.Ingresses = []*networkingv1.Ingress{a, b, down}
				liveproxy.Backend(t, snap, "ns", "a", nil)
				liveproxy.Backend(t, snap, "ns", "b", nil)
				snap.Services[1].Annotations = map[string]string{"ingress.kubernetes.io/config-backend": "http-response set-header X-Snippet b"}
				p := liveproxy.Start(t, hb.Path, snap, model.Options{AllowConfigSnippets: allowed})

				for _, host := range []string{"a", "b"} {
					r := p.Get(t, "http", host+".test", "/")
					want := ""
					if allowed {
						want = host
					}
					if e := r.Echo(); r.Status != 200 || e == nil || r.Header.Get("X-Snippet") != want || (e.Header.Get("X-Front") == "yes") != allowed {
						t.Errorf("%s.test: %d %+v X-Snippet %q, want %q and X-Front seen: %v", host, r.Status, e, r.Header.Get("X-Snippet"), want, allowed)
					}
				}
				if r := p.Get(t, "http", "down.test", "/"); r.Status != 503 || (r.Body == "no snippet server") != allowed {
					t.Errorf("down.test: %d %q", r.Status, r.Body)
				}
				req, _ := http.NewRequest("GET", "http://x/", nil)
				req.Host = "a.test"
				for i := range 30 {
					req.Header.Set("X-H"+strconv.Itoa(i), "x")
				}
				if r := p.Do(t, req); (r.Status == 400) != allowed {
					t.Errorf("30 headers: %d, want 400 only with tune.http.maxhdr 20", r.Status)
				}
			})
		}
	})
}
