package render

import (
	"strings"
	"testing"

	"github.com/external-haproxy/kit/controller/files"
	"github.com/external-haproxy/kit/controller/model"
)

// TestConfigSnippets: each config-* key's lines land in their section, in
// their place: the global and defaults ones last, the frontend one in the
// http and https frontends (not healthz or stats) before use_backend, the
// backend one before the servers.
func TestConfigSnippets(t *testing.T) {
	g := model.Global{TimeoutStop: 1000, BalanceAlgorithm: "roundrobin", ForwardFor: "add",
		ConfigGlobal: model.Snippet{"tune.bufsize 32768"}, ConfigDefaults: model.Snippet{"option log-health-checks"},
		ConfigFrontend: model.Snippet{"capture request header X-User len 32", "http-request set-header X-Front yes"}}
	l := files.DefaultLayout("")
	order := func(what string, text []byte, lines ...string) {
		t.Helper()
		at := -1
		for _, want := range lines {
			i := strings.Index(string(text), "\n    "+want+"\n")
			if i <= at {
				t.Errorf("%s: %q missing or out of order in:\n%s", what, want, text)
			}
			at = i
		}
	}
	order("global", global(&g, l), "maxconn 0", "tune.bufsize 32768")
	if !strings.HasSuffix(string(global(&g, l)), "    tune.bufsize 32768\n") {
		t.Errorf("global snippet not last")
	}
	order("defaults", defaults(&g), "timeout tunnel 0d", "option log-health-checks")
	fs := []model.Frontend{{Kind: model.FrontendHTTP, Port: 80}, {Kind: model.FrontendHTTPS, Port: 443}, {Kind: model.FrontendHealthz, Port: 1}, {Kind: model.FrontendStats, Port: 2}}
	text := string(frontends(fs, &g, policies{}, l))
	for _, section := range strings.Split(text, "\n\n") {
		kind := strings.Fields(section)[1]
		n := strings.Count(section, "    http-request set-header X-Front yes\n")
		if want := map[string]int{"http": 1, "https": 1}[kind]; n != want {
			t.Errorf("frontend %s has the snippet %d times, want %d:\n%s", kind, n, want, section)
		}
		if n > 0 {
			order("frontend "+kind, []byte(section+"\n"), "capture request header X-User len 32", "http-request set-header X-Front yes", "use_backend %[var(txn.backend)] if { var(txn.backend) -m found }")
		}
	}
	be := model.Backend{Name: "ns_svc_80", Service: model.Ref{Kind: "Service", Namespace: "ns", Name: "svc"},
		Policy:  model.BackendPolicy{Balance: "leastconn", Snippet: model.BackendSnippet{Lines: model.Snippet{"http-response set-header X-Snippet yes"}}},
		Servers: []model.Server{{Name: "srv001", Addr: "127.0.0.1", Port: 1}}}
	order("backend", backends(&g, []model.Backend{be}), "balance leastconn", "http-response set-header X-Snippet yes", "server srv001 127.0.0.1:1 disabled")
}
