// Package status writes Ingress status.loadBalancer. Only the elected leader
// (client-go leaderelection on a Lease) writes, and only for Ingresses whose
// configuration is already live in haproxy.
package status

import (
	"cmp"
	"context"
	"slices"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/klog/v2"
)

// Config says where the Lease lives and which addresses to publish.
type Config struct {
	Client         kubernetes.Interface
	LeaseNamespace string
	ElectionID     string
	Identity       string // pod name
	// Publish returns the addresses to publish: --publish-service's, or the
	// pod's (with hostNetwork, the node's).
	Publish func() []networkingv1.IngressLoadBalancerIngress
}

// Writer updates Ingress status while it leads.
type Writer struct {
	cfg    Config
	leader atomic.Bool
}

// New returns a Writer that is not leading yet.
func New(cfg Config) *Writer { return &Writer{cfg: cfg} }

// IsLeader says whether this replica writes status now.
func (w *Writer) IsLeader() bool { return w.leader.Load() }

// Elect takes part in leader election until ctx ends; onLead runs each time
// this replica starts leading, so that status catches up at once.
func (w *Writer) Elect(ctx context.Context, onLead func()) {
	lock := &resourcelock.LeaseLock{
		LeaseMeta:  metav1.ObjectMeta{Namespace: w.cfg.LeaseNamespace, Name: w.cfg.ElectionID},
		Client:     w.cfg.Client.CoordinationV1(),
		LockConfig: resourcelock.ResourceLockConfig{Identity: w.cfg.Identity},
	}
	for ctx.Err() == nil {
		leaderelection.RunOrDie(ctx, leaderelection.LeaderElectionConfig{
			Lock:            lock,
			ReleaseOnCancel: true,
			LeaseDuration:   15 * time.Second,
			RenewDeadline:   10 * time.Second,
			RetryPeriod:     2 * time.Second,
			Callbacks: leaderelection.LeaderCallbacks{
				OnStartedLeading: func(context.Context) { w.leader.Store(true); onLead() },
				OnStoppedLeading: func() { w.leader.Store(false) },
			},
		})
	}
}

// Publish sets status.loadBalancer of the given Ingresses — those served by
// the configuration that just went live — when this replica leads.
func (w *Writer) Publish(ctx context.Context, ings []*networkingv1.Ingress) {
	if !w.IsLeader() {
		return
	}
	w.set(ctx, ings, w.cfg.Publish())
}

// Release clears the status of Ingresses that left our class, but only where
// it still shows our addresses: another controller may own it by now.
func (w *Writer) Release(ctx context.Context, ings []*networkingv1.Ingress) {
	if !w.IsLeader() {
		return
	}
	ours := w.cfg.Publish()
	var mine []*networkingv1.Ingress
	for _, ing := range ings {
		if len(ours) > 0 && slices.EqualFunc(ing.Status.LoadBalancer.Ingress, ours, sameAddress) {
			mine = append(mine, ing)
		}
	}
	w.set(ctx, mine, nil)
}

// Clear empties the status of the given Ingresses (--update-status-on-shutdown).
func (w *Writer) Clear(ctx context.Context, ings []*networkingv1.Ingress) {
	if !w.IsLeader() {
		return
	}
	w.set(ctx, ings, nil)
}

func (w *Writer) set(ctx context.Context, ings []*networkingv1.Ingress, addrs []networkingv1.IngressLoadBalancerIngress) {
	for _, ing := range ings {
		if slices.EqualFunc(ing.Status.LoadBalancer.Ingress, addrs, sameAddress) {
			continue
		}
		upd := ing.DeepCopy()
		upd.Status.LoadBalancer.Ingress = addrs
		if _, err := w.cfg.Client.NetworkingV1().Ingresses(ing.Namespace).UpdateStatus(ctx, upd, metav1.UpdateOptions{}); err != nil {
			klog.Warningf("updating status of ingress %s/%s: %v", ing.Namespace, ing.Name, err)
		}
	}
}

func sameAddress(a, b networkingv1.IngressLoadBalancerIngress) bool {
	return a.IP == b.IP && a.Hostname == b.Hostname
}

// ServiceAddresses are the addresses a Service is reachable on: its load
// balancer's, else its external IPs.
func ServiceAddresses(svc *corev1.Service) []networkingv1.IngressLoadBalancerIngress {
	var out []networkingv1.IngressLoadBalancerIngress
	for _, lb := range svc.Status.LoadBalancer.Ingress {
		out = append(out, networkingv1.IngressLoadBalancerIngress{IP: lb.IP, Hostname: lb.Hostname})
	}
	if len(out) == 0 {
		for _, ip := range svc.Spec.ExternalIPs {
			out = append(out, networkingv1.IngressLoadBalancerIngress{IP: ip})
		}
	}
	slices.SortFunc(out, func(a, b networkingv1.IngressLoadBalancerIngress) int {
		return cmp.Or(cmp.Compare(a.IP, b.IP), cmp.Compare(a.Hostname, b.Hostname))
	})
	return out
}
