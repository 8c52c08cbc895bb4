package render

import (
	"path/filepath"
	"testing"

	"github.com/external-haproxy/kit/controller/files"
	"github.com/external-haproxy/kit/controller/model"
)

// TestTCPServiceSnippets: a TCP service is a TCP frontend on its port and
// a backend whose servers get the entry's PROXY protocol and check; with
// a certificate it ends TLS from files of its own, with a CA it asks the
// client for a certificate.
func TestTCPServiceSnippets(t *testing.T) {
	l := files.DefaultLayout("")
	g := model.Global{BalanceAlgorithm: "roundrobin", TimeoutClient: 1000, SyslogEndpoint: "127.0.0.1:514"}
	m := &model.Model{Global: g,
		Backends: []model.Backend{
			{Name: "_tcp_5432", Service: model.Ref{Name: "db"}, Policy: model.BackendPolicy{Balance: "roundrobin", TCP: true,
				Server: model.ServerOptions{ProxyProtocol: "v1", Check: model.HealthCheck{Interval: 2000}}},
				Servers: []model.Server{{Name: "srv001", Addr: "10.0.0.1", Port: 5432, Enabled: true}, {Name: "srv002", Addr: "127.0.0.1", Port: 1}}},
			{Name: "_tcp_6000", Service: model.Ref{Name: "db"}, Policy: model.BackendPolicy{Balance: "leastconn", TCP: true}},
		},
		TCPServices: []model.TCPService{
			{Addr: model.Addr{IP: "127.0.0.1", Port: 5432}, Backend: "_tcp_5432", AcceptProxy: true},
			{Addr: model.Addr{Port: 6000}, Backend: "_tcp_6000", Cert: &model.Cert{Name: "ns_crt", PEM: []byte("key")},
				ClientCA: &model.ClientCA{Name: "ns_ca", PEM: []byte("ca"), CRL: []byte("crl")}},
		},
	}
	got := map[string]files.File{}
	for _, f := range tcpFiles(m, l) {
		got[filepath.Base(f.Path)] = f
	}
	checkLines(t, got[TCPFile].Data, []string{
		"defaults tcp", "mode tcp", "log global",
		"frontend tcp_5432 from tcp", "bind 127.0.0.1:5432 accept-proxy", "option tcplog", "default_backend _tcp_5432",
		"backend _tcp_5432 from tcp", "default-server check inter 2s send-proxy", "server srv001 10.0.0.1:5432", "server srv002 127.0.0.1:1 disabled",
		"frontend tcp_6000 from tcp",
		"bind :6000 ssl crt '/var/lib/haproxy/crt/tcp/tcp_6000-crt.pem' ca-file '/var/lib/haproxy/crt/tcp/tcp_6000-ca.pem' verify required crl-file '/var/lib/haproxy/crt/tcp/tcp_6000-crl.pem'",
		"backend _tcp_6000 from tcp", "balance leastconn",
	}, []string{"frontend passthrough"})
	if f := got["tcp_6000-crt.pem"]; string(f.Data) != "key" || !f.Private {
		t.Errorf("certificate file %+v, want the bundle, private", f)
	}
	if string(got["tcp_6000-ca.pem"].Data) != "ca" || string(got["tcp_6000-crl.pem"].Data) != "crl" {
		t.Errorf("CA files %q %q", got["tcp_6000-ca.pem"].Data, got["tcp_6000-crl.pem"].Data)
	}
	m.Global.TCPLogFormat = "%ci %b"
	set := tcpFiles(m, l)
	checkLines(t, set[len(set)-1].Data, []string{"log-format '%ci %b'"}, []string{"option tcplog"})
	checkLines(t, backends(&g, m.Backends), nil, []string{"backend _tcp_5432"})
	if tcpFiles(&model.Model{}, l) != nil {
		t.Error("TCP files without TCP services or passthrough")
	}
}
