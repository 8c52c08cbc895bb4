package model_test

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/external-haproxy/kit/controller/model"
)

// patchKeys are keys of every scope with a valid value, those that reach
// past their Ingress's routes and backends among them.
var patchKeys = append([]struct{ key, benign string }{
	{"server-alias", "alias.test"}, {"server-alias-regex", `^a[0-9]+\.test$`}, {"ssl-passthrough", "true"},
	{"auth-secret", "users"}, {"auth-realm", "r"}, {"redirect-from", "old.test"}, {"app-root", "/app"},
	{"rewrite-target", "/r"}, {"allowlist-source-range", "10.0.0.0/8"}, {"denylist-source-range", "10.1.0.0/16"},
	{"cors-enable", "true"}, {"cors-allow-origin", "https://a.test"}, {"path-type", "exact"}, {"use-resolver", "kube"},
	{"auth-tls-secret", "ca"}, {"ssl-ciphers", "ECDHE-RSA-AES128-GCM-SHA256"}, {"redirect-to", "https://r.test/"},
}, configMapKeys...)

// patchSnapshot has Ingresses that own their hosts and backends, two that
// share a host, one that shares another's backend, one without a host,
// IngressClass parameters and TLS, some with and some without a Secret.
func patchSnapshot(t *testing.T) *model.Snapshot {
	cert, key := tlsPair(t)
	s := &model.Snapshot{
		ConfigMap: map[string]string{"dns-resolvers": "kube=127.0.0.1:5353"},
		ClassParameters: map[string]model.ClassParameters{"c": {Class: "c", Source: model.Ref{Kind: "ConfigMap", Namespace: "ns", Name: "params"},
			Data: map[string]string{"timeout-connect": "3s", "hsts-max-age": "60", "ssl-ciphers": "ECDHE-RSA-AES256-GCM-SHA384"}}},
		Secrets: []*corev1.Secret{tlsSecret("tls-0", cert, key), tlsSecret("tls-4", cert, key)},
	}
	port := int32(8080)
	for i := range 10 {
		name := fmt.Sprintf("web-%d", i)
		svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: hostileNS}, Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}}}
		if i == 3 {
			svc.Annotations = map[string]string{"haproxy-ingress.github.io/timeout-server": "7s"}
		}
		s.Services = append(s.Services, svc)
		s.EndpointSlices = append(s.EndpointSlices, &discoveryv1.EndpointSlice{
			ObjectMeta:  metav1.ObjectMeta{Name: name + "-a", Namespace: hostileNS, Labels: map[string]string{discoveryv1.LabelServiceName: name}},
			AddressType: discoveryv1.AddressTypeIPv4, Ports: []discoveryv1.EndpointPort{{Port: &port}},
			Endpoints: []discoveryv1.Endpoint{{Addresses: []string{fmt.Sprintf("10.0.%d.1", i)}}, {Addresses: []string{fmt.Sprintf("10.0.%d.2", i)}}},
		})
	}
	class := "c"
	for i := range 12 {
		host, svc := fmt.Sprintf("h%d.test", i), fmt.Sprintf("web-%d", i%10)
		switch i {
		case 9:
			host = "h8.test" // shares ing-8's host
		case 11:
			host = ""
		}
		ing := ingress(fmt.Sprintf("ing-%d", i), host, "/", svc)
		ing.CreationTimestamp = metav1.Unix(int64(100+i), 0)
		ing.Spec.Rules[0].HTTP.Paths = append(ing.Spec.Rules[0].HTTP.Paths, ing.Spec.Rules[0].HTTP.Paths[0])
		ing.Spec.Rules[0].HTTP.Paths[1].Path = "/a"
		if i%2 == 0 && host != "" {
			ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{host}, SecretName: fmt.Sprintf("tls-%d", i)}}
		}
		if i < 6 {
			ing.Spec.IngressClassName = &class
		}
		s.Ingresses = append(s.Ingresses, ing)
	}
	return s
}

// TestPatchEqualsBuild changes a few Ingresses at random, their keys
// mostly, and checks that Build with the cache, which patches the last
// model when it can, gives what a Build from nothing gives; and that it
// patched most of the time, so that the check means something.
func TestPatchEqualsBuild(t *testing.T) {
	s := patchSnapshot(t)
	cache := model.NewCache()
	plain := model.Options{DefaultCertificate: defaultCert(t)}
	cached := plain
	cached.Cache = cache
	running, _ := model.Build(s, cached)
	rng := rand.New(rand.NewPCG(8, 2026))
	patched, dynamic, steps := 0, 0, 1000
	for step := range steps {
		next := *s
		next.Ingresses = slices.Clone(s.Ingresses)
		var did []string
		for range 1 + rng.IntN(2) {
			i := rng.IntN(len(next.Ingresses))
			ing := next.Ingresses[i].DeepCopy()
			did = append(did, ing.Name+": "+changeIngress(rng, ing))
			next.Ingresses[i] = ing
		}
		if rng.IntN(20) == 0 {
			next.Services = slices.Clone(s.Services)
			svc := next.Services[3].DeepCopy()
			svc.Annotations["haproxy-ingress.github.io/timeout-server"] = fmt.Sprintf("%ds", step)
			next.Services[3] = svc
			did = append(did, "service web-3")
		}
		// The watch lists objects in no set order.
		rng.Shuffle(len(next.Ingresses), func(i, j int) { next.Ingresses[i], next.Ingresses[j] = next.Ingresses[j], next.Ingresses[i] })
		pm, pp := model.Build(&next, cached)
		fm, fp := model.Build(&next, plain)
		if !model.Equal(pm, fm) {
			t.Fatalf("step %d (%s, patched %v): models differ:\n%s", step, strings.Join(did, "; "), cache.Patched(),
				cmp.Diff(fm, pm, cmpopts.EquateEmpty(), cmp.Exporter(func(reflect.Type) bool { return true })))
		}
		if a, b := problemSet(pp), problemSet(fp); !slices.Equal(a, b) {
			t.Fatalf("step %d (%s, patched %v): problems differ:\n%s", step, strings.Join(did, "; "), cache.Patched(), cmp.Diff(b, a))
		}
		// The cache's Diff, which keeps the last routes' rests, diffs alike.
		if got, want := cache.Diff(running, pm), model.Diff(running, fm); got.Reload != want.Reload ||
			!slices.Equal(got.Reasons, want.Reasons) || !model.Equal(got.Next, want.Next) || !model.Equal(got.Slots, want.Slots) {
			t.Fatalf("step %d (%s): the cache's Diff gives reload %v %q, Diff reload %v %q", step, strings.Join(did, "; "), got.Reload, got.Reasons, want.Reload, want.Reasons)
		} else if running = got.Next; !got.Reload {
			dynamic++
		}
		if cache.Patched() {
			patched++
		}
		s = &next
	}
	t.Logf("%d of %d builds patched, %d changes without a reload", patched, steps, dynamic)
	// About a quarter: five of the twelve Ingresses share a host or a
	// backend, or have none, and some changes are to specs and Services.
	if patched < steps/8 || steps-patched < steps/8 {
		t.Errorf("%d of %d builds patched: the check is not testing patches and full builds both", patched, steps)
	}
}

// changeIngress sets, clears or spoils a key of ing, or now and then
// changes its spec or nothing, and says what it did.
func changeIngress(rng *rand.Rand, ing *networkingv1.Ingress) string {
	ann := map[string]string{}
	for k, v := range ing.Annotations {
		ann[k] = v
	}
	ing.Annotations = ann
	// Mostly keys a patch takes: the others stay until cleared.
	k := patchKeys[rng.IntN(len(patchKeys))]
	for rng.IntN(4) > 0 && !model.OwnKey(k.key) {
		k = patchKeys[rng.IntN(len(patchKeys))]
	}
	name := "haproxy-ingress.github.io/" + k.key
	switch n := rng.IntN(20); {
	case n < 10:
		ann[name] = k.benign
		return "set " + k.key
	case n < 14:
		ann[name] = "bad value!"
		return "spoil " + k.key
	case n < 16:
		if len(ann) == 0 {
			return "nothing to clear"
		}
		k := slices.Sorted(maps.Keys(ann))[rng.IntN(len(ann))]
		delete(ann, k)
		return "clear " + k
	case n < 17:
		clear(ann)
		return "clear all"
	case n < 19:
		ing.Spec.Rules[0].HTTP.Paths[1].Path = fmt.Sprintf("/p%d", rng.IntN(3))
		return "change a path"
	default:
		return "copy"
	}
}
