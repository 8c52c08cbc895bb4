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
		if !k.inConfigMap() && !k.perObject() {
			t.Errorf("%s: a key nothing reads", i.Name)
		}
		if i.Scope == ScopeGlobal && k.perObject() {
			t.Errorf("%s: a Global key read per object", i.Name)
		}
		// Every default parses: resolving an object that sets nothing
		// reports nothing.
		var g Global
		if k.inConfigMap() && !k.setGlobal(&g, i.Default) {
			t.Errorf("%s: default %q refused by its parser", i.Name, i.Default)
		}
		src := sources{ingress: layer{i.Name: {value: i.Default}}}
		refused := func(p Problem) { t.Errorf("%s: default %q refused by its parser: %v", i.Name, i.Default, p) }
		k.setPath(&pathSettings{}, &g, src, refused)
		k.setBackend(&BackendPolicy{}, &g, src, refused)
		k.setHost(&HostPolicy{}, &g, src, refused)
	}
}

// TestResolvePrecedence: global ConfigMap < IngressClass parameters <
// Ingress annotation < Service annotation, each only for the scopes that
// upstream reads there.
func TestResolvePrecedence(t *testing.T) {
	lay := func(name string, values map[string]string) layer {
		l := layer{}
		for k, v := range values {
			l[k] = setting{v, Ref{Kind: name, Namespace: "ns", Name: "x"}, k}
		}
		return l
	}
	keySSLRedirect := keysByName["ssl-redirect"].(*key[bool])
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
		if st, ok := resolve(keysByName["timeout-client"].info(), c.src); ok {
			t.Errorf("%s: timeout-client taken from %v", c.name, st.ref)
		}
	}
	// Services set Backend and Path keys only.
	host := &KeyInfo{Name: "ssl-redirect", Scope: ScopeHost}
	if st, ok := resolve(host, sources{ingress: lay("Ingress", on), service: lay("Service", off)}); !ok || st.ref.Kind != "Ingress" {
		t.Errorf("Host key resolved from %v, want the Ingress", st.ref)
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
keys read per object, by the ConfigMap named in the IngressClass
` + "`spec.parameters`" + `, an Ingress annotation, and (Backend and Path keys) a
Service annotation, under one of the ` + "`--annotations-prefix`" + ` prefixes
(default ` + "`" + strings.Join(DefaultAnnotationPrefixes, "/`, `") + "/`" + `). Host and Backend keys
are shared by the Ingresses of a host or backend: the oldest Ingress that
sets one wins, the others get a Warning naming it. A bad value gives an Event
naming the key, the value and what is allowed, and the default is used; an
unknown key under our prefixes gives a Warning naming it.

Scope is upstream's. Keys not read per object come from the global ConfigMap
only so far: their annotations are reported and ignored. "reload": a change of the value can need a haproxy reload (any
global ConfigMap change does). The config-* snippet keys paste haproxy
configuration as written and are read only with ` + "`--allow-config-snippets`" + `.
` + "`haproxy-ingress-controller check -f MANIFESTS`" + ` (or ` + "`--kubeconfig`" + `) lists the keys
a configuration sets and what the controller makes of each.

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
			per = "per object only"
		case k.perObject():
			per = "yes"
		}
		name := "`" + i.Name + "`"
		for _, a := range i.Aliases {
			name += " (alias `" + a + "`)"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s |\n", name, i.Scope, per, def, cell(i.Accepts), reload, cell(i.Doc))
	}
	return b.Bytes()
}
