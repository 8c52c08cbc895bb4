// Package liveproxy runs the real haproxy on the render of a snapshot, on
// loopback, so that a test shows what a key does with real requests: the
// answer a client gets and what the backend saw.
package liveproxy

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/external-haproxy/kit/controller/files"
	"github.com/external-haproxy/kit/controller/model"
	"github.com/external-haproxy/kit/controller/render"
	"github.com/external-haproxy/kit/internal/loopback"
	"github.com/external-haproxy/kit/test/haproxybin"
	"github.com/external-haproxy/kit/test/poll"
	"github.com/external-haproxy/kit/test/testcert"
)

// Echo is what the echo backend saw of a request; it answers with it as JSON.
type Echo struct {
	Service    string
	Method     string
	Path       string // with the query
	Proto      string // HTTP/1.1, HTTP/2.0
	TLS        bool
	SNI        string // the server name a TLS client sent
	RemoteAddr string
	// Server is the endpoint's address:port that answered, to tell the
	// endpoints of one Service apart.
	Server string
	Header http.Header
	// BodyBytes is the length of the request body, read whole before the
	// answer so that a client still sending it never meets a closed
	// connection.
	BodyBytes int64
}

// EchoHandler answers every request with the Echo of it.
func EchoHandler(service string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		local, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
		e := Echo{Service: service, Method: r.Method, Path: r.URL.RequestURI(), Proto: r.Proto, TLS: r.TLS != nil, RemoteAddr: r.RemoteAddr, Header: r.Header}
		if local != nil {
			e.Server = local.String()
		}
		if r.TLS != nil {
			e.SNI = r.TLS.ServerName
		}
		e.BodyBytes, _ = io.Copy(io.Discard, r.Body)
		json.NewEncoder(w).Encode(e)
	})
}

// Backend adds to snap the Service ns/name with port 80 and one loopback
// endpoint served by srv (its Handler nil: EchoHandler), which runs until
// the test ends; srv.TLSConfig set: it serves TLS. It returns the
// endpoint's port.
func Backend(t testing.TB, snap *model.Snapshot, ns, name string, srv *http.Server) int {
	t.Helper()
	port := serve(t, srv, EchoHandler(name))
	ServiceAt(snap, ns, name, port)
	return port
}

// ServiceAt adds to snap the Service ns/name with port 80 and one endpoint
// at the loopback port, for a server the test runs itself.
func ServiceAt(snap *model.Snapshot, ns, name string, port int) {
	snap.Services = append(snap.Services, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}}})
	endpointAt(snap, ns, name, port)
}

// Endpoint adds to the Service ns/name of snap (added by Backend) another
// loopback endpoint served by srv, as Backend does, in an EndpointSlice of
// its own since its port differs. It returns the endpoint's port; the
// model orders a Service's endpoints by port, so a later endpoint is in a
// later server slot only if its port is higher.
func Endpoint(t testing.TB, snap *model.Snapshot, ns, name string, srv *http.Server) int {
	t.Helper()
	port := serve(t, srv, EchoHandler(name))
	endpointAt(snap, ns, name, port)
	return port
}

func endpointAt(snap *model.Snapshot, ns, name string, port int) {
	p := int32(port)
	snap.EndpointSlices = append(snap.EndpointSlices, &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Name: name + "-" + strconv.Itoa(port), Namespace: ns, Labels: map[string]string{discoveryv1.LabelServiceName: name}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Port: &p}},
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"127.0.0.1"}}},
	})
}

// serve runs srv (nil: a new one; its Handler nil: handler) on a free
// loopback port until the test ends, with TLS if srv.TLSConfig is set, and
// returns the port.
func serve(t testing.TB, srv *http.Server, handler http.Handler) int {
	t.Helper()
	if srv == nil {
		srv = &http.Server{}
	}
	if srv.Handler == nil {
		srv.Handler = handler
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if srv.TLSConfig != nil {
		go srv.ServeTLS(l, "", "")
	} else {
		go srv.Serve(l)
	}
	t.Cleanup(func() { srv.Close() })
	return l.Addr().(*net.TCPAddr).Port
}

// Proxy is haproxy serving the model of a snapshot.
type Proxy struct {
	HTTPPort, HTTPSPort int
	Model               *model.Model
	Problems            []model.Problem
	Layout              files.Layout
}

// Start builds snap, with the frontends moved to free loopback ports (over
// what snap.ConfigMap says) and a self-signed default certificate for
// "localhost" unless opts has one, renders it and runs bin on it until the
// test ends.
func Start(t testing.TB, bin string, snap *model.Snapshot, opts model.Options) *Proxy {
	t.Helper()
	return StartIn(t, bin, haproxybin.TempDir(t), snap, opts)
}

// StartIn is Start with the files under root.
func StartIn(t testing.TB, bin, root string, snap *model.Snapshot, opts model.Options) *Proxy {
	t.Helper()
	ports := loopback.Ports(t, 4)
	p := &Proxy{HTTPPort: ports[0], HTTPSPort: ports[1]}
	cm := maps.Clone(snap.ConfigMap)
	if cm == nil {
		cm = map[string]string{}
	}
	maps.Copy(cm, map[string]string{
		"http-port": strconv.Itoa(ports[0]), "https-port": strconv.Itoa(ports[1]),
		"healthz-port": strconv.Itoa(ports[2]), "stats-port": strconv.Itoa(ports[3]),
		"bind-ip-addr-http": "127.0.0.1", "bind-ip-addr-healthz": "127.0.0.1", "bind-ip-addr-stats": "127.0.0.1",
	})
	s := *snap
	s.ConfigMap = cm
	if opts.DefaultCertificate == nil {
		crt, key := testcert.SelfSigned(t, testcert.ECKey(t), "localhost", "localhost")
		opts.DefaultCertificate = append(crt, key...)
	}
	p.Model, p.Problems = model.Build(&s, opts)

	p.Layout = files.Layout{Etc: filepath.Join(root, "etc"), Lib: filepath.Join(root, "lib"), Run: filepath.Join(root, "run")}
	if err := os.MkdirAll(p.Layout.Run, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range render.Render(p.Model, p.Layout) {
		if err := os.MkdirAll(filepath.Dir(f.Path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f.Path, f.Data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	// Cancelling ctx SIGKILLs haproxy: the end of the test, not a graceful
	// stop under test.
	cmd := exec.CommandContext(ctx, bin, "-db", "-f", p.Layout.Etc)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); cmd.Wait() })
	// The http frontend and the admin socket: 3.0 may accept on the one
	// before it created the other.
	err := poll.Until(ctx, 10*time.Second, func() (bool, error) {
		for _, a := range [][2]string{{"tcp", "127.0.0.1:" + strconv.Itoa(p.HTTPPort)}, {"unix", p.Layout.AdminSocket()}} {
			c, err := net.Dial(a[0], a[1])
			if err != nil {
				return false, nil
			}
			c.Close()
		}
		return true, nil
	}, nil)
	if err != nil {
		t.Fatalf("haproxy %s did not start listening: %v; problems: %v", bin, err, p.Problems)
	}
	return p
}

// Response is an answer, read whole.
type Response struct {
	Status int
	Header http.Header
	Body   string
}

// Echo decodes the body of an echo backend's answer; nil if it is not one.
func (r *Response) Echo() *Echo {
	var e Echo
	if json.Unmarshal([]byte(r.Body), &e) != nil || e.Service == "" {
		return nil
	}
	return &e
}

// Do sends req to the frontend of its URL scheme (its host part is
// replaced by the proxy's address; set req.Host for the Host header) on
// a new connection, without following redirects or checking certificates.
func (p *Proxy) Do(t testing.TB, req *http.Request) *Response {
	t.Helper()
	r, err := p.Send(req)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Send is Do returning the error instead of failing the test, for a request
// sent from another goroutine than the test's (which must not call
// t.Fatal).
func (p *Proxy) Send(req *http.Request) (*Response, error) {
	port := p.HTTPPort
	if req.URL.Scheme == "https" {
		port = p.HTTPSPort
	}
	req.URL.Host = "127.0.0.1:" + strconv.Itoa(port)
	client := &http.Client{
		Timeout:       5 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, DisableKeepAlives: true},
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s (Host %s): %w", req.Method, req.URL, req.Host, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%s %s (Host %s): reading the answer: %w", req.Method, req.URL, req.Host, err)
	}
	return &Response{resp.StatusCode, resp.Header, string(body)}, nil
}

// Get is Do of a GET of scheme://host/path.
func (p *Proxy) Get(t testing.TB, scheme, host, path string) *Response {
	t.Helper()
	req, err := GetRequest(scheme, host, path)
	if err != nil {
		t.Fatal(err)
	}
	return p.Do(t, req)
}

// GetRequest is the request Get sends, for Do or Send.
func GetRequest(scheme, host, path string) (*http.Request, error) {
	req, err := http.NewRequest("GET", scheme+"://x"+path, nil)
	if err != nil {
		return nil, err
	}
	req.Host = host
	return req, nil
}

// Runtime sends one command to haproxy's runtime API (the admin socket)
// and returns its answer.
func (p *Proxy) Runtime(t testing.TB, cmd string) string {
	t.Helper()
	c, err := net.Dial("unix", p.Layout.AdminSocket())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, cmd+"\n"); err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("%s: %v", cmd, err)
	}
	return string(out)
}
