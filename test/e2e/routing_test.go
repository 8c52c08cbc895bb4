package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"

	"github.com/external-haproxy/kit/test/e2eenv"
)

// routeWait is how long a change may take to be served: generous, the machine
// is shared.
const routeWait = 30 * time.Second

// appNS is the namespace the routing tests put their objects in.
const appNS = "app"

// rt is one test's pod with helpers that fail the test on errors.
type rt struct {
	t   *testing.T
	env *e2eenv.Env
	ctx context.Context
}

// in returns r reporting to t (a subtest).
func (r *rt) in(t *testing.T) *rt { return &rt{t: t, env: r.env, ctx: r.ctx} }

func newRT(t *testing.T, configMap map[string]string) *rt {
	t.Helper()
	r := &rt{t: t, env: start(t, configMap), ctx: context.Background()}
	if err := r.env.Namespace(r.ctx, appNS); err != nil {
		t.Fatal(err)
	}
	return r
}

// backend starts an echo server answering "server=<name> ..." on port 8080
// of a new address and returns the address.
func (r *rt) backend(name string) string {
	r.t.Helper()
	ip, err := r.env.AddBackend(r.ctx, name, 8080)
	if err != nil {
		r.t.Fatal(err)
	}
	return ip
}

// service creates a Service; with addresses, also its EndpointSlice.
func (r *rt) service(name string, ips ...string) {
	r.t.Helper()
	if err := r.env.Service(r.ctx, appNS, name, 8080); err != nil {
		r.t.Fatal(err)
	}
	if len(ips) > 0 {
		r.endpoints(name, ips...)
	}
}

// endpoints replaces the ready addresses of a Service.
func (r *rt) endpoints(svc string, ips ...string) {
	r.t.Helper()
	if err := r.env.SetEndpoints(r.ctx, appNS, svc, 8080, ips...); err != nil {
		r.t.Fatal(err)
	}
}

type routeSpec struct {
	path string
	pt   networkingv1.PathType
	svc  string
}

func prefixRoute(path, svc string) routeSpec {
	return routeSpec{path, networkingv1.PathTypePrefix, svc}
}
func exactRoute(path, svc string) routeSpec { return routeSpec{path, networkingv1.PathTypeExact, svc} }

func routeRule(host string, paths ...routeSpec) networkingv1.IngressRule {
	r := networkingv1.IngressRule{Host: host, IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{}}}
	for _, p := range paths {
		r.HTTP.Paths = append(r.HTTP.Paths, networkingv1.HTTPIngressPath{Path: p.path, PathType: &p.pt,
			Backend: networkingv1.IngressBackend{Service: routeBackend(p.svc)}})
	}
	return r
}

func routeBackend(name string) *networkingv1.IngressServiceBackend {
	return &networkingv1.IngressServiceBackend{Name: name, Port: networkingv1.ServiceBackendPort{Name: "http"}}
}

// routeIngress builds an Ingress of class (none when empty) in appNS.
func routeIngress(name, class string, rules ...networkingv1.IngressRule) *networkingv1.Ingress {
	ing := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: appNS, Name: name}}
	if class != "" {
		ing.Spec.IngressClassName = &class
	}
	ing.Spec.Rules = rules
	return ing
}

func (r *rt) create(ing *networkingv1.Ingress) {
	r.t.Helper()
	if _, err := r.env.Admin.NetworkingV1().Ingresses(ing.Namespace).Create(r.ctx, ing, metav1.CreateOptions{}); err != nil {
		r.t.Fatal(err)
	}
}

// update changes an Ingress, retrying on conflicts with the controller's
// status writes.
func (r *rt) update(name string, change func(*networkingv1.Ingress)) {
	r.t.Helper()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		ing, err := r.env.Admin.NetworkingV1().Ingresses(appNS).Get(r.ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		change(ing)
		_, err = r.env.Admin.NetworkingV1().Ingresses(appNS).Update(r.ctx, ing, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		r.t.Fatal(err)
	}
}

func (r *rt) delete(name string) {
	r.t.Helper()
	if err := r.env.Admin.NetworkingV1().Ingresses(appNS).Delete(r.ctx, name, metav1.DeleteOptions{}); err != nil {
		r.t.Fatal(err)
	}
}

// get sends one request now.
func (r *rt) get(host, path string, https bool) e2eenv.Response {
	r.t.Helper()
	resp, err := r.env.Get(host, path, https)
	if err != nil {
		r.t.Fatalf("%s%s: %v", host, path, err)
	}
	return resp
}

// waitFor polls one request until ok accepts the response.
func (r *rt) waitFor(what, host, path string, https bool, ok func(e2eenv.Response) bool) e2eenv.Response {
	r.t.Helper()
	_, resp, err := r.env.Eventually(routeWait, func() (e2eenv.Response, error) { return r.env.Get(host, path, https) }, ok)
	if err != nil {
		r.t.Fatalf("%s (host %q path %q https=%v): %v", what, host, path, https, err)
	}
	return resp
}

// answeredBy tells whether a response came from the named echo backend.
func answeredBy(resp e2eenv.Response, server string) bool {
	return resp.Status == 200 && strings.HasPrefix(resp.Body, "server="+server+" ")
}

// waitServer waits until host+path is answered by the named backend.
func (r *rt) waitServer(host, path, server string) {
	r.t.Helper()
	r.waitFor("want backend "+server, host, path, false, func(resp e2eenv.Response) bool { return answeredBy(resp, server) })
}

// waitStatus waits until host+path answers with code.
func (r *rt) waitStatus(host, path string, code int) {
	r.t.Helper()
	r.waitFor(fmt.Sprintf("want status %d", code), host, path, false, func(resp e2eenv.Response) bool { return resp.Status == code })
}

// expectServer checks at once that host+path is answered by server; use it
// only after a wait has shown that the configuration holding it is live.
func (r *rt) expectServer(host, path, server string) {
	r.t.Helper()
	if resp := r.get(host, path, false); !answeredBy(resp, server) {
		r.t.Errorf("host %q path %q: got %d %q, want backend %s", host, path, resp.Status, resp.Body, server)
	}
}

// expectStatus checks at once the status of host+path (same caveat).
func (r *rt) expectStatus(host, path string, code int) {
	r.t.Helper()
	if resp := r.get(host, path, false); resp.Status != code {
		r.t.Errorf("host %q path %q: got %d %q, want status %d", host, path, resp.Status, resp.Body, code)
	}
}

// TestRoutingFollowsIngressChanges creates, updates and deletes Ingresses
// and checks what clients get: path match types, host matching, 404 and
// 503.
func TestRoutingFollowsIngressChanges(t *testing.T) {
	r := newRT(t, nil)
	r.service("svc-a", r.backend("echo-a"))
	r.service("svc-b", r.backend("echo-b"))
	r.service("svc-empty") // no endpoints at all
	r.create(routeIngress("web", e2eenv.ClassName,
		routeRule("app.example.com", prefixRoute("/foo", "svc-a"), exactRoute("/exact", "svc-b"), prefixRoute("/empty", "svc-empty")),
		routeRule("*.wild.example.com", prefixRoute("/", "svc-b"))))

	// Positive checks wait: the Ingress, Services and EndpointSlices reach
	// the controller through different watches.
	r.waitServer("app.example.com", "/foo", "echo-a")
	r.waitServer("x.wild.example.com", "/", "echo-b")
	r.waitServer("app.example.com", "/exact", "echo-b")

	t.Run("prefix matches whole path elements", func(t *testing.T) {
		r := r.in(t)
		r.expectServer("app.example.com", "/foo/", "echo-a")
		r.expectServer("app.example.com", "/foo/bar/baz", "echo-a")
		r.expectStatus("app.example.com", "/foobar", 404)
		r.expectStatus("app.example.com", "/fo", 404)
		r.expectStatus("app.example.com", "/", 404)
	})
	t.Run("exact matches only the path itself", func(t *testing.T) {
		r := r.in(t)
		r.expectStatus("app.example.com", "/exact/", 404)
		r.expectStatus("app.example.com", "/exactly", 404)
		r.expectStatus("app.example.com", "/exact/x", 404)
	})
	t.Run("host is case-insensitive and its port ignored", func(t *testing.T) {
		r := r.in(t)
		r.expectServer("APP.Example.COM", "/foo", "echo-a")
		r.expectServer("app.example.com:8080", "/foo", "echo-a")
		r.expectServer("App.Example.Com:443", "/exact", "echo-b")
	})
	t.Run("wildcard host covers exactly one label", func(t *testing.T) {
		r := r.in(t)
		r.expectServer("other.wild.example.com", "/any/path", "echo-b")
		r.expectServer("UPPER.Wild.Example.Com", "/", "echo-b")
		r.expectStatus("a.b.wild.example.com", "/", 404)
		r.expectStatus("wild.example.com", "/", 404)
	})
	t.Run("no match is 404", func(t *testing.T) {
		r := r.in(t)
		r.expectStatus("unknown.example.com", "/foo", 404)
		r.expectStatus("example.com", "/foo", 404)
	})
	t.Run("service without endpoints is 503, the rest keeps serving", func(t *testing.T) {
		r := r.in(t)
		r.waitStatus("app.example.com", "/empty", 503)
		r.expectServer("app.example.com", "/foo", "echo-a")
		r.expectServer("x.wild.example.com", "/", "echo-b")
	})

	// Endpoints appear for the empty Service: its path serves.
	r.endpoints("svc-empty", r.backend("echo-c"))
	r.waitServer("app.example.com", "/empty/x", "echo-c")

	// Update: /foo moves to another Service.
	r.update("web", func(ing *networkingv1.Ingress) {
		ing.Spec.Rules[0].HTTP.Paths[0].Backend.Service = routeBackend("svc-b")
	})
	r.waitServer("app.example.com", "/foo", "echo-b")
	r.expectServer("app.example.com", "/foo/x", "echo-b")
	r.expectServer("app.example.com", "/exact", "echo-b")

	// Update: /foo becomes /bar (and Exact /exact becomes Prefix).
	r.update("web", func(ing *networkingv1.Ingress) {
		ing.Spec.Rules[0].HTTP.Paths[0].Path = "/bar"
		pt := networkingv1.PathTypePrefix
		ing.Spec.Rules[0].HTTP.Paths[1].PathType = &pt
	})
	r.waitServer("app.example.com", "/bar", "echo-b")
	r.expectStatus("app.example.com", "/foo", 404)
	r.expectStatus("app.example.com", "/foo/x", 404)
	r.expectServer("app.example.com", "/exact/x", "echo-b")
	r.expectServer("app.example.com", "/bar/x", "echo-b")

	// A second Ingress for another host, then the first is deleted: only
	// its routes go.
	r.create(routeIngress("other", e2eenv.ClassName, routeRule("other.example.com", prefixRoute("/", "svc-a"))))
	r.waitServer("other.example.com", "/", "echo-a")
	r.delete("web")
	r.waitStatus("app.example.com", "/bar", 404)
	r.expectStatus("app.example.com", "/exact", 404)
	r.expectStatus("app.example.com", "/empty", 404)
	r.expectStatus("x.wild.example.com", "/", 404)
	r.expectServer("other.example.com", "/x", "echo-a")
}

// TestDefaultBackendOfIngress: spec.defaultBackend of an Ingress answers
// what no rule matches, and 404 comes back when that Ingress goes.
func TestDefaultBackendOfIngress(t *testing.T) {
	r := newRT(t, nil)
	r.service("svc-a", r.backend("echo-a"))
	r.service("svc-def", r.backend("echo-default"))
	r.create(routeIngress("web", e2eenv.ClassName, routeRule("app.example.com", prefixRoute("/app", "svc-a"))))
	r.waitServer("app.example.com", "/app", "echo-a")
	r.expectStatus("unknown.example.com", "/", 404)

	def := routeIngress("fallback", e2eenv.ClassName)
	def.Spec.DefaultBackend = &networkingv1.IngressBackend{Service: routeBackend("svc-def")}
	r.create(def)
	r.waitServer("unknown.example.com", "/", "echo-default")
	r.expectServer("app.example.com", "/other", "echo-default") // known host, unmatched path
	r.expectServer("app.example.com", "/appx", "echo-default")
	r.expectServer("app.example.com", "/app/x", "echo-a") // rules still win

	r.delete("fallback")
	r.waitStatus("unknown.example.com", "/", 404)
	r.expectStatus("app.example.com", "/other", 404)
	r.expectServer("app.example.com", "/app", "echo-a")
}

// TestDefaultBackendServiceFlag: --default-backend-service answers what no
// rule matches; an Ingress spec.defaultBackend takes precedence over it.
func TestDefaultBackendServiceFlag(t *testing.T) {
	r := newRT(t, nil)
	r.service("svc-a", r.backend("echo-a"))
	r.service("svc-flag", r.backend("echo-flag"))
	r.service("svc-def", r.backend("echo-default"))
	r.create(routeIngress("web", e2eenv.ClassName, routeRule("app.example.com", prefixRoute("/app", "svc-a"))))
	r.waitServer("app.example.com", "/app", "echo-a")

	// The flag added to the DaemonSet: its new pod starts with it.
	if err := r.env.Roll(context.Background(), func(spec *corev1.PodSpec) {
		for i := range spec.Containers {
			if c := &spec.Containers[i]; c.Name == e2eenv.Controller {
				c.Args = append(c.Args, "--default-backend-service="+appNS+"/svc-flag")
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	r.waitServer("unknown.example.com", "/", "echo-flag")
	r.expectServer("app.example.com", "/other", "echo-flag")
	r.expectServer("app.example.com", "/app", "echo-a")

	def := routeIngress("fallback", e2eenv.ClassName)
	def.Spec.DefaultBackend = &networkingv1.IngressBackend{Service: routeBackend("svc-def")}
	r.create(def)
	r.waitServer("unknown.example.com", "/", "echo-default")
	r.delete("fallback")
	r.waitServer("unknown.example.com", "/", "echo-flag")
}
