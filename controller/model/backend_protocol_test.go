package model_test

import (
	"strings"
	"testing"

	"github.com/external-haproxy/kit/controller/model"
)

func TestBackendProtocol(t *testing.T) {
	const pre = "haproxy-ingress.github.io/"
	for _, c := range []struct {
		name    string
		cm, ann map[string]string
		want    model.Upstream
		problem string
	}{
		{"default h1 in clear", nil, nil, model.Upstream{Protocol: "h1"}, ""},
		{"h2", nil, map[string]string{pre + "backend-protocol": "h2"}, model.Upstream{Protocol: "h2"}, ""},
		{"grpcs is h2-ssl", nil, map[string]string{pre + "backend-protocol": "GRPCS"}, model.Upstream{Protocol: "h2-ssl"}, ""},
		{"secure-backends makes it TLS", nil, map[string]string{pre + "backend-protocol": "h2", pre + "secure-backends": "true", pre + "secure-sni": "host"},
			model.Upstream{Protocol: "h2-ssl", SNI: "host"}, ""},
		{"ConfigMap default", map[string]string{"secure-backends": "true", "secure-sni": "b.example"}, nil, model.Upstream{Protocol: "h1-ssl", SNI: "b.example"}, ""},
		{"no SNI in clear", nil, map[string]string{pre + "secure-sni": "sni"}, model.Upstream{Protocol: "h1"}, ""},
		{"fcgi is not supported", nil, map[string]string{pre + "backend-protocol": "fcgi"}, model.Upstream{Protocol: "h1"}, `invalid value "fcgi"`},
		{"SNI that is not a name", nil, map[string]string{pre + "backend-protocol": "h1-ssl", pre + "secure-sni": "str(x),lua.evil"},
			model.Upstream{Protocol: "h1-ssl"}, "secure-sni"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, problems := backendPolicy(t, c.cm, c.ann)
			if p.Upstream != c.want {
				t.Errorf("upstream %+v, want %+v", p.Upstream, c.want)
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
