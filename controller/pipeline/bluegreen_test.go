package pipeline

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/external-haproxy/kit/controller/model"
	"github.com/external-haproxy/kit/test/haproxybin"
)

// TestBlueGreenOnRealHAProxy: blue-green-balance splits the requests by
// the pods' labels, 1:3 between one blue and two green pods (deploy
// mode: a group's share whatever its size); a pod relabelled out of every
// group takes no more requests, and one relabelled into a group takes its
// share, both through the runtime API without a reload.
func TestBlueGreenOnRealHAProxy(t *testing.T) {
	haproxybin.Run(t, func(t *testing.T, hb haproxybin.Build) {
		s, ports, cm := externalSyncer(t, hb, model.Options{})
		driver, ctx := s.Driver, context.Background()
		names := []string{"blue-1", "green-1", "green-2"}
		var eps []int
		for _, n := range names {
			eps = append(eps, backend(t, n))
		}
		slices := endpointSlices("app", "web", eps...)
		pods := make([]*corev1.Pod, len(names))
		for i, n := range names {
			slices[i].Endpoints[0].TargetRef = &corev1.ObjectReference{Kind: "Pod", Namespace: "app", Name: n}
			pods[i] = &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: n, Labels: map[string]string{"version": n[:len(n)-2]}}}
		}
		ing := ingress("app", "web", map[string]string{"web.example": "web"}, "", "")
		ing.Annotations = map[string]string{"haproxy-ingress.github.io/blue-green-balance": "version=blue=1,version=green=3",
			"haproxy-ingress.github.io/initial-weight": "100"}
		snap := &model.Snapshot{
			ConfigMap: cm, Services: []*corev1.Service{service("app", "web")}, EndpointSlices: slices, Pods: pods,
			Ingresses: []*networkingv1.Ingress{ing},
		}
		if err := s.Update(ctx, snap); err != nil {
			t.Fatal(err)
		}
		// Weighted round robin is deterministic: 80 requests are 20 turns
		// of weights 100, 150, 150 (one blue pod, two green ones).
		count := func() map[string]int {
			t.Helper()
			n := map[string]int{}
			for range 80 {
				r, err := get(ports[0], "web.example", false)
				if err != nil || r.status != 200 {
					t.Fatalf("%+v, %v", r, err)
				}
				n[r.body]++
			}
			t.Logf("requests by pod: %v", n)
			return n
		}
		near := func(got, want int) bool { return got >= want-2 && got <= want+2 }
		if n := count(); !near(n["blue-1"], 20) || !near(n["green-1"]+n["green-2"], 60) {
			t.Errorf("requests by pod %v, want 20 blue and 60 green", n)
		}
		before, err := driver.Master().ShowProc(ctx)
		if err != nil {
			t.Fatal(err)
		}

		relabel := func(pod int, version string) {
			t.Helper()
			p := pods[pod].DeepCopy()
			p.Labels["version"] = version
			pods[pod] = p
			if err := s.Update(ctx, snap); err != nil {
				t.Fatal(err)
			}
		}
		relabel(0, "canary") // in no group: weight 0
		if n := count(); n["blue-1"] != 0 || n["green-1"]+n["green-2"] != 80 {
			t.Errorf("after the blue pod left its group: requests by pod %v, want every one green", n)
		}
		relabel(0, "green") // three green pods share the green weight
		if n := count(); !near(n["blue-1"], 27) || !near(n["green-1"], 27) || !near(n["green-2"], 27) {
			t.Errorf("with three green pods: requests by pod %v, want about a third each", n)
		}
		after, err := driver.Master().ShowProc(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if after.Master.Reloads != before.Master.Reloads {
			t.Errorf("relabelled pods reloaded haproxy (%d -> %d reloads), want runtime weights", before.Master.Reloads, after.Master.Reloads)
		}
	})
}
