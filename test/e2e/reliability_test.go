package e2e

import (
	"fmt"
	"testing"

	"github.com/external-haproxy/kit/test/e2eenv"
)

// TestReliabilityEndpointSwapsE2E replaces a Service's only endpoint 10
// times through its EndpointSlice on the real apiserver, each new one on
// another address of the network namespace, while a client sends requests
// through haproxy back to back: every request is answered, by one of the
// endpoints, and each new endpoint takes over.
func TestReliabilityEndpointSwapsE2E(t *testing.T) {
	r := newRT(t, nil)
	const host = "swap.example.com"
	var names []string
	ip := map[string]string{}
	for i := range 11 {
		n := fmt.Sprintf("s%d", i)
		names = append(names, n)
		ip[n] = r.backend(n)
	}
	r.service("svc", ip[names[0]])
	r.create(routeIngress("web", e2eenv.ClassName, routeRule(host, prefixRoute("/", "svc"))))
	r.waitServer(host, "/", names[0])
	before := r.reloads()

	p := r.env.Poll(host, "/", e2eenv.ServedByAny(names...))
	for _, n := range names[1:] {
		r.endpoints("svc", ip[n])
		r.waitServer(host, "/", n)
	}
	total, failures := p.Stop()
	t.Logf("%d requests through 10 swaps, %d failed, %d reloads", total, len(failures), r.reloads()-before)
	if len(failures) > 0 {
		t.Errorf("%d of %d requests failed during the swaps: %q", len(failures), total, failures[:min(5, len(failures))])
	}
	if total < 10 {
		t.Errorf("only %d requests: the client did not run", total)
	}
}
