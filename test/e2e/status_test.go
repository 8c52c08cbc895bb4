package e2e

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/external-haproxy/kit/test/e2eenv"
)

// statusIPs reads status.loadBalancer.ingress of an Ingress in appNS.
func (r *rt) statusIPs(name string) []string {
	r.t.Helper()
	ing, err := r.env.Admin.NetworkingV1().Ingresses(appNS).Get(r.ctx, name, metav1.GetOptions{})
	if err != nil {
		r.t.Fatal(err)
	}
	var out []string
	for _, lb := range ing.Status.LoadBalancer.Ingress {
		out = append(out, lb.IP+lb.Hostname)
	}
	return out
}

// waitStatusIPs waits until an Ingress has a status and returns it.
func (r *rt) waitStatusIPs(name string) []string {
	r.t.Helper()
	var ips []string
	if eventually(routeWait, func() bool { ips = r.statusIPs(name); return len(ips) > 0 }) {
		return ips
	}
	r.t.Fatalf("Ingress %s/%s: no status.loadBalancer after %v\ncontroller log:\n%s", appNS, name, routeWait, r.env.Tail(e2eenv.Controller, 20))
	return nil
}

// TestIngressStatusPublishedOnceServed: the elected controller (Lease in its
// namespace, base RBAC only) publishes the pod address in the status of
// Ingresses of our class once haproxy serves them; an Ingress of another
// class keeps an empty status until it moves to ours.
func TestIngressStatusPublishedOnceServed(t *testing.T) {
	r := newRT(t, nil)
	r.otherClass()
	r.service("svc", r.backend("echo"))
	r.create(routeIngress("theirs", "other", routeRule("theirs.example.com", prefixRoute("/", "svc"))))
	r.create(routeIngress("ours", e2eenv.ClassName, routeRule("ours.example.com", prefixRoute("/", "svc"))))

	ips := r.waitStatusIPs("ours")
	// Published after the configuration went live: the route answers at
	// once (503 if the EndpointSlice reached the controller later).
	if resp := r.get("ours.example.com", "/", false); resp.Status == 404 {
		t.Errorf("status published before the Ingress was served: %d %q", resp.Status, resp.Body)
	}
	if len(ips) != 1 || ips[0] != r.env.NodeIP {
		t.Errorf("status.loadBalancer.ingress = %v, want the pod IP [%s] (the node's: hostNetwork)", ips, r.env.NodeIP)
	}
	r.waitServer("ours.example.com", "/", "echo")
	if ips := r.statusIPs("theirs"); len(ips) != 0 {
		t.Errorf("Ingress of another class got status %v", ips)
	}

	lease, err := r.env.Admin.CoordinationV1().Leases(e2eenv.Namespace).Get(r.ctx, "haproxy-ingress-leader", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if h := lease.Spec.HolderIdentity; h == nil || *h != r.env.PodName {
		t.Errorf("Lease holder %v, want the pod %s", h, r.env.PodName)
	}

	// Moved to our class: served, then published.
	r.update("theirs", setClass(e2eenv.ClassName))
	if ips := r.waitStatusIPs("theirs"); len(ips) != 1 || ips[0] != r.env.NodeIP {
		t.Errorf("moved Ingress: status %v, want [%s]", ips, r.env.NodeIP)
	}
	r.expectServer("theirs.example.com", "/", "echo")

	// Moved out of our class: its status no longer claims our address.
	r.update("ours", setClass("other"))
	if !eventually(30*time.Second, func() bool { return len(r.statusIPs("ours")) == 0 }) {
		t.Fatalf("Ingress moved to another class still shows status %v", r.statusIPs("ours"))
	}
}
