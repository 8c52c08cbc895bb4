package model_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/external-haproxy/kit/controller/model"
	"github.com/external-haproxy/kit/test/testcert"
)

// aged makes ing created at minute n: lower is older.
func aged(ing *networkingv1.Ingress, n int) *networkingv1.Ingress {
	ing.CreationTimestamp = metav1.NewTime(time.Date(2026, 1, 1, 0, n, 0, 0, time.UTC))
	return ing
}

func routeHosts(m *model.Model) []string {
	var out []string
	for _, r := range m.Routes {
		out = append(out, r.Host)
	}
	return out
}

// hasProblem tells whether a problem of the Ingress name mentions every
// part.
func hasProblem(ps []model.Problem, name string, parts ...string) bool {
	for _, p := range ps {
		if p.Object.Name == name && !slices.ContainsFunc(parts, func(s string) bool { return !strings.Contains(p.Detail(), s) }) {
			return true
		}
	}
	return false
}

// TestServerAlias: an alias repeats the routes of its host and shares its
// certificate; a name that is some Ingress's host, or already an alias,
// is not taken, with a warning. An alias regex is kept for the lookup.
func TestServerAlias(t *testing.T) {
	crt, key := testcert.SelfSigned(t, testcert.ECKey(t), "a", "a.test")
	a := aged(hostIngress("a", "a.test", "web", map[string]string{"server-alias": "b.test, Alias.test,*.w.test", "server-alias-regex": `^x[0-9]+\.test$`}), 1)
	a.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{"a.test"}, SecretName: "a"}}
	snap := &model.Snapshot{
		Ingresses: []*networkingv1.Ingress{a,
			aged(hostIngress("b", "b.test", "web", nil), 2),
			aged(hostIngress("c", "c.test", "web", map[string]string{"server-alias": "alias.test"}), 3),
			aged(hostIngress("d", "d.test", "web", map[string]string{"server-alias": "bad_host!", "server-alias-regex": "(x"}), 4)},
		Secrets: []*corev1.Secret{{ObjectMeta: metav1.ObjectMeta{Name: "a", Namespace: "ns"}, Type: corev1.SecretTypeTLS,
			Data: map[string][]byte{"tls.crt": crt, "tls.key": key}}},
	}
	m, problems := model.Build(snap, model.Options{DefaultCertificate: defaultCert(t)})
	if got, want := routeHosts(m), []string{"*.w.test", "a.test", "alias.test", "b.test", "c.test", "d.test"}; !slices.Equal(got, want) {
		t.Errorf("route hosts %q, want %q", got, want)
	}
	for _, r := range m.Routes {
		if r.Host == "alias.test" && r.Source.Name != "a" {
			t.Errorf("alias.test route from %s, want a", r.Source)
		}
	}
	if len(m.Certs) != 1 || !slices.Equal(m.Certs[0].Hosts, []string{"*.w.test", "a.test", "alias.test"}) {
		t.Errorf("certificates %+v, want a's for its host and aliases", m.Certs)
	}
	if want := []model.AliasRegex{{Regex: `^x[0-9]+\.test$`, Host: "a.test", Source: model.Ref{Kind: "Ingress", Namespace: "ns", Name: "a"}}}; !slices.Equal(m.AliasRegexes, want) {
		t.Errorf("alias regexes %+v, want %+v", m.AliasRegexes, want)
	}
	if !hasProblem(problems, "d", "server-alias-regex", `invalid value "(x"`) {
		t.Errorf("no problem of the invalid regex in %v", problems)
	}
	for _, want := range []struct{ ing, host, what string }{
		{"a", "b.test", "a host of its own"},
		{"c", "alias.test", "already an alias of host a.test"},
		{"d", "bad_host!", "want a comma-separated list of host names"},
	} {
		if !hasProblem(problems, want.ing, "server-alias", want.host, want.what) {
			t.Errorf("no problem of %s about %s (%s) in %v", want.ing, want.host, want.what, problems)
		}
	}
}

// TestClientCertModel: auth-tls-secret gives the host a TLS line with its
// CA and its routes a check; verify modes; a missing, foreign or invalid
// Secret refuses everything (strict) or nothing (not strict), with a
// problem; invalid values are problems, the default used.
func TestClientCertModel(t *testing.T) {
	ca := testcert.NewCA(t, "ca")
	secrets := []*corev1.Secret{caSecret("ca", ca.PEM), caSecret("junk", []byte("not pem")),
		{ObjectMeta: metav1.ObjectMeta{Name: "crl", Namespace: "ns"}, Data: map[string][]byte{"ca.crt": ca.PEM, "ca.crl": ca.PEM}}}
	for _, c := range []struct {
		name    string
		ann     map[string]string
		check   *model.ClientCertCheck
		ca      string
		problem []string
	}{
		{"on by default", map[string]string{"auth-tls-secret": "ca"}, &model.ClientCertCheck{Required: true, Verified: true}, "ns_ca", nil},
		{"optional, namespace/name", map[string]string{"auth-tls-secret": "ns/ca", "auth-tls-verify-client": "optional"}, &model.ClientCertCheck{Verified: true}, "ns_ca", nil},
		{"optional_no_ca with error page", map[string]string{"auth-tls-secret": "ca", "auth-tls-verify-client": "optional_no_ca", "auth-tls-error-page": "https://e.test/cert"},
			&model.ClientCertCheck{ErrorPage: "https://e.test/cert"}, "ns_ca", nil},
		{"off", map[string]string{"auth-tls-secret": "ca", "auth-tls-verify-client": "off"}, nil, "", nil},
		{"invalid mode: on", map[string]string{"auth-tls-secret": "ca", "auth-tls-verify-client": "maybe"}, &model.ClientCertCheck{Required: true, Verified: true}, "ns_ca",
			[]string{"auth-tls-verify-client", `invalid value "maybe"`, "off, on, optional or optional_no_ca"}},
		{"missing, strict", map[string]string{"auth-tls-secret": "nope"}, &model.ClientCertCheck{Refuse: true}, "", []string{"secret nope not found", "every request refused"}},
		{"missing, not strict", map[string]string{"auth-tls-secret": "nope", "auth-tls-strict": "false"}, nil, "", []string{"secret nope not found", "served without"}},
		{"another namespace", map[string]string{"auth-tls-secret": "kube-system/ca"}, &model.ClientCertCheck{Refuse: true}, "", []string{"another namespace"}},
		{"not PEM", map[string]string{"auth-tls-secret": "junk"}, &model.ClientCertCheck{Refuse: true}, "", []string{"secret junk", "no CERTIFICATE block"}},
		{"CRL not a CRL", map[string]string{"auth-tls-secret": "crl"}, &model.ClientCertCheck{Refuse: true}, "", []string{"ca.crl block 0", "want X509 CRL"}},
		{"bad error page", map[string]string{"auth-tls-secret": "ca", "auth-tls-error-page": "javascript:alert(1)"}, &model.ClientCertCheck{Required: true, Verified: true}, "ns_ca",
			[]string{"auth-tls-error-page", "want an http or https URL"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			snap := &model.Snapshot{Ingresses: []*networkingv1.Ingress{hostIngress("a", "a.test", "web", c.ann)}, Secrets: secrets}
			m, problems := model.Build(snap, model.Options{DefaultCertificate: defaultCert(t)})
			if len(m.Routes) != 1 {
				t.Fatalf("routes %+v", m.Routes)
			}
			if got := m.Routes[0].Policy.ClientCert; (got == nil) != (c.check == nil) || got != nil && *got != *c.check {
				t.Errorf("check %+v, want %+v", got, c.check)
			}
			var tlsCA string
			if len(m.TLSHosts) == 1 {
				tlsCA = m.TLSHosts[0].TLS.ClientCA
			}
			if tlsCA != c.ca || len(m.ClientCAs) != min(len(c.ca), 1) {
				t.Errorf("TLS hosts %+v, CAs %d, want CA %q", m.TLSHosts, len(m.ClientCAs), c.ca)
			}
			if c.problem == nil && hasProblem(problems, "a", "auth-tls") {
				t.Errorf("problems %v", problems)
			}
			if c.problem != nil && !hasProblem(problems, "a", c.problem...) {
				t.Errorf("no problem with %q in %v", c.problem, problems)
			}
		})
	}
}

// TestHostTLSModel: the crt-list keys of a host land on its TLS line, with
// the certificate that serves it; invalid values are problems naming key
// and value, the rest served; of two Ingresses of a host the oldest wins.
func TestHostTLSModel(t *testing.T) {
	snap := &model.Snapshot{Ingresses: []*networkingv1.Ingress{
		aged(hostIngress("a", "a.test", "web", map[string]string{"ssl-ciphers": "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256",
			"ssl-cipher-suites": "TLS_AES_128_GCM_SHA256", "ssl-options-host": "ssl-min-ver TLSv1.2 no-ca-names", "tls-alpn": "h2, http/1.1"}), 1),
		aged(hostIngress("young", "a.test", "web2", map[string]string{"ssl-ciphers": "AES128-GCM-SHA256"}), 2),
		aged(hostIngress("bad", "bad.test", "web", map[string]string{"ssl-ciphers": "ALL:!aNULL", "ssl-cipher-suites": "TLS_FOO",
			"ssl-options-host": "ssl-min-ver TLSv1.3 ssl-max-ver TLSv1.2", "tls-alpn": "h2 x"}), 3),
		aged(hostIngress("c", "c.test", "web", map[string]string{"tls-alpn": "http/1.1"}), 4),
	}}
	m, problems := model.Build(snap, model.Options{DefaultCertificate: defaultCert(t)})
	want := []model.TLSHost{
		{Host: "a.test", Cert: "default", TLS: model.HostTLS{Ciphers: "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256",
			CipherSuites: "TLS_AES_128_GCM_SHA256", Options: model.SSLOptions{MinVer: "TLSv1.2", NoCANames: true}}},
		{Host: "c.test", Cert: "default", TLS: model.HostTLS{ALPN: "http/1.1"}},
	}
	if !slices.Equal(m.TLSHosts, want) {
		t.Errorf("TLS hosts %+v, want %+v", m.TLSHosts, want)
	}
	if !hasProblem(problems, "young", "ssl-ciphers", `"AES128-GCM-SHA256" ignored`, "Ingress/ns/a is older") {
		t.Errorf("no conflict warning for the younger Ingress in %v", problems)
	}
	for _, k := range []string{`ssl-ciphers: invalid value "ALL:!aNULL"`, `ssl-cipher-suites: invalid value "TLS_FOO"`,
		`ssl-options-host: invalid value "ssl-min-ver TLSv1.3 ssl-max-ver TLSv1.2"`, `tls-alpn: invalid value "h2 x"`} {
		if !hasProblem(problems, "bad", k, "using the default") {
			t.Errorf("no problem %q in %v", k, problems)
		}
	}
	if !slices.Contains(routeHosts(m), "bad.test") {
		t.Error("bad.test is not served")
	}
}

// vhostHostileFields are the host keys whose values reach haproxy's files,
// each with a valid value other than its default: a refused value leaves
// the Ingress as without the annotation.
func vhostHostileFields(t *testing.T) []hostileField {
	ca := testcert.NewCA(t, "ca")
	field := func(key, benign string) hostileField {
		add := func(s *model.Snapshot, v string) model.Ref {
			s.Secrets = append(s.Secrets, caSecret("ca", ca.PEM))
			return hostileIngress(s, func(ing *networkingv1.Ingress) {
				ing.Annotations = map[string]string{annPrefix + key: v}
				if key != "auth-tls-secret" && strings.HasPrefix(key, "auth-tls-") {
					ing.Annotations[annPrefix+"auth-tls-secret"] = "ca"
				}
			})
		}
		return hostileField{"annotation " + key, benign, func(s *model.Snapshot, _ *model.Options, v string) (model.Ref, string) {
			return add(s, v), "annotation " + annPrefix + key
		}, func(s *model.Snapshot, _ *model.Options) {
			add(s, benign)
			delete(s.Ingresses[len(s.Ingresses)-1].Annotations, annPrefix+key)
		}}
	}
	return []hostileField{
		field("server-alias", "alias.test"),
		field("server-alias-regex", `^h[0-9]+\.test$`),
		field("auth-tls-secret", "ca"),
		field("auth-tls-verify-client", "optional"),
		field("ssl-ciphers", "AES128-GCM-SHA256"),
		field("ssl-cipher-suites", "TLS_AES_128_GCM_SHA256"),
		field("ssl-options-host", "ssl-min-ver TLSv1.2"),
		field("tls-alpn", "http/1.1"),
	}
}

// TestSSLPassthroughModel: a passthrough host leaves HTTP routing (but for
// ssl-passthrough-http-port), its path / backend turns TCP and a
// passthrough frontend joins the https one; a host without path / or
// whose backend other routes use stays HTTP, with a problem.
func TestSSLPassthroughModel(t *testing.T) {
	on := map[string]string{"ssl-passthrough": "true"}
	shared := aged(hostIngress("shared", "s.test", "web", on), 3)
	noRoot := aged(ingress("noroot", "n.test", "/api", "api"), 4)
	noRoot.Annotations = map[string]string{annPrefix + "ssl-passthrough": "true"}
	snap := &model.Snapshot{Ingresses: []*networkingv1.Ingress{
		aged(hostIngress("p", "p.test", "tls", map[string]string{"ssl-passthrough": "true", "ssl-passthrough-http-port": "8080"}), 1),
		aged(hostIngress("same", "same.test", "same", map[string]string{"ssl-passthrough": "true", "ssl-passthrough-http-port": "80"}), 5),
		aged(hostIngress("other", "o.test", "web", nil), 2),
		shared, noRoot,
	}}
	m, problems := model.Build(snap, model.Options{DefaultCertificate: defaultCert(t)})
	if want := []model.PassthroughHost{{Host: "p.test", Backend: "ns_tls_80"}, {Host: "same.test", Backend: "ns_same_80"}}; !slices.Equal(m.Passthrough, want) {
		t.Errorf("passthrough %+v, want %+v", m.Passthrough, want)
	}
	if got, want := routeHosts(m), []string{"n.test", "o.test", "p.test", "s.test"}; !slices.Equal(got, want) {
		t.Errorf("route hosts %q, want %q", got, want)
	}
	for _, r := range m.Routes {
		if r.Host == "p.test" && (r.Backend != "ns_tls_8080" || r.Path != "/") {
			t.Errorf("p.test plain http route %+v, want / to ns_tls_8080 (ssl-passthrough-http-port)", r)
		}
	}
	for _, be := range m.Backends {
		if be.Policy.TCP != (be.Name == "ns_tls_80" || be.Name == "ns_same_80") {
			t.Errorf("backend %s TCP %v", be.Name, be.Policy.TCP)
		}
	}
	if !slices.ContainsFunc(m.Frontends, func(f model.Frontend) bool {
		return reflect.DeepEqual(f, model.Frontend{Kind: model.FrontendPassthrough, Port: 443})
	}) {
		t.Errorf("frontends %+v, want a passthrough one on 443", m.Frontends)
	}
	if !hasProblem(problems, "shared", "ssl-passthrough", "also serves other hosts") || !hasProblem(problems, "noroot", "ssl-passthrough", "no path /") ||
		!hasProblem(problems, "same", "ssl-passthrough-http-port", "the passthrough port itself") {
		t.Errorf("problems %v", problems)
	}
}
