package model

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestRegistry checks what the reference and the ConfigMap fallback rely on:
// every key documented, with a known scope, and a default that its own
// parser accepts.
func TestRegistry(t *testing.T) {
	scopes := map[Scope]bool{ScopeGlobal: true, ScopeFrontend: true, ScopeHost: true, ScopeBackend: true, ScopePath: true, ScopeTCP: true}
	for _, k := range registry {
		i := k.info()
		if !scopes[i.Scope] || i.Doc == "" || i.Accepts == "" || strings.Contains(i.Doc, "\n") {
			t.Errorf("%s: scope %q, doc %q, accepts %q", i.Name, i.Scope, i.Doc, i.Accepts)
		}
		if !k.inConfigMap() && !i.PerObject {
			t.Errorf("%s: a key nothing reads", i.Name)
		}
		if i.Scope == ScopeGlobal && i.PerObject {
			t.Errorf("%s: a Global key read per object", i.Name)
		}
		var g Global
		if k.inConfigMap() && !k.setGlobal(&g, i.Default) {
			t.Errorf("%s: default %q refused by its parser", i.Name, i.Default)
		}
	}
	if _, ok := keyPathType.parse(keyPathType.Default); !ok {
		t.Errorf("path-type: default %q refused", keyPathType.Default)
	}
}

// TestResolvePrecedence: global ConfigMap < IngressClass parameters <
// Ingress annotation < Service annotation, each only for the scopes that
// upstream reads there.
func TestResolvePrecedence(t *testing.T) {
	lay := func(name string, values map[string]string) *layer {
		return &layer{ref: Ref{Kind: name, Namespace: "ns", Name: "x"}, field: func(k string) string { return k }, values: values}
	}
	on := map[string]string{"ssl-redirect": "true", "timeout-client": "1s"}
	off := map[string]string{"ssl-redirect": "false", "timeout-client": "2s"}
	for _, c := range []struct {
		name string
		src  sources
		want bool
	}{
		{"global ConfigMap value when nothing else sets it", sources{}, false},
		{"IngressClass parameters over the global ConfigMap", sources{class: lay("ConfigMap", on)}, true},
		{"Ingress over IngressClass parameters", sources{class: lay("ConfigMap", off), ingress: lay("Ingress", on)}, true},
		{"Service over Ingress", sources{class: lay("ConfigMap", off), ingress: lay("Ingress", off), service: lay("Service", on)}, true},
		{"a layer without the key lets the weaker one through", sources{class: lay("ConfigMap", on), ingress: lay("Ingress", nil)}, true},
	} {
		got, p := value(keySSLRedirect, false, c.src)
		if got != c.want || p != nil {
			t.Errorf("%s: ssl-redirect %v (%v), want %v", c.name, got, p, c.want)
		}
		// A Global key is never taken from a layer: it stays the ConfigMap's.
		if l := resolve(keysByName["timeout-client"].info(), c.src); l != nil {
			t.Errorf("%s: timeout-client taken from %v", c.name, l.ref)
		}
	}
	// Services set Backend and Path keys only.
	host := &KeyInfo{Name: "ssl-redirect", Scope: ScopeHost, PerObject: true}
	if l := resolve(host, sources{ingress: lay("Ingress", on), service: lay("Service", off)}); l == nil || l.ref.Kind != "Ingress" {
		t.Errorf("Host key resolved from %v, want the Ingress", l)
	}
	_, p := value(keySSLRedirect, true, sources{ingress: lay("Ingress", on), service: lay("Service", map[string]string{"ssl-redirect": "yes please"})})
	if p == nil || p.Object.Kind != "Service" || p.Field != "ssl-redirect" || !strings.Contains(p.Message, `"yes please"`) {
		t.Errorf("invalid Service value: problem %v, want one naming the Service and the key", p)
	}
}

// TestKeysDoc fails when docs/keys.md and the registry disagree;
// UPDATE_EXPECTED=true rewrites it.
func TestKeysDoc(t *testing.T) {
	const path = "../../docs/keys.md"
	want := keysDoc()
	if os.Getenv("UPDATE_EXPECTED") == "true" {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("%s is not what the key registry says; run UPDATE_EXPECTED=true go test -run TestKeysDoc ./controller/model/", path)
	}
}

// keysDoc renders the reference of every key from the registry.
func keysDoc() []byte {
	var b bytes.Buffer
	b.WriteString(`# Configuration keys

Generated from the key registry (controller/model/keys.go) by
` + "`UPDATE_EXPECTED=true go test -run TestKeysDoc ./controller/model/`" + `; do not edit.

Names and meanings are upstream haproxy-ingress's. A key is set, weakest
first, by its default, the global ConfigMap (` + "`--configmap`" + `), and, for the
keys read per object, by an Ingress annotation under one of the
` + "`--annotations-prefix`" + ` prefixes (default ` + "`" + strings.Join(DefaultAnnotationPrefixes, "/`, `") + "/`" + `).
A bad value gives a Warning (ConfigMap: the default is kept) or an Error
(annotation: the Ingress is skipped); an unknown key under our prefixes gives
a Warning naming it.

Scope is upstream's. Keys not read per object come from the global ConfigMap
only so far: their annotations are reported and ignored. "reload": a change of the value can need a haproxy reload (any
global ConfigMap change does).

| key | scope | per object | default | accepts | reload | |
|---|---|---|---|---|---|---|
`)
	cell := func(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
	for _, k := range registry {
		i := k.info()
		def := "none"
		if i.Default != "" {
			def = "`" + i.Default + "`"
		}
		reload := "no"
		if i.Reload {
			reload = "yes"
		}
		per := "no"
		switch {
		case !k.inConfigMap():
			per = "annotation only"
		case i.PerObject:
			per = "yes"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s | %s | %s |\n", i.Name, i.Scope, per, def, cell(i.Accepts), reload, cell(i.Doc))
	}
	return b.Bytes()
}
