package model_test

import (
	"crypto/tls"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/external-haproxy/kit/controller/model"
	"github.com/external-haproxy/kit/test/haproxybin"
	"github.com/external-haproxy/kit/test/liveproxy"
)

// TestLiveServerHeader: an answer without Server gets server-header, one
// with its own keeps it, and so do the answers haproxy makes itself.
func TestLiveServerHeader(t *testing.T) {
	haproxybin.Run(t, func(t *testing.T, hb haproxybin.Build) {
		snap := &model.Snapshot{
			Ingresses: []*networkingv1.Ingress{ingress("web", "web.test", "/", "web"), ingress("app", "app.test", "/", "app")},
		}
		liveproxy.Backend(t, snap, "ns", "web", nil)
		liveproxy.Backend(t, snap, "ns", "app", &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Server", "app/1")
		})})
		// haproxy answers the app Ingress's allowlist 403 and the web
		// Ingress's app-root redirect itself.
		snap.Ingresses[0].Annotations = map[string]string{"haproxy-ingress.github.io/app-root": "/home"}
		snap.Ingresses[1].Annotations = map[string]string{"haproxy-ingress.github.io/allowlist-source-range": "10.0.0.0/8"}
		p := liveproxy.Start(t, hb.Path, snap, model.Options{})
		for _, c := range []struct {
			name, host, path string
			status           int
			server           string
		}{
			{"backend without Server", "web.test", "/x", 200, "haproxy"},
			{"haproxy's app-root redirect", "web.test", "/", 302, "haproxy"},
			{"haproxy's 404 default backend", "none.test", "/", 404, "haproxy"},
			{"haproxy's 403 of an allowlist", "app.test", "/", 403, "haproxy"},
		} {
			r := p.Get(t, "http", c.host, c.path)
			if r.Status != c.status || r.Header.Get("Server") != c.server {
				t.Errorf("%s: status %d, Server %q; want %d, %q", c.name, r.Status, r.Header.Get("Server"), c.status, c.server)
			}
		}
		// Without the allowlist the app's own Server header comes through.
		snap.Ingresses[1].Annotations = nil
		p = liveproxy.Start(t, hb.Path, snap, model.Options{})
		if r := p.Get(t, "http", "app.test", "/"); r.Status != 200 || r.Header.Get("Server") != "app/1" {
			t.Errorf("backend with Server: status %d, Server %q; want 200, \"app/1\"", r.Status, r.Header.Get("Server"))
		}
	})
}

// TestLiveHTTPResponses: the 404 of the default backend and the 503 of a
// backend without endpoints are the http-response-404 and -503 answers.
func TestLiveHTTPResponses(t *testing.T) {
	haproxybin.Run(t, func(t *testing.T, hb haproxybin.Build) {
		snap := &model.Snapshot{
			Ingresses: []*networkingv1.Ingress{ingress("down", "down.test", "/", "down")},
			Services: []*corev1.Service{{ObjectMeta: metav1.ObjectMeta{Name: "down", Namespace: "ns"},
				Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}}}},
			ConfigMap: map[string]string{
				"http-response-404": "content-type: text/plain\nx-custom: yes\n\nnothing here\n",
				"http-response-503": "503 Back Soon\ncontent-type: text/plain\n\nmaintenance\n",
			},
		}
		p := liveproxy.Start(t, hb.Path, snap, model.Options{})
		for _, c := range []struct {
			name, host, body, header string
			status                   int
		}{
			{"404 default backend", "none.test", "nothing here\n", "yes", 404},
			{"503 no endpoints", "down.test", "maintenance\n", "", 503},
		} {
			r := p.Get(t, "http", c.host, "/")
			if r.Status != c.status || r.Body != c.body || r.Header.Get("X-Custom") != c.header || r.Header.Get("Server") != "haproxy" {
				t.Errorf("%s: %d %q, headers %v; want %d %q", c.name, r.Status, r.Body, r.Header, c.status, c.body)
			}
		}
	})
}

// TestLiveHTTPLogFormat: with syslog-endpoint, a request is logged in the
// http-log-format.
func TestLiveHTTPLogFormat(t *testing.T) {
	haproxybin.Run(t, func(t *testing.T, hb haproxybin.Build) {
		syslog := listenSyslog(t)
		snap := &model.Snapshot{
			Ingresses: []*networkingv1.Ingress{ingress("web", "web.test", "/", "web")},
			ConfigMap: map[string]string{
				"syslog-endpoint": syslog.LocalAddr().String(), "syslog-format": "raw",
				"http-log-format": `kitlog %HM %ST host=%[var(txn.host)] 100%%`,
			},
		}
		liveproxy.Backend(t, snap, "ns", "web", nil)
		p := liveproxy.Start(t, hb.Path, snap, model.Options{})
		if r := p.Get(t, "http", "web.test", "/x"); r.Status != 200 {
			t.Fatalf("status %d", r.Status)
		}
		if line, want := logLine(t, syslog, "kitlog"), "kitlog GET 200 host=web.test 100%"; line != want {
			t.Errorf("log line %q, want %q", line, want)
		}
	})
}

// TestLiveHTTPSLogFormat: the ssl-passthrough frontend logs each TLS
// connection in the https-log-format, naming the backend its SNI chose.
func TestLiveHTTPSLogFormat(t *testing.T) {
	haproxybin.Run(t, func(t *testing.T, hb haproxybin.Build) {
		syslog := listenSyslog(t)
		snap := &model.Snapshot{ConfigMap: map[string]string{
			"syslog-endpoint": syslog.LocalAddr().String(), "syslog-format": "raw",
			"https-log-format": `kittcp %ft backend=%b`,
		}}
		liveproxy.Backend(t, snap, "ns", "tls", nil)
		snap.Ingresses = []*networkingv1.Ingress{hostIngress("p", "p.test", "tls", map[string]string{"ssl-passthrough": "true"})}
		p := liveproxy.Start(t, hb.Path, snap, model.Options{})
		// The backend speaks plain http: the handshake fails, the
		// connection was routed and is logged all the same.
		if c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", "127.0.0.1:"+strconv.Itoa(p.HTTPSPort),
			&tls.Config{ServerName: "p.test", InsecureSkipVerify: true}); err == nil {
			c.Close()
		}
		var be string
		for _, b := range p.Model.Backends {
			if b.Service.Name == "tls" {
				be = b.Name
			}
		}
		if line, want := logLine(t, syslog, "kittcp"), "kittcp passthrough backend="+be; be == "" || line != want {
			t.Errorf("log line %q, want %q", line, want)
		}
	})
}

func listenSyslog(t *testing.T) net.PacketConn {
	syslog, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syslog.Close() })
	return syslog
}

// logLine is the first raw syslog line received that holds marker.
func logLine(t *testing.T, syslog net.PacketConn, marker string) string {
	t.Helper()
	buf := make([]byte, 4096)
	syslog.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		n, _, err := syslog.ReadFrom(buf)
		if err != nil {
			t.Fatalf("no log line with %q: %v", marker, err)
		}
		if line := string(buf[:n]); strings.Contains(line, marker) {
			return strings.TrimSpace(line)
		}
	}
}
