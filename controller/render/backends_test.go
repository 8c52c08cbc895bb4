package render

import (
	"net/netip"
	"testing"

	"github.com/external-haproxy/kit/controller/model"
)

func TestBackendPolicySnippets(t *testing.T) {
	g := model.Global{BalanceAlgorithm: "roundrobin", TimeoutServer: 50000, TimeoutConnect: 5000, TimeoutTunnel: 3600000}
	own := model.BackendPolicy{Balance: "roundrobin", Timeouts: model.BackendTimeouts{Server: 50000, Connect: 5000, Tunnel: 3600000}}
	svc := model.Ref{Namespace: "ns", Name: "svc"}
	runSnippets(t, g, []snippet{
		{name: "as the defaults section: nothing", absent: []string{"balance", "timeout"}},
		{name: "own balance and timeouts", set: func(g *model.Global) { g.BalanceAlgorithm, g.TimeoutServer, g.TimeoutTunnel = "leastconn", 1000, 1 },
			want: []string{"balance roundrobin", "timeout server 50s", "timeout tunnel 1h"}, absent: []string{"timeout connect"}},
	}, func(g *model.Global) []byte {
		return backends(g, []model.Backend{{Name: "ns_svc_80", Service: svc, Policy: own}})
	})
}

func TestBackendSnippets(t *testing.T) {
	svc := model.Ref{Namespace: "ns", Name: "svc"}
	for _, tc := range []struct {
		name         string
		be           model.Backend
		want, absent []string
	}{
		{"ipv4", model.Backend{Name: "ns_svc_80", Service: svc, Servers: []model.Server{{Name: "srv001", Addr: "10.0.0.1", Port: 8080, Enabled: true}}},
			[]string{"backend ns_svc_80", "server srv001 10.0.0.1:8080"}, nil},
		{"ipv6 in brackets", model.Backend{Name: "ns_svc_80", Service: svc, Servers: []model.Server{{Name: "srv001", Addr: "fd00::1", Port: 80, Enabled: true}}},
			[]string{"server srv001 [fd00::1]:80"}, nil},
		{"disabled slot", model.Backend{Name: "ns_svc_80", Service: svc, Servers: []model.Server{{Name: "srv002", Addr: "127.0.0.1", Port: 1}}},
			[]string{"server srv002 127.0.0.1:1 disabled"}, nil},
		{"404 default backend", model.Backend{Name: model.DefaultBackendName},
			[]string{"backend _default_backend", "http-request return status 404"}, []string{"server"}},
		{"default backend service", model.Backend{Name: model.DefaultBackendName, Service: svc, Servers: []model.Server{{Name: "srv001", Addr: "10.0.0.2", Port: 80, Enabled: true}}},
			[]string{"backend _default_backend", "server srv001 10.0.0.2:80"}, []string{"http-request return"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkLines(t, backends(&model.Global{HTTPSPort: 443}, []model.Backend{tc.be}), tc.want, tc.absent)
		})
	}
}

func TestRateLimitSnippets(t *testing.T) {
	svc := model.Ref{Namespace: "ns", Name: "svc"}
	for _, tc := range []struct {
		name         string
		limit        model.RateLimit
		want, absent []string
	}{
		{"off", model.RateLimit{}, nil, []string{"stick-table", "track-sc1", "deny_status 429"}},
		{"rps and connections", model.RateLimit{RPS: 5, Connections: 2}, []string{
			"stick-table type ipv6 size 100k expire 1m store conn_cur,http_req_rate(1s)",
			"http-request track-sc1 src",
			"http-request deny deny_status 429 if { sc1_http_req_rate gt 5 }",
			"http-request deny deny_status 429 if { sc1_conn_cur gt 2 }",
		}, []string{"acl limit_exempt"}},
		{"whitelist not tracked", model.RateLimit{RPS: 1, Whitelist: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}, []string{
			"acl limit_exempt src 10.0.0.0/8",
			"http-request track-sc1 src unless limit_exempt",
		}, []string{"http-request deny deny_status 429 if { sc1_conn_cur"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			be := model.Backend{Name: "ns_svc_80", Service: svc, Policy: model.BackendPolicy{Limit: tc.limit}}
			checkLines(t, backends(&model.Global{}, []model.Backend{be}), tc.want, tc.absent)
		})
	}
}
