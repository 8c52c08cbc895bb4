package model

import (
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// diffDynamic are the fields of a model the runtime API changes without a
// reload, by their path from Model (slice elements and pointers skipped).
var diffDynamic = []string{
	"Routes.Host", "Routes.Path", "Routes.Match", "Routes.Backend", "Routes.RedirectHTTPS",
	"Routes.Source.Kind", "Routes.Source.Namespace", "Routes.Source.Name",
	"Backends.Servers.Name", "Backends.Servers.Addr", "Backends.Servers.Port",
	"Backends.Servers.Enabled", "Backends.Servers.Draining",
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
			HSTS: &HSTS{MaxAge: 1}, AppRoot: "/app"}
		m.Global.HTTPResponse404, m.Global.HTTPResponse503 = &HTTPResponse{Headers: []Header{{"a", "b"}}}, &HTTPResponse{Headers: []Header{{"a", "b"}}}
		return m
	}
	var leaves []string
	var walk func(path string, v reflect.Value)
	walk = func(path string, v reflect.Value) {
		switch {
		case v.Type() == prefixType:
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
		case dynamic && (part == "Routes" && !c.Routes || strings.HasSuffix(leaf, ".PEM") && len(c.CertUpdates) != 1):
			t.Errorf("changing %s is lost: routes=%v cert updates=%d", leaf, c.Routes, len(c.CertUpdates))
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
		for v.Kind() == reflect.Pointer || v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Struct && v.Type().Elem() != prefixType {
			if v.Kind() == reflect.Pointer {
				v = v.Elem()
			} else {
				v = v.Index(v.Len() - 1)
			}
		}
	}
	return v
}

// prefixType is a leaf: its fields are unexported.
var prefixType = reflect.TypeOf(netip.Prefix{})

// mutate gives v another value of its type.
func mutate(t *testing.T, name string, v reflect.Value) {
	if v.Type() == prefixType {
		v.Set(reflect.ValueOf(netip.MustParsePrefix("192.0.2.0/24")))
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
