package render_test

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/external-haproxy/kit/controller/model"
	"github.com/external-haproxy/kit/controller/render"
)

// TestCacheRendersAsWithout renders the models of random changes, most of
// them patched Builds, with a render cache and without: the files must be
// the same bytes.
func TestCacheRendersAsWithout(t *testing.T) {
	s := annotatedSnapshot()
	s.Ingresses = s.Ingresses[:300]
	opts := model.Options{DefaultCertificate: defaultCertPEM(t), Cache: model.NewCache()}
	rc := render.NewCache()
	rng := rand.New(rand.NewPCG(4, 12))
	values := map[string][]string{
		"haproxy-ingress.github.io/timeout-server":         {"5s", "7s", "bad"},
		"haproxy-ingress.github.io/rewrite-target":         {"/x", "/y"},
		"haproxy-ingress.github.io/hsts-max-age":           {"60", "120"},
		"haproxy-ingress.github.io/allowlist-source-range": {"10.0.0.0/8", "192.168.1.0/24"},
		"haproxy-ingress.github.io/maxconn-server":         {"10", "20"},
	}
	keys := slices.Sorted(maps.Keys(values))
	patched := 0
	for step := range 60 {
		next := *s
		next.Ingresses = slices.Clone(s.Ingresses)
		i := rng.IntN(len(next.Ingresses))
		ing := next.Ingresses[i].DeepCopy()
		k := keys[rng.IntN(len(keys))]
		ing.Annotations[k] = values[k][rng.IntN(len(values[k]))]
		next.Ingresses[i] = ing
		if step%7 == 3 {
			// One gone: the routes after it move up, built in full.
			next.Ingresses = slices.Delete(next.Ingresses, 7, 8)
		}
		if step%10 == 9 {
			// A global change: everything is rendered again.
			next.ConfigMap = map[string]string{"timeout-connect": fmt.Sprintf("%ds", step)}
		}
		m, _ := model.Build(&next, opts)
		if opts.Cache.Patched() {
			patched++
		}
		got, want := rc.Render(m, goldenLayout), render.Render(m, goldenLayout)
		if len(got) != len(want) {
			t.Fatalf("step %d: %d files, want %d", step, len(got), len(want))
		}
		for j := range want {
			if got[j].Path != want[j].Path || string(got[j].Data) != string(want[j].Data) {
				t.Fatalf("step %d: %s differs from a render without cache", step, want[j].Path)
			}
		}
		s = &next
	}
	if patched < 30 {
		t.Errorf("%d of 60 builds patched", patched)
	}
}
