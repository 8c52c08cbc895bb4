package render

import (
	"maps"
	"reflect"
	"slices"

	"github.com/external-haproxy/kit/controller/files"
	"github.com/external-haproxy/kit/controller/model"
	"github.com/external-haproxy/kit/controller/samebits"
)

// Cache keeps what one Render made for the next: the routes' policy IDs,
// each backend's section and the route maps, found again for the parts of
// the next model that are the same in memory (see samebits), as those a
// patched Build carried over are. Render with a cache gives what Render
// without one gives. It is not safe for concurrent Renders.
type Cache struct {
	// ids are the policy IDs by the policy's bytes; the policy is kept for
	// what its pointers name.
	ids map[string]*policyID
	// backends are the sections by backend name, written with g and l.
	backends map[string]*renderedBackend
	size     int // of the last backends file
	g        model.Global
	l        files.Layout
	maps     renderedMaps
	// gen counts the Renders: an entry the last one did not use goes.
	gen int
}

type policyID struct {
	policy model.PathPolicy
	id     string
	gen    int
}

type renderedBackend struct {
	be   model.Backend
	text []byte
	gen  int
}

// renderedMaps are route maps and what they were made of.
type renderedMaps struct {
	routes    []model.Route
	ids       []string
	frontends []model.Frontend
	aliases   []model.AliasRegex
	l         files.Layout
	set       files.Set
}

// NewCache is an empty cache for Cache.Render.
func NewCache() *Cache { return &Cache{} }

// policyIDs is policyIDs through the cache.
func (c *Cache) policyIDs(routes []model.Route) []string {
	if c == nil {
		return policyIDs(routes)
	}
	if c.ids == nil {
		c.ids = map[string]*policyID{}
	}
	ids := make([]string, len(routes))
	for i := range routes {
		p := &routes[i].Policy
		key := samebits.Of(p)
		e := c.ids[string(key)]
		if e == nil {
			e = &policyID{policy: *p, id: p.ID()}
			c.ids[string(key)] = e
		}
		e.gen = c.gen
		ids[i] = e.id
	}
	maps.DeleteFunc(c.ids, func(_ string, e *policyID) bool { return e.gen != c.gen })
	return ids
}

// backendSections is backendSections through the cache.
func (c *Cache) backendSections(g *model.Global, bes []model.Backend, l files.Layout) []byte {
	if c == nil {
		return backendSections(g, bes, l)
	}
	if !samebits.Same(&c.g, g) || c.l != l || c.backends == nil {
		c.g, c.l, c.backends = *g, l, map[string]*renderedBackend{}
	}
	out := make([]byte, 0, c.size)
	for i := range bes {
		be := &bes[i]
		if be.Policy.TCP {
			continue // tcpFiles
		}
		e := c.backends[be.Name]
		if e == nil || !samebits.Same(&e.be, be) {
			var w cfg
			backend(&w, g, be, l)
			e = &renderedBackend{be: *be, text: w.bytes()}
			c.backends[be.Name] = e
		}
		e.gen = c.gen
		if len(out) > 0 {
			out = append(out, '\n') // as cfg.section separates sections
		}
		out = append(out, e.text...)
	}
	maps.DeleteFunc(c.backends, func(_ string, e *renderedBackend) bool { return e.gen != c.gen })
	c.size = len(out)
	return out
}

// routeMaps is routeMaps through the cache: the same routes, policies and
// frontends give the same maps.
func (c *Cache) routeMaps(m *model.Model, l files.Layout, ids []string) files.Set {
	if c == nil {
		return routeMaps(m, l, ids)
	}
	last := &c.maps
	if last.l == l && len(last.routes) == len(m.Routes) && slices.Equal(last.ids, ids) &&
		reflect.DeepEqual(last.frontends, m.Frontends) && reflect.DeepEqual(last.aliases, m.AliasRegexes) &&
		sameRoutes(last.routes, m.Routes) {
		return slices.Clone(last.set)
	}
	set := routeMaps(m, l, ids)
	c.maps = renderedMaps{m.Routes, ids, m.Frontends, m.AliasRegexes, l, slices.Clone(set)}
	return set
}

// sameRoutes tells whether a and b are the same routes but for their
// policies, which the IDs stand for.
func sameRoutes(a, b []model.Route) bool {
	for i := range a {
		if !samebits.Same(&a[i], &b[i]) {
			x, y := a[i], b[i]
			x.Policy, y.Policy = model.PathPolicy{}, model.PathPolicy{}
			if !reflect.DeepEqual(x, y) {
				return false
			}
		}
	}
	return true
}
