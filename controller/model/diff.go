package model

import (
	"bytes"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"unsafe"

	"github.com/external-haproxy/kit/controller/samebits"
)

// Changes tells how to move haproxy from one model to the next.
type Changes struct {
	// Reload is true when the change needs new configuration files loaded
	// by a reload; Reasons say why, for logs.
	Reload  bool
	Reasons []string
	// Slots are the server slot changes that apply the new endpoints without
	// a reload, make before break (see refill). Empty when Reload is true or
	// no endpoint changed.
	Slots []SlotOp
	// Before are, when Reload is true, the slot changes the worker that runs
	// now can take before the reload: the connections it goes on serving
	// after it (a kept-alive client's next request) then reach the new
	// endpoints too, not the ones they replace. Backends whose new endpoints
	// do not fit in their free slots get none.
	Before []SlotOp
	// CertUpdates are certificates with new content under the same name and
	// SNI hosts (a rotated Secret), to be replaced through the runtime API
	// when Reload is false.
	CertUpdates []Cert
	// Groups is true when the blue-green group of a server slot changed:
	// their map files can be replaced at run time.
	Groups bool
	// Routes is true when hosts or paths changed while every backend they
	// use already exists: the routing maps can then be edited at run time,
	// unless an order-dependent (regex) map changed (see render.MapChanges).
	Routes bool
	// Next is the model haproxy runs once the change is applied. After a
	// dynamic update it keeps the running slot layout (which endpoint sits
	// in which slot), so rendering Next writes files that a later reload
	// loads without moving any server; slots set to drain are disabled in
	// it (the end state) and marked Draining. Keep Next as the "old" model
	// of the following Diff.
	Next *Model
}

// Diff compares the running model with a new one. The two models with their
// dynamic parts taken out (see fixed) must be equal for a dynamic update, so
// that any other difference, in a field added later too, reloads; and every
// backend's new endpoints must fit in its free slots: endpoints that stay
// keep their slot, new ones take the lowest free slots and are ready before
// the gone ones are set to drain (see refill).
func Diff(running, next *Model) Changes { return (*Cache)(nil).Diff(running, next) }

// Diff is Diff, with what c kept of the last one's routes (see
// distinctRouteRests); c may be nil.
func (c *Cache) Diff(running, next *Model) Changes {
	if running == nil {
		return Changes{Reload: true, Reasons: []string{"first configuration"}, Next: withSpares(nil, next)}
	}
	laid, ok := adopt(running, next)
	if !ok {
		// Gone, or new without a free spare of its policy.
		return reload(running, next, partReason("Backends"))
	}
	if reasons := c.fixedDiff(running, laid); len(reasons) > 0 {
		return reload(running, next, reasons...)
	}
	var ops []SlotOp
	groups := false
	result := *laid
	result.Backends = slices.Clone(laid.Backends)
	// Equal fixed parts pair the backends (and certificates) up by index.
	for i := range result.Backends {
		n := &result.Backends[i]
		servers, slotOps, ok := refill(&running.Backends[i], n)
		if !ok {
			// The reload gives every backend its own name: next, not laid.
			return reload(running, next, "backend "+n.identity()+" has not enough free slots for its new endpoints")
		}
		ops = append(ops, slotOps...)
		n.Servers = servers
		groups = groups || n.Policy.BlueGreen.SelectorLabel() != "" && !slices.EqualFunc(running.Backends[i].Servers, servers,
			func(a, b Server) bool { return a.Group == b.Group })
	}
	return Changes{Slots: ops, Groups: groups, CertUpdates: rotatedCerts(running, laid), Routes: !equal(running.Routes, laid.Routes), Next: &result}
}

// partReason is the reload reason when the top-level part name of Model
// differs.
func partReason(name string) string {
	if r, ok := partReasons[name]; ok {
		return r
	}
	return name + " changed"
}

// partReasons word the reload reasons of the parts of Model known today.
var partReasons = map[string]string{
	"Global":      "global configuration changed",
	"Frontends":   "frontends changed",
	"Backends":    "backends added, removed or changed",
	"Spares":      "spare backends changed",
	"Certs":       "certificates added, removed or moved to other hosts",
	"DefaultCert": "default certificate added, removed or changed",
	"Routes":      "routes changed beyond their map entries",
	"Userlists":   "basic auth users changed",
	"TCPServices": "TCP services changed",
}

// fixedDiff names the top-level parts of Model that differ once the dynamic
// parts are taken out of both models (see fixedParts): what only a reload
// can apply. Every field of Model is compared, those added later too.
func (c *Cache) fixedDiff(running, next *Model) []string {
	o, n := reflect.ValueOf(running).Elem(), reflect.ValueOf(next).Elem()
	var reasons []string
	for i := range o.NumField() {
		name := o.Type().Field(i).Name
		if same, ok := fixedParts[name]; ok && !same(running, next, c) || !ok && !equal(o.Field(i).Interface(), n.Field(i).Interface()) {
			reasons = append(reasons, partReason(name))
		}
	}
	return reasons
}

// fixedParts compare the parts of two models that the runtime API changes
// in part, without those changes: the route map entries, the server slots'
// endpoints and states (the slot layout stays the running one, see refill),
// and certificate contents. A part equal as it is needs no stripping; of
// the backends and certificates only those that differ are stripped, one by
// one (the runtime API neither adds nor removes them).
var fixedParts = map[string]func(a, b *Model, c *Cache) bool{
	"Routes": func(a, b *Model, c *Cache) bool {
		if equal(a.Routes, b.Routes) {
			return true
		}
		r := &routeRests{}
		if c != nil {
			r = &c.rests
		}
		da, db := r.distinct(a.Routes), r.distinct(b.Routes)
		if len(r.number) > 2*len(da)+2*len(db)+1024 {
			*r = routeRests{} // numbers of rests gone: the next Diff numbers them again
		}
		return slices.Equal(da, db)
	},
	"Backends": func(a, b *Model, _ *Cache) bool {
		return sameWithout(a.Backends, b.Backends, fixedBackend)
	},
	"Certs": func(a, b *Model, _ *Cache) bool {
		return sameWithout(a.Certs, b.Certs, withoutPEM)
	},
	"DefaultCert": func(a, b *Model, _ *Cache) bool {
		if a.DefaultCert == nil || b.DefaultCert == nil {
			return a.DefaultCert == b.DefaultCert
		}
		return equal(withoutPEM(*a.DefaultCert), withoutPEM(*b.DefaultCert))
	},
}

// withoutPEM is c without its content, which the runtime API replaces.
func withoutPEM(c Cert) Cert {
	c.PEM = nil
	return c
}

// sameWithout says whether a and b have the same elements once strip took
// the dynamic fields out of those that differ.
func sameWithout[T any](a, b []T, strip func(T) T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !samebits.Same(&a[i], &b[i]) && !equal(a[i], b[i]) && !equal(strip(a[i]), strip(b[i])) {
			return false
		}
	}
	return true
}

// distinct are the distinct non-zero rests of routes without their map
// entries, in order, as the numbers r gives their canonical encodings (see
// distinctRests): adding or removing a route changes nothing unless it
// carries something else. A route the same in memory as the one in its
// place in the routes of r's last call has the rest found then.
func (r *routeRests) distinct(routes []Route) []int {
	if len(routes) > 0 && len(routes) == len(r.routes) && &routes[0] == &r.routes[0] {
		return r.out // the last call's routes: those of the model haproxy runs
	}
	if r.number == nil {
		r.number = map[string]int{}
	}
	rests := make([]int, len(routes))
	var buf []byte
	for i := range routes {
		if i < len(r.routes) && samebits.Same(&r.routes[i], &routes[i]) {
			rests[i] = r.rests[i]
			continue
		}
		rt := routes[i]
		// Source only names the Ingress for problems; nothing renders it.
		// What stays is the policy: a route with a policy no other route
		// has needs the rules of that policy rendered.
		rt.Host, rt.Path, rt.Match, rt.Backend, rt.RedirectHTTPS, rt.Source = "", "", "", "", false, Ref{}
		rests[i] = -1
		if !reflect.ValueOf(rt).IsZero() {
			buf = appendCanonical(buf[:0], reflect.ValueOf(rt))
			n, ok := r.number[string(buf)]
			if !ok {
				n = len(r.number)
				r.number[string(buf)] = n
			}
			rests[i] = n
		}
	}
	var out []int
	seen := make([]bool, len(r.number))
	for _, n := range rests {
		if n >= 0 && !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	r.routes, r.rests, r.out = routes, rests, out
	return out
}

// fixedBackend is be without its slots' endpoints and states: the distinct
// non-zero rests of its servers.
func fixedBackend(be Backend) Backend {
	be.Servers = distinctRests(be.Servers, func(s *Server) {
		s.Name, s.Addr, s.Port, s.Enabled, s.Draining, s.Weight, s.Weighted, s.Group = "", "", 0, false, false, 0, false, ""
	})
	if strings.HasPrefix(be.Name, sparePrefix) {
		// Which Service a spare serves is only its routes and slots.
		be.Service, be.For = Ref{}, ""
	}
	return be
}

// distinctRests is what is left of each of xs once blank cleared its dynamic
// fields, without zero values and repeats, in order. Repeats are found by
// their canonical encoding, equal when equal says so: comparing each rest
// with every distinct one took minutes on 20k routes of a few hundred
// policies.
func distinctRests[T any](xs []T, blank func(*T)) []T {
	var out []T
	seen := map[string]bool{}
	var buf []byte
	for _, x := range xs {
		blank(&x)
		if reflect.ValueOf(x).IsZero() {
			continue
		}
		buf = appendCanonical(buf[:0], reflect.ValueOf(x))
		if !seen[string(buf)] {
			seen[string(buf)] = true
			out = append(out, x)
		}
	}
	return out
}

// equal is deep equality where a nil slice or map equals an empty one,
// walked by equalValue: go-cmp did it before at ten times the cost (a
// quarter of the controller's CPU in a burst of 5,000 Ingresses), and
// reflect.DeepEqual records every pointer and slice it passes in a map.
func equal(a, b any) bool {
	return equalValue(reflect.ValueOf(a), reflect.ValueOf(b))
}

// ipTypes are the netip types, whose fields are unexported: equalValue
// compares them with == (an address and an interned zone handle, equal for
// equal values), appendCanonical encodes them in their binary form.
var ipTypes = map[reflect.Type]bool{
	reflect.TypeFor[netip.Addr](): true, reflect.TypeFor[netip.Prefix](): true, reflect.TypeFor[netip.AddrPort](): true,
}

// equalValue is equal of two values of the model's kinds, read through
// reflection, unexported fields too.
func equalValue(a, b reflect.Value) bool {
	if !a.IsValid() || !b.IsValid() {
		return a.IsValid() == b.IsValid()
	}
	if a.Type() != b.Type() {
		return false
	}
	switch a.Kind() {
	case reflect.String:
		return a.String() == b.String()
	case reflect.Bool:
		return a.Bool() == b.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return a.Int() == b.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return a.Uint() == b.Uint()
	case reflect.Slice, reflect.Array:
		if a.Len() != b.Len() {
			return false
		}
		if a.Kind() == reflect.Slice && a.UnsafePointer() == b.UnsafePointer() {
			return true // one backing array: a part the models share
		}
		// Structs the same in memory are equal (see samebits), found
		// without reflecting on each of thousands of backends or routes.
		size, same := a.Type().Elem().Size(), func(int) bool { return false }
		if a.Kind() == reflect.Slice && a.Type().Elem().Kind() == reflect.Struct && a.Len() > 0 {
			pa, pb := a.UnsafePointer(), b.UnsafePointer()
			same = func(i int) bool {
				return bytes.Equal(samebits.At(unsafe.Add(pa, uintptr(i)*size), size), samebits.At(unsafe.Add(pb, uintptr(i)*size), size))
			}
		}
		for i := range a.Len() {
			if !same(i) && !equalValue(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Map:
		if a.Len() != b.Len() {
			return false
		}
		for it := a.MapRange(); it.Next(); {
			if v := b.MapIndex(it.Key()); !v.IsValid() || !equalValue(it.Value(), v) {
				return false
			}
		}
		return true
	case reflect.Pointer, reflect.Interface:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		if a.Kind() == reflect.Pointer && a.UnsafePointer() == b.UnsafePointer() {
			return true
		}
		return equalValue(a.Elem(), b.Elem())
	case reflect.Struct:
		if ipTypes[a.Type()] {
			return a.Equal(b)
		}
		if a.CanAddr() && b.CanAddr() && bytes.Equal(samebits.At(a.Addr().UnsafePointer(), a.Type().Size()), samebits.At(b.Addr().UnsafePointer(), b.Type().Size())) {
			return true // a part a patch carried over (see samebits)
		}
		for i := range a.NumField() {
			if !equalValue(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	default:
		return a.Equal(b)
	}
}

// reload is the change to next through a reload, with the slot changes the
// running worker can take before it.
func reload(running, next *Model, reasons ...string) Changes {
	var byName map[string]*Backend // made when the backends are not in the same places
	runningOf := func(i int, name string) *Backend {
		if i < len(running.Backends) && running.Backends[i].identity() == name {
			return &running.Backends[i]
		}
		if byName == nil {
			byName = make(map[string]*Backend, len(running.Backends))
			for i := range running.Backends {
				byName[running.Backends[i].identity()] = &running.Backends[i]
			}
		}
		return byName[name]
	}
	var before []SlotOp
	for i := range next.Backends {
		n := &next.Backends[i]
		if o := runningOf(i, n.Name); o != nil && !sameServers(o.Servers, n.Servers) {
			if _, ops, ok := refill(o, n); ok {
				before = append(before, ops...)
			}
		}
	}
	return Changes{Reload: true, Reasons: reasons, Before: before, Next: withSpares(running, next)}
}

// sameServers tells whether a and b are the same slots, as they are in
// most backends of a patched model: no slot changes then.
func sameServers(a, b []Server) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0]) || slices.Equal(a, b)
}

// rotatedCerts lists the certificates whose content changed, in two models
// whose certificates are otherwise equal (fixedDiff): haproxy can swap those
// in without a reload.
func rotatedCerts(running, next *Model) []Cert {
	var rotated []Cert
	if next.DefaultCert != nil && !bytes.Equal(running.DefaultCert.PEM, next.DefaultCert.PEM) {
		rotated = append(rotated, *next.DefaultCert)
	}
	for i := range next.Certs {
		if !bytes.Equal(running.Certs[i].PEM, next.Certs[i].PEM) {
			rotated = append(rotated, next.Certs[i])
		}
	}
	return rotated
}
