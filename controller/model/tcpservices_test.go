package model_test

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/external-haproxy/kit/controller/model"
	"github.com/external-haproxy/kit/test/testcert"
)

var tcpServicesRef = model.Ref{Kind: "ConfigMap", Namespace: "ingress", Name: "tcp"}

// tcpSnapshot has the Service ns/db (port 5432 named "pg") and the TCP
// services of data.
func tcpSnapshot(data map[string]string, secrets ...*corev1.Secret) *model.Snapshot {
	return &model.Snapshot{
		Services: []*corev1.Service{{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "ns"},
			Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "pg", Port: 5432}}}}},
		Secrets:     secrets,
		TCPServices: &model.TCPServicesSource{Source: tcpServicesRef, Data: data},
	}
}

// TestTCPServicesModel: each entry of --tcp-services-configmap becomes a
// TCP service on its port with a backend of its own, its fields parsed as
// upstream writes them; a bad entry is an error on its field and left
// out, the others stay.
func TestTCPServicesModel(t *testing.T) {
	crt, key := testcert.SelfSigned(t, testcert.ECKey(t), "tcp", "tcp.test")
	ca := testcert.NewCA(t, "ca")
	secrets := []*corev1.Secret{tlsSecret("tcp-crt", crt, key), caSecret("tcp-ca", ca.PEM)}
	bad := map[string]string{
		"0":     "ns/db:5432",
		"07000": "ns/db:5432",
		"x":     "ns/db:5432",
		"7001":  "db:5432",
		"7002":  "ns/db",
		"7003":  "ns/db:5432:PROXY:PROXY:::::",
		"7004":  "ns/db:5432:proxy",
		"7005":  "ns/db:5432::PROXY-V3",
		"7006":  "ns/db:5432::::10",
		"7007":  "ns/db:5432::::1s\nbind :22",
		"7008":  "ns/db:5432:::missing",
		"7009":  "ns/db:5432::::-:ns/tcp-ca",
		"7010":  "ns/db:5432:::../etc",
		"7011":  "ns/db:0",
		"80":    "ns/db:5432",
		"7012":  "ns/db: 5432",
	}
	data := map[string]string{
		"5432": "ns/db:5432",
		"5433": "ns/db:pg:PROXY:PROXY-V1::-",
		"5434": "ns/db:5432::PROXY:tcp-crt:500ms:ns/tcp-ca",
	}
	for k, v := range bad {
		data[k] = v
	}
	m, problems := model.Build(tcpSnapshot(data, secrets...), model.Options{DefaultCertificate: defaultCert(t)})
	var got []string
	for _, s := range m.TCPServices {
		be := backendNamed(t, m, s.Backend)
		o := be.Policy.Server
		check := "off"
		if o.Check.On() {
			check = o.Check.Interval.String()
		}
		got = append(got, strings.Join([]string{s.Backend, be.Servers[0].Name, boolWord(s.AcceptProxy), o.ProxyProtocol, check,
			boolWord(s.Cert != nil), boolWord(s.ClientCA != nil), boolWord(be.Policy.TCP)}, " "))
		if s.Source != tcpServicesRef || s.Addr.IP != "" {
			t.Errorf("%s: source %v, address %v", s.Backend, s.Source, s.Addr)
		}
	}
	want := []string{
		"_tcp_5432 srv001 false  2s false false true",
		"_tcp_5433 srv001 true v1 off false false true",
		"_tcp_5434 srv001 false v2 500ms true true true",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("TCP services:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	reported := map[string]string{}
	for _, p := range problems {
		if p.Object == tcpServicesRef {
			reported[p.Field] = p.Message
		}
	}
	for k := range bad {
		msg, ok := reported["data["+k+"]"]
		switch {
		case !ok:
			t.Errorf("entry %s %q: no problem reported", k, bad[k])
		case strings.ContainsAny(msg, "\n"):
			t.Errorf("entry %s: message %q holds a newline", k, msg)
		}
	}
	if len(reported) != len(bad) {
		t.Errorf("problems %v, want one per bad entry", reported)
	}
	if !strings.Contains(reported["data[80]"], "http frontend") {
		t.Errorf("port 80: %q, want a clash with the http frontend", reported["data[80]"])
	}
}

// TestTCPServicesMissing: a TCP services ConfigMap that is not there is a
// warning on it; a Service that is not there leaves the port without
// servers, as an Ingress's backend.
func TestTCPServicesMissing(t *testing.T) {
	s := tcpSnapshot(nil)
	s.TCPServices.Missing = "not found"
	m, problems := model.Build(s, model.Options{DefaultCertificate: defaultCert(t)})
	if len(m.TCPServices) != 0 || len(problems) != 1 || problems[0].Object != tcpServicesRef || problems[0].Severity != model.Warning {
		t.Errorf("services %v, problems %v", m.TCPServices, problems)
	}
	m, problems = model.Build(tcpSnapshot(map[string]string{"5432": "ns/other:5432"}), model.Options{DefaultCertificate: defaultCert(t)})
	if len(m.TCPServices) != 1 || len(problems) != 1 || !strings.Contains(problems[0].Message, "service ns/other not found") {
		t.Fatalf("services %v, problems %v", m.TCPServices, problems)
	}
	for _, srv := range backendNamed(t, m, "_tcp_5432").Servers {
		if srv.Enabled {
			t.Errorf("server %v enabled", srv)
		}
	}
}

func backendNamed(t *testing.T, m *model.Model, name string) *model.Backend {
	t.Helper()
	for i := range m.Backends {
		if m.Backends[i].Name == name {
			return &m.Backends[i]
		}
	}
	t.Fatalf("no backend %s", name)
	return nil
}

func boolWord(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// TestTCPServiceEndpointsWithoutReload: the servers of a TCP service move
// through the runtime API like those of an Ingress's backend; a changed
// entry reloads.
func TestTCPServiceEndpointsWithoutReload(t *testing.T) {
	build := func(entry, addr string) *model.Model {
		s := tcpSnapshot(map[string]string{"5432": entry})
		port := int32(5432)
		s.EndpointSlices = []*discoveryv1.EndpointSlice{{
			ObjectMeta:  metav1.ObjectMeta{Name: "db-1", Namespace: "ns", Labels: map[string]string{discoveryv1.LabelServiceName: "db"}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Ports:       []discoveryv1.EndpointPort{{Name: ptr("pg"), Port: &port}},
			Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{addr}}},
		}}
		m, _ := model.Build(s, model.Options{DefaultCertificate: defaultCert(t)})
		return m
	}
	c := model.Diff(build("ns/db:pg", "10.0.0.1"), build("ns/db:pg", "10.0.0.2"))
	if c.Reload || len(c.Slots) == 0 {
		t.Fatalf("endpoint change: reload %v %q, slots %v", c.Reload, c.Reasons, c.Slots)
	}
	for _, op := range c.Slots {
		if op.Backend != "_tcp_5432" {
			t.Errorf("slot change %+v, want one of _tcp_5432", op)
		}
	}
	if c := model.Diff(build("ns/db:pg", "10.0.0.1"), build("ns/db:pg::PROXY", "10.0.0.1")); !c.Reload {
		t.Error("a changed entry does not reload")
	}
}
