package blame_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/external-haproxy/kit/controller/blame"
	"github.com/external-haproxy/kit/controller/files"
	"github.com/external-haproxy/kit/controller/haproxy/validate"
	"github.com/external-haproxy/kit/controller/model"
	"github.com/external-haproxy/kit/controller/render"
	"github.com/external-haproxy/kit/test/haproxybin"
	"github.com/external-haproxy/kit/test/testcert"
)

func ingress(name, host, path string, regex bool, tlsSecret string) *networkingv1.Ingress {
	pt := networkingv1.PathTypePrefix
	ann := map[string]string{}
	if regex {
		pt = networkingv1.PathTypeImplementationSpecific
		ann["haproxy-ingress.github.io/path-type"] = "regex"
	}
	ing := &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: name, Annotations: ann},
		Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{{Host: host, IngressRuleValue: networkingv1.IngressRuleValue{
			HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{{Path: path, PathType: &pt,
				Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: name, Port: networkingv1.ServiceBackendPort{Number: 80}}}}}},
		}}}},
	}
	if tlsSecret != "" {
		ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{host}, SecretName: tlsSecret}}
	}
	return ing
}

func service(name string) (*corev1.Service, *discoveryv1.EndpointSlice) {
	port := int32(8080)
	return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: name},
			Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}}},
		&discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: name + "-1", Labels: map[string]string{discoveryv1.LabelServiceName: name}},
			AddressType: discoveryv1.AddressTypeIPv4, Ports: []discoveryv1.EndpointPort{{Port: &port}},
			Endpoints: []discoveryv1.Endpoint{{Addresses: []string{"127.0.0.2"}}}}
}

// cluster is three apps, each with TLS, one of them on a regex path.
func cluster(t *testing.T) (*model.Snapshot, model.Options) {
	snap := &model.Snapshot{ConfigMap: map[string]string{"http-port": "18080", "https-port": "18443", "timeout-client": "30s"}}
	for _, app := range []struct {
		name, path string
		regex      bool
	}{{"alpha", "/", false}, {"bravo", "^/v[0-9]+/", true}, {"charlie", "/c", false}} {
		host := app.name + ".example"
		snap.Ingresses = append(snap.Ingresses, ingress(app.name, host, app.path, app.regex, app.name+"-tls"))
		svc, es := service(app.name)
		snap.Services = append(snap.Services, svc)
		snap.EndpointSlices = append(snap.EndpointSlices, es)
		c, k := testcert.SelfSigned(t, testcert.ECKey(t), host, host)
		snap.Secrets = append(snap.Secrets, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: app.name + "-tls"},
			Type: corev1.SecretTypeTLS, Data: map[string][]byte{"tls.crt": c, "tls.key": k}})
	}
	c, k := testcert.SelfSigned(t, testcert.ECKey(t), "default", "default")
	// Every name resolves for the model; haproxy has the last word.
	return snap, model.Options{DefaultCertificate: append(c, k...), Resolves: func(string) bool { return true }}
}

// rejected renders m, has the real haproxy check it and returns its alerts.
func rejected(t *testing.T, bin string, m *model.Model, l files.Layout) (string, files.Set) {
	t.Helper()
	set := render.Render(m, l)
	err := validate.Checker{Binary: bin, Layout: l}.Check(context.Background(), set)
	var verr *validate.Error
	if !errors.As(err, &verr) {
		t.Fatalf("haproxy accepted the configuration (err %v)", err)
	}
	return verr.Output, set
}

// TestFind breaks one thing at a time in a model the way a value that
// slipped past validation would, and checks that haproxy's real alerts lead
// back to exactly the object that produced it.
func TestFind(t *testing.T) {
	weakCert, weakKey := testcert.SelfSigned(t, testcert.RSAKey(t, 1024), "charlie.example", "charlie.example")
	for _, c := range []struct {
		name   string
		break_ func(m *model.Model, snap *model.Snapshot)
		want   []blame.Culprit
	}{
		{"regex map line", func(m *model.Model, _ *model.Snapshot) {
			for i := range m.Routes {
				if m.Routes[i].Match == model.MatchRegex {
					m.Routes[i].Path = `/a\Q`
				}
			}
		}, []blame.Culprit{{Object: model.Ref{Kind: "Ingress", Namespace: "app", Name: "bravo"}, Field: "spec.rules"}}},
		{"certificate in the crt-list", func(m *model.Model, _ *model.Snapshot) {
			for i := range m.Certs {
				if m.Certs[i].Name == "app_charlie-tls" {
					m.Certs[i].PEM = append(weakCert, weakKey...)
				}
			}
		}, []blame.Culprit{{Object: model.Ref{Kind: "Secret", Namespace: "app", Name: "charlie-tls"}, Field: "data"}}},
		{"server address", func(m *model.Model, _ *model.Snapshot) {
			for i := range m.Backends {
				if m.Backends[i].Name == "app_alpha_80" {
					m.Backends[i].Servers[0].Addr = "no-such-host.invalid"
				}
			}
		}, []blame.Culprit{
			{Object: model.Ref{Kind: "Service", Namespace: "app", Name: "alpha"}},
			{Object: model.Ref{Kind: "Ingress", Namespace: "app", Name: "alpha"}, Field: "spec.rules"},
		}},
		{"global key", func(m *model.Model, snap *model.Snapshot) {
			// A value the model accepts but haproxy does not: the name
			// resolved for the model, not for haproxy a moment later.
			snap.ConfigMap["syslog-endpoint"] = "no-such-host.invalid:514"
			m.Global.SyslogEndpoint = "no-such-host.invalid:514"
		}, []blame.Culprit{{Object: model.ConfigMapRef, Field: "syslog-endpoint"}}},
		{"config-frontend snippet", func(m *model.Model, snap *model.Snapshot) {
			snap.ConfigMap["config-frontend"] = "http-request frobnicate"
			m.Global.ConfigFrontend = model.Snippet{"http-request frobnicate"}
		}, []blame.Culprit{{Object: model.ConfigMapRef, Field: "config-frontend"}}},
		{"config-backend snippet: its setter, not the backend's other objects", func(m *model.Model, _ *model.Snapshot) {
			for i := range m.Backends {
				if m.Backends[i].Name == "app_alpha_80" {
					m.Backends[i].Policy.Snippet = model.BackendSnippet{Lines: model.Snippet{"http-response set-header X-Ok yes", "http-request frobnicate"},
						From: model.Ref{Kind: "Service", Namespace: "app", Name: "alpha"}, Field: "annotation haproxy-ingress.github.io/config-backend"}
				}
			}
		}, []blame.Culprit{{Object: model.Ref{Kind: "Service", Namespace: "app", Name: "alpha"}, Field: "annotation haproxy-ingress.github.io/config-backend"}}},
	} {
		haproxybin.Run(t, func(t *testing.T, hb haproxybin.Build) {
			t.Run(c.name, func(t *testing.T) {
				snap, opts := cluster(t)
				opts.AllowConfigSnippets = true // for the snippet cases: the cluster has none
				l := files.DefaultLayout(t.TempDir())
				m, problems := model.Build(snap, opts)
				if len(problems) > 0 {
					t.Fatalf("the valid cluster has problems: %v", problems)
				}
				c.break_(m, snap)
				alerts, set := rejected(t, hb.Path, m, l)
				got := blame.Find(alerts, blame.Input{Snapshot: snap, Options: opts, Model: m, Set: set, Layout: l})
				for i := range got {
					if got[i].Alert == "" {
						t.Errorf("culprit %v without haproxy's message", got[i].Object)
					}
					got[i].Alert = ""
				}
				if !slices.Equal(got, c.want) {
					t.Errorf("culprits %+v, want %+v\nalerts:\n%s", got, c.want, alerts)
				}
			})
		})
	}
}

// TestFindUntraceable: alerts that name no line of ours blame nothing, so
// the caller keeps the whole rejection instead of guessing.
func TestFindUntraceable(t *testing.T) {
	snap, opts := cluster(t)
	l := files.DefaultLayout(t.TempDir())
	m, _ := model.Build(snap, opts)
	set := render.Render(m, l)
	for _, alerts := range []string{
		"[ALERT]    (1) : config : Fatal errors found in configuration.",
		"[ALERT]    (1) : config : parsing [/elsewhere/x.cfg:3] : unknown keyword 'foo'",
		"[ALERT]    (1) : config : parsing [" + l.Etc + "/00-global.cfg:9999] : out of range",
		"[ALERT]    (1) : config : parsing [" + l.Etc + "/00-global.cfg:1] : 'global' itself",
	} {
		if got := blame.Find(alerts, blame.Input{Snapshot: snap, Options: opts, Model: m, Set: set, Layout: l}); len(got) > 0 {
			t.Errorf("%q blamed %+v", alerts, got)
		}
	}
}
