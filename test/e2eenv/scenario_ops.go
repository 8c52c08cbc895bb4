package e2eenv

import (
	"bufio"
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/external-haproxy/kit/controller/haproxy/mastercli"
	"github.com/external-haproxy/kit/test/poll"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Helpers for the disruption, RBAC and latency scenarios: master reload
// counter, controller metrics, a one-call routed app and a background poller
// that counts failed requests.

// Reloads is the master's reload counter ("show proc"): it rises by one per
// reload of haproxy and restarts from 0 with a new master.
func (e *Env) Reloads(ctx context.Context) (int, error) {
	p, err := e.StableMasterProc(ctx, 10*time.Second)
	if err != nil {
		return 0, err
	}
	return p.Master.Reloads, nil
}

// UpdatesTotal is the controller's haproxyingress_updates_total for one kind
// (noop, dynamic, reload), summed over results, read from /metrics on the
// controller port. A kind never counted reads 0.
func (e *Env) UpdatesTotal(kind string) (float64, error) {
	resp, err := quick.Get(e.URL(ControllerPort, "/metrics"))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return 0, fmt.Errorf("/metrics: %s", resp.Status)
	}
	var total float64
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "haproxyingress_updates_total{") || !strings.Contains(line, `kind="`+kind+`"`) {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err != nil {
			return 0, fmt.Errorf("metrics line %q: %v", line, err)
		}
		total += v
	}
	return total, sc.Err()
}

// Ready says whether the controller's /readyz answers 200 now.
func (e *Env) Ready() bool {
	resp, err := quick.Get(e.URL(ControllerPort, "/readyz"))
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == 200
}

// EnsureNamespace creates a namespace unless it exists.
func (e *Env) EnsureNamespace(ctx context.Context, name string) error {
	if err := e.Namespace(ctx, name); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	return nil
}

// IngressFor builds an Ingress of our class routing host/ (Prefix) to port
// "http" of svc.
func IngressFor(ns, name, host, svc string) *networkingv1.Ingress {
	class := ClassName
	pt := networkingv1.PathTypePrefix
	return &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: networkingv1.IngressSpec{IngressClassName: &class, Rules: []networkingv1.IngressRule{{Host: host,
			IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{{
				Path: "/", PathType: &pt, Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
					Name: svc, Port: networkingv1.ServiceBackendPort{Name: "http"}}}}}}}}}},
	}
}

// CreateIngress creates IngressFor(ns, name, host, svc).
func (e *Env) CreateIngress(ctx context.Context, ns, name, host, svc string) error {
	_, err := e.Admin.NetworkingV1().Ingresses(ns).Create(ctx, IngressFor(ns, name, host, svc), metav1.CreateOptions{})
	return err
}

// App starts one echo pod per name on port 8080,
// and creates (namespace ns if needed) Service svc with those backends as
// ready endpoints and an Ingress svc routing host to it. It returns the
// backends' addresses by name.
func (e *Env) App(ctx context.Context, ns, svc, host string, backends ...string) (map[string]string, error) {
	if err := e.EnsureNamespace(ctx, ns); err != nil {
		return nil, err
	}
	addrs, err := e.AddBackends(ctx, 8080, backends...)
	if err != nil {
		return nil, err
	}
	var ips []string
	for _, b := range backends {
		ips = append(ips, addrs[b])
	}
	if err := e.Service(ctx, ns, svc, 8080); err != nil {
		return nil, err
	}
	if err := e.SetEndpoints(ctx, ns, svc, 8080, ips...); err != nil {
		return nil, err
	}
	return addrs, e.CreateIngress(ctx, ns, svc, host, svc)
}

// Served waits until host is served by backend alone: several answers in a
// row, since a backend still in the round robin beside it would answer
// now and then, and a test going on after the first answer would race the
// update that removes the other one.
func (e *Env) Served(host string, timeout time.Duration, backend string) error {
	only := ServedBy(backend)
	_, _, err := e.Eventually(timeout, func() (Response, error) {
		var r Response
		var err error
		for range 4 {
			if r, err = e.Get(host, "/", false); err != nil || !only(r) {
				break
			}
		}
		return r, err
	}, only)
	return err
}

// IngressStatusIPs returns the addresses in an Ingress's status.
func (e *Env) IngressStatusIPs(ctx context.Context, ns, name string) ([]string, error) {
	ing, err := e.Admin.NetworkingV1().Ingresses(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, lb := range ing.Status.LoadBalancer.Ingress {
		out = append(out, lb.IP+lb.Hostname)
	}
	return out, nil
}

// WarningEvents lists the Warning Events about an object.
func (e *Env) WarningEvents(ctx context.Context, ns, kind, name string) ([]corev1.Event, error) {
	l, err := e.Admin.CoreV1().Events(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	var out []corev1.Event
	for _, ev := range l.Items {
		if ev.Type == corev1.EventTypeWarning && ev.InvolvedObject.Kind == kind && ev.InvolvedObject.Name == name {
			out = append(out, ev)
		}
	}
	return out, nil
}

// Poller sends requests through haproxy back to back (one at a time, a new
// connection each) until Stop, and counts the answers ok rejects.
type Poller struct {
	stop     chan struct{}
	done     chan struct{}
	mu       sync.Mutex
	total    int
	failures []string
}

// Poll starts a Poller for host/path on the http frontend.
func (e *Env) Poll(host, path string, ok func(Response) bool) *Poller {
	p := &Poller{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		for {
			select {
			case <-p.stop:
				return
			default:
			}
			r, err := e.Get(host, path, false)
			p.mu.Lock()
			p.total++
			if err != nil || !ok(r) {
				p.failures = append(p.failures, fmt.Sprintf("%s: %d %q %v", time.Now().Format("15:04:05.000"), r.Status, strings.TrimSpace(r.Body), err))
			}
			p.mu.Unlock()
			time.Sleep(10 * time.Millisecond)
		}
	}()
	return p
}

// Total is the number of requests sent so far.
func (p *Poller) Total() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.total
}

// Stop ends the poller and returns how many requests it sent and the failed ones.
func (p *Poller) Stop() (total int, failures []string) {
	select {
	case <-p.stop:
	default:
		close(p.stop)
	}
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.total, p.failures
}

// ServedBy accepts a 200 answer from the named echo backend.
func ServedBy(name string) func(Response) bool {
	return func(r Response) bool { return r.Status == 200 && strings.Contains(r.Body, "server="+name+" ") }
}

// ServedByAny accepts a 200 answer from any of the named echo backends.
func ServedByAny(names ...string) func(Response) bool {
	return func(r Response) bool {
		for _, n := range names {
			if ServedBy(n)(r) {
				return true
			}
		}
		return false
	}
}

// StableMasterProc is MasterProc retried for up to timeout: while haproxy
// reloads, its master re-executes itself and refuses connections for a
// moment.
func (e *Env) StableMasterProc(ctx context.Context, timeout time.Duration) (mastercli.Proc, error) {
	var p mastercli.Proc
	var last error
	err := poll.Until(ctx, timeout, func() (bool, error) {
		p, last = e.MasterProc(ctx)
		return last == nil, nil
	}, func() string { return fmt.Sprint(last) })
	if err != nil {
		return p, last
	}
	return p, nil
}
