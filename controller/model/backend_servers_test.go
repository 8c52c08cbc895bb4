package model_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/external-haproxy/kit/controller/model"
)

func TestServerOptions(t *testing.T) {
	const pre = "haproxy-ingress.github.io/"
	for _, c := range []struct {
		name    string
		cm, ann map[string]string
		want    model.ServerOptions
		problem string
	}{
		{"none by default", nil, nil, model.ServerOptions{Weight: 1}, ""},
		{"every key", nil, map[string]string{pre + "maxconn-server": "10", pre + "maxqueue-server": "5", pre + "health-check-uri": "/healthz",
			pre + "health-check-interval": "500ms", pre + "health-check-rise-count": "1", pre + "health-check-fall-count": "2", pre + "proxy-protocol": "v2-ssl", pre + "initial-weight": "100"},
			model.ServerOptions{MaxConn: 10, MaxQueue: 5, Weight: 100, Check: model.HealthCheck{URI: "/healthz", Interval: 500, Rise: 1, Fall: 2}, ProxyProtocol: "v2-ssl"}, ""},
		{"ConfigMap default", map[string]string{"health-check-interval": "1s", "proxy-protocol": "v1"}, nil,
			model.ServerOptions{Weight: 1, Check: model.HealthCheck{Interval: 1000}, ProxyProtocol: "v1"}, ""},
		{"negative maxconn", nil, map[string]string{pre + "maxconn-server": "-1"}, model.ServerOptions{Weight: 1}, `invalid value "-1"`},
		{"check path with a space", nil, map[string]string{pre + "health-check-uri": "/a b"}, model.ServerOptions{Weight: 1}, "health-check-uri"},
		{"old name of the check interval", nil, map[string]string{pre + "backend-check-interval": "3s"},
			model.ServerOptions{Weight: 1, Check: model.HealthCheck{Interval: 3000}}, ""},
		{"weight 0", nil, map[string]string{pre + "initial-weight": "0"}, model.ServerOptions{Weight: 1}, `invalid value "0"`},
		{"weight over haproxy's 256", nil, map[string]string{pre + "initial-weight": "257"}, model.ServerOptions{Weight: 1}, `invalid value "257"`},
		{"unknown PROXY version", nil, map[string]string{pre + "proxy-protocol": "v3"}, model.ServerOptions{Weight: 1}, `invalid value "v3"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, problems := backendPolicy(t, c.cm, c.ann)
			if !reflect.DeepEqual(p.Server, c.want) {
				t.Errorf("server options %+v, want %+v", p.Server, c.want)
			}
			var got []string
			for _, pr := range problems {
				if strings.HasPrefix(pr.Field, "annotation ") {
					got = append(got, pr.String())
				}
			}
			if c.problem == "" && len(got) > 0 || c.problem != "" && (len(got) != 1 || !strings.Contains(got[0], c.problem)) {
				t.Errorf("problems %q, want %q", got, c.problem)
			}
		})
	}
}

// TestKeepsServerState: a server's state carries over a reload only to
// the same backend and server, enabled at the same address and port.
func TestKeepsServerState(t *testing.T) {
	m := &model.Model{Backends: []model.Backend{{Name: "be", Servers: []model.Server{
		{Name: "srv001", Addr: "10.0.0.1", Port: 8080, Enabled: true},
		{Name: "srv002", Addr: "127.0.0.1", Port: 1},
	}}}}
	keep := m.KeepsServerState()
	for _, c := range []struct {
		backend, server, addr string
		port                  int
		want                  bool
	}{
		{"be", "srv001", "10.0.0.1", 8080, true},
		{"be", "srv001", "10.0.0.1", 8081, false},
		{"be", "srv001", "10.0.0.2", 8080, false},
		{"be", "srv002", "127.0.0.1", 1, false},
		{"other", "srv001", "10.0.0.1", 8080, false},
	} {
		if got := keep(c.backend, c.server, c.addr, c.port); got != c.want {
			t.Errorf("%s/%s at %s:%d: kept %v, want %v", c.backend, c.server, c.addr, c.port, got, c.want)
		}
	}
}
