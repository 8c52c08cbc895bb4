package model

import (
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// The key registry: every configuration key, with upstream's name, scope and
// meaning, declared once. It lives in package model because a key's parser
// lands its typed value in model types (Global, Match) and Build reads the
// registry; a package of its own would need those types moved out of the
// model or values passed around untyped.

// Scope is where a key applies, in upstream's terms. Global keys are read
// from the global ConfigMap only; the other scopes can also be set by the
// IngressClass parameters ConfigMap and by annotations (see resolve).
type Scope string

const (
	ScopeGlobal   Scope = "Global"
	ScopeFrontend Scope = "Frontend"
	ScopeHost     Scope = "Host"
	ScopeBackend  Scope = "Backend"
	ScopePath     Scope = "Path"
	ScopeTCP      Scope = "TCP"
)

// KeyInfo is what the reference documentation says about a key.
type KeyInfo struct {
	Name    string
	Scope   Scope
	Default string // as written in the ConfigMap; "" : none
	Accepts string // the values it takes, for docs and problems
	// Reload: a change of the key's value can need a haproxy reload (a
	// global ConfigMap change always does).
	Reload bool
	Doc    string // one line
	// Aliases are other names of the key, weaker than Name when an object
	// sets both (whitelist-source-range for allowlist-source-range).
	Aliases []string
	// Snippet: haproxy configuration pasted as written, read only with
	// --allow-config-snippets.
	Snippet bool

	index int // in the registry, for keySet
}

// configKey is a registry entry, whatever the type of its value.
type configKey interface {
	info() *KeyInfo
	// setGlobal parses v into the key's field of Global; false: invalid,
	// g untouched. Only for keys inConfigMap.
	setGlobal(g *Global, v string) bool
	// inConfigMap tells whether the global ConfigMap may set the key.
	inConfigMap() bool
	// valid tells whether v parses.
	valid(v string) bool
	// perObject tells whether the IngressClass parameters and annotations
	// may set the key: the model carries its value per host, backend or
	// path. Keys whose upstream scope allows it but whose per-object value
	// the model does not carry are not, so that such an annotation is
	// reported, never silently ignored.
	perObject() bool
	// setPath, setBackend and setHost resolve the key for one object from
	// its layers into its policy; no-ops for keys of other scopes.
	setPath(p *pathSettings, g *Global, s sources, report func(Problem))
	setBackend(p *BackendPolicy, g *Global, s sources, report func(Problem))
	setHost(p *HostPolicy, g *Global, s sources, report func(Problem))
	// lands tells which of those set something.
	lands() (path, backend, host bool)
}

// key is a key whose values parse into T.
type key[T any] struct {
	KeyInfo
	parse func(v string) (T, bool)
	// global is where the global ConfigMap value lands (for non-Global
	// scopes: the default of every object); nil: not read from the ConfigMap.
	global func(g *Global) *T
	// path, backend and host are where a per-object value lands; at most
	// one is set, the one of the key's scope.
	path    func(p *pathSettings) *T
	backend func(p *BackendPolicy) *T
	host    func(p *HostPolicy) *T
	// Default parsed once: objects without the key take it, tens of
	// thousands per build.
	defOnce  sync.Once
	defValue T
}

func (k *key[T]) info() *KeyInfo    { return &k.KeyInfo }
func (k *key[T]) inConfigMap() bool { return k.global != nil }
func (k *key[T]) perObject() bool   { return k.path != nil || k.backend != nil || k.host != nil }
func (k *key[T]) lands() (path, backend, host bool) {
	return k.path != nil, k.backend != nil, k.host != nil
}

func (k *key[T]) valid(v string) bool {
	_, ok := k.parse(v)
	return ok
}

// def is the typed default; the registry test checks that every default parses.
func (k *key[T]) def() T {
	k.defOnce.Do(func() { k.defValue, _ = k.parse(k.Default) })
	return k.defValue
}

func (k *key[T]) setGlobal(g *Global, v string) bool {
	t, ok := k.parse(v)
	if ok {
		*k.global(g) = t
	}
	return ok
}

// objectDefault is the value of an object no layer sets: the global
// ConfigMap's, or the key's default.
func (k *key[T]) objectDefault(g *Global) T {
	if k.global != nil {
		return *k.global(g)
	}
	return k.def()
}

func (k *key[T]) setPath(p *pathSettings, g *Global, s sources, report func(Problem)) {
	if k.path != nil {
		*k.path(p) = k.resolved(g, s, report)
	}
}

func (k *key[T]) setBackend(p *BackendPolicy, g *Global, s sources, report func(Problem)) {
	if k.backend != nil {
		*k.backend(p) = k.resolved(g, s, report)
	}
}

func (k *key[T]) setHost(p *HostPolicy, g *Global, s sources, report func(Problem)) {
	if k.host != nil {
		*k.host(p) = k.resolved(g, s, report)
	}
}

func (k *key[T]) resolved(g *Global, s sources, report func(Problem)) T {
	v, p := value(k, k.objectDefault(g), s)
	if p != nil {
		report(*p)
	}
	return v
}

const timeAccepts = "a time from 1ms to 2147483647ms (about 24.8 days): digits and a unit us, ms, s, m, h or d"

// newKey is a key read from the global ConfigMap into field of Global
// (nil: not read there).
func newKey[T any](info KeyInfo, parse func(string) (T, bool), field func(*Global) *T) *key[T] {
	return &key[T]{KeyInfo: info, parse: parse, global: field}
}

func timeKey(name string, scope Scope, def, doc string, field func(*Global) *Duration) *key[Duration] {
	return newKey(KeyInfo{Name: name, Scope: scope, Default: def, Accepts: timeAccepts, Reload: true, Doc: doc}, parseDuration, field)
}

func intKey(name string, scope Scope, def string, lo, hi int, doc string, field func(*Global) *int) *key[int] {
	return newKey(KeyInfo{Name: name, Scope: scope, Default: def, Accepts: "an integer from " + strconv.Itoa(lo) + " to " + strconv.Itoa(hi), Reload: true, Doc: doc}, func(v string) (int, bool) {
		n, err := strconv.Atoi(v)
		return n, err == nil && n >= lo && n <= hi
	}, field)
}

func boolKey(name string, scope Scope, def, doc string, field func(*Global) *bool) *key[bool] {
	return newKey(KeyInfo{Name: name, Scope: scope, Default: def, Accepts: "true or false", Reload: true, Doc: doc}, parseBool, field)
}

func enumKey(name, def, doc string, field func(*Global) *string, values ...string) *key[string] {
	return newKey(KeyInfo{Name: name, Scope: ScopeGlobal, Default: def, Accepts: "one of " + strings.Join(values, ", "), Reload: true, Doc: doc}, func(v string) (string, bool) {
		return v, slices.Contains(values, v)
	}, field)
}

func ipKey(name string, scope Scope, doc string, field func(*Global) *string) *key[string] {
	return newKey(KeyInfo{Name: name, Scope: scope, Accepts: "an IPv4 or IPv6 address", Reload: true, Doc: doc}, func(v string) (string, bool) {
		return v, v == "" || net.ParseIP(v) != nil
	}, field)
}

// onPath, onBackend and onHost make k settable per object: its value for
// a path, backend or host lands in that field of the policy.
func onPath[T any](k *key[T], f func(*pathSettings) *T) *key[T] {
	k.path = f
	return k
}

func onBackend[T any](k *key[T], f func(*BackendPolicy) *T) *key[T] {
	k.backend = f
	return k
}

// withAliases gives k the other names of Aliases.
func withAliases[T any](k *key[T], names ...string) *key[T] {
	k.Aliases = names
	return k
}

func onHost[T any](k *key[T], f func(*HostPolicy) *T) *key[T] {
	k.host = f
	return k
}

func parseBool(v string) (bool, bool) {
	b, err := strconv.ParseBool(v)
	return b, err == nil
}

// registry lists every key, in the order of the reference documentation:
// by scope, each scope's keys declared in its own file.
var registry = slices.Concat(globalKeys, globalExtraKeys, dnsKeys, affinityGlobalKeys, frontendKeys, hostKeys, vhostKeys, backendKeys, vhostBackendKeys, dnsBackendKeys, affinityKeys, protocolKeys, serverKeys, drainKeys, blueGreenKeys, limitKeys, pathKeys, authKeys, corsKeys, redirectKeys, snippetKeys)

// pathRegistry, backendRegistry and hostRegistry are the keys, in registry
// order, that land in a path's, a backend's or a host's policy: the
// objects resolve only those, tens of thousands of times a build.
var pathRegistry, backendRegistry, hostRegistry = func() (p, b, h []configKey) {
	for _, k := range registry {
		path, backend, host := k.lands()
		if path {
			p = append(p, k)
		}
		if backend {
			b = append(b, k)
		}
		if host {
			h = append(h, k)
		}
	}
	return p, b, h
}()

// keysByName indexes the registry.
var keysByName = func() map[string]configKey {
	m := make(map[string]configKey, len(registry))
	if len(registry) > len(keySet{})*64 {
		panic("keySet holds fewer keys than the registry has")
	}
	for i, k := range registry {
		k.info().index = i
		for _, name := range append([]string{k.info().Name}, k.info().Aliases...) {
			if m[name] != nil {
				panic("key declared twice: " + name)
			}
			m[name] = k
		}
	}
	return m
}()

// DefaultAnnotationPrefixes are upstream's --annotations-prefix default.
var DefaultAnnotationPrefixes = []string{"haproxy-ingress.github.io", "ingress.kubernetes.io"}

// setting is a key's value as one object sets it, and how a problem names
// where: the object and its field.
type setting struct {
	value string
	ref   Ref
	field string
}

// layer is what one place sets, by key name.
type layer map[string]setting

// sources are the layers above the global ConfigMap (whose values are in
// Global already), weakest first, as upstream: IngressClass parameters
// ConfigMap < Ingress annotations < Service annotations. A nil layer sets
// nothing.
type sources struct {
	class, ingress, service layer
	// set, when indexed, are the keys some layer sets.
	set     keySet
	indexed bool
}

// keySet marks registry keys by index.
type keySet [4]uint64

func (s *keySet) add(i int)      { s[i/64] |= 1 << (i % 64) }
func (s *keySet) has(i int) bool { return s[i/64]&(1<<(i%64)) != 0 }

// withIndex is s with the set of keys its layers set: an object resolves a
// hundred keys and its layers set a few, so resolve skips the lookups of
// the others in every layer.
func (s sources) withIndex() sources {
	s.set, s.indexed = keySet{}, true
	for _, l := range [3]layer{s.class, s.ingress, s.service} {
		for name := range l {
			if k := keysByName[name]; k != nil {
				s.set.add(k.info().index)
			}
		}
	}
	return s
}

// resolve returns the strongest setting of k, false if no layer sets it:
// Global keys come from the global ConfigMap only, and Services set
// Backend and Path keys only.
func resolve(k *KeyInfo, s sources) (setting, bool) {
	if k.Scope == ScopeGlobal || s.indexed && !s.set.has(k.index) {
		return setting{}, false
	}
	// Called for every key of every path: no allocation.
	order := [3]layer{s.service, s.ingress, s.class}
	layers := order[:]
	if k.Scope != ScopeBackend && k.Scope != ScopePath {
		layers = order[1:]
	}
	for _, l := range layers {
		if len(l) == 0 {
			continue
		}
		if st, ok := l[k.Name]; ok {
			return st, true
		}
		for _, name := range k.Aliases {
			if st, ok := l[name]; ok {
				return st, true
			}
		}
	}
	return setting{}, false
}

// value is k's value for an object: def (the global ConfigMap's or the
// default) unless a layer sets it. An invalid value is a Problem naming
// where it was set and what is allowed, with def returned.
func value[T any](k *key[T], def T, s sources) (T, *Problem) {
	st, ok := resolve(&k.KeyInfo, s)
	if !ok {
		return def, nil
	}
	t, ok := k.parse(st.value)
	if !ok {
		return def, &Problem{st.ref, st.field, "invalid value " + quoteValue(st.value) + ", want " + k.Accepts + "; using the default", Error}
	}
	return t, nil
}

// annotations reads an object's keys under the prefixes, the first prefix
// winning when two set one key. Services set Backend and Path keys only.
// An unknown key, or one the object cannot set, under a prefix is
// reported, then ignored.
func annotations(ref Ref, ann map[string]string, prefixes []string, report func(Problem)) layer {
	if len(ann) == 0 {
		// Most Services: read for every backend of every build.
		return nil
	}
	l := layer{}
	keys := slices.Sorted(maps.Keys(ann))
	for _, p := range prefixes {
		for _, full := range keys {
			name, ok := strings.CutPrefix(full, p+"/")
			if !ok {
				continue
			}
			field := "annotation " + full
			k := keysByName[name]
			if k != nil && ref.Kind == "Service" && k.info().Scope != ScopeBackend && k.info().Scope != ScopePath {
				report(Problem{ref, field, string(k.info().Scope) + " key, read from Ingresses, not Services; ignored", Warning})
				continue
			}
			if settable(ref, field, k, report) {
				if prev, set := l[name]; set {
					report(Problem{ref, field, "ignored, " + prev.field + " wins (first prefix of --annotations-prefix)", Warning})
				} else {
					l[name] = setting{ann[full], ref, field}
				}
			}
		}
	}
	return l
}

// parameters reads the IngressClass parameters ConfigMap: the keys of
// every scope but Global, without prefix.
func parameters(ref Ref, data map[string]string, report func(Problem)) layer {
	l := layer{}
	for _, name := range slices.Sorted(maps.Keys(data)) {
		if settable(ref, name, keysByName[name], report) {
			l[name] = setting{data[name], ref, name}
		}
	}
	return l
}

// settable tells whether an object may set k, reporting why not.
func settable(ref Ref, field string, k configKey, report func(Problem)) bool {
	switch {
	case k == nil:
		report(Problem{ref, field, "unknown key, ignored", Warning})
	case k.info().Scope == ScopeGlobal:
		report(Problem{ref, field, "global key, read from the global ConfigMap only; ignored", Warning})
	case !k.perObject():
		report(Problem{ref, field, "read from the global ConfigMap only so far (upstream scope " + string(k.info().Scope) + "); ignored", Warning})
	default:
		return true
	}
	return false
}
