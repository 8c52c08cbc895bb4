package render

import (
	"testing"

	"github.com/external-haproxy/kit/controller/files"
	"github.com/external-haproxy/kit/controller/model"
)

func TestUpstreamSnippets(t *testing.T) {
	for _, tc := range []struct {
		u      model.Upstream
		want   []string
		absent []string
	}{
		{model.Upstream{Protocol: "h1"}, nil, []string{"default-server"}},
		{model.Upstream{Protocol: "h2"}, []string{"default-server proto h2"}, nil},
		{model.Upstream{Protocol: "h1-ssl", SNI: "sni"}, []string{"default-server ssl verify none sni ssl_fc_sni"}, nil},
		{model.Upstream{Protocol: "h2-ssl", SNI: "host"}, []string{"default-server ssl verify none alpn h2 sni var(txn.host)"}, nil},
		{model.Upstream{Protocol: "h1-ssl", SNI: "b.example"}, []string{"default-server ssl verify none sni 'str(b.example)'"}, nil},
		{model.Upstream{Protocol: "h2-ssl", CA: []byte("ca"), ClientCert: []byte("crt")},
			[]string{"default-server ssl verify required ca-file 'backends/ns_svc_80-ca.pem' crt 'backends/ns_svc_80-crt.pem' alpn h2"}, nil},
	} {
		be := model.Backend{Name: "ns_svc_80", Service: model.Ref{Namespace: "ns", Name: "svc"}, Policy: model.BackendPolicy{Upstream: tc.u},
			Servers: []model.Server{{Name: "srv001", Addr: "10.0.0.1", Port: 80, Enabled: true}}}
		t.Run(tc.u.Protocol+" "+tc.u.SNI, func(t *testing.T) {
			checkLines(t, backends(&model.Global{}, []model.Backend{be}), append(tc.want, "server srv001 10.0.0.1:80"), tc.absent)
		})
	}
}

// TestBackendTLSFiles: the client certificate is a private file, the CA
// bundle a public one, where the default-server line names them.
func TestBackendTLSFiles(t *testing.T) {
	l := files.Layout{Etc: "/e", Lib: "/l", Run: "/r"}
	m := &model.Model{Backends: []model.Backend{{Name: "ns_svc_80", Policy: model.BackendPolicy{Upstream: model.Upstream{Protocol: "h1-ssl", CA: []byte("ca"), ClientCert: []byte("crt")}}}}}
	got := map[string]files.File{}
	for _, f := range backendTLSFiles(m, l) {
		got[f.Path] = f
	}
	if f := got["/l/crt/backends/ns_svc_80-crt.pem"]; string(f.Data) != "crt" || !f.Private {
		t.Errorf("client certificate file %+v", f)
	}
	if f := got["/l/crt/backends/ns_svc_80-ca.pem"]; string(f.Data) != "ca" || f.Private {
		t.Errorf("CA file %+v", f)
	}
	if len(got) != 2 {
		t.Errorf("files %v, want 2", got)
	}
}
