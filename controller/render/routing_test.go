package render_test

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/external-haproxy/kit/controller/model"
	"github.com/external-haproxy/kit/test/haproxybin"
	"github.com/external-haproxy/kit/test/liveproxy"
)

// liveRule is one Ingress path whose Service answers with its own name.
type liveRule struct {
	host, path string
	pathType   networkingv1.PathType
	service    string
}

// TestRoutingLive runs haproxy on the rendered configuration and checks the
// Ingress matching rules with real requests: host precedence (exact, then
// wildcard of one label, then rules without host), longest path, Exact
// before Prefix on a tie, Prefix on whole path elements, case and port of
// the Host header ignored, 404 without match, 503 without endpoints, https
// redirect for TLS hosts.
func TestRoutingLive(t *testing.T) { haproxybin.Run(t, testRoutingLive) }

func testRoutingLive(t *testing.T, hb haproxybin.Build) {
	exact, prefix, impl := networkingv1.PathTypeExact, networkingv1.PathTypePrefix, networkingv1.PathTypeImplementationSpecific
	lv := startLive(t, hb.Path, haproxybin.TempDir(t), []liveRule{
		{"foo.com", "/", prefix, "foo-root"},
		{"foo.com", "/foo", prefix, "foo-prefix"},
		{"foo.com", "/foo", exact, "foo-exact"},
		{"foo.com", "/foo/bar/", prefix, "foo-bar"},
		{"foo.com", "/begin", impl, "foo-begin"},
		{"*.foo.com", "/", prefix, "wild"},
		{"tls.com", "/", prefix, "tls"},
		{"", "/any", prefix, "any"},
		{"", "/down", prefix, "down"},
	}, "tls.com")
	httpPort, httpsPort := lv.httpPort, lv.httpsPort

	client := &http.Client{
		Timeout:       2 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}},
	}
	get := func(scheme string, port int, host, path string) string {
		req, _ := http.NewRequest("GET", fmt.Sprintf("%s://127.0.0.1:%d%s", scheme, port, path), nil)
		req.Host = host
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			return strconv.Itoa(resp.StatusCode) + " " + resp.Header.Get("Location")
		}
		return string(body)
	}
	for _, c := range []struct{ host, path, want string }{
		{"foo.com", "/", "foo-root"},
		{"foo.com", "/x", "foo-root"},
		{"foo.com", "/foo", "foo-exact"},
		{"foo.com", "/foo/", "foo-prefix"},
		{"foo.com", "/foo/x", "foo-prefix"},
		{"foo.com", "/foobar", "foo-root"},
		{"foo.com", "/foo/bar", "foo-bar"},
		{"foo.com", "/foo/bar/baz", "foo-bar"},
		{"foo.com", "/foo/barbaz", "foo-prefix"},
		{"foo.com", "/beginning", "foo-begin"},
		{"FOO.com:8080", "/foo?q=1", "foo-exact"},
		{"bar.foo.com", "/x", "wild"},
		{"baz.bar.foo.com", "/x", "404 "},
		{"baz.bar.foo.com", "/any/x", "any"},
		{"bar.foo.com", "/any", "wild"},
		{"other.com", "/any", "any"},
		{"other.com", "/anything", "404 "},
		{"other.com", "/down", "503 "},
		{"tls.com", "/x?y=1", "302 https://tls.com:" + strconv.Itoa(httpsPort) + "/x?y=1"},
	} {
		if got := get("http", httpPort, c.host, c.path); got != c.want {
			t.Errorf("http %s%s: got %q, want %q", c.host, c.path, got, c.want)
		}
	}
	if got := get("https", httpsPort, "tls.com", "/x"); got != "tls" {
		t.Errorf("https tls.com/x: got %q", got)
	}
}

// live is haproxy serving the render of some rules on loopback.
type live struct {
	httpPort, httpsPort int
	reached             *atomic.Int64 // requests any backend read
}

// startLive runs bin on the render of rules, under root, (hosts in tlsHosts get TLS with
// the default certificate, so plain http redirects) until the test ends.
// Each Service answers with its name; the Service "down" has no endpoints.
func startLive(t *testing.T, bin, root string, rules []liveRule, tlsHosts ...string) live {
	t.Helper()
	lv := live{reached: new(atomic.Int64)}
	var snap model.Snapshot
	ing := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Name: "live", Namespace: "ns"}}
	if len(tlsHosts) > 0 {
		ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: tlsHosts, SecretName: "none"}}
	}
	for _, r := range rules {
		p := networkingv1.HTTPIngressPath{Path: r.path, PathType: &r.pathType, Backend: networkingv1.IngressBackend{
			Service: &networkingv1.IngressServiceBackend{Name: r.service, Port: networkingv1.ServiceBackendPort{Number: 80}}}}
		ing.Spec.Rules = append(ing.Spec.Rules, networkingv1.IngressRule{Host: r.host,
			IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{p}}}})
		if r.service == "down" {
			snap.Services = append(snap.Services, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: r.service, Namespace: "ns"},
				Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}}})
			continue
		}
		name := r.service
		liveproxy.Backend(t, &snap, "ns", name, &http.Server{
			Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, name) }),
			// Any request read, not only handled: Go's server answers some
			// bad requests itself, and those reached the backend too.
			ConnState: func(_ net.Conn, s http.ConnState) {
				if s == http.StateActive {
					lv.reached.Add(1)
				}
			},
		})
	}
	snap.Ingresses = []*networkingv1.Ingress{ing}
	cert, err := os.ReadFile("testdata/default-cert.pem")
	if err != nil {
		t.Fatal(err)
	}
	p := liveproxy.StartIn(t, bin, root, &snap, model.Options{DefaultCertificate: cert})
	lv.httpPort, lv.httpsPort = p.HTTPPort, p.HTTPSPort
	return lv
}
