package model

import (
	"cmp"
	"maps"
	"slices"
	"strings"
)

// KeyStatus is what the controller makes of a key an object sets.
type KeyStatus string

const (
	KeySupported KeyStatus = "supported"
	// KeyIgnored: unknown, not read from that object, switched off, or
	// overridden by another object; Detail says which.
	KeyIgnored KeyStatus = "ignored"
	KeyInvalid KeyStatus = "invalid" // the default is used instead
)

// KeyUse is one key as an object sets it: an annotation under the
// annotation prefixes, or an entry of the global or an IngressClass
// parameters ConfigMap.
type KeyUse struct {
	Object Ref       `json:"object"`
	Key    string    `json:"key"` // as written: the annotation or ConfigMap key
	Value  string    `json:"value"`
	Status KeyStatus `json:"status"`
	Detail string    `json:"detail,omitempty"` // Build's problems on it
}

// KeyUses lists every key s sets where Build reads keys with o: the global
// ConfigMap, the IngressClass parameters, the annotations of the Ingresses
// and of the Services Build reads them from. A key is supported unless
// Build reports a problem on it, and the problems are its detail, so that
// the list says what the controller does. Sorted by object, then key.
func KeyUses(s *Snapshot, o Options) []KeyUse {
	b, problems := build(s, o)
	on := map[Ref]map[string][]string{}
	for _, p := range problems {
		if on[p.Object] == nil {
			on[p.Object] = map[string][]string{}
		}
		on[p.Object][p.Field] = append(on[p.Object][p.Field], p.Message)
	}
	var out []KeyUse
	add := func(ref Ref, field, written, name, v string) {
		u := KeyUse{Object: ref, Key: written, Value: v, Status: KeySupported}
		if msgs := on[ref][field]; len(msgs) > 0 {
			u.Status, u.Detail = KeyIgnored, strings.Join(msgs, "; ")
			if k := keysByName[name]; k != nil && !k.valid(v) {
				u.Status = KeyInvalid
			}
		}
		out = append(out, u)
	}
	for name, v := range s.ConfigMap {
		add(configMapRef, name, name, name, v)
	}
	for _, cp := range s.ClassParameters {
		for name, v := range cp.Data {
			add(cp.Source, name, name, name, v)
		}
	}
	annotated := func(ref Ref, ann map[string]string) {
		for full, v := range ann {
			for _, p := range b.prefixes {
				if name, ok := strings.CutPrefix(full, p+"/"); ok {
					add(ref, "annotation "+full, full, name, v)
					break
				}
			}
		}
	}
	for _, ing := range s.Ingresses {
		annotated(ingressRef(ing), ing.Annotations)
	}
	for _, key := range slices.Sorted(maps.Keys(b.parser.layers)) {
		if svc := b.backends.services[key]; svc != nil {
			annotated(Ref{Kind: "Service", Namespace: svc.Namespace, Name: svc.Name}, svc.Annotations)
		}
	}
	slices.SortFunc(out, func(a, c KeyUse) int {
		return cmp.Or(strings.Compare(a.Object.String(), c.Object.String()), strings.Compare(a.Key, c.Key))
	})
	return out
}
