package render

import (
	"testing"

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
	} {
		be := model.Backend{Name: "ns_svc_80", Service: model.Ref{Namespace: "ns", Name: "svc"}, Policy: model.BackendPolicy{Upstream: tc.u},
			Servers: []model.Server{{Name: "srv001", Addr: "10.0.0.1", Port: 80, Enabled: true}}}
		t.Run(tc.u.Protocol+" "+tc.u.SNI, func(t *testing.T) {
			checkLines(t, backends(&model.Global{}, []model.Backend{be}), append(tc.want, "server srv001 10.0.0.1:80"), tc.absent)
		})
	}
}
