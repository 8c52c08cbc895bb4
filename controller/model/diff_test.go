package model

import (
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
)

// diffDynamic are the fields of a model the runtime API changes without a
// reload, by their path from Model (slice elements and pointers skipped).
var diffDynamic = []string{
	"Routes.Host", "Routes.Path", "Routes.Match", "Routes.Backend", "Routes.RedirectHTTPS",
	"Routes.Source.Kind", "Routes.Source.Namespace", "Routes.Source.Name",
	"Backends.Servers.Name", "Backends.Servers.Addr", "Backends.Servers.Port",
	"Backends.Servers.Enabled", "Backends.Servers.Draining", "Backends.Servers.Weight", "Backends.Servers.Weighted",
	"Backends.Servers.Group",
	"Certs.PEM", "DefaultCert.PEM",
}

// TestDiffClassifiesEveryField changes every field of a model in turn, found
// by reflection so that a field added later is covered as well: a change of
// any field but the dynamic ones must reload, naming the part it is in.
func TestDiffClassifiesEveryField(t *testing.T) {
	base := func() *Model {
		m, _ := Build(endpointsSnapshot("10.0.0.1"), Options{})
		m.DefaultCert = &Cert{Name: "default", PEM: []byte("default")}
		m.Certs = []Cert{{Name: "ns_a", PEM: []byte("a"), Hosts: []string{"a.com"}, Source: Ref{Kind: "Secret", Namespace: "ns", Name: "a"}}}
		// Every policy field set, so that each is walked.
		one := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
		m.Routes[len(m.Routes)-1].Policy = PathPolicy{AllowSources: one, DenySources: one, Rewrite: &Rewrite{"/a", "/"},
			HSTS: &HSTS{MaxAge: 1}, AppRoot: "/app", Auth: &Auth{Userlist: "ns_u", Realm: "r"}, CORS: &CORS{Origins: []string{"https://a.com"}},
			RedirectTo: &RedirectTo{"https://a.com/", 302}, BodyLimit: &BodyLimit{1, 1}, ClientCert: &ClientCertCheck{ErrorPage: "/e"}}
		m.Userlists = []Userlist{{Name: "ns_u", Source: Ref{Kind: "Secret", Namespace: "ns", Name: "u"}, Users: []User{{Name: "a", Password: "p"}}}}
		m.HostRedirects = []HostRedirect{{From: "a.org", To: "a.com", Served: []string{"x.a.org"}}}
		m.Global.Cookie.Keywords = []CookieKeyword{{"maxidle", "1s"}}
		m.Global.Limit.Whitelist = one
		m.Backends[len(m.Backends)-1].Policy.Limit.Whitelist = one
		m.Backends[len(m.Backends)-1].Policy.Cookie.Keywords = []CookieKeyword{{"maxidle", "1s"}}
		m.Spares.Policy.Limit.Whitelist = one
		m.Global.BindHTTP, m.Global.BindHTTPS = []Addr{{"", 80}}, []Addr{{"", 443}}
		for i := range m.Frontends {
			m.Frontends[i].Also = []Addr{{"::", m.Frontends[i].Port}}
		}
		bg := func() []BlueGreenGroup { return []BlueGreenGroup{{"app", "blue", 1}} }
		m.Global.BlueGreen.Groups, m.Backends[len(m.Backends)-1].Policy.BlueGreen.Groups, m.Spares.Policy.BlueGreen.Groups = bg(), bg(), bg()
		m.Backends[len(m.Backends)-1].Policy.BlueGreen.Header = BlueGreenSelector{"X-Group", "group"}
		// Groups are those of endpoints: the slot the walk changes has one.
		last := &m.Backends[len(m.Backends)-1]
		srv := &last.Servers[len(last.Servers)-1]
		srv.Addr, srv.Port, srv.Enabled, srv.Group = "10.0.0.9", 80, true, "blue"
		m.Spares.Policy.Cookie.Keywords = []CookieKeyword{{"maxidle", "1s"}}
		m.TLSHosts = []TLSHost{{Host: "a.com", Cert: "ns_a", TLS: HostTLS{ClientCA: "ns_ca", ALPN: "h2"}}}
		m.Passthrough = []PassthroughHost{{Host: "p.com", Backend: "ns_p_443"}}
		m.AliasRegexes = []AliasRegex{{Regex: "^a", Host: "a.com", Source: Ref{Kind: "Ingress", Namespace: "ns", Name: "a"}}}
		m.ClientCAs = []ClientCA{{Name: "ns_ca", PEM: []byte("ca"), CRL: []byte("crl"), Source: Ref{Kind: "Secret", Namespace: "ns", Name: "ca"}}}
		m.TCPServices = []TCPService{{Addr: Addr{"127.0.0.1", 5432}, Backend: "_tcp_5432", AcceptProxy: true,
			Cert:     &Cert{Name: "ns_t", PEM: []byte("t"), Hosts: []string{"t.com"}, Source: Ref{Kind: "Secret", Namespace: "ns", Name: "t"}},
			ClientCA: &ClientCA{Name: "ns_ca", PEM: []byte("ca"), CRL: []byte("crl"), Source: Ref{Kind: "Secret", Namespace: "ns", Name: "ca"}},
			Source:   Ref{Kind: "ConfigMap", Namespace: "ns", Name: "tcp"}}}
		m.Global.HTTPResponse404, m.Global.HTTPResponse503 = &HTTPResponse{Headers: []Header{{"a", "b"}}}, &HTTPResponse{Headers: []Header{{"a", "b"}}}
		m.Global.DNS.Resolvers = []Resolver{{Name: "kube", Nameservers: []netip.AddrPort{netip.MustParseAddrPort("10.0.0.10:53")}}}
		last.DNS = &Discovery{Resolver: "kube", Name: "s.ns.svc.cluster.local", Port: 8080, Slots: 32}
		return m
	}
	var leaves []string
	var walk func(path string, v reflect.Value)
	walk = func(path string, v reflect.Value) {
		switch {
		case leafTypes[v.Type()]:
			leaves = append(leaves, path)
		case v.Kind() == reflect.Pointer:
			walk(path, v.Elem())
		case v.Kind() == reflect.Struct:
			for i := range v.NumField() {
				walk(strings.TrimPrefix(path+"."+v.Type().Field(i).Name, "."), v.Field(i))
			}
		case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Struct:
			if v.Len() == 0 {
				t.Fatalf("%s is empty in the base model: its fields would go untested", path)
			}
			walk(path, v.Index(v.Len()-1))
		default:
			leaves = append(leaves, path)
		}
	}
	walk("", reflect.ValueOf(base()))

	for _, leaf := range leaves {
		running, next := base(), base()
		mutate(t, leaf, leafOf(reflect.ValueOf(next), strings.Split(leaf, ".")))
		c := Diff(running, next)
		part, _, _ := strings.Cut(leaf, ".")
		want := partReason(part)
		switch dynamic := slices.Contains(diffDynamic, leaf); {
		case dynamic && c.Reload:
			t.Errorf("%s is dynamic, but changing it reloads: %q", leaf, c.Reasons)
		case dynamic && (part == "Routes" && !c.Routes || strings.HasSuffix(leaf, ".PEM") && len(c.CertUpdates) != 1 ||
			strings.HasSuffix(leaf, ".Group") && !c.Groups):
			t.Errorf("changing %s is lost: routes=%v cert updates=%d groups=%v", leaf, c.Routes, len(c.CertUpdates), c.Groups)
		case !dynamic && (!c.Reload || !slices.Equal(c.Reasons, []string{want})):
			t.Errorf("changing %s: reload=%v %q, want a reload for %q", leaf, c.Reload, c.Reasons, want)
		}
	}
	for _, d := range diffDynamic {
		if !slices.Contains(leaves, d) {
			t.Errorf("dynamic field %s is not in the model", d)
		}
	}
}

// leafOf follows path from v, through pointers and into the last element of
// slices, as TestDiffClassifiesEveryField walks.
func leafOf(v reflect.Value, path []string) reflect.Value {
	for _, name := range path {
		for v.Kind() == reflect.Pointer {
			v = v.Elem()
		}
		v = v.FieldByName(name)
		for v.Kind() == reflect.Pointer || v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Struct && !leafTypes[v.Type().Elem()] {
			if v.Kind() == reflect.Pointer {
				v = v.Elem()
			} else {
				v = v.Index(v.Len() - 1)
			}
		}
	}
	return v
}

// leafTypes are leaves, with another value for mutate: their fields are
// unexported.
var leafTypes = map[reflect.Type]bool{reflect.TypeFor[netip.Prefix](): true, reflect.TypeFor[netip.AddrPort](): true}

// mutate gives v another value of its type.
func mutate(t *testing.T, name string, v reflect.Value) {
	switch v.Interface().(type) {
	case netip.Prefix:
		v.Set(reflect.ValueOf(netip.MustParsePrefix("192.0.2.0/24")))
		return
	case netip.AddrPort:
		v.Set(reflect.ValueOf(netip.MustParseAddrPort("192.0.2.1:53")))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(v.String() + "x")
	case reflect.Bool:
		v.SetBool(!v.Bool())
	case reflect.Int, reflect.Int64:
		v.SetInt(v.Int() + 1)
	case reflect.Slice:
		v.Set(reflect.Append(v, reflect.New(v.Type().Elem()).Elem()))
	default:
		t.Fatalf("%s: no mutation for a %s; add one", name, v.Type())
	}
}

// TestDiffPathPolicies: a path whose policy another route already has, or
// that moves to another existing backend, is a map change; a policy no
// route had yet needs its rules, so a reload.
func TestDiffPathPolicies(t *testing.T) {
	allow := map[string]string{"haproxy-ingress.github.io/allowlist-source-range": "10.0.0.0/8"}
	build := func(ings ...*networkingv1.Ingress) *Model {
		s := endpointsSnapshot("10.0.0.1")
		s.Ingresses = append(s.Ingresses, ings...)
		m, _ := Build(s, Options{})
		return m
	}
	running := build(ingress("p", 0, "bar.com", "/", networkingv1.PathTypePrefix, "s", allow))
	for _, c := range []struct {
		name   string
		next   *Model
		reload bool
	}{
		{"new path, existing policy", build(ingress("p", 0, "bar.com", "/", networkingv1.PathTypePrefix, "s", allow),
			ingress("q", 0, "baz.com", "/x", networkingv1.PathTypePrefix, "s", allow)), false},
		{"new path, no policy", build(ingress("p", 0, "bar.com", "/", networkingv1.PathTypePrefix, "s", allow),
			ingress("q", 0, "baz.com", "/x", networkingv1.PathTypePrefix, "s", nil)), false},
		{"new policy", build(ingress("p", 0, "bar.com", "/", networkingv1.PathTypePrefix, "s",
			map[string]string{"haproxy-ingress.github.io/allowlist-source-range": "192.0.2.0/24"})), true},
	} {
		ch := Diff(running, c.next)
		if ch.Reload != c.reload || !c.reload && !ch.Routes {
			t.Errorf("%s: reload %v (%q), routes %v; want reload %v", c.name, ch.Reload, ch.Reasons, ch.Routes, c.reload)
		}
	}
}
