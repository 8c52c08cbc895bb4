package pipeline

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/external-haproxy/kit/controller/defaultcert"
	"github.com/external-haproxy/kit/controller/files"
	"github.com/external-haproxy/kit/controller/haproxy"
	"github.com/external-haproxy/kit/controller/haproxy/process"
	"github.com/external-haproxy/kit/controller/health"
	"github.com/external-haproxy/kit/controller/model"
	"github.com/external-haproxy/kit/internal/loopback"
	"github.com/external-haproxy/kit/test/haproxybin"
	"github.com/external-haproxy/kit/test/poll"
	"github.com/external-haproxy/kit/test/testcert"
)

// initLayout is a layout in a new temp dir holding the init config.
func initLayout(t testing.TB) files.Layout {
	t.Helper()
	dir, err := os.MkdirTemp("", "pipe")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	// A prefix that config and runtime commands must quote.
	l := files.DefaultLayout(filepath.Join(dir, `a b'"\;`))
	for _, d := range []string{l.Etc, l.Lib, l.Run} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := haproxy.WriteInitConfig(l); err != nil {
		t.Fatal(err)
	}
	return l
}

// startExternal runs haproxy as the sidecar does, until the test ends.
func startExternal(t testing.TB, bin string, l files.Layout) {
	t.Helper()
	haproxybin.StartMaster(t, bin, l.MasterSocket(), l.Etc)
}

// externalSyncer is a Syncer of a haproxy started as the sidecar is, with
// a default certificate; cm binds its frontends to the loopback ports.
func externalSyncer(t *testing.T, hb haproxybin.Build, opts model.Options) (s *Syncer, ports []int, cm map[string]string) {
	t.Helper()
	l := initLayout(t)
	startExternal(t, hb.Path, l)
	cert, err := defaultcert.Generate(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	opts.DefaultCertificate = cert
	driver := haproxy.New(haproxy.Options{Layout: l, Binary: hb.Path, ConnectionTimeout: 10 * time.Second})
	s = &Syncer{Driver: driver, Layout: l, Metrics: health.NewMetrics(), Options: opts}
	ports = loopback.Ports(t, 4)
	cm = map[string]string{"http-port": strconv.Itoa(ports[0]), "https-port": strconv.Itoa(ports[1]),
		"healthz-port": strconv.Itoa(ports[2]), "stats-port": strconv.Itoa(ports[3]), "bind-ip-addr-http": "127.0.0.1"}
	return s, ports, cm
}

// backend answers with its name on a free loopback port.
func backend(t *testing.T, name string) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, name) })}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { srv.Close() })
	return l.Addr().(*net.TCPAddr).Port
}

// tlsSecret holds a certificate for host whose CommonName is cn, so that a
// test can tell a rotated certificate from the old one.
func tlsSecret(t *testing.T, ns, name, host, cn string) *corev1.Secret {
	c, k := testcert.SelfSigned(t, testcert.ECKey(t), cn, host)
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Type: corev1.SecretTypeTLS,
		Data: map[string][]byte{"tls.crt": c, "tls.key": k}}
}

func service(ns, name string) *corev1.Service {
	return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80}}}}
}

// endpointSlices gives each loopback backend its own EndpointSlice: they share the
// address 127.0.0.1 and differ only in port, which one slice cannot express.
func endpointSlices(ns, svc string, ports ...int) []*discoveryv1.EndpointSlice {
	var out []*discoveryv1.EndpointSlice
	name := "http"
	for i, p := range ports {
		port := int32(p)
		out = append(out, &discoveryv1.EndpointSlice{
			ObjectMeta:  metav1.ObjectMeta{Namespace: ns, Name: svc + "-" + strconv.Itoa(i), Labels: map[string]string{discoveryv1.LabelServiceName: svc}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Ports:       []discoveryv1.EndpointPort{{Name: &name, Port: &port}},
			Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"127.0.0.1"}}},
		})
	}
	return out
}

func ingress(ns, name string, rules map[string]string, tlsHost, secret string) *networkingv1.Ingress {
	prefix := networkingv1.PathTypePrefix
	ing := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	for host, svc := range rules {
		ing.Spec.Rules = append(ing.Spec.Rules, networkingv1.IngressRule{Host: host, IngressRuleValue: networkingv1.IngressRuleValue{
			HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{{Path: "/", PathType: &prefix,
				Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: svc, Port: networkingv1.ServiceBackendPort{Name: "http"}}}}}}}})
	}
	if tlsHost != "" {
		ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{tlsHost}, SecretName: secret}}
	}
	return ing
}

type result struct {
	status   int
	body     string
	location string
	cn       string
}

func get(port int, host string, https bool) (result, error) {
	scheme := "http"
	if https {
		scheme = "https"
	}
	req, _ := http.NewRequest("GET", fmt.Sprintf("%s://127.0.0.1:%d/x", scheme, port), nil)
	req.Host = host
	c := &http.Client{Timeout: 2 * time.Second,
		Transport:     &http.Transport{DisableKeepAlives: true, TLSClientConfig: &tls.Config{ServerName: host, InsecureSkipVerify: true}}, //nolint:gosec // the test reads the certificate
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		return result{}, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := result{status: resp.StatusCode, body: string(b), location: resp.Header.Get("Location")}
	if resp.TLS != nil {
		r.cn = resp.TLS.PeerCertificates[0].Subject.CommonName
	}
	return r, nil
}

// TestPipelineOnRealHAProxy drives a real haproxy through the whole pipeline
// — model, render, driver — in both modes: routing, TLS by SNI, redirect and
// 404, an endpoint change applied without a reload, and in embedded mode a
// haproxy that dies is restarted and serves the current state.
func TestPipelineOnRealHAProxy(t *testing.T) { haproxybin.Run(t, testPipelineOnRealHAProxy) }

func testPipelineOnRealHAProxy(t *testing.T, hb haproxybin.Build) {
	bin := hb.Path
	for _, mode := range []string{"external", "embedded"} {
		t.Run(mode, func(t *testing.T) {
			l := initLayout(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			restarted := make(chan int, 4)
			var masterPID func() int
			if mode == "external" {
				startExternal(t, bin, l)
			} else {
				sup := &process.Supervisor{Binary: bin, Layout: l, GracePeriod: time.Second, Stdout: io.Discard, Stderr: io.Discard,
					OnStart: func(_ context.Context, pid int) { restarted <- pid }}
				done := make(chan struct{})
				go func() { _ = sup.Run(ctx); close(done) }()
				t.Cleanup(func() { cancel(); <-done })
			}
			driver := haproxy.New(haproxy.Options{Layout: l, Binary: bin, ConnectionTimeout: 10 * time.Second, Mode: mode})
			masterPID = func() int {
				p, err := driver.Master().ShowProc(ctx)
				if err != nil {
					t.Fatal(err)
				}
				return p.Master.PID
			}
			cert, err := defaultcert.Generate(time.Now())
			if err != nil {
				t.Fatal(err)
			}
			s := &Syncer{Driver: driver, Layout: l, Metrics: health.NewMetrics(), Options: model.Options{DefaultCertificate: cert, SpareBackends: 2}}

			ports := loopback.Ports(t, 4)
			a1, b1 := backend(t, "a1"), backend(t, "b1")
			snap := &model.Snapshot{
				ConfigMap: map[string]string{"http-port": strconv.Itoa(ports[0]), "https-port": strconv.Itoa(ports[1]),
					"healthz-port": strconv.Itoa(ports[2]), "stats-port": strconv.Itoa(ports[3]),
					"bind-ip-addr-http": "127.0.0.1", "bind-ip-addr-healthz": "127.0.0.1", "bind-ip-addr-stats": "127.0.0.1"},
				Ingresses:      []*networkingv1.Ingress{ingress("app", "web", map[string]string{"a.example.com": "a", "b.example.com": "b"}, "b.example.com", "b-tls")},
				Services:       []*corev1.Service{service("app", "a"), service("app", "b")},
				EndpointSlices: append(endpointSlices("app", "a", a1), endpointSlices("app", "b", b1)...),
				Secrets:        []*corev1.Secret{tlsSecret(t, "app", "b-tls", "b.example.com", "b.example.com")},
			}
			if err := s.Update(ctx, snap); err != nil {
				t.Fatal(err)
			}
			check := func(host string, https bool, want func(result) bool) {
				t.Helper()
				var last result
				var lastErr error
				err := poll.Until(ctx, 10*time.Second, func() (bool, error) {
					last, lastErr = get(map[bool]int{false: ports[0], true: ports[1]}[https], host, https)
					return lastErr == nil && want(last), nil
				}, func() string { return fmt.Sprintf("got %+v, %v", last, lastErr) })
				if err != nil {
					t.Fatalf("%s (https=%v): %v", host, https, err)
				}
			}
			check("a.example.com", false, func(r result) bool { return r.status == 200 && r.body == "a1" })
			check("A.Example.com:8080", false, func(r result) bool { return r.body == "a1" })
			check("b.example.com", false, func(r result) bool { return r.status == 302 && strings.HasPrefix(r.location, "https://b.example.com") })
			check("b.example.com", true, func(r result) bool { return r.body == "b1" && r.cn == "b.example.com" })
			check("a.example.com", true, func(r result) bool { return r.body == "a1" && r.cn == "haproxy-ingress default certificate" })
			check("nobody.example.com", false, func(r result) bool { return r.status == 404 })

			// A second endpoint fits in a's free slots: no reload.
			before := masterPID()
			reloads := func() int {
				p, _ := driver.Master().ShowProc(ctx)
				return p.Master.Reloads
			}
			r0 := reloads()
			a2 := backend(t, "a2")
			snap.EndpointSlices = append(endpointSlices("app", "a", a1, a2), endpointSlices("app", "b", b1)...)
			if err := s.Update(ctx, snap); err != nil {
				t.Fatal(err)
			}
			check("a.example.com", false, func(r result) bool { return r.body == "a2" })
			if r1 := reloads(); r1 != r0 {
				t.Errorf("an endpoint within the slots reloaded haproxy (%d -> %d reloads)", r0, r1)
			}

			// A rotated Secret (same name, same hosts) is swapped in through
			// the runtime API, no reload.
			snap.Secrets = []*corev1.Secret{tlsSecret(t, "app", "b-tls", "b.example.com", "b-rotated")}
			if err := s.Update(ctx, snap); err != nil {
				t.Fatal(err)
			}
			check("b.example.com", true, func(r result) bool { return r.body == "b1" && r.cn == "b-rotated" })
			if r1 := reloads(); r1 != r0 {
				t.Errorf("a rotated certificate reloaded haproxy (%d -> %d reloads)", r0, r1)
			}

			// A new host for an existing Service, and a moved path: map
			// edits at run time, no reload. A regex path reloads.
			snap.Ingresses = append(snap.Ingresses, ingress("app", "more", map[string]string{"c.example.com": "a"}, "", ""))
			if err := s.Update(ctx, snap); err != nil {
				t.Fatal(err)
			}
			check("c.example.com", false, func(r result) bool { return r.status == 200 && (r.body == "a1" || r.body == "a2") })
			if r1 := reloads(); r1 != r0 {
				t.Errorf("a new host for an existing backend reloaded haproxy (%d -> %d reloads)", r0, r1)
			}
			snap.Ingresses = snap.Ingresses[:1]
			if err := s.Update(ctx, snap); err != nil {
				t.Fatal(err)
			}
			check("c.example.com", false, func(r result) bool { return r.status == 404 })
			if r1 := reloads(); r1 != r0 {
				t.Errorf("removing a host reloaded haproxy (%d -> %d reloads)", r0, r1)
			}
			// A path policy no route had needs its rules: a reload. A new
			// host with that policy is a map entry naming it: no reload, and
			// the policy applies to it.
			guarded := func(name, host string) *networkingv1.Ingress {
				ing := ingress("app", name, map[string]string{host: "a"}, "", "")
				ing.Annotations = map[string]string{"haproxy-ingress.github.io/allowlist-source-range": "10.0.0.0/8"}
				return ing
			}
			snap.Ingresses = append(snap.Ingresses, guarded("guarded", "g1.example.com"))
			if err := s.Update(ctx, snap); err != nil {
				t.Fatal(err)
			}
			check("g1.example.com", false, func(r result) bool { return r.status == 403 })
			r0 = reloads()
			snap.Ingresses = append(snap.Ingresses, guarded("guarded2", "g2.example.com"))
			if err := s.Update(ctx, snap); err != nil {
				t.Fatal(err)
			}
			check("g2.example.com", false, func(r result) bool { return r.status == 403 })
			check("a.example.com", false, func(r result) bool { return r.status == 200 })
			if r1 := reloads(); r1 != r0 {
				t.Errorf("a new host with an existing path policy reloaded haproxy (%d -> %d reloads)", r0, r1)
			}
			// A new Service behind a new Ingress takes a spare backend: no
			// reload. The reload that follows gives it its own name, and it
			// is served all along.
			snap.Ingresses = append(snap.Ingresses, ingress("app", "fresh", map[string]string{"d.example.com": "d"}, "", ""))
			snap.Services = append(snap.Services, service("app", "d"))
			snap.EndpointSlices = append(snap.EndpointSlices, endpointSlices("app", "d", backend(t, "d1"))...)
			if err := s.Update(ctx, snap); err != nil {
				t.Fatal(err)
			}
			check("d.example.com", false, func(r result) bool { return r.status == 200 && r.body == "d1" })
			if r1 := reloads(); r1 != r0 {
				t.Errorf("a new Service behind a new Ingress reloaded haproxy (%d -> %d reloads)", r0, r1)
			}
			regex := ingress("app", "regex", map[string]string{"r.example.com": "b"}, "", "")
			regex.Annotations = map[string]string{"haproxy-ingress.github.io/path-type": "regex"}
			implSpecific := networkingv1.PathTypeImplementationSpecific
			regex.Spec.Rules[0].HTTP.Paths[0].PathType = &implSpecific
			regex.Spec.Rules[0].HTTP.Paths[0].Path = "^/r[0-9]+$"
			snap.Ingresses = append(snap.Ingresses, regex)
			if err := s.Update(ctx, snap); err != nil {
				t.Fatal(err)
			}
			if r1 := reloads(); r1 == r0 {
				t.Error("a regex route was applied without a reload, but regex maps are order-dependent")
			}
			check("d.example.com", false, func(r result) bool { return r.status == 200 && r.body == "d1" })

			if mode != "embedded" {
				return
			}
			// haproxy dies: the supervisor restarts it and it serves the current
			// state, dynamic change included, from the files on disk.
			<-restarted
			// SIGKILL: a crash, not a stop; the supervisor must restart it.
			if err := syscall.Kill(before, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			select {
			case pid := <-restarted:
				if pid == before {
					t.Fatal("restart reported the dead master")
				}
			case <-time.After(20 * time.Second):
				t.Fatal("haproxy was not restarted")
			}
			driver.Invalidate()
			if err := s.Update(ctx, snap); err != nil {
				t.Fatal(err)
			}
			check("a.example.com", false, func(r result) bool { return r.body == "a2" })
			check("b.example.com", true, func(r result) bool { return r.body == "b1" && r.cn == "b-rotated" })
		})
	}
}
