package pipeline

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
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
		snap := versionedApp(t, cm, map[string]string{"haproxy-ingress.github.io/blue-green-balance": "version=blue=1,version=green=3",
			"haproxy-ingress.github.io/initial-weight": "100"})
		pods := snap.Pods
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

// TestBlueGreenSelectorOnRealHAProxy: blue-green-header, then -cookie,
// send a request naming a group to a pod of that group; others are
// balanced. A relabelled pod and a new endpoint change the groups through
// the runtime API without a reload.
func TestBlueGreenSelectorOnRealHAProxy(t *testing.T) {
	haproxybin.Run(t, func(t *testing.T, hb haproxybin.Build) {
		s, ports, cm := externalSyncer(t, hb, model.Options{})
		driver, ctx := s.Driver, context.Background()
		snap := versionedApp(t, cm, map[string]string{"haproxy-ingress.github.io/blue-green-header": "X-Version:version",
			"haproxy-ingress.github.io/blue-green-cookie": "version:version"})
		pods := snap.Pods
		if err := s.Update(ctx, snap); err != nil {
			t.Fatal(err)
		}
		// served counts the pods that answer 12 requests with the header
		// and cookie given ("" for none).
		served := func(header, cookie string) map[string]int {
			t.Helper()
			n := map[string]int{}
			for range 12 {
				req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d/", ports[0]), nil)
				req.Host = "web.example"
				if header != "" {
					req.Header.Set("X-Version", header)
				}
				if cookie != "" {
					req.AddCookie(&http.Cookie{Name: "version", Value: cookie})
				}
				resp, err := (&http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}).Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				n[string(body)]++
			}
			return n
		}
		only := func(header, cookie string, want ...string) {
			t.Helper()
			n := served(header, cookie)
			for pod := range n {
				if !slices.Contains(want, pod) {
					t.Errorf("header %q cookie %q: served by %v, want only %v", header, cookie, n, want)
					return
				}
			}
		}
		only("blue", "", "blue-1")
		only("green", "", "green-1", "green-2")
		only("", "blue", "blue-1")
		only("red", "blue", "blue-1") // no group red: the cookie decides
		if n := served("red", ""); len(n) != 3 {
			t.Errorf("a group no pod has: served by %v, want the balance over all three", n)
		}
		before, err := driver.Master().ShowProc(ctx)
		if err != nil {
			t.Fatal(err)
		}

		p := pods[0].DeepCopy()
		p.Labels["version"] = "green"
		pods[0] = p
		if err := s.Update(ctx, snap); err != nil {
			t.Fatal(err)
		}
		if n := served("blue", ""); len(n) != 3 {
			t.Errorf("no blue pod left: served by %v, want the balance over all three", n)
		}
		more, pod := versionedPods(t, "blue-2")
		more[0].Name = "web-more"
		snap.EndpointSlices, snap.Pods = append(snap.EndpointSlices, more...), append(pods, pod...)
		if err := s.Update(ctx, snap); err != nil {
			t.Fatal(err)
		}
		only("blue", "", "blue-2")
		after, err := driver.Master().ShowProc(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if after.Master.Reloads != before.Master.Reloads {
			t.Errorf("a relabelled pod and a new endpoint reloaded haproxy (%d -> %d reloads), want runtime map changes", before.Master.Reloads, after.Master.Reloads)
		}
	})
}

// versionedApp is host web.example of an Ingress with annotations, served
// by the versionedPods blue-1, green-1 and green-2.
func versionedApp(t *testing.T, cm, annotations map[string]string) *model.Snapshot {
	slices, pods := versionedPods(t, "blue-1", "green-1", "green-2")
	ing := ingress("app", "web", map[string]string{"web.example": "web"}, "", "")
	ing.Annotations = annotations
	return &model.Snapshot{ConfigMap: cm, Services: []*corev1.Service{service("app", "web")}, EndpointSlices: slices, Pods: pods,
		Ingresses: []*networkingv1.Ingress{ing}}
}

// versionedPods are the endpoints of Service app/web, one per name, each
// answering with its name from a pod of that name whose label version is
// the name without its "-N".
func versionedPods(t *testing.T, names ...string) ([]*discoveryv1.EndpointSlice, []*corev1.Pod) {
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
	return slices, pods
}
