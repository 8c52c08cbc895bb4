package render_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/external-haproxy/kit/controller/files"
	"github.com/external-haproxy/kit/controller/model"
	"github.com/external-haproxy/kit/controller/render"
	"github.com/external-haproxy/kit/internal/loopback"
	"github.com/external-haproxy/kit/test/haproxybin"
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

// startLive renders rules (hosts in tlsHosts get TLS with the default
// certificate, so plain http redirects) into a layout under root and runs
// bin on it until the test ends. Each Service answers with its name; the
// Service "down" has no endpoints.
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
		snap.Services = append(snap.Services, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: r.service, Namespace: "ns"},
			Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}}})
		if r.service == "down" {
			continue
		}
		name := r.service
		srv := &http.Server{
			Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, name) }),
			// Any request read, not only handled: Go's server answers some
			// bad requests itself, and those reached the backend too.
			ConnState: func(_ net.Conn, s http.ConnState) {
				if s == http.StateActive {
					lv.reached.Add(1)
				}
			},
		}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go srv.Serve(l)
		t.Cleanup(func() { srv.Close() })
		port := int32(l.Addr().(*net.TCPAddr).Port)
		snap.EndpointSlices = append(snap.EndpointSlices, &discoveryv1.EndpointSlice{
			ObjectMeta:  metav1.ObjectMeta{Name: name, Namespace: "ns", Labels: map[string]string{discoveryv1.LabelServiceName: name}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Ports:       []discoveryv1.EndpointPort{{Port: &port}},
			Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"127.0.0.1"}}},
		})
	}
	snap.Ingresses = []*networkingv1.Ingress{ing}
	ports := loopback.Ports(t, 4)
	lv.httpPort, lv.httpsPort = ports[0], ports[1]
	snap.ConfigMap = map[string]string{
		"http-port": strconv.Itoa(lv.httpPort), "https-port": strconv.Itoa(lv.httpsPort),
		"healthz-port": strconv.Itoa(ports[2]), "stats-port": strconv.Itoa(ports[3]),
		"bind-ip-addr-http": "127.0.0.1", "bind-ip-addr-healthz": "127.0.0.1", "bind-ip-addr-stats": "127.0.0.1",
	}
	cert, err := os.ReadFile("testdata/default-cert.pem")
	if err != nil {
		t.Fatal(err)
	}
	m, _ := model.Build(&snap, model.Options{DefaultCertificate: cert})

	l := files.Layout{Etc: filepath.Join(root, "etc"), Lib: filepath.Join(root, "lib"), Run: filepath.Join(root, "run")}
	os.MkdirAll(l.Run, 0o755)
	for _, f := range render.Render(m, l) {
		os.MkdirAll(filepath.Dir(f.Path), 0o755)
		if err := os.WriteFile(f.Path, f.Data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "-db", "-f", l.Etc)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); cmd.Wait() })
	// haproxy accepts connections once every listener is bound.
	err = wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(lv.httpPort))
		if err == nil {
			c.Close()
		}
		return err == nil, nil
	})
	if err != nil {
		t.Fatalf("haproxy %s did not start listening: %v", bin, err)
	}
	return lv
}
