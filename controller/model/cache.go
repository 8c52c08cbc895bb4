package model

import (
	"reflect"
	"slices"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
)

// Cache keeps, from one Build to the next, what an Ingress's keys and
// paths were parsed into and each backend's endpoints, so that a change to
// a few objects does not parse and resolve the thousands of others again.
// Objects from a watch cache are replaced, never changed in place, so an
// object is known by its pointer; an entry also holds the objects it read
// (an Ingress's Services; a backend's Service, EndpointSlices and pods),
// and every entry goes when the global configuration, the IngressClass
// parameters or the annotation options differ. Build with a cache gives
// what Build without one gives (the problems in another order when it
// patched, see patch.go). It is not safe for concurrent Builds.
type Cache struct {
	deps    parseDeps
	entries map[*networkingv1.Ingress]*parsedIngress
	// seen are the entries the running Build used, which the next one keeps.
	seen map[*networkingv1.Ingress]*parsedIngress
	// endpoints and endpointsSeen are the same for backends, by name.
	endpoints, endpointsSeen map[string]*endpointsEntry
	// last is the Build before, which the next one may patch (patch.go);
	// patched: the last Build did.
	last    *lastBuild
	patched bool
	// rests are the routes of the last Diff and their rests.
	rests routeRests
}

// routeRests are routes and their rests (see routeRests.distinct).
type routeRests struct {
	routes []Route
	rests  []int
	out    []int // the distinct rests of routes
	// number numbers each rest by its canonical encoding.
	number map[string]int
}

// Patched tells whether the last Build patched the one before instead of
// building everything (see patch.go).
func (c *Cache) Patched() bool { return c.patched }

// endpointsEntry is what backends.endpoints found for one backend: the
// endpoints and problems, and what they were read from.
type endpointsEntry struct {
	svc      *corev1.Service
	slices   []*discoveryv1.EndpointSlice
	pods     []podRead
	from     Ref
	field    string
	eps      []labeled
	problems []Problem
}

// podRead is a pod an endpoint named (nil: not in the snapshot).
type podRead struct {
	key string
	pod *corev1.Pod
}

// NewCache is an empty cache for Options.Cache.
func NewCache() *Cache { return &Cache{} }

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
func (c *Cache) begin(deps parseDeps) {
	if !reflect.DeepEqual(c.deps, deps) {
		c.deps, c.entries, c.endpoints = deps, nil, nil
	}
	c.seen = make(map[*networkingv1.Ingress]*parsedIngress, len(c.entries))
	c.endpointsSeen = make(map[string]*endpointsEntry, len(c.endpoints))
}

// end keeps the entries the Build used: those of deleted objects go.
func (c *Cache) end() {
	c.entries, c.seen = c.seen, nil
	c.endpoints, c.endpointsSeen = c.endpointsSeen, nil
}

// cachedEndpoints is b.endpoints of a backend, from c when what it read is
// unchanged.
func (c *Cache) cachedEndpoints(b *backends, name string, svcRef Ref, pick func(*corev1.Service) *corev1.ServicePort, from Ref, field string) []labeled {
	key := svcRef.Namespace + "/" + svcRef.Name
	if e := c.endpoints[name]; e != nil && e.from == from && e.field == field && e.svc == b.services[key] &&
		slices.Equal(e.slices, b.slices[key]) && !slices.ContainsFunc(e.pods, func(r podRead) bool { return b.pods[r.key] != r.pod }) {
		for _, p := range e.problems {
			b.report(p)
		}
		c.endpointsSeen[name] = e
		return e.eps
	}
	e := &endpointsEntry{svc: b.services[key], slices: b.slices[key], from: from, field: field}
	defer recording(&b.report, &e.problems)()
	b.podRead = func(key string, pod *corev1.Pod) { e.pods = append(e.pods, podRead{key, pod}) }
	defer func() { b.podRead = nil }()
	e.eps = b.endpoints(svcRef, pick, from, field)
	c.endpointsSeen[name] = e
	return e.eps
}

// recording makes *report also keep what it reports in *into, until the
// function it returns puts *report back: a cache entry's problems, which
// a Build that uses the entry reports again.
func recording(report *func(Problem), into *[]Problem) (restore func()) {
	orig := *report
	*report = func(p Problem) {
		*into = append(*into, p)
		orig(p)
	}
	return func() { *report = orig }
}

// lookup is ing's entry if the Services it read are still the same.
func (c *Cache) lookup(ing *networkingv1.Ingress, services map[string]*corev1.Service) *parsedIngress {
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

func (c *Cache) store(ing *networkingv1.Ingress, p *parsedIngress) { c.seen[ing] = p }
