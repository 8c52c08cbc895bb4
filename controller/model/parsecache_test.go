package model_test

import (
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/external-haproxy/kit/controller/manifests"
	"github.com/external-haproxy/kit/controller/model"
)

// TestParseCacheBuildsTheSame: over the render golden inputs and a series
// of changes to each (an Ingress's keys, a Service's annotations, the
// ConfigMap, a deleted Ingress), Build with a cache carried from change to
// change gives the model and problems Build without one gives.
func TestParseCacheBuildsTheSame(t *testing.T) {
	dirs, err := filepath.Glob("../render/testdata/*/input.yaml")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("golden inputs: %v %v", dirs, err)
	}
	for _, input := range dirs {
		name := filepath.Base(filepath.Dir(input))
		t.Run(name, func(t *testing.T) {
			objs, err := manifests.LoadPaths(input)
			if err != nil {
				t.Fatal(err)
			}
			snap := &model.Snapshot{Ingresses: objs.Ingresses, Services: objs.Services, EndpointSlices: objs.EndpointSlices,
				Secrets: objs.Secrets, ConfigMap: map[string]string{}}
			if len(objs.ConfigMaps) > 0 {
				snap.ConfigMap = objs.ConfigMaps[0].Data
			}
			opts := model.Options{DefaultCertificate: defaultCert(t)}
			cached := opts
			cached.Cache = model.NewParseCache()
			same := func(step string) {
				t.Helper()
				want, wantProblems := model.Build(snap, opts)
				got, gotProblems := model.Build(snap, cached)
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s: the model with the cache differs", step)
				}
				if g, w := problemSet(gotProblems), problemSet(wantProblems); !slices.Equal(g, w) {
					t.Errorf("%s: problems with the cache\n%s\nwant\n%s", step, strings.Join(g, "\n"), strings.Join(w, "\n"))
				}
			}
			same("first build")
			same("unchanged")
			for i := range snap.Ingresses {
				ing := snap.Ingresses[i].DeepCopy()
				if ing.Annotations == nil {
					ing.Annotations = map[string]string{}
				}
				ing.Annotations["haproxy-ingress.github.io/timeout-server"] = "7s"
				ing.Annotations["haproxy-ingress.github.io/no-such-key"] = "x"
				snap.Ingresses = slices.Clone(snap.Ingresses)
				snap.Ingresses[i] = ing
				same("ingress " + ing.Name + " changed")
			}
			for i := range snap.Services {
				svc := snap.Services[i].DeepCopy()
				if svc.Annotations == nil {
					svc.Annotations = map[string]string{}
				}
				svc.Annotations["haproxy-ingress.github.io/rewrite-target"] = "/svc"
				snap.Services = slices.Clone(snap.Services)
				snap.Services[i] = svc
				same("service " + svc.Name + " changed")
			}
			cm := map[string]string{"timeout-server": "9s", "ssl-redirect": "false", "hsts-max-age": "60"}
			for k, v := range snap.ConfigMap {
				cm[k] = v
			}
			snap.ConfigMap = cm
			same("configmap changed")
			if len(snap.Ingresses) > 0 {
				snap.Ingresses = slices.Clone(snap.Ingresses[1:])
				same("an ingress deleted")
			}
			snap.Ingresses = append(snap.Ingresses, &networkingv1.Ingress{})
			same("an invalid ingress added")
		})
	}
}

// problemSet is problems as sorted text: their order follows what was read
// first, which the cache changes.
func problemSet(ps []model.Problem) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	slices.Sort(out)
	return slices.Compact(out)
}
