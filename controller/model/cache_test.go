package model_test

import (
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/external-haproxy/kit/controller/manifests"
	"github.com/external-haproxy/kit/controller/model"
	"github.com/external-haproxy/kit/test/liveproxy"
)

// TestCacheBuildsTheSame: over the render golden inputs and a series
// of changes to each (an Ingress's keys, a Service's annotations, an
// EndpointSlice's endpoints and their pods, the ConfigMap, a deleted
// Ingress), Build with a cache carried from change to
// change gives the model and problems Build without one gives.
func TestCacheBuildsTheSame(t *testing.T) {
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
			cached.Cache = model.NewCache()
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
			for i := range snap.EndpointSlices {
				es := snap.EndpointSlices[i].DeepCopy()
				if len(es.Endpoints) > 0 {
					es.Endpoints[0].Addresses = []string{"10.9.9." + strconv.Itoa(i+1)}
					es.Endpoints[0].TargetRef = &corev1.ObjectReference{Kind: "Pod", Name: "pod-" + strconv.Itoa(i)}
				}
				snap.EndpointSlices = slices.Clone(snap.EndpointSlices)
				snap.EndpointSlices[i] = es
				same("endpointslice " + es.Name + " changed")
				pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: es.Namespace, Name: "pod-" + strconv.Itoa(i), Labels: map[string]string{"v": "a"}}}
				snap.Pods = append(slices.Clone(snap.Pods), pod)
				same("pod of endpointslice " + es.Name + " added")
				pod = pod.DeepCopy()
				pod.Labels["v"] = "b"
				snap.Pods = append(slices.Clone(snap.Pods[:len(snap.Pods)-1]), pod)
				same("pod of endpointslice " + es.Name + " relabelled")
			}
			if len(snap.EndpointSlices) > 0 {
				snap.EndpointSlices = slices.Clone(snap.EndpointSlices[1:])
				same("an endpointslice deleted")
			}
			cm := map[string]string{"timeout-server": "9s", "ssl-redirect": "false", "hsts-max-age": "60", "blue-green-balance": "v=a=1,v=b=2"}
			for k, v := range snap.ConfigMap {
				cm[k] = v
			}
			snap.ConfigMap = cm
			same("configmap changed")
			// With blue-green-balance the pods' labels weigh the servers.
			for i, pod := range snap.Pods {
				pod = pod.DeepCopy()
				pod.Labels["v"] = "c" // in no group: weight 0
				snap.Pods = slices.Clone(snap.Pods)
				snap.Pods[i] = pod
				same("pod " + pod.Name + " relabelled under blue-green-balance")
			}
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

// TestCacheKeepsLayersApart: a host's keys start as the first Ingress's
// own layer, which the cache keeps; a younger Ingress adding a key to the
// host must not write it into that layer, or the key would outlive the
// younger Ingress.
func TestCacheKeepsLayersApart(t *testing.T) {
	a := ingress("a", "h.test", "/a", "web")
	a.Annotations = map[string]string{"haproxy-ingress.github.io/timeout-server": "5s"}
	b := ingress("b", "h.test", "/b", "web")
	b.Annotations = map[string]string{"haproxy-ingress.github.io/app-root": "/app", "haproxy-ingress.github.io/balance-algorithm": "first"}
	snap := &model.Snapshot{Ingresses: []*networkingv1.Ingress{a, b}}
	liveproxy.ServiceAt(snap, "ns", "web", 8080)
	opts := model.Options{Cache: model.NewCache()}
	if m, _ := model.Build(snap, opts); m.Routes[0].Policy.AppRoot != "/app" || m.Backends[1].Policy.Balance != "first" {
		t.Fatalf("with b: app-root %q, balance %q; want b's", m.Routes[0].Policy.AppRoot, m.Backends[1].Policy.Balance)
	}
	snap.Ingresses = []*networkingv1.Ingress{a}
	want, _ := model.Build(snap, model.Options{})
	got, _ := model.Build(snap, opts)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("b deleted: app-root %q, balance %q with the cache; want %q, %q",
			got.Routes[0].Policy.AppRoot, got.Backends[1].Policy.Balance, want.Routes[0].Policy.AppRoot, want.Backends[1].Policy.Balance)
	}
}
