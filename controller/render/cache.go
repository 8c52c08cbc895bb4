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
// the backend and frontend sections and the route maps' lines, found again
// for the parts of the next model that are the same in memory (see
// samebits), as those a patched Build carried over are. Render with a cache
// gives what Render without one gives. It is not safe for concurrent
// Renders.
type Cache struct {
	// ids are the policy IDs by the policy's bytes, of the routes the
	// maps' routes do not have in the same place; the policy is kept for
	// what its pointers name.
	ids      map[string]*policyID
	backends renderedBackends
	fronts   renderedFrontends
	maps     renderedMaps
	// gen counts the Renders: an entry the last one did not use goes.
	gen int
	// inPlace tells, for each route of the Render running, whether it is
	// the same in memory as the last Render's route in its place.
	inPlace []bool
}

// routesInPlace is inPlace of routes.
func (c *Cache) routesInPlace(routes []model.Route) []bool {
	last := c.maps.routes
	in := make([]bool, len(routes))
	for i := range routes {
		in[i] = i < len(last) && samebits.Same(&last[i], &routes[i])
	}
	return in
}

type policyID struct {
	policy model.PathPolicy
	id     string
	gen    int
}

// renderedBackends are the last Render's backends and their sections,
// written with g and l.
type renderedBackends struct {
	bes   []model.Backend
	texts [][]byte
	out   []byte // the file they make
	g     model.Global
	l     files.Layout
}

// renderedFrontends are the last frontend sections and what they were
// written from.
type renderedFrontends struct {
	fs        []model.Frontend
	g         model.Global
	ids       []string
	redirects []model.HostRedirect
	l         files.Layout
	text      []byte
}

// renderedMaps are route maps, their lines (files, sorted, in the order
// of set) and what they were made of.
type renderedMaps struct {
	routes    []model.Route
	ids       []string
	frontends []model.Frontend
	aliases   []model.AliasRegex
	l         files.Layout
	files     []mapFile
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
		if c.inPlace[i] {
			ids[i] = c.maps.ids[i]
			continue
		}
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

// backendSections is backendSections through the cache: a backend the
// same in memory as the last Render's in its place, or else under its
// name, gets the section written then.
func (c *Cache) backendSections(g *model.Global, bes []model.Backend, l files.Layout) []byte {
	if c == nil {
		return backendSections(g, bes, l)
	}
	last := &c.backends
	if !samebits.Same(&last.g, g) || last.l != l {
		*last = renderedBackends{g: *g, l: l}
	}
	var byName map[string]int // of last.bes, made on the first miss
	texts := make([][]byte, len(bes))
	size := 0
	for i := range bes {
		be := &bes[i]
		if be.Policy.TCP {
			continue // tcpFiles
		}
		j := i
		if j >= len(last.bes) || last.bes[j].Name != be.Name {
			if byName == nil {
				byName = make(map[string]int, len(last.bes))
				for k := range last.bes {
					byName[last.bes[k].Name] = k
				}
			}
			var ok bool
			if j, ok = byName[be.Name]; !ok {
				j = -1
			}
		}
		if j >= 0 && samebits.Same(&last.bes[j], be) {
			texts[i] = last.texts[j]
		} else {
			var w cfg
			backend(&w, g, be, l)
			texts[i] = w.bytes()
		}
		size += len(texts[i]) + 1
	}
	if len(texts) == len(last.texts) && slices.EqualFunc(texts, last.texts, func(a, b []byte) bool { return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0]) }) {
		last.bes = bes
		return last.out // every section the last one's, in its place
	}
	out := make([]byte, 0, size)
	for _, t := range texts {
		if len(t) == 0 {
			continue
		}
		if len(out) > 0 {
			out = append(out, '\n') // as cfg.section separates sections
		}
		out = append(out, t...)
	}
	last.bes, last.texts, last.out = bes, texts, out
	return out
}

// frontends is frontends through the cache: the same policies (by their
// IDs), redirects, frontends and global settings give the same sections.
func (c *Cache) frontends(fs []model.Frontend, g *model.Global, pols policies, l files.Layout) []byte {
	if c == nil {
		return frontends(fs, g, pols, l)
	}
	last := &c.fronts
	if last.text != nil && last.l == l && slices.Equal(last.ids, pols.ids) && samebits.Same(&last.g, g) &&
		reflect.DeepEqual(last.fs, fs) && reflect.DeepEqual(last.redirects, pols.redirects) {
		return last.text
	}
	text := frontends(fs, g, pols, l)
	*last = renderedFrontends{fs, *g, pols.ids, pols.redirects, l, text}
	return text
}

// routeMaps is routeMaps through the cache: routes with the same map keys
// (host, path, match) in the same places give maps with the same lines, of
// which only those of the routes that changed get their value written
// again.
func (c *Cache) routeMaps(m *model.Model, l files.Layout, ids []string) files.Set {
	if c == nil {
		return routeMaps(m, l, ids)
	}
	last := &c.maps
	if last.l != l || len(last.routes) != len(m.Routes) || !reflect.DeepEqual(last.frontends, m.Frontends) ||
		!reflect.DeepEqual(last.aliases, m.AliasRegexes) || !c.sameKeys(last.routes, m.Routes) {
		mfs := mapEntries(m, l, ids)
		*last = renderedMaps{routes: m.Routes, ids: ids, frontends: m.Frontends, aliases: m.AliasRegexes, l: l}
		for _, mf := range mfs {
			mf.entries = sortedEntries(mf.entries)
			last.files = append(last.files, mf)
			last.set = append(last.set, files.File{Path: mf.path, Data: mapLines(mf.entries)})
		}
		return slices.Clone(last.set)
	}
	changed := make([]bool, len(m.Routes))
	for i := range m.Routes {
		changed[i] = !c.inPlace[i] || last.ids[i] != ids[i]
	}
	for k := range last.files {
		mf := &last.files[k]
		var lines []newLine
		at := 0 // where e's line starts in the file
		for j := range mf.entries {
			e := &mf.entries[j]
			n := len(e.key) + len(e.value) + 2
			if i := e.route - 1; i >= 0 && changed[i] {
				r := &m.Routes[i]
				if v := mapValue(r, ids[i], mf.kind == model.FrontendHTTP && r.RedirectHTTPS); v != e.value {
					lines = append(lines, newLine{at, n, e.key + " " + v + "\n"})
					e.value = v
				}
				e.source = &r.Source
			}
			at += n
		}
		if len(lines) > 0 {
			last.set[k].Data = withLines(last.set[k].Data, lines)
		}
	}
	// The newest routes, which the next Render's are copies of.
	last.routes, last.ids = m.Routes, ids
	return slices.Clone(last.set)
}

// newLine is a line of a map file written again: the n bytes at at.
type newLine struct {
	at, n int
	line  string
}

// withLines is data with lines (in order) in the place of the old ones.
func withLines(data []byte, lines []newLine) []byte {
	size := len(data)
	for _, l := range lines {
		size += len(l.line) - l.n
	}
	out := make([]byte, 0, size)
	from := 0
	for _, l := range lines {
		out = append(append(out, data[from:l.at]...), l.line...)
		from = l.at + l.n
	}
	return append(out, data[from:]...)
}

// sameKeys tells whether a and b have the same map keys in the same
// places: what a route's lines are made of but their values.
func (c *Cache) sameKeys(a, b []model.Route) bool {
	for i := range a {
		if !c.inPlace[i] && (a[i].Host != b[i].Host || a[i].Path != b[i].Path || a[i].Match != b[i].Match) {
			return false
		}
	}
	return true
}
