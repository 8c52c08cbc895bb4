package render

import (
	"testing"

	"github.com/external-haproxy/kit/controller/model"
)

func TestServerDefaultsSnippets(t *testing.T) {
	for _, tc := range []struct {
		name   string
		p      model.BackendPolicy
		want   []string
		absent []string
	}{
		{"none", model.BackendPolicy{}, nil, []string{"default-server", "option httpchk"}},
		{"limits", model.BackendPolicy{Server: model.ServerOptions{MaxConn: 10, MaxQueue: 5}}, []string{"default-server maxconn 10 maxqueue 5"}, []string{"option httpchk"}},
		{"TCP check", model.BackendPolicy{Server: model.ServerOptions{Check: model.HealthCheck{Interval: 500}}}, []string{"default-server check inter 500ms"}, []string{"option httpchk"}},
		{"HTTP check", model.BackendPolicy{Server: model.ServerOptions{Check: model.HealthCheck{URI: "/it's", Rise: 1, Fall: 2}}},
			[]string{`option httpchk GET '/it'\''s'`, "default-server check rise 1 fall 2"}, nil},
		{"weight", model.BackendPolicy{Server: model.ServerOptions{Weight: 100}}, []string{"default-server weight 100"}, nil},
		{"haproxy's weight", model.BackendPolicy{Server: model.ServerOptions{Weight: 1}}, nil, []string{"default-server", "weight"}},
		{"with the protocol", model.BackendPolicy{Upstream: model.Upstream{Protocol: "h2"}, Server: model.ServerOptions{ProxyProtocol: "v2-ssl-cn"}},
			[]string{"default-server proto h2 send-proxy-v2-ssl-cn"}, nil},
	} {
		be := model.Backend{Name: "ns_svc_80", Service: model.Ref{Namespace: "ns", Name: "svc"}, Policy: tc.p,
			Servers: []model.Server{{Name: "srv001", Addr: "10.0.0.1", Port: 80, Enabled: true}}}
		t.Run(tc.name, func(t *testing.T) {
			checkLines(t, backends(&model.Global{}, []model.Backend{be}), append(tc.want, "server srv001 10.0.0.1:80"), tc.absent)
		})
	}
}

// TestServerWeightSnippets: a server's own weight (blue-green-balance)
// is on its line unless default-server has it already.
func TestServerWeightSnippets(t *testing.T) {
	p := model.BackendPolicy{Server: model.ServerOptions{Weight: 100}}
	be := model.Backend{Name: "ns_svc_80", Service: model.Ref{Namespace: "ns", Name: "svc"}, Policy: p, Servers: []model.Server{
		{Name: "srv001", Addr: "10.0.0.1", Port: 80, Enabled: true, Weighted: true, Weight: 0},
		{Name: "srv002", Addr: "10.0.0.2", Port: 80, Enabled: true, Weighted: true, Weight: 100},
		{Name: "srv003", Addr: "10.0.0.3", Port: 80, Enabled: true, Weighted: true, Weight: 256},
		{Name: "srv004", Addr: "127.0.0.1", Port: 1},
	}}
	checkLines(t, backends(&model.Global{}, []model.Backend{be}),
		[]string{"default-server weight 100", "server srv001 10.0.0.1:80 weight 0", "server srv002 10.0.0.2:80", "server srv003 10.0.0.3:80 weight 256", "server srv004 127.0.0.1:1 disabled"}, nil)
}
