package model

import (
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestHostMatches(t *testing.T) {
	for _, c := range []struct {
		pattern, host string
		want          bool
	}{
		{"foo.com", "foo.com", true},
		{"*.foo.com", "bar.foo.com", true},
		{"*.foo.com", "baz.bar.foo.com", false},
		{"*.foo.com", "foo.com", false},
		{"*.foo.com", "*.foo.com", true},
		{"foo.com", "bar.foo.com", false},
		{"*.foo.com", "*.bar.foo.com", false},
	} {
		if got := hostMatches(c.pattern, c.host); got != c.want {
			t.Errorf("hostMatches(%q, %q) = %v", c.pattern, c.host, got)
		}
	}
}

func TestValidation(t *testing.T) {
	for _, c := range []struct {
		v                 string
		host, path, regex bool
	}{
		{"foo.example.com", true, false, true},
		{"*.example.com", true, false, false},
		{"foo\n    bind :9999", false, false, false},
		{"foo bar", false, false, false},
		{"/foo/bar-1_~.%20x;a=b", false, true, true},
		{"/foo#x", false, false, false},
		{"/foo bar", false, false, false},
		{"/foo\\.x", false, false, true},
		{"/a%zz", false, false, true},
		{"foo", true, false, true},
		{"^/v[0-9]+$", false, false, true},
		{"(", false, false, false},
		{"/\r\n", false, false, false},
		{"-foo.com", false, false, true},
		{"FOO.com", false, false, true},
	} {
		if got := validDNSName(c.v, true); got != c.host {
			t.Errorf("validDNSName(%q) = %v", c.v, got)
		}
		if got := validPath(c.v); got != c.path {
			t.Errorf("validPath(%q) = %v", c.v, got)
		}
		if got := checkRegexPath(c.v) == nil; got != c.regex {
			t.Errorf("checkRegexPath(%q) ok = %v", c.v, got)
		}
	}
}

func TestGlobalHostileAndUnknown(t *testing.T) {
	m, problems := Build(&Snapshot{ConfigMap: map[string]string{
		"syslog-endpoint": "stdout\nglobal",
		"timeout-client":  "5s\n    bind :9999",
		"syslog-tag":      "x y",
		"nbthread":        "4",
		"no-such-key":     "1",
	}}, Options{})
	g := m.Global
	if g.SyslogEndpoint != "" || g.TimeoutClient.String() != "50s" || g.SyslogTag != "" || g.NbThread != 4 {
		t.Errorf("unexpected global %+v", g)
	}
	var keys []string
	for _, p := range problems {
		if p.Object == configMapRef {
			keys = append(keys, p.Field)
		}
	}
	want := []string{"no-such-key", "syslog-endpoint", "syslog-tag", "timeout-client"}
	if !slices.Equal(keys, want) {
		t.Errorf("problem keys %v, want %v", keys, want)
	}
}

func TestPortClash(t *testing.T) {
	for _, c := range []struct {
		name  string
		cm    map[string]string
		want  map[FrontendKind]int
		error string
	}{
		{"stats on http", map[string]string{"stats-port": "80"}, map[FrontendKind]int{FrontendHTTP: 80, FrontendStats: 1936}, "stats-port"},
		{"http on stats", map[string]string{"http-port": "1936"}, map[FrontendKind]int{FrontendHTTP: 80, FrontendStats: 1936}, "http-port"},
		{"swap", map[string]string{"http-port": "1936", "stats-port": "80"}, map[FrontendKind]int{FrontendHTTP: 1936, FrontendStats: 80}, ""},
		{"other ip", map[string]string{"stats-port": "80", "bind-ip-addr-http": "10.0.0.1", "bind-ip-addr-stats": "10.0.0.2"}, map[FrontendKind]int{FrontendHTTP: 80, FrontendStats: 80}, ""},
		{"both user set", map[string]string{"healthz-port": "9000", "stats-port": "9000"}, map[FrontendKind]int{FrontendHealthz: 9000, FrontendStats: 1936}, "stats-port"},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, problems := Build(&Snapshot{ConfigMap: c.cm}, Options{})
			for _, f := range m.Frontends {
				if want, ok := c.want[f.Kind]; ok && f.Port != want {
					t.Errorf("%s port %d, want %d", f.Kind, f.Port, want)
				}
			}
			var errs []string
			for _, p := range problems {
				if p.Severity == Error && p.Object == configMapRef {
					errs = append(errs, p.Field)
				}
			}
			if c.error == "" && len(errs) > 0 || c.error != "" && !slices.Equal(errs, []string{c.error}) {
				t.Errorf("errors on %v, want %q", errs, c.error)
			}
		})
	}
}

// ingress builds a one-path Ingress created at minute age.
func ingress(name string, age int, host, path string, pt networkingv1.PathType, svc string, ann map[string]string) *networkingv1.Ingress {
	return &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", Annotations: ann,
			CreationTimestamp: metav1.Date(2024, 1, 1, 0, age, 0, 0, metav1.Now().Location())},
		Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{{Host: host,
			IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{{
				Path: path, PathType: &pt, Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
					Name: svc, Port: networkingv1.ServiceBackendPort{Number: 80}}}}}}}}}},
	}
}

func TestIngressRoutes(t *testing.T) {
	prefix, exact, impl := networkingv1.PathTypePrefix, networkingv1.PathTypeExact, networkingv1.PathTypeImplementationSpecific
	for _, c := range []struct {
		name     string
		in       []*networkingv1.Ingress
		routes   []string // host path match backend
		problems []string // substrings, in order
	}{
		{"prefix trailing slash ignored",
			[]*networkingv1.Ingress{ingress("a", 0, "foo.com", "/foo/", prefix, "s", nil)},
			[]string{"foo.com /foo prefix ns_s_80"}, nil},
		{"oldest wins whatever the order",
			[]*networkingv1.Ingress{ingress("new", 5, "foo.com", "/", prefix, "b", nil), ingress("old", 1, "foo.com", "/", prefix, "a", nil)},
			[]string{"foo.com / prefix ns_a_80"}, []string{"Ingress/ns/new", "already used by Ingress/ns/old"}},
		{"exact and prefix on the same path coexist",
			[]*networkingv1.Ingress{ingress("a", 0, "foo.com", "/foo", prefix, "p", nil), ingress("b", 1, "foo.com", "/foo", exact, "e", nil)},
			[]string{"foo.com /foo exact ns_e_80", "foo.com /foo prefix ns_p_80"}, nil},
		{"path-type annotation",
			[]*networkingv1.Ingress{ingress("a", 0, "", "/x", impl, "s", map[string]string{"ingress.kubernetes.io/path-type": "exact"})},
			[]string{" /x exact ns_s_80"}, nil},
		{"case folded host",
			[]*networkingv1.Ingress{ingress("a", 0, "FOO.com", "/", prefix, "s", nil)},
			[]string{"foo.com / prefix ns_s_80"}, nil},
		{"hostile host skips the ingress",
			[]*networkingv1.Ingress{ingress("a", 0, "foo\n    bind :9999", "/", prefix, "s", nil), ingress("b", 1, "ok.com", "/", prefix, "s", nil)},
			[]string{"ok.com / prefix ns_s_80"}, []string{"error: Ingress/ns/a spec.rules[0].host", "ingress skipped"}},
		{"hostile path",
			[]*networkingv1.Ingress{ingress("a", 0, "", "/x y", prefix, "s", nil)},
			nil, []string{"invalid path"}},
		{"hostile regex",
			[]*networkingv1.Ingress{ingress("a", 0, "", "^/x\n#", impl, "s", map[string]string{"haproxy-ingress.github.io/path-type": "regex"})},
			nil, []string{"invalid regex path"}},
		{"hostile annotation",
			[]*networkingv1.Ingress{ingress("a", 0, "", "/", impl, "s", map[string]string{"haproxy-ingress.github.io/path-type": "begin\nbind :1"})},
			// An invalid value falls back to the default, the rest is served.
			[]string{" / begin ns_s_80"}, []string{"annotation haproxy-ingress.github.io/path-type", `want begin, prefix, exact or regex; using the default`}},
		{"hostile service name",
			[]*networkingv1.Ingress{ingress("a", 0, "", "/", prefix, "s\nx", nil)},
			nil, []string{"invalid service name"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, problems := Build(&Snapshot{Ingresses: c.in}, Options{})
			var routes []string
			for _, r := range m.Routes {
				routes = append(routes, r.Host+" "+r.Path+" "+string(r.Match)+" "+r.Backend)
			}
			if !slices.Equal(routes, c.routes) {
				t.Errorf("routes %q, want %q", routes, c.routes)
			}
			var all []string
			for _, p := range problems {
				if !strings.Contains(p.Message, "not found") && p.Object != optionsRef {
					all = append(all, p.String())
				}
			}
			text := strings.Join(all, "\n")
			for _, want := range c.problems {
				if !strings.Contains(text, want) {
					t.Errorf("problems %q lack %q", text, want)
				}
			}
			if len(c.problems) == 0 && text != "" {
				t.Errorf("unexpected problems %q", text)
			}
		})
	}
}

// endpointsSnapshot is one Ingress to Service s with the given endpoints.
func endpointsSnapshot(addrs ...string) *Snapshot {
	port := int32(8080)
	es := &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Name: "s-1", Namespace: "ns", Labels: map[string]string{discoveryv1.LabelServiceName: "s"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Port: &port}},
	}
	for _, a := range addrs {
		es.Endpoints = append(es.Endpoints, discoveryv1.Endpoint{Addresses: []string{a}})
	}
	return &Snapshot{
		Ingresses:      []*networkingv1.Ingress{ingress("a", 0, "foo.com", "/", networkingv1.PathTypePrefix, "s", nil)},
		Services:       []*corev1.Service{{ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "ns"}, Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}}}},
		EndpointSlices: []*discoveryv1.EndpointSlice{es},
	}
}

func TestDiff(t *testing.T) {
	build := func(addrs ...string) *Model {
		m, _ := Build(endpointsSnapshot(addrs...), Options{})
		return m
	}
	running := build("10.0.0.1", "10.0.0.2")
	if c := Diff(nil, running); !c.Reload {
		t.Error("first model must reload")
	}
	if c := Diff(running, build("10.0.0.2", "10.0.0.1")); c.Reload || len(c.Slots) != 0 {
		t.Errorf("same endpoints: %+v", c)
	}
	// 10.0.0.1 leaves, 10.0.0.3 and 10.0.0.0 arrive: both take free slots
	// and are ready before 10.0.0.1's slot drains.
	c := Diff(running, build("10.0.0.2", "10.0.0.3", "10.0.0.0"))
	wantSlots(t, "two new, one gone", c,
		"ns_s_80/srv003 addr 10.0.0.0:8080",
		"ns_s_80/srv003 ready",
		"ns_s_80/srv004 addr 10.0.0.3:8080",
		"ns_s_80/srv004 ready",
		"ns_s_80/srv001 drain")
	be := backendOf(c.Next, "ns_s_80")
	if s := be.Servers; len(s) != 4 || s[0].Enabled || !s[0].Draining || s[1].Addr != "10.0.0.2" || !s[2].Enabled || !s[3].Enabled {
		t.Errorf("next layout %+v", be.Servers)
	}
	// Applying the same change again is a no-op on Next.
	if again := Diff(c.Next, build("10.0.0.2", "10.0.0.3", "10.0.0.0")); again.Reload || len(again.Slots) != 0 {
		t.Errorf("not idempotent: %+v", again)
	}
	if c := Diff(running, build("10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5")); !c.Reload {
		t.Error("more endpoints than slots must reload")
	}
	changed := build("10.0.0.1")
	changed.Global.TimeoutClient = 1000
	if c := Diff(running, changed); !c.Reload || c.Reasons[0] != "global configuration changed" {
		t.Errorf("global change: %+v", c)
	}
}

// commands is ops in short: "backend/server action [addr:port]".
func commands(ops []SlotOp) []string {
	out := make([]string, len(ops))
	for i, op := range ops {
		out[i] = op.Backend + "/" + op.Server + " " + string(op.Action)
		if op.Action == SlotAddr {
			out[i] += " " + net.JoinHostPort(op.Addr, strconv.Itoa(op.Port))
		}
	}
	return out
}

// wantSlots fails unless c is a dynamic update sending exactly want.
func wantSlots(t *testing.T, what string, c Changes, want ...string) {
	t.Helper()
	if c.Reload || !slices.Equal(commands(c.Slots), want) {
		t.Fatalf("%s: got %+v\nwant %q", what, c, want)
	}
}

func backendOf(m *Model, name string) *Backend {
	for i := range m.Backends {
		if m.Backends[i].Name == name {
			return &m.Backends[i]
		}
	}
	return nil
}

// TestDiffSwapMakeBeforeBreak swaps a backend's only endpoint again and
// again, as a rolling update of a one-replica Deployment does.
func TestDiffSwapMakeBeforeBreak(t *testing.T) {
	build := func(addr string) *Model {
		m, _ := Build(endpointsSnapshot(addr), Options{})
		return m
	}
	running := build("10.0.0.1") // srv001 10.0.0.1, srv002 and srv003 free
	if n := len(backendOf(running, "ns_s_80").Servers); n != 3 {
		t.Fatalf("%d slots for one endpoint, want 1 + slots-min-free 2", n)
	}
	c := Diff(running, build("10.0.0.2"))
	wantSlots(t, "first swap", c,
		"ns_s_80/srv002 addr 10.0.0.2:8080",
		"ns_s_80/srv002 ready",
		"ns_s_80/srv001 drain")
	if s := backendOf(c.Next, "ns_s_80").Servers[0]; s.Enabled || !s.Draining {
		t.Errorf("the drained slot must be disabled in the files and busy: %+v", s)
	}

	// 10.0.0.1 still drains: the next swap must not reuse its slot.
	second := Diff(c.Next, build("10.0.0.3"))
	wantSlots(t, "swap during a drain", second,
		"ns_s_80/srv003 addr 10.0.0.3:8080",
		"ns_s_80/srv003 ready",
		"ns_s_80/srv002 drain")

	// Both other slots drain: no free slot, so a reload and not a
	// break-before-make.
	third := Diff(second.Next, build("10.0.0.4"))
	if !third.Reload || len(third.Slots) != 0 || !strings.Contains(third.Reasons[0], "free slots") {
		t.Errorf("no free slot: want a reload, got %+v", third)
	}
	if s := backendOf(third.Next, "ns_s_80").Servers; !s[0].Enabled || s[0].Addr != "10.0.0.4" || s[0].Draining || s[1].Draining {
		t.Errorf("after a reload the files hold a fresh layout: %+v", s)
	}

	// Once srv001's drain ended, its slot is free again.
	backendOf(second.Next, "ns_s_80").Servers[0].Draining = false
	fourth := Diff(second.Next, build("10.0.0.4"))
	wantSlots(t, "swap after a drain ended", fourth,
		"ns_s_80/srv001 addr 10.0.0.4:8080",
		"ns_s_80/srv001 ready",
		"ns_s_80/srv003 drain")

	// An endpoint that comes back while its slot drains takes it back.
	back := Diff(fourth.Next, build("10.0.0.3"))
	wantSlots(t, "endpoint back during its drain", back,
		"ns_s_80/srv003 ready",
		"ns_s_80/srv001 drain")
}

func TestDiffCertificates(t *testing.T) {
	base := func() *Model {
		m, _ := Build(endpointsSnapshot("10.0.0.1"), Options{})
		m.DefaultCert = &Cert{Name: "default", PEM: []byte("default-v1")}
		m.Certs = []Cert{{Name: "ns_a", PEM: []byte("a-v1"), Hosts: []string{"a.com"}}}
		return m
	}
	running := base()

	rotated := base()
	rotated.Certs[0].PEM = []byte("a-v2")
	c := Diff(running, rotated)
	if c.Reload || len(c.CertUpdates) != 1 || string(c.CertUpdates[0].PEM) != "a-v2" {
		t.Fatalf("rotated certificate: reload=%v updates=%v", c.Reload, c.CertUpdates)
	}
	if string(c.Next.Certs[0].PEM) != "a-v2" {
		t.Error("Next does not hold the rotated certificate, so the files would keep the old one")
	}

	moved := base()
	moved.Certs[0].Hosts = []string{"b.com"}
	if c := Diff(running, moved); !c.Reload || len(c.CertUpdates) != 0 {
		t.Errorf("certificate moved to another host must reload: %+v", c.Reasons)
	}
	added := base()
	added.Certs = append(added.Certs, Cert{Name: "ns_b", PEM: []byte("b"), Hosts: []string{"b.com"}})
	if c := Diff(running, added); !c.Reload {
		t.Error("a new certificate must reload (the crt-list changes)")
	}
	newDefault := base()
	newDefault.DefaultCert.PEM = []byte("default-v2")
	if c := Diff(running, newDefault); c.Reload || len(c.CertUpdates) != 1 || c.CertUpdates[0].Name != "default" {
		t.Errorf("a renewed default certificate: reload=%v updates=%v", c.Reload, c.CertUpdates)
	}
}

// TestDiffReloadSendsSlotsBefore: an endpoint swap that comes with a change
// needing a reload still goes to the running worker first, which keeps
// serving its kept-alive connections for a moment after the reload; a
// backend without free slots for it gets nothing before.
func TestDiffReloadSendsSlotsBefore(t *testing.T) {
	build := func(timeout string, addrs ...string) *Model {
		s := endpointsSnapshot(addrs...)
		s.ConfigMap = map[string]string{"timeout-client": timeout}
		m, _ := Build(s, Options{})
		return m
	}
	c := Diff(build("50s", "10.0.0.1"), build("49s", "10.0.0.2"))
	if !c.Reload || len(c.Slots) > 0 {
		t.Fatalf("want a reload without dynamic slots: %+v", c)
	}
	want := []string{"ns_s_80/srv002 addr 10.0.0.2:8080", "ns_s_80/srv002 ready", "ns_s_80/srv001 drain"}
	if got := commands(c.Before); !slices.Equal(got, want) {
		t.Errorf("before the reload: %q, want %q", got, want)
	}
	if c := Diff(build("50s", "10.0.0.1"), build("49s", "10.0.0.2", "10.0.0.3", "10.0.0.4")); !c.Reload || len(c.Before) > 0 {
		t.Errorf("three new endpoints in two free slots: want a reload and nothing before, got %q", commands(c.Before))
	}
}
