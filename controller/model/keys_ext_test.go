package model_test

import (
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/external-haproxy/kit/controller/model"
)

// TestSSLRedirectPrecedence: the global ConfigMap sets every Ingress's
// default, an Ingress annotation overrides it for its own paths.
func TestSSLRedirectPrecedence(t *testing.T) {
	tlsIngress := func(name string, ann map[string]string) *networkingv1.Ingress {
		ing := ingress(name, name+".test", "/", "web")
		ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{name + ".test"}, SecretName: "missing"}}
		ing.Annotations = ann
		return ing
	}
	for _, c := range []struct {
		name      string
		configMap map[string]string
		ann       map[string]string
		redirect  bool
	}{
		{"default on", nil, nil, true},
		{"ConfigMap off", map[string]string{"ssl-redirect": "false"}, nil, false},
		{"annotation on over ConfigMap off", map[string]string{"ssl-redirect": "false"}, map[string]string{"ingress.kubernetes.io/ssl-redirect": "true"}, true},
		{"annotation off over the default", nil, map[string]string{"haproxy-ingress.github.io/ssl-redirect": "false"}, false},
	} {
		m, _ := model.Build(&model.Snapshot{Ingresses: []*networkingv1.Ingress{tlsIngress("a", c.ann)}, ConfigMap: c.configMap},
			model.Options{DefaultCertificate: defaultCert(t)})
		if len(m.Routes) != 1 || m.Routes[0].RedirectHTTPS != c.redirect {
			t.Errorf("%s: routes %+v, want one redirecting %v", c.name, m.Routes, c.redirect)
		}
	}
}

// TestAnnotationPrefixes: --annotations-prefix replaces upstream's two, the
// first one listed wins, and keys under other prefixes are not ours.
func TestAnnotationPrefixes(t *testing.T) {
	impl := networkingv1.PathTypeImplementationSpecific
	match := func(ann map[string]string, prefixes []string) (model.Match, []model.Problem) {
		ing := ingress("a", "a.test", "/x", "web")
		ing.Spec.Rules[0].HTTP.Paths[0].PathType = &impl
		ing.Annotations = ann
		m, problems := model.Build(&model.Snapshot{Ingresses: []*networkingv1.Ingress{ing}}, model.Options{AnnotationPrefixes: prefixes})
		if len(m.Routes) != 1 {
			t.Fatalf("routes %+v, problems %v", m.Routes, problems)
		}
		return m.Routes[0].Match, problems
	}
	both := map[string]string{"corp.example/path-type": "exact", "haproxy-ingress.github.io/path-type": "regex"}
	if got, _ := match(both, nil); got != model.MatchRegex {
		t.Errorf("default prefixes: %s, want regex from haproxy-ingress.github.io/", got)
	}
	if got, _ := match(both, []string{"corp.example"}); got != model.MatchExact {
		t.Errorf("--annotations-prefix=corp.example: %s, want exact", got)
	}
	if got, _ := match(both, []string{"corp.example", "haproxy-ingress.github.io"}); got != model.MatchExact {
		t.Errorf("first prefix: %s, want exact from corp.example/", got)
	}
	if got, _ := match(map[string]string{"haproxy-ingress.github.io/path-type": "exact", "ingress.kubernetes.io/path-type": "prefix"}, nil); got != model.MatchExact {
		t.Errorf("haproxy-ingress.github.io/ comes first by default: %s, want exact", got)
	}
}

// TestUnknownAnnotations: a key under our prefixes that the controller does
// not read is a Warning naming it, once; the Ingress is served.
func TestUnknownAnnotations(t *testing.T) {
	ing := ingress("a", "a.test", "/", "web")
	ing.Annotations = map[string]string{
		"haproxy-ingress.github.io/ssl-redirekt": "false", // typo
		"ingress.kubernetes.io/timeout-stop":     "1s",    // Global: the ConfigMap's
		"ingress.kubernetes.io/slots-min-free":   "1s",    // Backend upstream, not per object here yet
		"haproxy-ingress.github.io/ssl-redirect": "true",
		"nginx.ingress.kubernetes.io/rewrite":    "/", // another controller's
		"kubernetes.io/ingress.class":            "haproxy",
	}
	m, problems := model.Build(&model.Snapshot{Ingresses: []*networkingv1.Ingress{ing}}, model.Options{})
	if len(m.Routes) != 1 {
		t.Fatalf("ingress not served: %v", problems)
	}
	want := map[string]string{
		"annotation haproxy-ingress.github.io/ssl-redirekt": "unknown key",
		"annotation ingress.kubernetes.io/timeout-stop":     "global ConfigMap only",
		"annotation ingress.kubernetes.io/slots-min-free":   "global ConfigMap only so far",
	}
	ref := model.Ref{Kind: "Ingress", Namespace: "ns", Name: "a"}
	for _, p := range problems {
		if p.Object != ref || !strings.HasPrefix(p.Field, "annotation ") {
			continue
		}
		msg, ok := want[p.Field]
		if !ok || p.Severity != model.Warning || !strings.Contains(p.Message, msg) {
			t.Errorf("unexpected problem %v", p)
		}
		delete(want, p.Field)
	}
	for field, msg := range want {
		t.Errorf("no warning on %s (%q)", field, msg)
	}
}
