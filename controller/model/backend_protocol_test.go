package model_test

import (
	"maps"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

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
			if !reflect.DeepEqual(p.Upstream, c.want) {
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

// TestBackendTLSSecrets: the Secrets of secure-crt-secret and
// secure-verify-ca-secret are read from the backend's namespace only; a
// missing or invalid one is reported on the annotation and ignored.
func TestBackendTLSSecrets(t *testing.T) {
	const pre = "haproxy-ingress.github.io/"
	cert, key := tlsPair(t)
	secrets := []*corev1.Secret{
		{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "ca"}, Data: map[string][]byte{"ca.crt": cert}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "crt"}, Type: corev1.SecretTypeTLS, Data: map[string][]byte{"tls.crt": cert, "tls.key": key}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "bad-ca"}, Data: map[string][]byte{"ca.crt": append(cert, key...)}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: "other", Name: "ca"}, Data: map[string][]byte{"ca.crt": cert}},
	}
	for _, c := range []struct {
		name    string
		ann     map[string]string
		crt, ca bool
		problem string
	}{
		{"both", map[string]string{pre + "secure-crt-secret": "crt", pre + "secure-verify-ca-secret": "ca"}, true, true, ""},
		{"not without TLS", map[string]string{pre + "secure-backends": "false", pre + "secure-verify-ca-secret": "ca"}, false, false, ""},
		{"missing", map[string]string{pre + "secure-verify-ca-secret": "nope"}, false, false, "secret ns/nope not found"},
		{"a key in ca.crt", map[string]string{pre + "secure-verify-ca-secret": "bad-ca"}, false, false, `unexpected "PRIVATE KEY" block`},
		{"CA as a client certificate", map[string]string{pre + "secure-crt-secret": "ca"}, false, false, "secret type"},
		{"another namespace", map[string]string{pre + "secure-verify-ca-secret": "other/ca"}, false, false, `invalid value "other/ca"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			ing := ingress("a", "a.test", "/", "web")
			ing.Annotations = map[string]string{pre + "secure-backends": "true"}
			maps.Copy(ing.Annotations, c.ann)
			m, problems := model.Build(&model.Snapshot{Ingresses: []*networkingv1.Ingress{ing}, Secrets: secrets}, model.Options{DefaultCertificate: defaultCert(t)})
			u := m.Backends[len(m.Backends)-1].Policy.Upstream
			if (u.ClientCert != nil) != c.crt || (u.CA != nil) != c.ca {
				t.Errorf("client cert %v, CA %v; want %v, %v", u.ClientCert != nil, u.CA != nil, c.crt, c.ca)
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
