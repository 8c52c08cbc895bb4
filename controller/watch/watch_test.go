package watch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/external-haproxy/kit/controller/ingressclass"
	"github.com/external-haproxy/kit/controller/model"
	"github.com/external-haproxy/kit/test/poll"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
)

// started is a Watcher of a fake cluster, synced, that counts its OnChange
// calls, until the test ends.
func started(t *testing.T) (*fake.Clientset, *Watcher, *atomic.Int32, context.Context) {
	client := fake.NewClientset()
	changes := new(atomic.Int32)
	w := New(Config{Client: client, OnChange: func() { changes.Add(1) }})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := w.Start(ctx, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	return client, w, changes, ctx
}

// A Service created after the first list reaches the cache and calls
// OnChange: the reflectors feed the caches the model reads.
func TestChangesReachCacheAndOnChange(t *testing.T) {
	client, w, changes, ctx := started(t)
	before := changes.Load()
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "echo"}}
	if _, err := client.CoreV1().Services("app").Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	err := poll.Every(ctx, 10*time.Second, 5*time.Millisecond, func() (bool, error) {
		return w.Service("app", "echo") != nil && changes.Load() != before, nil
	}, func() string {
		return fmt.Sprintf("service cached: %v, OnChange calls: %d", w.Service("app", "echo") != nil, changes.Load()-before)
	})
	if err != nil {
		t.Fatalf("service not cached or no OnChange: %v", err)
	}
	if n := len(w.Snapshot().Services); n != 1 {
		t.Errorf("snapshot has %d services, want 1", n)
	}
}

// An outage is logged twice: when the first watch fails, naming it and the
// error, and when every failed one answers again.
func TestHealthLogsFailureAndRecoveryOnce(t *testing.T) {
	var buf bytes.Buffer
	klog.LogToStderr(false)
	klog.SetOutput(&buf)
	defer klog.LogToStderr(true)

	var h health
	refused := errors.New("connect: connection refused")
	h.observe("services", refused)
	h.observe("ingresses", refused)
	h.observe("services", refused)
	h.observe("services", nil)
	h.observe("secrets", nil) // never failed
	h.observe("ingresses", nil)
	h.observe("ingresses", nil)
	klog.Flush()

	// klog writes a warning to the WARNING and the INFO output, both buf.
	lines := slices.Compact(strings.Split(strings.TrimSpace(buf.String()), "\n"))
	if len(lines) != 2 {
		t.Fatalf("%d log lines, want 2:\n%s", len(lines), buf.String())
	}
	if !strings.Contains(lines[0], "watch of services failed") || !strings.Contains(lines[0], "connection refused") {
		t.Errorf("failure line: %s", lines[0])
	}
	if !strings.Contains(lines[1], "watches of [ingresses services] recovered after") {
		t.Errorf("recovery line: %s", lines[1])
	}
}

// The parameters ConfigMap of our IngressClasses reaches the snapshot by
// class name, and under "" for the default class; one out of reach says why.
func TestClassParameters(t *testing.T) {
	const ctrl = "haproxy-ingress.github.io/controller"
	ptr := func(s string) *string { return &s }
	class := func(name, cm string, ns *string, def bool) *networkingv1.IngressClass {
		c := &networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: networkingv1.IngressClassSpec{Controller: ctrl,
			Parameters: &networkingv1.IngressClassParametersReference{Kind: "ConfigMap", Name: cm, Namespace: ns, Scope: ptr("Namespace")}}}
		if def {
			c.Annotations = map[string]string{"ingressclass.kubernetes.io/is-default-class": "true"}
		}
		return c
	}
	client := fake.NewClientset(
		class("haproxy", "params", nil, true),
		class("other-ns", "params", ptr("elsewhere"), false),
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ingress", Name: "params"}, Data: map[string]string{"timeout-server": "5s"}},
	)
	w := New(Config{Client: client, ParametersNamespace: "ingress", Classes: ingressclass.Selector{Controller: ctrl}, OnChange: func() {}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := w.Start(ctx, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	got := w.Snapshot().ClassParameters
	if cp := got["haproxy"]; cp.Data["timeout-server"] != "5s" || cp.Missing != "" || got[""].Class != "haproxy" {
		t.Errorf("class haproxy: %+v, default %+v", cp, got[""])
	}
	if cp := got["other-ns"]; cp.Data != nil || !strings.Contains(cp.Missing, `namespace "ingress" only`) {
		t.Errorf("class other-ns: %+v, want it not read", cp)
	}
}

// An Ingress whose status alone changed (the controller's own write)
// reaches the cache, for the status writer, but starts no update; any other
// change does.
func TestIngressStatusWriteIsNoChange(t *testing.T) {
	var changes int
	s := &notifyingStore{Store: cache.NewStore(cache.MetaNamespaceKeyFunc), onChange: func() { changes++ }}
	ing := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "web", ResourceVersion: "1", Generation: 1}}
	if err := s.Add(ing); err != nil {
		t.Fatal(err)
	}
	changes = 0
	withStatus := ing.DeepCopy()
	withStatus.ResourceVersion = "2"
	withStatus.Status.LoadBalancer.Ingress = []networkingv1.IngressLoadBalancerIngress{{IP: "192.0.2.1"}}
	if err := s.Update(withStatus); err != nil {
		t.Fatal(err)
	}
	if cur, _, _ := s.Get(ing); changes != 0 || len(cur.(*networkingv1.Ingress).Status.LoadBalancer.Ingress) != 1 {
		t.Fatalf("status write: %d changes, cached %+v; want none and the new status", changes, cur)
	}
	annotated := withStatus.DeepCopy()
	annotated.ResourceVersion = "3"
	annotated.Annotations = map[string]string{"haproxy-ingress.github.io/ssl-redirect": "false"}
	if err := s.Update(annotated); err != nil {
		t.Fatal(err)
	}
	if changes != 1 {
		t.Fatalf("annotation change: %d changes, want 1", changes)
	}
}

// Pods are cached for their labels only: a status update calls no
// OnChange, a label change does and reaches the snapshot.
func TestPodsLabelsOnly(t *testing.T) {
	client, w, changes, ctx := started(t)
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "web-1", Labels: map[string]string{"v": "blue"}},
		Spec: corev1.PodSpec{NodeName: "node"}}
	pods := client.CoreV1().Pods("app")
	pod, err := pods.Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	labelsAre := func(v string) func() (bool, error) {
		return func() (bool, error) {
			s := w.Snapshot().Pods
			return len(s) == 1 && s[0].Labels["v"] == v && s[0].Spec.NodeName == "", nil
		}
	}
	what := func() string { return fmt.Sprintf("pods %+v, OnChange calls %d", w.Snapshot().Pods, changes.Load()) }
	if err := poll.Every(ctx, 10*time.Second, 5*time.Millisecond, labelsAre("blue"), what); err != nil {
		t.Fatal(err)
	}
	before := changes.Load()
	pod.Status.Phase = corev1.PodRunning
	if pod, err = pods.UpdateStatus(ctx, pod, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	pod.Labels["v"] = "green"
	if _, err = pods.Update(ctx, pod, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := poll.Every(ctx, 10*time.Second, 5*time.Millisecond, labelsAre("green"), what); err != nil {
		t.Fatal(err)
	}
	// Events arrive in order: the status update came and went first.
	if n := changes.Load() - before; n != 1 {
		t.Errorf("%d OnChange calls for a status update and a label change, want 1", n)
	}
}

// TestCacheTrimsObjects: the caches keep neither managed fields nor
// kubectl's last applied copy, and keep every other annotation.
func TestCacheTrimsObjects(t *testing.T) {
	client, w, _, ctx := started(t)
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "web",
		Annotations:   map[string]string{corev1.LastAppliedConfigAnnotation: strings.Repeat("x", 4096), "haproxy-ingress.github.io/timeout-server": "5s"},
		ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationUpdate}}}}
	if _, err := client.CoreV1().Services("app").Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := poll.Every(ctx, 10*time.Second, 5*time.Millisecond, func() (bool, error) { return w.Service("app", "web") != nil, nil }, nil); err != nil {
		t.Fatal(err)
	}
	got := w.Service("app", "web")
	if len(got.ManagedFields) > 0 || got.Annotations[corev1.LastAppliedConfigAnnotation] != "" || got.Annotations["haproxy-ingress.github.io/timeout-server"] != "5s" {
		t.Errorf("cached service: managed fields %v, annotations %v; want neither managed fields nor the last applied copy, and the key", got.ManagedFields, got.Annotations)
	}
}

// TestOwnConfigMapChangeIsOneChange: the global and the TCP services
// ConfigMaps, also seen by the class parameters' watch of their namespace,
// start one update per change, not one per watch, and reach the snapshot.
// The other one is in another namespace: the fake apiserver ignores field
// selectors.
func TestOwnConfigMapChangeIsOneChange(t *testing.T) {
	for _, c := range []struct {
		name, globalNS, tcpNS string
		value                 func(model.Snapshot) string
	}{
		{"haproxy-ingress", "ingress", "other", func(s model.Snapshot) string { return s.ConfigMap["k"] }},
		{"tcp", "other", "ingress", func(s model.Snapshot) string {
			if s.TCPServices == nil {
				return ""
			}
			return s.TCPServices.Data["k"]
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cm := func(rv, v string) *corev1.ConfigMap {
				return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ingress", Name: c.name, ResourceVersion: rv}, Data: map[string]string{"k": v}}
			}
			client := fake.NewClientset(cm("", "1"))
			changes := new(atomic.Int32)
			w := New(Config{Client: client, ConfigMapNamespace: c.globalNS, ConfigMapName: "haproxy-ingress", TCPServicesNamespace: c.tcpNS, TCPServicesName: "tcp",
				ParametersNamespace: "ingress", OnChange: func() { changes.Add(1) }})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if err := w.Start(ctx, 10*time.Second); err != nil {
				t.Fatal(err)
			}
			if got := c.value(w.Snapshot()); got != "1" {
				t.Fatalf("snapshot value %q, want 1", got)
			}
			before := changes.Load()
			// The fake apiserver keeps the resourceVersion it is given.
			if _, err := client.CoreV1().ConfigMaps("ingress").Update(ctx, cm("2", "2"), metav1.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}
			// Both watches saw it once both caches have it.
			if err := poll.Every(ctx, 10*time.Second, 5*time.Millisecond, func() (bool, error) {
				obj, ok, _ := w.parameters.store.GetByKey("ingress/" + c.name)
				return ok && obj.(*corev1.ConfigMap).Data["k"] == "2" && c.value(w.Snapshot()) == "2", nil
			}, nil); err != nil {
				t.Fatal(err)
			}
			if n := changes.Load() - before; n != 1 {
				t.Errorf("ConfigMap %s changed: %d OnChange calls, want 1", c.name, n)
			}
		})
	}
}
