package model

import "slices"

// SlotAction is what a runtime update does to one server slot.
type SlotAction string

const (
	SlotAddr  SlotAction = "addr"  // point the slot at Addr:Port
	SlotReady SlotAction = "ready" // take new requests
	SlotDrain SlotAction = "drain" // no new requests; those in flight finish
	SlotMaint SlotAction = "maint" // disabled: the drain is over, the slot is free
	// SlotWeight sets the slot's weight (blue-green-balance), before it is
	// made ready.
	SlotWeight SlotAction = "weight"
)

// SlotOp is one runtime change of a server slot (package haproxy/runtime
// writes its command).
type SlotOp struct {
	Backend string
	Server  string
	Action  SlotAction
	Addr    string // SlotAddr only
	Port    int    // SlotAddr only
	Weight  int    // SlotWeight only
}

// refill places the enabled servers of n into the slots of o, make before
// break: new endpoints go into free slots and are made ready first, and only
// then are the slots of gone endpoints set to drain, so the backend always
// has a server to send requests to and a slot never changes its address
// while it may still hold connections. A draining slot stays busy until the
// drain ended (Server.Draining cleared); an endpoint that comes back while
// its slot drains takes the slot back. ok is false when the free slots are
// too few: a reload then applies the change.
func refill(o, n *Backend) (servers []Server, ops []SlotOp, ok bool) {
	if slices.Equal(o.Servers, n.Servers) {
		// Every endpoint in its slot, as in most backends of most changes:
		// what the walk below finds, without its map.
		return slices.Clone(o.Servers), nil, true
	}
	type target struct {
		addr string
		port int
	}
	want := map[target]Server{}
	for _, s := range n.Servers {
		if s.Enabled {
			want[target{s.Addr, s.Port}] = s
		}
	}
	servers = slices.Clone(o.Servers)
	op := func(s *Server, a SlotAction) SlotOp {
		return SlotOp{Backend: o.Name, Server: s.Name, Action: a}
	}
	// reweigh gives slot s the weight and group of ns, with the command
	// when the weight haproxy applies changes.
	reweigh := func(s *Server, ns Server) {
		s.Group = ns.Group
		before := s.EffectiveWeight(&n.Policy)
		s.Weight, s.Weighted = ns.Weight, ns.Weighted
		if w := s.EffectiveWeight(&n.Policy); w != before {
			wop := op(s, SlotWeight)
			wop.Weight = w
			ops = append(ops, wop)
		}
	}
	var drains []SlotOp
	var free []int
	for i := range servers {
		s := &servers[i]
		t := target{s.Addr, s.Port}
		ns, wanted := want[t]
		switch {
		case (s.Enabled || s.Draining) && wanted:
			delete(want, t) // stays in its slot
			reweigh(s, ns)
			if s.Draining {
				s.Enabled, s.Draining = true, false
				ops = append(ops, op(s, SlotReady))
			}
		case s.Enabled:
			// A draining slot takes no request for its group.
			s.Enabled, s.Draining, s.Group = false, true, ""
			drains = append(drains, op(s, SlotDrain))
		case !s.Draining:
			free = append(free, i)
		}
	}
	if len(want) > len(free) {
		return nil, nil, false
	}
	// New endpoints in the order of n, which is sorted by address.
	for _, ns := range n.Servers {
		t := target{ns.Addr, ns.Port}
		if _, wanted := want[t]; !ns.Enabled || !wanted {
			continue
		}
		s := &servers[free[0]]
		free = free[1:]
		s.Addr, s.Port, s.Enabled = ns.Addr, ns.Port, true
		addr := op(s, SlotAddr)
		addr.Addr, addr.Port = s.Addr, s.Port
		ops = append(ops, addr)
		reweigh(s, ns)
		ops = append(ops, op(s, SlotReady))
	}
	return servers, append(ops, drains...), true
}

// KeepsServerState says which servers of the running worker may hand their
// state (health, weight, admin state) over a reload to m, with
// load-server-state: those m keeps enabled at the same address and port.
// haproxy would apply a state's port even to a slot the reload points at
// another endpoint.
func (m *Model) KeepsServerState() func(backend, server, addr string, port int) bool {
	type slot struct{ backend, server string }
	at := map[slot]Server{}
	for _, b := range m.Backends {
		for _, s := range b.Servers {
			if s.Enabled {
				at[slot{b.Name, s.Name}] = s
			}
		}
	}
	return func(backend, server, addr string, port int) bool {
		s, ok := at[slot{backend, server}]
		return ok && s.Addr == addr && s.Port == port
	}
}
