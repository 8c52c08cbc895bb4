package model

import (
	"slices"
	"strconv"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/external-haproxy/kit/controller/parallel"
)

// A build starts with each Ingress's keys and candidate routes, which
// depend on nothing another Ingress says: parsed on every core, then
// added to the model in the build's order, their problems with them.

// ingressParser reads what parsing an Ingress needs, fixed for one build.
// Its methods are safe on many goroutines.
type ingressParser struct {
	global   *Global
	classes  map[string]layer
	prefixes []string
	snippets bool
	services map[string]*corev1.Service // ns/name

	mu     sync.Mutex
	layers map[string]*serviceLayer // by ns/name
}

func newIngressParser(g *Global, classes map[string]layer, prefixes []string, snippets bool, services map[string]*corev1.Service) *ingressParser {
	return &ingressParser{global: g, classes: classes, prefixes: prefixes, snippets: snippets, services: services, layers: map[string]*serviceLayer{}}
}

// serviceLayer is the layer of a Service's annotations, parsed once
// however many paths read it, and the problems parsing found, which every
// reader reports.
type serviceLayer struct {
	once     sync.Once
	l        layer
	problems []Problem
}

// service is the layer of Service ns/name, and its key.
func (p *ingressParser) service(ns, name string) (string, *serviceLayer) {
	key := ns + "/" + name
	p.mu.Lock()
	sl := p.layers[key]
	if sl == nil {
		sl = &serviceLayer{}
		p.layers[key] = sl
	}
	p.mu.Unlock()
	sl.once.Do(func() {
		if svc := p.services[key]; svc != nil {
			report := func(pr Problem) { sl.problems = append(sl.problems, pr) }
			sl.l = layerWithoutSnippets(annotations(Ref{Kind: "Service", Namespace: ns, Name: name}, svc.Annotations, p.prefixes, report), p.snippets, report)
		}
	})
	return key, sl
}

// parse is ing's parse, the problems it found kept in it.
func (p *ingressParser) parse(ing *networkingv1.Ingress) *parsedIngress {
	out := &parsedIngress{}
	x := ingressParse{p, out}
	out.ingress = layerWithoutSnippets(annotations(ingressRef(ing), ing.Annotations, p.prefixes, x.report), p.snippets, x.report)
	out.cands, out.skip = x.validate(ing, sources{class: p.classes[className(ing)], ingress: out.ingress})
	out.problems, out.services = slices.Clip(out.problems), slices.Clip(out.services)
	return out
}

// ingressParse is the parse of one Ingress under way.
type ingressParse struct {
	*ingressParser
	out *parsedIngress
}

func (x ingressParse) report(p Problem) { x.out.problems = append(x.out.problems, p) }

// service is the layer of a Service the Ingress's paths name, which the
// parse records having read.
func (x ingressParse) service(ns, name string) layer {
	key, sl := x.ingressParser.service(ns, name)
	x.out.services = append(x.out.services, serviceRead{key, x.services[key]})
	x.out.problems = append(x.out.problems, sl.problems...)
	return sl.l
}

// pathSettings resolves the Path keys of one path.
func (x ingressParse) pathSettings(src sources) pathSettings {
	var st pathSettings
	src = src.withIndex()
	for _, k := range pathRegistry {
		k.setPath(&st, x.global, src, x.report)
	}
	return st
}

// parseAll is the parse of each of ings: the cache's when it has one that
// still holds, else parsed on every core.
func (b *builder) parseAll(ings []*networkingv1.Ingress) []*parsedIngress {
	out := make([]*parsedIngress, len(ings))
	todo := make([]int, 0, len(ings))
	for i, ing := range ings {
		if b.cache != nil {
			if out[i] = b.cache.lookup(ing, b.parser.services); out[i] != nil {
				continue
			}
		}
		todo = append(todo, i)
	}
	parallel.For(len(todo), func(j int) { out[todo[j]] = b.parser.parse(ings[todo[j]]) })
	if b.cache != nil {
		for _, i := range todo {
			b.cache.store(ings[i], out[i])
		}
	}
	return out
}

// candidate is a route before conflict resolution.
type candidate struct {
	host, path string
	match      Match
	backend    *networkingv1.IngressServiceBackend
	field      string
	settings   *pathSettings
}

// validate checks everything of an Ingress that reaches haproxy's files and
// returns its routes; any unsafe value rejects the whole Ingress, so that a
// partly applied Ingress never shadows or exposes something unexpected.
func (x ingressParse) validate(ing *networkingv1.Ingress, src sources) ([]candidate, *Problem) {
	ref := ingressRef(ing)
	bad := func(field, msg string) ([]candidate, *Problem) {
		return nil, &Problem{ref, field, msg, Error}
	}
	if !validName(ing.Namespace) || !validName(ing.Name) {
		return bad("metadata", "invalid namespace or name")
	}
	if db := ing.Spec.DefaultBackend; db != nil {
		if msg := checkServiceBackend(db.Service); msg != "" {
			return bad("spec.defaultBackend", msg)
		}
	}
	for i, t := range ing.Spec.TLS {
		field := "spec.tls[" + strconv.Itoa(i) + "]"
		if !validName(t.SecretName) {
			return bad(field+".secretName", "invalid secret name "+quoteValue(t.SecretName))
		}
		for _, h := range t.Hosts {
			if !validDNSName(strings.ToLower(h), true) {
				return bad(field+".hosts", "invalid host "+quoteValue(h))
			}
		}
	}
	out := make([]candidate, 0, countPaths([]*networkingv1.Ingress{ing}))
	// The paths of one Service share their settings: same layers.
	bySvc := map[string]*pathSettings{}
	for i, r := range ing.Spec.Rules {
		field := "spec.rules[" + strconv.Itoa(i) + "]"
		host := strings.ToLower(r.Host)
		if host != "" && !validDNSName(host, true) {
			return bad(field+".host", "invalid host "+quoteValue(r.Host))
		}
		if r.HTTP == nil {
			continue
		}
		for j, p := range r.HTTP.Paths {
			pfield := field + ".http.paths[" + strconv.Itoa(j) + "]"
			if msg := checkServiceBackend(p.Backend.Service); msg != "" {
				return bad(pfield+".backend", msg)
			}
			settings, ok := bySvc[p.Backend.Service.Name]
			if !ok {
				src.service = x.service(ing.Namespace, p.Backend.Service.Name)
				st := x.pathSettings(src)
				settings = &st
				bySvc[p.Backend.Service.Name] = settings
			}
			c := candidate{host: host, path: p.Path, backend: p.Backend.Service, field: pfield, settings: settings}
			pt := networkingv1.PathTypeImplementationSpecific
			if p.PathType != nil {
				pt = *p.PathType
			}
			switch pt {
			case networkingv1.PathTypeExact:
				c.match = MatchExact
			case networkingv1.PathTypePrefix:
				c.match = MatchPrefix
			case networkingv1.PathTypeImplementationSpecific:
				c.match = c.settings.pathType
				if c.path == "" {
					c.path = "/"
				}
			default:
				return bad(pfield+".pathType", "unknown path type "+quoteValue(string(pt)))
			}
			if c.match == MatchRegex {
				if err := checkRegexPath(c.path); err != nil {
					return bad(pfield+".path", "invalid regex path "+quoteValue(c.path)+": "+err.Error())
				}
			} else if !validPath(c.path) {
				return bad(pfield+".path", "invalid path "+quoteValue(c.path))
			}
			if c.match == MatchPrefix && len(c.path) > 1 {
				// A trailing slash on a Prefix rule does not change its meaning.
				c.path = strings.TrimRight(c.path, "/")
				if c.path == "" {
					c.path = "/"
				}
			}
			out = append(out, c)
		}
	}
	return out, nil
}
