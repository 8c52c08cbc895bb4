// Package quarantine holds the objects and the keys of the global or an
// IngressClass parameters ConfigMap whose configuration haproxy rejected,
// and takes them out of later snapshots: an object falls back to its last
// accepted version (or is left out when it has none), a key to what it
// would be without it (the default). An object leaves quarantine as soon as it
// changes, so a fix is tried at once, while an unchanged bad object costs no
// further haproxy check.
package quarantine

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/external-haproxy/kit/controller/blame"
	"github.com/external-haproxy/kit/controller/model"
)

// Quarantine is the set of held objects and keys. The zero value is empty
// and ready; it is not safe for concurrent use (the pipeline owns it).
type Quarantine struct {
	objects map[model.Ref]held
	keys    map[heldKey]held
}

// heldKey is a key of the global ConfigMap (model.ConfigMapRef) or of an
// IngressClass parameters ConfigMap.
type heldKey struct {
	configMap model.Ref
	key       string
}

// held remembers which version was rejected: resourceVersion for objects,
// the value for keys.
type held struct {
	version string
	alert   string
}

// Add holds c at the version it has in snap, which the rejected
// configuration was built from. It returns false when c is held already or
// is not in snap (nothing to take out).
func (q *Quarantine) Add(c blame.Culprit, snap *model.Snapshot) bool {
	if c.Object.Kind == "ConfigMap" {
		k := heldKey{c.Object, c.Field}
		v, ok := configMapData(snap, c.Object)[c.Field]
		if h, held := q.keys[k]; !ok || held && h.version == v {
			return false
		}
		if q.keys == nil {
			q.keys = map[heldKey]held{}
		}
		q.keys[k] = held{v, c.Alert}
		return true
	}
	obj := find(snap, c.Object)
	if obj == nil {
		return false
	}
	if h, ok := q.objects[c.Object]; ok && h.version == obj.GetResourceVersion() {
		return false
	}
	if q.objects == nil {
		q.objects = map[model.Ref]held{}
	}
	q.objects[c.Object] = held{obj.GetResourceVersion(), c.Alert}
	return true
}

// Len is the number of held objects and keys.
func (q *Quarantine) Len() int { return len(q.objects) + len(q.keys) }

// Apply returns snap with the held objects replaced by their version in
// lastGood (the snapshot of the configuration haproxy last accepted, nil
// before the first), or removed, and the held keys removed. Objects and keys
// that changed or went away since they were held are released. The problems
// say what was done, one per held object or key.
func (q *Quarantine) Apply(snap, lastGood *model.Snapshot) (*model.Snapshot, []model.Problem) {
	if q.Len() == 0 {
		return snap, nil
	}
	out := *snap
	var problems []model.Problem
	for ref, h := range q.objects {
		obj := find(snap, ref)
		if obj == nil || obj.GetResourceVersion() != h.version {
			delete(q.objects, ref)
			continue
		}
		var good metav1.Object
		if lastGood != nil {
			if g := find(lastGood, ref); g != nil && g.GetResourceVersion() != h.version {
				good = g
			}
		}
		substitute(&out, ref, good)
		what := "left out"
		if good != nil {
			what = "its last accepted version (resourceVersion " + good.GetResourceVersion() + ") is served instead"
		}
		problems = append(problems, model.Problem{Object: ref, Message: "haproxy rejected the configuration it produces, " + what + ": " + h.alert, Severity: model.Error})
	}
	for k, h := range q.keys {
		if v, ok := configMapData(snap, k.configMap)[k.key]; !ok || v != h.version {
			delete(q.keys, k)
		}
	}
	if len(q.keys) > 0 {
		out.ConfigMap = q.without(model.ConfigMapRef, snap.ConfigMap)
		if snap.ClassParameters != nil {
			out.ClassParameters = make(map[string]model.ClassParameters, len(snap.ClassParameters))
			for class, cp := range snap.ClassParameters {
				cp.Data = q.without(cp.Source, cp.Data)
				out.ClassParameters[class] = cp
			}
		}
		for k, h := range q.keys {
			problems = append(problems, model.Problem{Object: k.configMap, Field: k.key, Message: "haproxy rejected the value " + strconv.Quote(h.version) + ", using the default: " + h.alert, Severity: model.Error})
		}
	}
	// Map order must not reorder the reports.
	slices.SortFunc(problems, func(a, b model.Problem) int {
		return cmp.Or(strings.Compare(a.Object.String(), b.Object.String()), strings.Compare(a.Field, b.Field))
	})
	return &out, problems
}

// configMapData is the data of the global ConfigMap or of the IngressClass
// parameters ConfigMap ref; nil when s has none.
func configMapData(s *model.Snapshot, ref model.Ref) map[string]string {
	if ref == model.ConfigMapRef {
		return s.ConfigMap
	}
	for _, cp := range s.ClassParameters {
		if cp.Source == ref {
			return cp.Data
		}
	}
	return nil
}

// without is a copy of the data of ConfigMap ref without its held keys.
func (q *Quarantine) without(ref model.Ref, data map[string]string) map[string]string {
	out := make(map[string]string, len(data))
	for k, v := range data {
		if _, bad := q.keys[heldKey{ref, k}]; !bad {
			out[k] = v
		}
	}
	return out
}

// find returns the object ref names in s, or nil.
func find(s *model.Snapshot, ref model.Ref) metav1.Object {
	switch ref.Kind {
	case "Ingress":
		return findIn(s.Ingresses, ref)
	case "Service":
		return findIn(s.Services, ref)
	case "Secret":
		return findIn(s.Secrets, ref)
	case "EndpointSlice":
		return findIn(s.EndpointSlices, ref)
	}
	return nil
}

func findIn[T metav1.Object](list []T, ref model.Ref) metav1.Object {
	for _, o := range list {
		if o.GetNamespace() == ref.Namespace && o.GetName() == ref.Name {
			return o
		}
	}
	return nil
}

// substitute replaces the object ref names in s by good, or removes it when
// good is nil. The lists are copied: s shares them with the caller.
func substitute(s *model.Snapshot, ref model.Ref, good metav1.Object) {
	switch ref.Kind {
	case "Ingress":
		s.Ingresses = replaceIn(s.Ingresses, ref, good)
	case "Service":
		s.Services = replaceIn(s.Services, ref, good)
	case "Secret":
		s.Secrets = replaceIn(s.Secrets, ref, good)
	case "EndpointSlice":
		s.EndpointSlices = replaceIn(s.EndpointSlices, ref, good)
	}
}

func replaceIn[T metav1.Object](list []T, ref model.Ref, good metav1.Object) []T {
	out := make([]T, 0, len(list))
	for _, o := range list {
		if o.GetNamespace() == ref.Namespace && o.GetName() == ref.Name {
			if good == nil {
				continue
			}
			o = good.(T)
		}
		out = append(out, o)
	}
	return out
}
