package ingressclass

import (
	"slices"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func ing(name string, class *string, annotation string) *networkingv1.Ingress {
	i := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Name: name}}
	i.Spec.IngressClassName = class
	if annotation != "" {
		i.Annotations = map[string]string{AnnotationClass: annotation}
	}
	return i
}

func class(name, controller string, isDefault bool) *networkingv1.IngressClass {
	c := &networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: networkingv1.IngressClassSpec{Controller: controller}}
	if isDefault {
		c.Annotations = map[string]string{AnnotationDefault: "true"}
	}
	return c
}

func names(ings []*networkingv1.Ingress) []string {
	var out []string
	for _, i := range ings {
		out = append(out, i.Name)
	}
	return out
}

func TestFilter(t *testing.T) {
	ours, other, missing := "haproxy", "nginx", "gone"
	ings := []*networkingv1.Ingress{
		ing("by-class", &ours, ""),
		ing("other-class", &other, ""),
		ing("missing-class", &missing, ""),
		ing("by-annotation", nil, "haproxy"),
		ing("other-annotation", &ours, "nginx"), // annotation wins, as upstream
		ing("no-class", nil, ""),
	}
	classes := []*networkingv1.IngressClass{
		class("haproxy", "haproxy-ingress.github.io/controller", false),
		class("nginx", "k8s.io/ingress-nginx", true),
	}
	s := Selector{Controller: "haproxy-ingress.github.io/controller", AnnotationValue: "haproxy"}
	for _, tc := range []struct {
		name    string
		sel     Selector
		classes []*networkingv1.IngressClass
		want    []string
	}{
		{"default", s, classes, []string{"by-class", "by-annotation"}},
		{"without class watched", Selector{Controller: s.Controller, AnnotationValue: "haproxy", WatchWithoutClass: true}, classes,
			[]string{"by-class", "by-annotation", "no-class"}},
		{"our class is the default", s, []*networkingv1.IngressClass{class("haproxy", s.Controller, true), class("nginx", "k8s.io/ingress-nginx", false)},
			[]string{"by-class", "by-annotation", "no-class"}},
		{"controller class suffix", Selector{Controller: s.Controller + "/edge", AnnotationValue: "haproxy"},
			[]*networkingv1.IngressClass{class("haproxy", s.Controller, false)}, []string{"by-annotation"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := names(tc.sel.Filter(ings, tc.classes)); !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}
