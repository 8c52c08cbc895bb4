package model_test

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/external-haproxy/kit/controller/model"
)

// TestLayers: IngressClass parameters < Ingress annotation < Service
// annotation, each for the Ingresses of its class; a backend shared by two
// Ingresses takes the oldest one's value and the younger is told.
func TestLayers(t *testing.T) {
	at := func(ing *networkingv1.Ingress, sec int, class string, ann map[string]string) *networkingv1.Ingress {
		ing.CreationTimestamp = metav1.NewTime(time.Unix(int64(sec), 0))
		if class != "" {
			ing.Spec.IngressClassName = &class
		}
		ing.Annotations = ann
		return ing
	}
	snap := &model.Snapshot{
		Ingresses: []*networkingv1.Ingress{
			at(ingress("classed", "a.test", "/", "a"), 1, "haproxy", nil),
			at(ingress("annotated", "b.test", "/", "b"), 2, "haproxy", map[string]string{"haproxy-ingress.github.io/timeout-server": "2s"}),
			at(ingress("other-class", "c.test", "/", "c"), 3, "other", nil),
			at(ingress("service-wins", "d.test", "/", "d"), 4, "haproxy", map[string]string{"haproxy-ingress.github.io/timeout-server": "2s"}),
			// Shares backend b with the older "annotated".
			at(ingress("younger", "e.test", "/", "b"), 5, "", map[string]string{"haproxy-ingress.github.io/timeout-server": "9s"}),
		},
		Services: []*corev1.Service{{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "d",
			Annotations: map[string]string{"ingress.kubernetes.io/timeout-server": "4s"}}}},
		ClassParameters: map[string]model.ClassParameters{
			"haproxy": {Class: "haproxy", Source: model.Ref{Kind: "ConfigMap", Namespace: "ingress", Name: "params"}, Data: map[string]string{"timeout-server": "1s"}},
			"other":   {Class: "other", Source: model.Ref{Kind: "ConfigMap", Namespace: "x", Name: "p"}, Missing: "not found"},
		},
	}
	m, problems := model.Build(snap, model.Options{})
	want := map[string]model.Duration{"ns_a_80": 1000, "ns_b_80": 2000, "ns_c_80": 50000, "ns_d_80": 4000}
	for _, be := range m.Backends {
		if w, ok := want[be.Name]; ok && be.Policy.Timeouts.Server != w {
			t.Errorf("%s: timeout-server %v, want %v", be.Name, be.Policy.Timeouts.Server, w)
		}
	}
	var conflict, missing bool
	for _, p := range problems {
		s := p.String()
		conflict = conflict || p.Object.Name == "younger" && strings.Contains(s, `backend ns_b_80: value "9s" ignored, Ingress/ns/annotated is older and sets "2s"`)
		missing = missing || p.Object == model.Ref{Kind: "IngressClass", Name: "other"} && strings.Contains(s, "ConfigMap/x/p: not found")
	}
	if !conflict || !missing {
		t.Errorf("conflict reported %v, missing parameters reported %v: %v", conflict, missing, problems)
	}
}
