package model_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/external-haproxy/kit/controller/model"
)

// TestFrontingProxyFrontend: fronting-proxy-port adds its frontend on
// bind-ip-addr-http; a port another frontend has, or no https frontend,
// disables it with an error on the key.
func TestFrontingProxyFrontend(t *testing.T) {
	withCert := model.Options{DefaultCertificate: defaultCert(t)}
	kinds := func(m *model.Model) []string {
		var out []string
		for _, f := range m.Frontends {
			out = append(out, string(f.Kind)+":"+f.IP+":"+strconv.Itoa(f.Port))
		}
		return out
	}
	m, problems := model.Build(&model.Snapshot{ConfigMap: map[string]string{"fronting-proxy-port": "8000", "bind-ip-addr-http": "127.0.0.1"}}, withCert)
	if got := kinds(m); !slices.Contains(got, "fronting-proxy:127.0.0.1:8000") || !m.Global.UseForwardedProto {
		t.Errorf("frontends %v, use-forwarded-proto %v; want the fronting-proxy one on 127.0.0.1:8000, and X-Forwarded-Proto read", got, m.Global.UseForwardedProto)
	}
	for _, p := range problems {
		if p.Object == model.ConfigMapRef {
			t.Errorf("problem: %s", p)
		}
	}
	if m, _ := model.Build(&model.Snapshot{}, withCert); slices.ContainsFunc(kinds(m), func(k string) bool { return strings.HasPrefix(k, "fronting") }) {
		t.Errorf("frontends %v without fronting-proxy-port", kinds(m))
	}
	for _, c := range []struct {
		cm   map[string]string
		opts model.Options
		want string
	}{
		{map[string]string{"fronting-proxy-port": "80"}, withCert, "port 80 is already used by the http frontend, fronting-proxy frontend disabled"},
		{map[string]string{"https-to-http-port": "8000"}, model.Options{}, "needs the https frontend"},
	} {
		m, problems := model.Build(&model.Snapshot{ConfigMap: c.cm}, c.opts)
		if slices.ContainsFunc(kinds(m), func(k string) bool { return strings.HasPrefix(k, "fronting") }) {
			t.Errorf("%v: frontends %v, want none fronting", c.cm, kinds(m))
		}
		if !slices.ContainsFunc(problems, func(p model.Problem) bool {
			return p.Object == model.ConfigMapRef && strings.Contains(p.Message, c.want)
		}) {
			t.Errorf("%v: problems %v, want %q", c.cm, problems, c.want)
		}
	}
}
