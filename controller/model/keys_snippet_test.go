package model_test

import (
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/external-haproxy/kit/controller/model"
)

// snippetCluster sets every snippet key: the global ones in the ConfigMap,
// config-backend on an Ingress (backend ns_a_80) and on a Service (ns_b_80).
func snippetCluster() *model.Snapshot {
	a := ingress("a", "a.test", "/", "a")
	a.Annotations = map[string]string{"haproxy-ingress.github.io/config-backend": "http-response set-header X-Snippet a\n\n  acl x path /x  \n"}
	b := ingress("b", "b.test", "/", "b")
	svc := func(name string, ann map[string]string) *corev1.Service {
		return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, Annotations: ann},
			Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}}}
	}
	return &model.Snapshot{
		Ingresses: []*networkingv1.Ingress{a, b},
		Services:  []*corev1.Service{svc("a", nil), svc("b", map[string]string{"ingress.kubernetes.io/config-backend": "http-response set-header X-Snippet b"})},
		ConfigMap: map[string]string{"config-global": "tune.bufsize 32768", "config-defaults": "option redispatch",
			"config-frontend": "capture request header X-User len 32", "config-backend": "option httpchk"},
	}
}

func backendSnippet(t *testing.T, m *model.Model, name string) model.BackendSnippet {
	t.Helper()
	for _, be := range m.Backends {
		if be.Name == name {
			return be.Policy.Snippet
		}
	}
	t.Fatalf("no backend %s", name)
	return model.BackendSnippet{}
}

// TestSnippetsOff: without --allow-config-snippets every snippet set is a
// Warning naming the key and the flag, and nothing of it is rendered.
func TestSnippetsOff(t *testing.T) {
	m, problems := model.Build(snippetCluster(), model.Options{})
	want := map[string]bool{
		"ConfigMap/global config-global": true, "ConfigMap/global config-defaults": true, "ConfigMap/global config-frontend": true,
		"ConfigMap/global config-backend":                                  true,
		"Ingress/ns/a annotation haproxy-ingress.github.io/config-backend": true,
		"Service/ns/b annotation ingress.kubernetes.io/config-backend":     true,
	}
	for _, p := range problems {
		where := p.Object.String() + " " + p.Field
		if !want[where] {
			continue
		}
		delete(want, where)
		if p.Severity != model.Warning || !strings.Contains(p.Message, "--allow-config-snippets") || !strings.Contains(p.Message, "config-") {
			t.Errorf("problem %v, want a warning naming the key and the flag", p)
		}
	}
	for where := range want {
		t.Errorf("no warning on %s", where)
	}
	g := m.Global
	if len(g.ConfigGlobal)+len(g.ConfigDefaults)+len(g.ConfigFrontend)+len(g.ConfigBackend) > 0 {
		t.Errorf("snippets in the global settings: %+v", g)
	}
	for _, be := range m.Backends {
		if !reflect.ValueOf(be.Policy.Snippet).IsZero() {
			t.Errorf("backend %s has a snippet: %+v", be.Name, be.Policy.Snippet)
		}
	}
}

// TestSnippetsOn: with --allow-config-snippets the snippets land trimmed in
// their place, and a backend's keeps who set it: the Ingress, the Service,
// or (for the others) the global ConfigMap.
func TestSnippetsOn(t *testing.T) {
	m, problems := model.Build(snippetCluster(), model.Options{AllowConfigSnippets: true})
	for _, p := range problems {
		if strings.Contains(p.Field, "config-") {
			t.Errorf("problem %v", p)
		}
	}
	g := m.Global
	if !reflect.DeepEqual(g.ConfigGlobal, model.Snippet{"tune.bufsize 32768"}) || !reflect.DeepEqual(g.ConfigFrontend, model.Snippet{"capture request header X-User len 32"}) ||
		!reflect.DeepEqual(g.ConfigDefaults, model.Snippet{"option redispatch"}) {
		t.Errorf("global snippets %q %q %q", g.ConfigGlobal, g.ConfigDefaults, g.ConfigFrontend)
	}
	want := map[string]model.BackendSnippet{
		"ns_a_80": {Lines: model.Snippet{"http-response set-header X-Snippet a", "acl x path /x"}, From: model.Ref{Kind: "Ingress", Namespace: "ns", Name: "a"},
			Field: "annotation haproxy-ingress.github.io/config-backend"},
		"ns_b_80": {Lines: model.Snippet{"http-response set-header X-Snippet b"}, From: model.Ref{Kind: "Service", Namespace: "ns", Name: "b"},
			Field: "annotation ingress.kubernetes.io/config-backend"},
	}
	for _, be := range m.Backends {
		if w, ok := want[be.Name]; ok && !reflect.DeepEqual(be.Policy.Snippet, w) {
			t.Errorf("%s: snippet %+v, want %+v", be.Name, be.Policy.Snippet, w)
		}
	}

	// Without its own, a backend has the global ConfigMap's.
	snap := snippetCluster()
	snap.Ingresses[0].Annotations = nil
	m, _ = model.Build(snap, model.Options{AllowConfigSnippets: true})
	if got := backendSnippet(t, m, "ns_a_80"); got.Field != "config-backend" || got.From != model.ConfigMapRef || len(got.Lines) != 1 {
		t.Errorf("snippet %+v, want the ConfigMap's", got)
	}
}

// TestSnippetStructure: a snippet may not leave its section, by a section
// keyword (wherever it stands in its line, as haproxy reads it), a
// conditional block, or a NUL or CR that would cut a line.
func TestSnippetStructure(t *testing.T) {
	for _, v := range []string{"backend evil", "  listen x", "http-request deny\nfrontend f", "Global", "peers\tp", ".if defined(X)",
		".endif", "acl a path /\x00", "acl a path /\rbackend x", "http-request deny\n\tresolvers dns"} {
		snap := snippetCluster()
		snap.Ingresses[0].Annotations["haproxy-ingress.github.io/config-backend"] = v
		snap.ConfigMap = map[string]string{"config-frontend": v}
		m, problems := model.Build(snap, model.Options{AllowConfigSnippets: true})
		if len(m.Global.ConfigFrontend) > 0 || backendSnippet(t, m, "ns_a_80").From.Kind == "Ingress" {
			t.Errorf("%q: accepted", v)
		}
		bad := 0
		for _, p := range problems {
			if strings.Contains(p.Field, "config-") && strings.Contains(p.Message, "invalid value") {
				bad++
			}
		}
		if bad != 2 {
			t.Errorf("%q: problems %v, want an invalid value on the annotation and on the ConfigMap key", v, problems)
		}
	}
	// What only looks like a keyword is a line like any other.
	snap := snippetCluster()
	snap.Ingresses[0].Annotations["haproxy-ingress.github.io/config-backend"] = "http-request set-header backend frontend\n# global comment"
	m, _ := model.Build(snap, model.Options{AllowConfigSnippets: true})
	if got := backendSnippet(t, m, "ns_a_80"); len(got.Lines) != 2 {
		t.Errorf("snippet %+v, want both lines", got)
	}
}

// TestSecondPrefixIgnored: a key set under two prefixes is read from the
// first, and the other is reported, not silently dropped.
func TestSecondPrefixIgnored(t *testing.T) {
	ing := ingress("a", "a.test", "/", "web")
	ing.Annotations = map[string]string{"haproxy-ingress.github.io/ssl-redirect": "false", "ingress.kubernetes.io/ssl-redirect": "true"}
	_, problems := model.Build(&model.Snapshot{Ingresses: []*networkingv1.Ingress{ing}}, model.Options{})
	for _, p := range problems {
		if p.Field == "annotation ingress.kubernetes.io/ssl-redirect" && strings.Contains(p.Message, "annotation haproxy-ingress.github.io/ssl-redirect wins") {
			return
		}
	}
	t.Errorf("no warning on the second prefix: %v", problems)
}
