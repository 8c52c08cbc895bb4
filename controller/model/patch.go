package model

import (
	"bytes"
	"maps"
	"reflect"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
)

// A patch is the Build of a snapshot that differs from the one before only
// in the annotations of a few Ingresses, each the only one on its hosts and
// backends, whose keys land in their own routes and backends: those are
// built again on their own and put in the place of the old ones, instead of
// the thousands of others. Anything else (a key whose effect reaches other
// hosts or lists of the model, a changed spec, Service, EndpointSlice,
// Secret, Pod, ConfigMap or option) takes a full Build, which a patch must
// equal (TestPatchEqualsBuild).

// maxPatched is how many changed Ingresses a patch takes; a full Build does
// more about as fast.
const maxPatched = 16

// acrossObjects are the keys of the Path and Backend scopes, and the Host
// keys of IngressClass parameters, whose effect reaches past the routes and
// backends of the Ingress they are read for: the model's one list of users
// (auth-secret), the routes and backends other hosts get (passthrough,
// aliases) and the redirects of other names.
var acrossObjects = map[string]bool{
	"auth-secret": true, "ssl-passthrough": true, "ssl-passthrough-http-port": true,
	"server-alias": true, "server-alias-regex": true, "redirect-from": true, "redirect-from-regex": true,
}

// tracker files each problem a Build reports under the Ingress whose keys it
// comes from, so that a patch can take back those of the Ingresses it
// builds again; other are those of shared objects and of the whole model.
type tracker struct {
	cur   *[]Problem
	by    map[*networkingv1.Ingress]*unit
	other []Problem
}

// unit is what one Ingress gave rise to: fromSpec, what its TLS and default
// backend gave (which name older Ingresses, and which a patch keeps), and
// fromKeys, every other problem of its routes, hosts and backends.
type unit struct{ fromSpec, fromKeys []Problem }

func newTracker() *tracker { return &tracker{by: map[*networkingv1.Ingress]*unit{}} }

func (t *tracker) track(p Problem) {
	if t != nil && t.cur != nil {
		*t.cur = append(*t.cur, p)
	}
}

// enter files the problems that follow into into.
func (t *tracker) enter(into *[]Problem) {
	if t != nil {
		t.cur = into
	}
}

func (t *tracker) ingress(ing *networkingv1.Ingress) *unit {
	if t == nil {
		return nil
	}
	u := t.by[ing]
	if u == nil {
		u = &unit{}
		t.by[ing] = u
	}
	return u
}

func (u *unit) spec() *[]Problem {
	if u == nil {
		return nil
	}
	return &u.fromSpec
}

func (u *unit) keys() *[]Problem {
	if u == nil {
		return nil
	}
	return &u.fromKeys
}

func (t *tracker) shared() *[]Problem {
	if t == nil {
		return nil
	}
	return &t.other
}

// keysOf is where the problems of ing's routes go; nil: a route a host key
// made.
func (t *tracker) keysOf(ing *networkingv1.Ingress) *[]Problem {
	if ing == nil {
		return t.shared()
	}
	return t.ingress(ing).keys()
}

// of is where the problems of a claimed host or backend go.
func (t *tracker) of(c *claimed) *[]Problem {
	if c == nil || c.shared {
		return t.shared()
	}
	return t.keysOf(c.owner)
}

// lastBuild is what a patch starts from: the Build before, what it read and
// what it made.
type lastBuild struct {
	snap     Snapshot
	opts     Options // without Cache
	objects  objectSets
	byName   map[Ref]*networkingv1.Ingress
	known    map[*networkingv1.Ingress]bool // the values of byName
	model    *Model
	problems []Problem
	// count is how many times the units reported each problem: one is in
	// problems while some unit still reports it.
	count    map[Problem]int
	units    map[*networkingv1.Ingress]*unit
	hosts    claims
	backends *backends // the claims of the backends, the indexes of the snapshot
	secrets  map[string]*corev1.Secret
	classes  map[string]layer
}

// objectSets are the objects of a snapshot but its Ingresses, by identity:
// the watch lists them in no set order.
type objectSets struct {
	services map[*corev1.Service]bool
	slices   map[*discoveryv1.EndpointSlice]bool
	secrets  map[*corev1.Secret]bool
	pods     map[*corev1.Pod]bool
}

func setOf[T comparable](xs []T) map[T]bool {
	m := make(map[T]bool, len(xs))
	for _, x := range xs {
		m[x] = true
	}
	return m
}

// sameSet tells whether xs are the objects of set, in any order; last is
// the list set was made of, which xs most often is.
func sameSet[T comparable](xs, last []T, set map[T]bool) bool {
	if len(xs) != len(set) {
		return false
	}
	if slices.Equal(xs, last) {
		return true
	}
	for _, x := range xs {
		if !set[x] {
			return false
		}
	}
	return true
}

// keep makes the Build b did of s the start of the next patch.
func (c *Cache) keep(s *Snapshot, o Options, b *builder, problems []Problem) {
	c.last = nil
	o.Cache = nil
	l := &lastBuild{
		snap: *s, opts: o, model: b.m, problems: problems, count: map[Problem]int{},
		objects:  objectSets{setOf(s.Services), setOf(s.EndpointSlices), setOf(s.Secrets), setOf(s.Pods)},
		byName:   make(map[Ref]*networkingv1.Ingress, len(s.Ingresses)),
		units:    b.t.by,
		hosts:    b.hosts,
		backends: b.backends,
		secrets:  b.secrets,
		classes:  b.classes,
	}
	for _, ing := range s.Ingresses {
		l.byName[ingressRef(ing)] = ing
	}
	l.known = setOf(s.Ingresses)
	if len(l.byName) != len(s.Ingresses) {
		return // one name twice: no patch can tell which changed
	}
	l.countAll(b.t.other, 1)
	for _, u := range b.t.by {
		l.countAll(u.fromSpec, 1)
		l.countAll(u.fromKeys, 1)
	}
	c.last = l
}

func (l *lastBuild) countAll(ps []Problem, by int) {
	for _, p := range ps {
		if l.count[p] += by; l.count[p] == 0 {
			delete(l.count, p)
		}
	}
}

// sameInputs tells whether s and o differ from the last Build's in their
// Ingresses alone.
func (l *lastBuild) sameInputs(s *Snapshot, o Options) bool {
	o.Cache = nil
	if o.AnnotationPrefixes == nil {
		o.AnnotationPrefixes = DefaultAnnotationPrefixes
	}
	lo := &l.opts
	if o.DefaultBackendService != lo.DefaultBackendService || !bytes.Equal(o.DefaultCertificate, lo.DefaultCertificate) ||
		!slices.Equal(o.AnnotationPrefixes, lo.AnnotationPrefixes) || o.AllowConfigSnippets != lo.AllowConfigSnippets || o.SpareBackends != lo.SpareBackends {
		return false
	}
	if !maps.Equal(s.ConfigMap, l.snap.ConfigMap) || !reflect.DeepEqual(s.ClassParameters, l.snap.ClassParameters) ||
		!reflect.DeepEqual(s.TCPServices, l.snap.TCPServices) || !sameSet(s.Services, l.snap.Services, l.objects.services) ||
		!sameSet(s.EndpointSlices, l.snap.EndpointSlices, l.objects.slices) || !sameSet(s.Secrets, l.snap.Secrets, l.objects.secrets) ||
		!sameSet(s.Pods, l.snap.Pods, l.objects.pods) {
		return false
	}
	// The same ConfigMap, unless a name it gives resolves otherwise now.
	discard := func(Problem) {}
	return equal(buildGlobal(withoutSnippets(s.ConfigMap, o.AllowConfigSnippets, discard), o.Resolves, discard), l.model.Global)
}

// changed pairs the Ingresses of ings that are not the last Build's with
// the ones they replace; false when some are new or gone, or too many.
func (l *lastBuild) changed(ings []*networkingv1.Ingress) (olds, news []*networkingv1.Ingress, ok bool) {
	if len(ings) != len(l.byName) {
		return nil, nil, false
	}
	for _, ing := range ings {
		if l.known[ing] {
			continue
		}
		old := l.byName[ingressRef(ing)]
		if old == nil || len(news) == maxPatched || slices.Contains(olds, old) {
			return nil, nil, false // new, too many, or one name twice
		}
		olds, news = append(olds, old), append(news, ing)
	}
	return olds, news, true
}

// owned is what a patch of old would build again: its hosts and backends,
// which no other Ingress shares; false when something of old reaches past
// them or its spec changed in next.
func (l *lastBuild) owned(c *Cache, old, next *networkingv1.Ingress) (hosts, backends []string, ok bool) {
	if !old.CreationTimestamp.Equal(&next.CreationTimestamp) || !reflect.DeepEqual(old.Spec, next.Spec) {
		return nil, nil, false
	}
	e := c.entries[old]
	if e == nil || e.skip != nil || !ownKeys(e.ingress) || !ownKeys(l.classes[className(old)], ScopeHost) {
		return nil, nil, false
	}
	for _, cand := range e.cands {
		h := l.hosts[cand.host]
		if h == nil || h.shared || h.owner != old {
			return nil, nil, false // no host (the default one), or shared
		}
		hosts = append(hosts, cand.host)
		name := backendName(old.Namespace, cand.backend)
		// None: the path lost to another of old's own.
		if be := l.backends.claims[name]; be != nil {
			if be.shared || be.owner != old || l.backends.fixed[name] {
				return nil, nil, false
			}
			backends = append(backends, name)
		}
	}
	slices.Sort(hosts)
	slices.Sort(backends)
	return slices.Compact(hosts), slices.Compact(backends), true
}

// ownKeys tells whether the keys of l land only in the routes and backends
// of the Ingress they are read for; those of also are allowed too.
func ownKeys(l layer, also ...Scope) bool {
	for name := range l {
		scope := keysByName[name].info().Scope
		if acrossObjects[name] || scope != ScopePath && scope != ScopeBackend && !slices.Contains(also, scope) {
			return false
		}
	}
	return true
}

func className(ing *networkingv1.Ingress) string {
	if ing.Spec.IngressClassName != nil {
		return *ing.Spec.IngressClassName
	}
	return ""
}

// patch is the Build of s as a patch of the last one, if it can be one.
func (c *Cache) patch(s *Snapshot, o Options) (*Model, []Problem, bool) {
	l := c.last
	if l == nil || !l.sameInputs(s, o) {
		return nil, nil, false
	}
	olds, news, ok := l.changed(s.Ingresses)
	if !ok {
		return nil, nil, false
	}
	var hosts, backends []string
	for i := range olds {
		hs, bs, ok := l.owned(c, olds[i], news[i])
		if !ok {
			return nil, nil, false
		}
		hosts, backends = append(hosts, hs...), append(backends, bs...)
	}
	var part *builder
	if len(news) > 0 {
		if part = l.build(c, news); part == nil {
			return nil, nil, false
		}
	}
	slices.Sort(hosts)
	slices.Sort(backends)
	m, ok := l.splice(part, hosts, backends)
	if !ok {
		return nil, nil, false
	}
	// Committed: the last Build is now this one.
	for i, old := range olds {
		ou, nu := l.units[old], part.t.by[news[i]]
		added := l.fresh(nu.fromKeys)
		l.countAll(ou.fromKeys, -1)
		l.countAll(nu.fromKeys, 1)
		if gone := slices.ContainsFunc(ou.fromKeys, func(p Problem) bool { return l.count[p] == 0 }); gone || len(added) > 0 {
			// A new list: the one before went to the caller.
			l.problems = append(slices.DeleteFunc(slices.Clone(l.problems), func(p Problem) bool { return l.count[p] == 0 }), added...)
		}
		delete(l.units, old)
		l.units[news[i]] = &unit{fromSpec: ou.fromSpec, fromKeys: nu.fromKeys}
		l.byName[ingressRef(old)] = news[i]
		delete(l.known, old)
		l.known[news[i]] = true
		delete(c.entries, old)
	}
	for _, h := range hosts {
		l.hosts[h].owner = l.byName[ingressRef(l.hosts[h].owner)]
	}
	for _, name := range backends {
		be := l.backends.claims[name]
		be.owner = l.byName[ingressRef(be.owner)]
	}
	l.snap, l.model = *s, m
	// Clipped: a caller's append makes a copy.
	return m, slices.Clip(l.problems), true
}

// fresh are those of ps that the last Build did not report, once each.
func (l *lastBuild) fresh(ps []Problem) []Problem {
	var out []Problem
	for _, p := range ps {
		if l.count[p] == 0 && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// build runs Build's steps for news alone, with what the last Build read of
// everything else; nil when one of them cannot be patched after all (a key
// of its new annotations reaches past its routes and backends, or they
// make it invalid).
func (l *lastBuild) build(c *Cache, news []*networkingv1.Ingress) *builder {
	t := newTracker()
	report := t.track
	g := &l.model.Global
	b := &builder{
		m:        &Model{Global: *g, Frontends: l.model.Frontends, DefaultCert: l.model.DefaultCert},
		t:        t,
		report:   report,
		prefixes: l.opts.AnnotationPrefixes,
		snippets: l.opts.AllowConfigSnippets,
		backends: l.backends.fork(report),
		secrets:  l.secrets,
		routes:   map[routeKey]Ref{},
		hostCert: map[string]string{},
		certs:    map[string]*Cert{},
		hosts:    claims{},
		classes:  l.classes,
		cache:    c,
	}
	b.backends.secret = func(ns, name string) *corev1.Secret { return b.secrets[ns+"/"+name] }
	// The cache's entries are kept as they are, not turned over.
	c.seen, c.endpointsSeen = c.entries, c.endpoints
	defer func() { c.seen, c.endpointsSeen = nil, nil }()
	b.parser = newIngressParser(&b.m.Global, b.classes, b.prefixes, b.snippets, b.backends.services)
	news = oldestFirst(news)
	for i, p := range b.parseAll(news) {
		b.ingress(news[i], p)
		if e := c.entries[news[i]]; e == nil || e.skip != nil || !ownKeys(e.ingress) {
			return nil
		}
	}
	b.finish()
	return b
}

// fork is a backends for a patch: the indexes of b's snapshot, nothing
// built.
func (b *backends) fork(report func(Problem)) *backends {
	f := *b
	f.built, f.warned, f.claims, f.eps, f.pick, f.fixed = map[string]*Backend{}, map[string]bool{}, claims{}, map[string][]labeled{}, map[string]func(*corev1.Service) *corev1.ServicePort{}, map[string]bool{}
	f.report, f.podRead = report, nil
	return &f
}

// splice is the last model with the routes of hosts and the backends named
// names (both sorted) replaced by those part built; false when part's
// differ in which they are (a path-type changed a match).
func (l *lastBuild) splice(part *builder, hosts, names []string) (*Model, bool) {
	m := *l.model
	if part == nil {
		return &m, true
	}
	// The routes of hosts, which only olds have: a range of the sorted
	// routes each.
	var routes, backends []int // where part's go, in order
	for _, h := range hosts {
		i, _ := slices.BinarySearchFunc(m.Routes, h, func(r Route, h string) int { return strings.Compare(r.Host, h) })
		for ; i < len(m.Routes) && m.Routes[i].Host == h; i++ {
			routes = append(routes, i)
		}
	}
	if len(routes) != len(part.m.Routes) || len(part.m.Backends) != len(names) {
		return nil, false
	}
	for k, i := range routes {
		r, n := &m.Routes[i], &part.m.Routes[k]
		if n.Host != r.Host || n.Path != r.Path || n.Match != r.Match || n.Source != r.Source {
			return nil, false
		}
	}
	for k := range part.m.Backends {
		name := part.m.Backends[k].Name
		j, found := slices.BinarySearchFunc(m.Backends, name, func(be Backend, name string) int { return strings.Compare(be.Name, name) })
		if !found || name != names[k] {
			return nil, false
		}
		backends = append(backends, j)
	}
	m.Routes = replaced(m.Routes, routes, part.m.Routes)
	m.Backends = replaced(m.Backends, backends, part.m.Backends)
	return &m, true
}

// replaced is xs with xs[at[k]] replaced by with[k]; xs itself when they
// are all equal already (a key that changed nothing there), so that the
// model shares it with the last.
func replaced[T any](xs []T, at []int, with []T) []T {
	same := true
	for k, i := range at {
		same = same && equal(xs[i], with[k])
	}
	if same {
		return xs
	}
	xs = slices.Clone(xs)
	for k, i := range at {
		xs[i] = with[k]
	}
	return xs
}
