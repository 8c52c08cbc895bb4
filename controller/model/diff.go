package model

import (
	"bytes"
	"slices"
	"strconv"
)

// Changes tells how to move haproxy from one model to the next.
type Changes struct {
	// Reload is true when the change needs new configuration files loaded
	// by a reload; Reasons say why, for logs.
	Reload  bool
	Reasons []string
	// Commands are runtime API commands (for the worker's stats socket, or
	// prefixed "@1 " through the master) that apply the change without a
	// reload. Empty when Reload is true or nothing changed.
	Commands []string
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
	// loads without moving any server. Keep Next as the "old" model of the
	// following Diff.
	Next *Model
}

// Diff compares the running model with a new one. Everything but routes,
// backend servers and certificate contents must be equal for a dynamic
// update, and every backend's new
// endpoints must fit in its running slots: endpoints that stay keep their
// slot, gone ones are set to maint, new ones take the lowest free slots.
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
		return Changes{Reload: true, Reasons: reasons, Next: next}
	}
	var cmds []string
	result := *next
	result.Backends = make([]Backend, len(next.Backends))
	for i := range next.Backends {
		o, n := &running.Backends[i], &next.Backends[i]
		if o.Name != n.Name || o.Service != n.Service {
			return Changes{Reload: true, Reasons: []string{"backends added or removed"}, Next: next}
		}
		servers, c, ok := refill(o, n)
		if !ok {
			return Changes{Reload: true, Reasons: []string{"backend " + n.Name + " has more endpoints than slots"}, Next: next}
		}
		cmds = append(cmds, c...)
		result.Backends[i] = Backend{Name: n.Name, Service: n.Service, Servers: servers}
	}
	return Changes{Commands: cmds, CertUpdates: rotated, Routes: !slices.Equal(running.Routes, next.Routes), Next: &result}
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

// refill places the enabled servers of n into the slots of o.
func refill(o, n *Backend) ([]Server, []string, bool) {
	type target struct {
		addr string
		port int
	}
	want := map[target]bool{}
	for _, s := range n.Servers {
		if s.Enabled {
			want[target{s.Addr, s.Port}] = true
		}
	}
	if len(want) > len(o.Servers) {
		return nil, nil, false
	}
	servers := slices.Clone(o.Servers)
	var cmds []string
	prefix := "set server " + o.Name + "/"
	var free []int
	for i := range servers {
		s := &servers[i]
		t := target{s.Addr, s.Port}
		switch {
		case s.Enabled && want[t]:
			delete(want, t) // stays in its slot
		case s.Enabled:
			s.Enabled = false
			cmds = append(cmds, prefix+s.Name+" state maint")
			free = append(free, i)
		default:
			free = append(free, i)
		}
	}
	// New endpoints in the order of n, which is sorted by address.
	for _, ns := range n.Servers {
		t := target{ns.Addr, ns.Port}
		if !ns.Enabled || !want[t] {
			continue
		}
		s := &servers[free[0]]
		free = free[1:]
		s.Addr, s.Port, s.Enabled = ns.Addr, ns.Port, true
		cmds = append(cmds,
			prefix+s.Name+" addr "+s.Addr+" port "+strconv.Itoa(s.Port),
			prefix+s.Name+" state ready")
	}
	return servers, cmds, true
}
