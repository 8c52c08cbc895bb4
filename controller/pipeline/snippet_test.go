package pipeline

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/external-haproxy/kit/controller/defaultcert"
	"github.com/external-haproxy/kit/controller/haproxy"
	"github.com/external-haproxy/kit/controller/health"
	"github.com/external-haproxy/kit/controller/model"
	"github.com/external-haproxy/kit/internal/loopback"
	"github.com/external-haproxy/kit/test/haproxybin"
)

// TestRejectedBackendSnippet: with --allow-config-snippets a config-backend
// snippet is served (its header is in the answer); one that haproxy
// rejects holds its Ingress alone, on its last accepted version, while
// another Ingress's change in the same burst, and later ones, are served.
func TestRejectedBackendSnippet(t *testing.T) {
	haproxybin.Run(t, func(t *testing.T, hb haproxybin.Build) {
		l := initLayout(t)
		startExternal(t, hb.Path, l)
		cert, err := defaultcert.Generate(time.Now())
		if err != nil {
			t.Fatal(err)
		}
		var reported []model.Problem
		metrics := health.NewMetrics()
		s := &Syncer{Driver: haproxy.New(haproxy.Options{Layout: l, Binary: hb.Path, ConnectionTimeout: 10 * time.Second}),
			Layout: l, Metrics: metrics, Options: model.Options{DefaultCertificate: cert, AllowConfigSnippets: true},
			Report: func(p model.Problem) { reported = append(reported, p) }}

		ports := loopback.Ports(t, 4)
		snap := &model.Snapshot{ConfigMap: map[string]string{"http-port": strconv.Itoa(ports[0]), "https-port": strconv.Itoa(ports[1]),
			"healthz-port": strconv.Itoa(ports[2]), "stats-port": strconv.Itoa(ports[3]), "bind-ip-addr-http": "127.0.0.1"}}
		alpha := ingress("app", "alpha", map[string]string{"alpha.example": "alpha"}, "", "")
		alpha.ResourceVersion = "1"
		alpha.Annotations = map[string]string{"haproxy-ingress.github.io/config-backend": "http-response set-header X-Snippet yes"}
		for _, name := range []string{"alpha", "bravo"} {
			snap.Services = append(snap.Services, service("app", name))
			snap.EndpointSlices = append(snap.EndpointSlices, endpointSlices("app", name, backend(t, name))...)
		}
		// update serves a new snapshot of ings: the syncer keeps the last
		// one it served.
		update := func(ings ...*networkingv1.Ingress) {
			t.Helper()
			snap = &model.Snapshot{ConfigMap: snap.ConfigMap, Ingresses: ings, Services: snap.Services, EndpointSlices: snap.EndpointSlices}
			if err := s.Update(context.Background(), snap); err != nil {
				t.Fatalf("update: %v", err)
			}
		}
		// served checks that host answers with its backend's name and
		// whether it carries the snippet's header.
		served := func(host, body string, header bool) {
			t.Helper()
			req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d/", ports[0]), nil)
			req.Host = host
			resp, err := (&http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}).Do(req)
			if err != nil {
				t.Fatalf("%s: %v", host, err)
			}
			defer resp.Body.Close()
			if r, _ := get(ports[0], host, false); resp.StatusCode != 200 || r.body != body || (resp.Header.Get("X-Snippet") == "yes") != header {
				t.Fatalf("%s: status %d body %q X-Snippet %q, want %q with the header %v", host, resp.StatusCode, r.body, resp.Header.Get("X-Snippet"), body, header)
			}
		}
		update(alpha)
		served("alpha.example", "alpha", true)
		base := rounds(t, metrics)

		// A bad snippet on alpha and a new Ingress in the same burst.
		bad := alpha.DeepCopy()
		bad.ResourceVersion = "2"
		bad.Annotations["haproxy-ingress.github.io/config-backend"] = "http-response set-header X-Snippet yes\nhttp-request frobnicate"
		bravo := ingress("app", "bravo", map[string]string{"bravo.example": "bravo"}, "", "")
		bravo.ResourceVersion = "1"
		update(bad, bravo)
		served("alpha.example", "alpha", true) // its last accepted version
		served("bravo.example", "bravo", false)
		if n := rounds(t, metrics) - base; n != 2 {
			t.Errorf("%d rounds for one rejected snippet, want 2", n)
		}
		alphaRef := model.Ref{Kind: "Ingress", Namespace: "app", Name: "alpha"}
		var held []model.Problem
		for _, p := range reported {
			if p.Severity == model.Error && strings.Contains(p.Message, "[ALERT]") {
				held = append(held, p)
			}
		}
		if len(held) != 1 || held[0].Object != alphaRef || !strings.Contains(held[0].Message, "frobnicate") ||
			!strings.Contains(held[0].Message, "resourceVersion 1") {
			t.Fatalf("want one problem holding %s on its version 1 with haproxy's message, got %+v", alphaRef, held)
		}

		// Another Ingress's change is served while alpha stays held, at
		// no extra check (here none: a new host is a map update).
		base = rounds(t, metrics)
		bravo2 := bravo.DeepCopy()
		bravo2.ResourceVersion = "2"
		bravo2.Spec.Rules[0].Host = "bravo2.example"
		update(bad, bravo2)
		served("bravo2.example", "bravo", false)
		served("alpha.example", "alpha", true)
		if n := rounds(t, metrics) - base; n > 1 {
			t.Errorf("%d rounds with the snippet already held, want at most 1", n)
		}
	})
}
