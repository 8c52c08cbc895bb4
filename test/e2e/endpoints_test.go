package e2e

import (
	"slices"
	"strings"
	"testing"

	"github.com/external-haproxy/kit/test/e2eenv"
)

// reloads is the master's reload counter (retrying while a reload has the
// master re-executing itself).
func (r *rt) reloads() int {
	r.t.Helper()
	n, err := r.env.Reloads(r.ctx)
	if err != nil {
		r.t.Fatal(err)
	}
	return n
}

// waitSpread waits until a batch of requests is answered by exactly the
// named backends, every one of them at least once, and nothing else.
func (r *rt) waitSpread(host string, want ...string) {
	r.t.Helper()
	slices.Sort(want)
	var got []string
	var last string
	spread := func() bool {
		seen := map[string]bool{}
		ok := true
		for range 4 * len(want) {
			resp, err := r.env.Get(host, "/", false)
			if err != nil || resp.Status != 200 {
				last = resp.Body
				if err != nil {
					last = err.Error()
				}
				ok = false
				break
			}
			name, _, _ := strings.Cut(strings.TrimPrefix(resp.Body, "server="), " ")
			seen[name] = true
		}
		got = got[:0]
		for n := range seen {
			got = append(got, n)
		}
		slices.Sort(got)
		return ok && slices.Equal(got, want)
	}
	if eventually(routeWait, spread) {
		return
	}
	r.t.Fatalf("requests to %s: served by %v (last failure %q), want exactly %v\ncontroller log:\n%s",
		host, got, last, want, r.env.Tail(e2eenv.Controller, 20))
}

// TestEndpointScalingWithinSlotsNeedsNoReload scales a Service up and down
// through its EndpointSlice: requests spread over the new endpoints, removed
// ones stop receiving requests (their servers keep running), and while the
// endpoints fit in the backend's slots haproxy is not reloaded. Scaling past
// the slots reloads and still serves every endpoint.
func TestEndpointScalingWithinSlotsNeedsNoReload(t *testing.T) {
	r := newRT(t, nil) // defaults: slots = endpoints + 2 free
	const host = "scale.example.com"
	ip := map[string]string{}
	all := []string{"e1", "e2", "e3", "e4", "e5", "e6", "e7"}
	for _, n := range all {
		ip[n] = r.backend(n)
	}
	r.service("svc", ip["e1"])
	r.create(routeIngress("web", e2eenv.ClassName, routeRule(host, prefixRoute("/", "svc"))))
	// One endpoint: 3 slots, or the 6 of the spare backend a Service
	// created after the first configuration takes.
	r.waitServer(host, "/", "e1")
	before := r.reloads()
	noReload := func(step string) {
		t.Helper()
		if n := r.reloads(); n != before {
			t.Errorf("%s: haproxy reloaded (%d -> %d reloads), want a runtime update", step, before, n)
		}
	}

	r.endpoints("svc", ip["e1"], ip["e2"], ip["e3"])
	r.waitSpread(host, "e1", "e2", "e3")
	noReload("scale 1 -> 3")

	r.endpoints("svc", ip["e2"])
	r.waitSpread(host, "e2")
	noReload("scale 3 -> 1")

	r.endpoints("svc") // no ready endpoint: 503, still no reload
	r.waitStatus(host, "/", 503)
	noReload("scale 1 -> 0")

	r.endpoints("svc", ip["e4"], ip["e5"])
	r.waitSpread(host, "e4", "e5")
	noReload("scale 0 -> 2 new endpoints")

	// Seven endpoints fit in neither: a reload, and all serve.
	var addrs []string
	for _, n := range all {
		addrs = append(addrs, ip[n])
	}
	r.endpoints("svc", addrs...)
	r.waitSpread(host, all...)
	if n := r.reloads(); n <= before {
		t.Errorf("scale 2 -> 7 beyond the slots: %d reloads before and after, want a reload", n)
	}

	// The new layout has free slots again: scaling down is dynamic.
	before = r.reloads()
	r.endpoints("svc", ip["e3"], ip["e5"])
	r.waitSpread(host, "e3", "e5")
	noReload("scale 7 -> 2")
}
