package model

import (
	"cmp"
	"maps"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
)

// Build computes the model of a snapshot and lists what was wrong with it.
// Problems never make Build fail: bad objects or keys are skipped or
// defaulted and the rest is served.
func Build(s *Snapshot, o Options) (*Model, []Problem) {
	if o.Cache != nil {
		m, problems, ok := o.Cache.patch(s, o)
		if o.Cache.patched = ok; ok {
			return m, problems
		}
	}
	b, problems := build(s, o)
	return b.m, problems
}

// build is Build, with the builder for what else the build read.
func build(s *Snapshot, o Options) (*builder, []Problem) {
	var problems []Problem
	seen := map[Problem]bool{}
	var t *tracker
	if o.Cache != nil {
		t = newTracker()
	}
	// A key set once can be read for many paths: one problem each.
	report := func(p Problem) {
		t.track(p)
		if !seen[p] {
			seen[p] = true
			problems = append(problems, p)
		}
	}

	m := &Model{Global: buildGlobal(withoutSnippets(s.ConfigMap, o.AllowConfigSnippets, report), o.Resolves, report)}
	if len(o.DefaultCertificate) == 0 {
		report(Problem{optionsRef, "default-certificate", "no default certificate, https disabled", Error})
	} else if pem, err := splitBundle(o.DefaultCertificate); err != nil {
		report(Problem{optionsRef, "default-certificate", "invalid: " + err.Error() + ", https disabled", Error})
	} else {
		m.DefaultCert = &Cert{Name: "default", PEM: pem}
	}
	m.Frontends = buildFrontends(&m.Global, m.DefaultCert != nil, report)

	if o.AnnotationPrefixes == nil {
		o.AnnotationPrefixes = DefaultAnnotationPrefixes
	}
	b := &builder{
		m:        m,
		t:        t,
		report:   report,
		prefixes: o.AnnotationPrefixes,
		snippets: o.AllowConfigSnippets,
		backends: newBackends(s, &m.Global, report),
		secrets:  make(map[string]*corev1.Secret, len(s.Secrets)),
		routes:   map[routeKey]Ref{},
		hostCert: map[string]string{},
		certs:    map[string]*Cert{},
		hosts:    claims{},
		classes:  map[string]layer{},
	}
	for _, name := range slices.Sorted(maps.Keys(s.ClassParameters)) {
		cp := s.ClassParameters[name]
		if cp.Missing != "" {
			report(Problem{Ref{Kind: "IngressClass", Name: cp.Class}, "spec.parameters", cp.Source.String() + ": " + cp.Missing + "; its keys are not applied", Warning})
		}
		b.classes[name] = layerWithoutSnippets(parameters(cp.Source, cp.Data, report), o.AllowConfigSnippets, report)
	}
	for _, sec := range s.Secrets {
		b.secrets[sec.Namespace+"/"+sec.Name] = sec
	}
	b.backends.secret = func(ns, name string) *corev1.Secret { return b.secrets[ns+"/"+name] }
	if b.cache = o.Cache; b.cache != nil {
		b.backends.cache = b.cache
		b.cache.begin(parseDeps{global: m.Global, classes: b.classes, prefixes: b.prefixes, snippets: b.snippets})
		defer b.cache.end()
	}
	// Routes are large (their settings): one allocation, not a growing slice.
	b.pending = make([]pendingRoute, 0, countPaths(s.Ingresses))
	b.parser = newIngressParser(&m.Global, b.classes, b.prefixes, b.snippets, b.backends.services)
	ings := oldestFirst(s.Ingresses)
	for i, p := range b.parseAll(ings) {
		b.ingress(ings[i], p)
	}
	b.defaultBackend(o.DefaultBackendService)
	b.tcpServices(s.TCPServices)
	b.finish()
	m.Spares = b.backends.spares(o.SpareBackends)
	if b.cache != nil {
		b.cache.keep(s, o, b, problems)
	}
	return b, problems
}

var optionsRef = Ref{Kind: "Options", Name: "controller"}

// routeKey identifies a route for conflict detection: same host, path and
// match type.
type routeKey struct {
	host, path string
	match      Match
}

type builder struct {
	m        *Model
	report   func(Problem)
	prefixes []string
	snippets bool // --allow-config-snippets
	backends *backends
	secrets  map[string]*corev1.Secret
	routes   map[routeKey]Ref  // claimed by the oldest Ingress
	hostCert map[string]string // SNI host → cert name, oldest wins
	certs    map[string]*Cert  // by name
	defaultB *networkingv1.IngressServiceBackend
	defaultF Ref
	classes  map[string]layer // IngressClass parameters by class name
	hosts    claims           // Host keys of each host
	pending  []pendingRoute   // routes whose policy finish computes
	// userlists are the auth-secret Secrets read, by ns/name.
	userlists map[string]*userlistResult
	// parser parses the Ingresses (see parse.go); cache, if any, keeps
	// their parses for the next Build.
	parser *ingressParser
	cache  *Cache
	// t, with a cache, files the problems under the Ingresses they come
	// from, for the next Build to patch (see patch.go).
	t *tracker
}

// pendingRoute is a route with the settings its policy comes from, once
// every Ingress gave its Host keys.
type pendingRoute struct {
	route    Route
	ing      *networkingv1.Ingress // whose path it is; nil: made by a host key
	settings *pathSettings         // shared by the paths of one Ingress and Service
	// clientCert is its host's mTLS check (auth-tls-*), set once the hosts
	// are known.
	clientCert *ClientCertCheck
	tls        bool // its host has TLS configured
}

// claims are the Host or Backend keys that Ingresses set for one shared
// host or backend, by its name: the oldest Ingress that sets a key wins,
// and the IngressClass parameters are those of the oldest Ingress.
type claims map[string]*claimed

// claimed is what the Ingresses claiming one object set. Its set is the
// first claimer's own layer until another claimer adds a key: most objects
// have one Ingress, whose keys of other scopes are never read for them.
type claimed struct {
	class, set layer
	own        bool // set is a copy, which claim may write
	// owner is the first claimer; shared: another one, or none, claims it
	// too (a patch changes only what one Ingress owns).
	owner  *networkingv1.Ingress
	shared bool
}

// claim adds the keys of scope that src.ingress sets to what object already
// has for the Ingress by (nil: a host key's own route); a younger Ingress
// setting another value gets a warning naming the older.
func (c claims) claim(object, what string, scope Scope, src sources, by *networkingv1.Ingress, report func(Problem)) {
	m := c[object]
	if m == nil {
		c[object] = &claimed{class: src.class, set: src.ingress, owner: by, shared: by == nil}
		return
	}
	m.shared = m.shared || m.owner != by
	if sameLayer(m.set, src.ingress) {
		// The first claimer again, for another path: nothing new.
		return
	}
	// Only the keys of scope, sorted for a stable order of problems: most
	// Ingresses set none, and this runs once per path.
	var names []string
	for name := range src.ingress {
		if keysByName[name].info().Scope == scope {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		st := src.ingress[name]
		old, ok := m.set[name]
		if !ok {
			if !m.own {
				m.set, m.own = maps.Clone(m.set), true
				if m.set == nil {
					m.set = layer{}
				}
			}
			m.set[name] = st
		} else if old.value != st.value && old.ref != st.ref {
			report(Problem{st.ref, st.field, what + " " + object + ": value " + quoteValue(st.value) + " ignored, " +
				old.ref.String() + " is older and sets " + quoteValue(old.value), Warning})
		}
	}
}

// sameLayer tells whether a and b are one map, as the layers of one
// Ingress's paths are.
func sameLayer(a, b layer) bool {
	return reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}

// sources are the layers of object, with service the strongest.
func (c claims) sources(object string, service layer) sources {
	if m := c[object]; m != nil {
		return sources{class: m.class, ingress: m.set, service: service}
	}
	return sources{service: service}
}

// service is the layer of a Service's annotations, with the problems
// reading it found.
func (b *builder) service(ns, name string) layer {
	_, sl := b.parser.service(ns, name)
	for _, p := range sl.problems {
		b.report(p)
	}
	return sl.l
}

// oldestFirst orders Ingresses by age, then namespace/name: conflicts go to
// the oldest, whatever the order objects were listed in.
func oldestFirst(in []*networkingv1.Ingress) []*networkingv1.Ingress {
	out := append([]*networkingv1.Ingress(nil), in...)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
			return a.CreationTimestamp.Before(&b.CreationTimestamp)
		}
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		return a.Name < b.Name
	})
	return out
}

func ingressRef(ing *networkingv1.Ingress) Ref {
	return Ref{Kind: "Ingress", Namespace: ing.Namespace, Name: ing.Name}
}

// ingress adds what p, the parse of ing, makes of it to the model.
func (b *builder) ingress(ing *networkingv1.Ingress, p *parsedIngress) {
	ref := ingressRef(ing)
	u := b.t.ingress(ing)
	b.t.enter(u.keys())
	defer b.t.enter(b.t.shared())
	for _, pr := range p.problems {
		b.report(pr)
	}
	src, cands := sources{class: b.classes[className(ing)], ingress: p.ingress}, p.cands
	if p.skip != nil {
		skipped := *p.skip
		skipped.Message += "; ingress skipped"
		b.report(skipped)
		return
	}
	// What only the spec gives, which a patch keeps.
	b.t.enter(u.spec())
	b.tls(ing)
	b.t.enter(u.keys())
	b.addRoutes(ing, src, cands)
	b.t.enter(u.spec())
	if db := ing.Spec.DefaultBackend; db != nil {
		if b.defaultB != nil {
			b.report(Problem{ref, "spec.defaultBackend", "ignored, " + b.defaultF.String() + " is older and sets one too", Warning})
		} else {
			b.defaultB, b.defaultF = db.Service, ref
		}
	}
}

// tls registers the certificates of an Ingress. An invalid Secret leaves its
// hosts on the default certificate.
func (b *builder) tls(ing *networkingv1.Ingress) {
	ref := ingressRef(ing)
	for i, t := range ing.Spec.TLS {
		field := "spec.tls[" + strconv.Itoa(i) + "]"
		name := ing.Namespace + "_" + t.SecretName
		cert := b.certs[name]
		if cert == nil {
			sec := b.secrets[ing.Namespace+"/"+t.SecretName]
			if sec == nil {
				b.report(Problem{ref, field, "secret " + t.SecretName + " not found, using the default certificate", Warning})
				continue
			}
			pem, err := secretBundle(sec)
			if err != nil {
				b.report(Problem{ref, field, "secret " + t.SecretName + ": " + err.Error() + ", using the default certificate", Error})
				continue
			}
			cert = &Cert{Name: name, PEM: pem, Source: Ref{Kind: "Secret", Namespace: ing.Namespace, Name: t.SecretName}}
			b.certs[name] = cert
		}
		for _, h := range t.Hosts {
			h = strings.ToLower(h)
			switch owner, ok := b.hostCert[h]; {
			case !ok:
				b.hostCert[h] = name
				cert.Hosts = append(cert.Hosts, h)
			case owner != name:
				b.report(Problem{ref, field, "host " + h + " already uses certificate " + owner + " from an older ingress", Warning})
			}
		}
	}
}

// hasTLS tells whether a route host is covered by a declared TLS host; the
// TLS intent counts even when its Secret turned out invalid.
func hasTLS(ing *networkingv1.Ingress, host string) bool {
	if host == "" {
		return false
	}
	for _, t := range ing.Spec.TLS {
		for _, h := range t.Hosts {
			if hostMatches(strings.ToLower(h), host) {
				return true
			}
		}
	}
	return false
}

// hostMatches tells whether pattern (exact or "*.suffix") covers host, which
// may itself be a wildcard.
func hostMatches(pattern, host string) bool {
	if pattern == host {
		return true
	}
	if !strings.HasPrefix(pattern, "*.") || strings.HasPrefix(host, "*.") {
		return false
	}
	dot := strings.IndexByte(host, '.')
	return dot > 0 && host[dot:] == pattern[1:]
}

func (b *builder) addRoutes(ing *networkingv1.Ingress, src sources, cands []candidate) {
	ref := ingressRef(ing)
	for _, c := range cands {
		if c.host != "" {
			b.hosts.claim(c.host, "host", ScopeHost, src, ing, b.report)
		}
		key := routeKey{c.host, c.path, c.match}
		if owner, ok := b.routes[key]; ok {
			what := "host " + strconv.Quote(c.host) + " path " + strconv.Quote(c.path) + " (" + string(c.match) + ")"
			if owner == ref {
				b.report(Problem{ref, c.field, what + " is duplicated, first one used", Warning})
			} else {
				b.report(Problem{ref, c.field, what + " is already used by " + owner.String() + ", which is older", Error})
			}
			continue
		}
		b.routes[key] = ref
		tls := hasTLS(ing, c.host)
		b.pending = append(b.pending, pendingRoute{route: Route{
			Host:          c.host,
			Path:          c.path,
			Match:         c.match,
			Backend:       b.backends.forIngress(ing.Namespace, c.backend, ref, c.field+".backend", src, ing),
			RedirectHTTPS: c.settings.sslRedirect && b.m.DefaultCert != nil && tls,
			Source:        ref,
		}, ing: ing, settings: c.settings, tls: tls})
	}
}

// defaultBackend fills DefaultBackendName: the oldest Ingress
// spec.defaultBackend, else --default-backend-service, else a 404.
func (b *builder) defaultBackend(flag string) {
	if b.defaultB != nil {
		b.backends.defaultBackendPort(b.defaultF.Namespace, b.defaultB, b.defaultF, "spec.defaultBackend")
		return
	}
	if flag != "" {
		ns, name, ok := strings.Cut(flag, "/")
		if ok && validName(ns) && validName(name) {
			b.backends.defaultBackend(Ref{Kind: "Service", Namespace: ns, Name: name}, optionsRef, "default-backend-service")
			return
		}
		b.report(Problem{optionsRef, "default-backend-service", "invalid value " + quoteValue(flag) + ", want namespace/name", Error})
	}
	b.backends.built[DefaultBackendName] = &Backend{Name: DefaultBackendName}
}

// finish sorts everything so that the model does not depend on map order or
// input order.
func (b *builder) finish() {
	m := b.m
	hosts := map[string]HostPolicy{}
	for name, c := range b.hosts {
		b.t.enter(b.t.of(c))
		var hp HostPolicy
		src := b.hosts.sources(name, nil).withIndex()
		for _, k := range hostRegistry {
			k.setHost(&hp, &m.Global, src, b.report)
		}
		hosts[name] = hp
	}
	b.t.enter(b.t.shared())
	b.vhosts(hosts)
	// Routes are large: each is written once, in its sorted place, while
	// problems come in input order.
	order := make([]int32, len(b.pending))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(i, j int32) int {
		a, c := &b.pending[i].route, &b.pending[j].route
		return cmp.Or(strings.Compare(a.Host, c.Host), strings.Compare(a.Path, c.Path), strings.Compare(string(a.Match), string(c.Match)))
	})
	place := make([]int32, len(order))
	for rank, i := range order {
		place[i] = int32(rank)
	}
	m.Routes = make([]Route, len(b.pending))
	for i := range b.pending {
		p := &b.pending[i]
		b.t.enter(b.t.ingress(p.ing).keys())
		// A copy: the paths that share the settings differ in host.
		st := *p.settings
		st.host, st.clientCert = hosts[p.route.Host], p.clientCert
		if st.rewrite != "" && p.route.Match == MatchRegex {
			b.report(Problem{p.route.Source, "rewrite-target", "not applied to the regex path " + quoteValue(p.route.Path), Warning})
			st.rewrite = ""
		}
		r := &m.Routes[place[i]]
		*r = p.route
		r.Policy = st.policy(&b.m.Global, r, p.tls)
		r.Policy.Auth = b.authPolicy(r, st.auth)
	}
	b.t.enter(b.t.shared())
	m.HostRedirects = b.hostRedirects(hosts)
	enter := func(name string) { b.t.enter(b.t.of(b.backends.claims[name])) }
	m.Backends = b.backends.list(func(ns, name string) (layer, []Problem) {
		_, sl := b.parser.service(ns, name)
		return sl.l, sl.problems
	}, enter)
	b.sharedCookies(enter)
	b.t.enter(b.t.shared())
	m.Userlists = b.sortedUserlists()
	for _, c := range b.certs {
		sort.Strings(c.Hosts)
		m.Certs = append(m.Certs, *c)
	}
	sort.Slice(m.Certs, func(i, j int) bool { return m.Certs[i].Name < m.Certs[j].Name })
}

// sharedCookies gives the cookies of session-cookie-shared the domain
// every host of their backend's routes is in, or a warning when there is
// none.
func (b *builder) sharedCookies(enter func(backend string)) {
	m := b.m
	hostsOf := map[string][]string{}
	for _, be := range m.Backends {
		if be.Policy.Cookie.On && be.Policy.Cookie.Shared {
			hostsOf[be.Name] = nil
		}
	}
	if len(hostsOf) == 0 {
		return
	}
	for _, r := range m.Routes { // sorted by host
		if hs, ok := hostsOf[r.Backend]; ok && r.Host != "" && (len(hs) == 0 || hs[len(hs)-1] != r.Host) {
			hostsOf[r.Backend] = append(hs, r.Host)
		}
	}
	for i := range m.Backends {
		be := &m.Backends[i]
		hs, ok := hostsOf[be.Name]
		if !ok || len(hs) == 0 {
			continue
		}
		if d, ok := sharedDomain(hs); ok {
			be.Policy.Cookie.Keywords = append(slices.Clip(be.Policy.Cookie.Keywords), CookieKeyword{Name: "domain", Arg: "." + d})
			continue
		}
		enter(be.Name)
		src := b.backends.claims.sources(be.Name, b.service(be.Service.Namespace, be.Service.Name))
		reportOn(src, "session-cookie-shared", "hosts "+strings.Join(hs, ", ")+" share no parent domain a cookie can name; not shared", b.report)
	}
}

// countPaths is how many paths the Ingresses have, valid or not.
func countPaths(ings []*networkingv1.Ingress) int {
	n := 0
	for _, ing := range ings {
		for _, r := range ing.Spec.Rules {
			if r.HTTP != nil {
				n += len(r.HTTP.Paths)
			}
		}
	}
	return n
}
