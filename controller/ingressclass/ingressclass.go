// Package ingressclass decides which Ingresses this controller serves, the way
// upstream haproxy-ingress does: the kubernetes.io/ingress.class annotation
// first, then spec.ingressClassName through an IngressClass whose controller
// is ours, then — for Ingresses without either — the default IngressClass or
// --watch-ingress-without-class.
package ingressclass

import (
	networkingv1 "k8s.io/api/networking/v1"
)

const (
	// AnnotationClass is the legacy class annotation.
	AnnotationClass = "kubernetes.io/ingress.class"
	// AnnotationDefault marks the cluster's default IngressClass.
	AnnotationDefault = "ingressclass.kubernetes.io/is-default-class"
)

// Selector holds what the decision depends on besides the Ingress.
type Selector struct {
	Controller        string // full controller name, e.g. haproxy-ingress.github.io/controller
	AnnotationValue   string // --ingress-class
	WatchWithoutClass bool   // --watch-ingress-without-class
}

// Filter returns the Ingresses that are ours, in input order.
func (s Selector) Filter(ings []*networkingv1.Ingress, classes []*networkingv1.IngressClass) []*networkingv1.Ingress {
	ours := map[string]bool{}
	defaultIsOurs := false
	for _, c := range classes {
		mine := c.Spec.Controller == s.Controller
		ours[c.Name] = mine
		if c.Annotations[AnnotationDefault] == "true" && mine {
			defaultIsOurs = true
		}
	}
	var out []*networkingv1.Ingress
	for _, ing := range ings {
		if s.isOurs(ing, ours, defaultIsOurs) {
			out = append(out, ing)
		}
	}
	return out
}

func (s Selector) isOurs(ing *networkingv1.Ingress, ours map[string]bool, defaultIsOurs bool) bool {
	if v, ok := ing.Annotations[AnnotationClass]; ok {
		return v == s.AnnotationValue
	}
	if ing.Spec.IngressClassName != nil {
		return ours[*ing.Spec.IngressClassName]
	}
	return defaultIsOurs || s.WatchWithoutClass
}
