package model

import (
	"fmt"
	"slices"
	"strings"
)

// Spare backends let a new Service be served without a reload: haproxy
// cannot add a backend at run time (no version up to 3.2 has "add
// backend"), so each reload renders a few backends no route uses yet, with
// the policy of a Service nothing annotates and a few disabled slots. A new
// backend of that policy then takes a free spare's place: its routes point
// to the spare's name in the maps and its endpoints fill the spare's slots,
// all through the runtime API. The next reload gives it its own name again.

// sparePrefix starts the names of spare backends; no <ns>_<svc>_<port>
// name can, a namespace never starts with "_".
const sparePrefix = "_spare_"

// spareEndpoints is how many endpoints a spare backend has room for.
const spareEndpoints = 4

// maxSpares bounds the spares of one reload: beyond a thousand or so the
// size of the configuration (each spare is a backend with its slots) costs
// more, in reload time and haproxy memory, than the reloads it saves.
const maxSpares = 1024

// SparePool says what spare backends a reload renders.
type SparePool struct {
	// Min is how many a reload renders at least (--spare-backends); 0
	// renders none, and every new backend reloads.
	Min int
	// Slots is the number of server slots of each.
	Slots int
	// Policy is the policy of a backend nothing annotates.
	Policy BackendPolicy
}

// free tells a spare backend that serves nothing yet.
func (b *Backend) free() bool { return b.For == "" && strings.HasPrefix(b.Name, sparePrefix) }

// identity is the name the model gives the backend a (running) backend
// serves: its own, or the one a spare stands in for.
func (b *Backend) identity() string {
	if b.For != "" {
		return b.For
	}
	return b.Name
}

// adopt lays next out on the running backends: backends that spares stand
// in for keep their spare, new backends take free spares of their policy
// with room for their endpoints, and the routes name the spares. False
// when a backend went away or a new one finds no spare: that reloads.
func adopt(running, next *Model) (*Model, bool) {
	if sameLayout(running.Backends, next.Backends) {
		return next, true
	}
	byName := make(map[string]*Backend, len(next.Backends))
	for i := range next.Backends {
		byName[next.Backends[i].Name] = &next.Backends[i]
	}
	out := make([]Backend, len(running.Backends))
	rename := map[string]string{}
	var free []int
	for i := range running.Backends {
		r := &running.Backends[i]
		if r.free() {
			out[i] = *r
			free = append(free, i)
			continue
		}
		n := byName[r.identity()]
		if n == nil {
			return nil, false
		}
		delete(byName, r.identity())
		out[i] = *n
		if r.For != "" {
			out[i].Name, out[i].For = r.Name, r.For
			rename[r.For] = r.Name
		}
	}
	for i := range next.Backends { // in name order, for a stable layout
		n := &next.Backends[i]
		if byName[n.Name] == nil {
			continue
		}
		j := slices.IndexFunc(free, func(j int) bool {
			return equal(running.Backends[j].Policy, n.Policy) && enabled(n.Servers) <= len(running.Backends[j].Servers)
		})
		if j < 0 {
			return nil, false
		}
		spare := running.Backends[free[j]].Name
		out[free[j]] = *n
		out[free[j]].Name, out[free[j]].For = spare, n.Name
		rename[n.Name] = spare
		free = slices.Delete(free, j, j+1)
	}
	if len(rename) == 0 && len(free) == 0 {
		return next, true
	}
	m := *next
	m.Backends = out
	m.Routes = renamedRoutes(next.Routes, rename)
	return &m, true
}

// sameLayout tells whether running and next are the same backends under
// their own names, no spare among them: what adopt would lay out is next.
func sameLayout(running, next []Backend) bool {
	if len(running) != len(next) {
		return false
	}
	// By index: the backends are large to copy.
	for i := range running {
		if r := &running[i]; r.For != "" || r.free() || r.Name != next[i].Name {
			return false
		}
	}
	return true
}

// renamedRoutes is routes with the backends named in rename replaced by
// the spares that serve them.
func renamedRoutes(routes []Route, rename map[string]string) []Route {
	out := slices.Clone(routes)
	for i := range out {
		if to, ok := rename[out[i].Backend]; ok {
			out[i].Backend = to
		}
	}
	return out
}

// withSpares is next as a reload loads it: every backend under its own
// name, followed by free spares, twice as many as the backends added since
// the last reload (the spares taken and the backends this change adds), at
// least the pool's minimum and at most as many as there are backends, or
// maxSpares. A burst of new Services then reloads a few times, the pool
// doubling each time up to maxSpares.
func withSpares(running, next *Model) *Model {
	pool := next.Spares
	if pool.Min == 0 {
		return next
	}
	added := 0
	if running != nil {
		known := make(map[string]bool, len(running.Backends))
		for i := range running.Backends {
			known[running.Backends[i].identity()] = true
			if running.Backends[i].For != "" {
				added++
			}
		}
		for i := range next.Backends {
			if !known[next.Backends[i].Name] {
				added++
			}
		}
	}
	count := max(pool.Min, min(2*added, len(next.Backends), maxSpares))
	m := *next
	m.Backends = slices.Grow(slices.Clone(next.Backends), count)
	for i := range count {
		m.Backends = append(m.Backends, pool.free(fmt.Sprintf("%s%04d", sparePrefix, i+1)))
	}
	sortBackends(m.Backends)
	return &m
}

// free is a spare backend of the pool that serves nothing.
func (p *SparePool) free(name string) Backend {
	return Backend{Name: name, Policy: p.Policy, Servers: padSlots(nil, p.Slots)}
}

// sortBackends sorts backends by name, the order of Model.Backends.
func sortBackends(bs []Backend) {
	slices.SortFunc(bs, func(a, b Backend) int { return strings.Compare(a.Name, b.Name) })
}

func enabled(servers []Server) int {
	n := 0
	for i := range servers {
		if servers[i].Enabled {
			n++
		}
	}
	return n
}

// Spare is one spare backend of a running configuration: its name and the
// backend it serves, empty while free.
type Spare struct{ Name, For string }

// SpareLayout lists the spare backends of m, for a restarted controller to lay
// its first model out the same way (see Resume).
func (m *Model) SpareLayout() []Spare {
	var out []Spare
	for i := range m.Backends {
		if b := &m.Backends[i]; strings.HasPrefix(b.Name, sparePrefix) {
			out = append(out, Spare{b.Name, b.For})
		}
	}
	return out
}

// Resume is the model a configuration with spares laid out as layout runs
// for the state next describes: what a restarted controller takes as
// running, so that the first Diff keeps the spares haproxy runs instead of
// reloading to a fresh layout. A backend a spare served keeps it if it
// still fits; the files then differ only where the state changed.
func Resume(next *Model, layout []Spare) *Model {
	if len(layout) == 0 {
		return nil
	}
	byName := make(map[string]*Backend, len(next.Backends))
	for i := range next.Backends {
		byName[next.Backends[i].Name] = &next.Backends[i]
	}
	m := *next
	m.Backends = make([]Backend, 0, len(next.Backends)+len(layout))
	rename := map[string]string{}
	for _, s := range layout {
		b := next.Spares.free(s.Name)
		if n := byName[s.For]; n != nil && equal(n.Policy, b.Policy) && enabled(n.Servers) <= next.Spares.Slots {
			b = *n
			b.Name, b.For = s.Name, s.For
			// Endpoints come first (see slots), in the spare's slots.
			b.Servers = padSlots(n.Servers[:enabled(n.Servers)], next.Spares.Slots)
			rename[s.For] = s.Name
		}
		m.Backends = append(m.Backends, b)
	}
	for i := range next.Backends {
		if _, taken := rename[next.Backends[i].Name]; !taken {
			m.Backends = append(m.Backends, next.Backends[i])
		}
	}
	sortBackends(m.Backends)
	m.Routes = renamedRoutes(next.Routes, rename)
	return &m
}

// padSlots is servers with disabled slots added up to n.
func padSlots(servers []Server, n int) []Server {
	out := slices.Clone(servers)
	for s := len(out); s < n; s++ {
		out = append(out, Server{Name: serverName(s), Addr: placeholderAddr, Port: placeholderPort})
	}
	return out
}
