package model

import (
	"reflect"
	"slices"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
)

// ParseCache keeps, from one Build to the next, what an Ingress's keys and
// paths were parsed into, so that a change to a few objects does not parse
// the thousands of others again. Objects from a watch cache are replaced,
// never changed in place, so an Ingress is known by its pointer; an entry
// also holds the Services it read, and every entry goes when the global
// configuration, the IngressClass parameters or the annotation options
// differ. Build with a cache gives what Build without one gives. It is not
// safe for concurrent Builds.
type ParseCache struct {
	deps    parseDeps
	entries map[*networkingv1.Ingress]*parsedIngress
	// seen are the entries the running Build used, which the next one keeps.
	seen map[*networkingv1.Ingress]*parsedIngress
}

// NewParseCache is an empty cache for Options.Cache.
func NewParseCache() *ParseCache { return &ParseCache{} }

// parseDeps is what every entry was parsed with.
type parseDeps struct {
	global   Global
	classes  map[string]layer
	prefixes []string
	snippets bool
}

// parsedIngress is one Ingress's parse: its layer of keys, its route
// candidates or the problem that skips it, the problems reported on the
// way, and the Services whose annotations it read.
type parsedIngress struct {
	ingress  layer
	cands    []candidate
	skip     *Problem
	problems []Problem
	services []serviceRead
}

// serviceRead is a Service an Ingress's parse read (nil: it was missing).
type serviceRead struct {
	key string
	svc *corev1.Service
}

// begin makes the cache serve one Build with deps, dropping every entry if
// they changed.
func (c *ParseCache) begin(deps parseDeps) {
	if !reflect.DeepEqual(c.deps, deps) {
		c.deps, c.entries = deps, nil
	}
	c.seen = make(map[*networkingv1.Ingress]*parsedIngress, len(c.entries))
}

// end keeps the entries the Build used: those of deleted Ingresses go.
func (c *ParseCache) end() { c.entries, c.seen = c.seen, nil }

// lookup is ing's entry if the Services it read are still the same.
func (c *ParseCache) lookup(ing *networkingv1.Ingress, services map[string]*corev1.Service) *parsedIngress {
	p := c.entries[ing]
	if p == nil {
		return nil
	}
	for _, r := range p.services {
		if services[r.key] != r.svc {
			return nil
		}
	}
	c.seen[ing] = p
	return p
}

func (c *ParseCache) store(ing *networkingv1.Ingress, p *parsedIngress) { c.seen[ing] = p }

// parse is what b.ingress starts from: ing's keys and candidate routes,
// from the cache when it has them (its problems then reported again).
func (b *builder) parse(ing *networkingv1.Ingress) (sources, []candidate, *Problem) {
	class := ""
	if ing.Spec.IngressClassName != nil {
		class = *ing.Spec.IngressClassName
	}
	if b.cache != nil {
		if p := b.cache.lookup(ing, b.backends.services); p != nil {
			for _, pr := range p.problems {
				b.report(pr)
			}
			return sources{class: b.classes[class], ingress: p.ingress}, p.cands, p.skip
		}
	}
	report := b.report
	p := &parsedIngress{}
	if b.cache != nil {
		b.report = func(pr Problem) {
			p.problems = append(p.problems, pr)
			report(pr)
		}
		b.serviceRead = func(key string) { p.services = append(p.services, serviceRead{key, b.backends.services[key]}) }
		defer func() { b.report, b.serviceRead = report, nil }()
	}
	src := sources{class: b.classes[class], ingress: b.withoutSnippets(annotations(ingressRef(ing), ing.Annotations, b.prefixes, b.report))}
	cands, skip := b.validate(ing, src)
	if b.cache != nil {
		p.ingress, p.cands, p.skip = src.ingress, cands, skip
		p.problems, p.services = slices.Clip(p.problems), slices.Clip(p.services)
		b.cache.store(ing, p)
	}
	return src, cands, skip
}
