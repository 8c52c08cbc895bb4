package model

import (
	"bytes"
	"slices"
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
	// ("set ssl cert" + "commit ssl cert") when Reload is false.
	CertUpdates []Cert
	// Routes is true when hosts or paths changed while every backend they
	// use already exists: the routing maps can then be edited at run time,
	// unless an order-dependent (regex) map changed (see render.MapUpdates).
	Routes bool
	// Next is the model haproxy runs once the change is applied. After a
	// dynamic update it keeps the running slot layout (which endpoint sits
	// in which slot), so rendering Next writes files that a later reload
	// loads without moving any server; slots set to drain are disabled in
	// it (the end state) and marked Draining. Keep Next as the "old" model
	// of the following Diff.
	Next *Model
}

// Diff compares the running model with a new one. Everything but routes,
// backend servers and certificate contents must be equal for a dynamic
// update, and every backend's new endpoints must fit in its free slots:
// endpoints that stay keep their slot, new ones take the lowest free slots
// and are ready before the gone ones are set to drain (see refill).
func Diff(running, next *Model) Changes {
	if running == nil {
		return Changes{Reload: true, Reasons: []string{"first configuration"}, Next: next}
	}
	var reasons []string
	if running.Global != next.Global {
		reasons = append(reasons, "global configuration changed")
	}
	if !slices.Equal(running.Frontends, next.Frontends) {
		reasons = append(reasons, "frontends changed")
	}
	rotated, sameCerts := rotatedCerts(running, next)
	if !sameCerts {
		reasons = append(reasons, "certificates added, removed or moved to other hosts")
	}
	if len(running.Backends) != len(next.Backends) {
		reasons = append(reasons, "backends added or removed")
	}
	if len(reasons) > 0 {
		return reload(running, next, reasons...)
	}
	var ops []SlotOp
	result := *next
	result.Backends = make([]Backend, len(next.Backends))
	for i := range next.Backends {
		o, n := &running.Backends[i], &next.Backends[i]
		if o.Name != n.Name || o.Service != n.Service {
			return reload(running, next, "backends added or removed")
		}
		servers, slotOps, ok := refill(o, n)
		if !ok {
			return reload(running, next, "backend "+n.Name+" has not enough free slots for its new endpoints")
		}
		ops = append(ops, slotOps...)
		result.Backends[i] = Backend{Name: n.Name, Service: n.Service, Servers: servers}
	}
	return Changes{Slots: ops, CertUpdates: rotated, Routes: !slices.Equal(running.Routes, next.Routes), Next: &result}
}

// reload is the change to next through a reload, with the slot changes the
// running worker can take before it.
func reload(running, next *Model, reasons ...string) Changes {
	byName := make(map[string]*Backend, len(running.Backends))
	for i := range running.Backends {
		byName[running.Backends[i].Name] = &running.Backends[i]
	}
	var before []SlotOp
	for i := range next.Backends {
		if o := byName[next.Backends[i].Name]; o != nil {
			if _, ops, ok := refill(o, &next.Backends[i]); ok {
				before = append(before, ops...)
			}
		}
	}
	return Changes{Reload: true, Reasons: reasons, Before: before, Next: next}
}

// rotatedCerts lists the certificates whose content changed while their
// names and SNI hosts stayed: haproxy can swap those in without a reload.
// ok is false when any other certificate change needs a reload.
func rotatedCerts(running, next *Model) (rotated []Cert, ok bool) {
	if (running.DefaultCert == nil) != (next.DefaultCert == nil) || len(running.Certs) != len(next.Certs) {
		return nil, false
	}
	pairs := [][2]*Cert{}
	if next.DefaultCert != nil {
		pairs = append(pairs, [2]*Cert{running.DefaultCert, next.DefaultCert})
	}
	for i := range next.Certs {
		pairs = append(pairs, [2]*Cert{&running.Certs[i], &next.Certs[i]})
	}
	for _, p := range pairs {
		o, n := p[0], p[1]
		if o.Name != n.Name || !slices.Equal(o.Hosts, n.Hosts) {
			return nil, false
		}
		if !bytes.Equal(o.PEM, n.PEM) {
			rotated = append(rotated, *n)
		}
	}
	return rotated, true
}
