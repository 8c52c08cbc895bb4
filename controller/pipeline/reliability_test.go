package pipeline

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/external-haproxy/kit/controller/haproxy"
	"github.com/external-haproxy/kit/controller/health"
	"github.com/external-haproxy/kit/controller/model"
	"github.com/external-haproxy/kit/internal/loopback"
	"github.com/external-haproxy/kit/test/haproxybin"
	"github.com/external-haproxy/kit/test/poll"
)

// swapLoad is one run of endpoint swaps under load.
type swapLoad struct {
	swaps    int
	interval time.Duration // between swaps
	rate     int           // requests per second of each of the 4 clients
	// reloads: halfway between two swaps, a ConfigMap change reloads
	// haproxy, so that reloads and drains overlap.
	reloads bool
}

// swapResult counts what the clients saw.
type swapResult struct {
	requests, failed, stale, reloads int
	examples                         []string // the first failures and stale answers
}

// TestReliabilityEndpointSwaps replaces a backend's only endpoint 40 times
// (a rolling update of a one-replica Deployment, each new pod on another
// address and port) while clients on new connections and on keep-alive
// connections send about 200 requests/s: no request may fail, and none sent
// after an update returned may reach the endpoint it replaced.
func TestReliabilityEndpointSwaps(t *testing.T) {
	haproxybin.Run(t, func(t *testing.T, hb haproxybin.Build) {
		r := runSwaps(t, hb.Path, swapLoad{swaps: 40, interval: 200 * time.Millisecond, rate: 50})
		t.Logf("%d requests, %d failed, %d stale, %d swaps, %d reloads", r.requests, r.failed, r.stale, 40, r.reloads)
		if r.failed != 0 || r.stale != 0 {
			t.Errorf("%d failed and %d stale of %d requests through 40 swaps, e.g. %q", r.failed, r.stale, r.requests, r.examples)
		}
		// 8 s at 200 requests/s plan 1 600 requests; a machine too busy to send
		// a fifth of them tests nothing.
		if r.requests < 320 {
			t.Errorf("only %d requests: the load did not run", r.requests)
		}
	})
}

// TestReliabilityReloads: the same clients through 20 reloads, each between
// two endpoint swaps: reloads hand the listeners over without a failed
// request, and a drain that a reload interrupts loses nothing either.
func TestReliabilityReloads(t *testing.T) {
	haproxybin.Run(t, func(t *testing.T, hb haproxybin.Build) {
		r := runSwaps(t, hb.Path, swapLoad{swaps: 20, interval: 300 * time.Millisecond, rate: 50, reloads: true})
		t.Logf("%d requests, %d failed, %d stale, %d swaps, %d reloads", r.requests, r.failed, r.stale, 20, r.reloads)
		if r.failed != 0 || r.stale != 0 || r.reloads < 20 {
			t.Errorf("%d failed and %d stale of %d requests through 20 swaps and %d reloads (want 20), e.g. %q", r.failed, r.stale, r.requests, r.reloads, r.examples)
		}
		if r.requests < 240 {
			t.Errorf("only %d requests: the load did not run", r.requests)
		}
	})
}

// BenchmarkReliabilityEndpointSwaps is the long form: 200 swaps in about
// 50 s at about 200 requests/s; with reloads, 200 swaps and 200 reloads in
// about 80 s.
func BenchmarkReliabilityEndpointSwaps(b *testing.B) {
	haproxybin.Run(b, func(b *testing.B, hb haproxybin.Build) {
		b.Run("swaps", func(b *testing.B) {
			benchmarkEndpointSwaps(b, hb, swapLoad{swaps: 200, interval: 250 * time.Millisecond, rate: 50})
		})
		b.Run("swaps+reloads", func(b *testing.B) {
			benchmarkEndpointSwaps(b, hb, swapLoad{swaps: 200, interval: 400 * time.Millisecond, rate: 50, reloads: true})
		})
	})
}

func benchmarkEndpointSwaps(b *testing.B, hb haproxybin.Build, load swapLoad) {
	var total swapResult
	for range b.N {
		r := runSwaps(b, hb.Path, load)
		total.requests += r.requests
		total.failed += r.failed
		total.stale += r.stale
		total.reloads += r.reloads
		if r.failed != 0 || r.stale != 0 {
			b.Errorf("%d failed and %d stale, e.g. %q", r.failed, r.stale, r.examples)
		}
	}
	n := float64(b.N)
	b.ReportMetric(float64(total.requests)/n, "requests")
	b.ReportMetric(float64(total.failed)/n, "failed")
	b.ReportMetric(float64(total.stale)/n, "stale")
	b.ReportMetric(float64(load.swaps), "swaps")
	b.ReportMetric(float64(total.reloads)/n, "reloads")
}

// answer is what one client request saw.
type answer struct {
	start  time.Time
	ep     int  // endpoint that answered, -1 on failure
	reused bool // sent on a kept-alive client connection
	err    string
}

// rig is a real haproxy driven by a Syncer, serving host swap.example.com
// from Service app/s, whose endpoints the test sets.
type rig struct {
	t      testing.TB
	ctx    context.Context
	s      *Syncer
	snap   *model.Snapshot
	url    string
	client *http.Client // keep-alive
}

const swapHost = "swap.example.com"

func newRig(t testing.TB, bin string) *rig {
	l := initLayout(t)
	startExternal(t, bin, l)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	ports := loopback.Ports(t, 4)
	return &rig{t: t, ctx: ctx,
		s: &Syncer{Driver: haproxy.New(haproxy.Options{Layout: l, Binary: bin, ConnectionTimeout: 10 * time.Second}), Layout: l, Metrics: health.NewMetrics()},
		snap: &model.Snapshot{
			ConfigMap: map[string]string{"http-port": strconv.Itoa(ports[0]), "https-port": strconv.Itoa(ports[1]),
				"healthz-port": strconv.Itoa(ports[2]), "stats-port": strconv.Itoa(ports[3]),
				"bind-ip-addr-http": "127.0.0.1", "bind-ip-addr-healthz": "127.0.0.1", "bind-ip-addr-stats": "127.0.0.1"},
			Ingresses: []*networkingv1.Ingress{ingress("app", "web", map[string]string{swapHost: "s"}, "", "")},
			Services:  []*corev1.Service{service("app", "s")},
		},
		url:    fmt.Sprintf("http://127.0.0.1:%d/", ports[0]),
		client: &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 1}},
	}
}

// serve makes ep the only endpoint of app/s.
func (r *rig) serve(ep netip.AddrPort) {
	r.t.Helper()
	r.snap.EndpointSlices = []*discoveryv1.EndpointSlice{endpointSlice("app", "s", ep)}
	if err := r.s.Update(r.ctx, r.snap); err != nil {
		r.t.Fatalf("serving %v: %v", ep, err)
	}
}

func (r *rig) reloads() int {
	p, err := r.s.Driver.Master().ShowProc(r.ctx)
	if err != nil {
		r.t.Fatal(err)
	}
	return p.Master.Reloads
}

// status is haproxy's status (UP, DRAIN, MAINT, ...) of each slot of app/s.
func (r *rig) status() map[string]string {
	stats, err := serverStats(r.ctx, r.s.Driver.Runtime, "app_s_http")
	if err != nil {
		r.t.Fatal(err)
	}
	out := map[string]string{}
	for name, st := range stats {
		out[name] = st["status"] + " " + st["addr"]
	}
	return out
}

// TestReliabilityDrain follows one drain on the real haproxy: a request in
// flight on the replaced endpoint finishes with its answer, its slot stays
// draining (not reused) while it runs and goes to maint once it ended, and
// the slot then takes another endpoint without a reload.
func TestReliabilityDrain(t *testing.T) { haproxybin.Run(t, testDrain) }

func testDrain(t *testing.T, hb haproxybin.Build) {
	r := newRig(t, hb.Path)
	release := make(chan struct{})
	_, a := numberedBackend(t, 0, release)
	r.serve(a)
	reloads := r.reloads()
	slow := make(chan answer, 1)
	go func() { slow <- ask(&http.Client{Timeout: 20 * time.Second}, r.url+"slow", swapHost) }()
	r.waitFor("the slow request on srv001", func(st map[string]map[string]string) bool { return st["srv001"]["scur"] == "1" })

	if got := ask(r.client, r.url, swapHost); got.ep != 0 {
		t.Fatalf("before the swap: %+v", got)
	}
	_, b := numberedBackend(t, 1, nil)
	r.serve(b)
	// The client's connection to haproxy stays open across the swap, and
	// haproxy has an idle connection to endpoint 0 to reuse: the request
	// must still go to endpoint 1.
	if got := ask(r.client, r.url, swapHost); got.ep != 1 || !got.reused {
		t.Fatalf("after the swap to endpoint 1, on the same keep-alive connection: %+v", got)
	}
	_, c := numberedBackend(t, 2, nil)
	r.serve(c)
	if st := r.status(); !strings.HasPrefix(st["srv001"], "DRAIN "+a.String()) || st["srv003"] != "no check "+c.String() {
		t.Errorf("while its request runs, srv001 must drain and endpoint 2 take srv003: %v", st)
	}
	close(release)
	if got := <-slow; got.ep != 0 {
		t.Errorf("the request in flight during the swaps: %+v", got)
	}
	r.waitFor("srv001 in maint", func(st map[string]map[string]string) bool { return st["srv001"]["status"] == "MAINT" })

	_, d := numberedBackend(t, 3, nil)
	r.serve(d)
	if got := ask(r.client, r.url, swapHost); got.ep != 3 {
		t.Fatalf("after the swap to endpoint 3: %+v", got)
	}
	if n := r.reloads(); n != reloads {
		t.Errorf("%d reloads during 3 swaps with drains that ended", n-reloads)
	}
}

// waitFor polls app/s's server stats until ok.
func (r *rig) waitFor(what string, ok func(map[string]map[string]string) bool) {
	r.t.Helper()
	var last map[string]map[string]string
	err := poll.Until(r.ctx, 10*time.Second, func() (bool, error) {
		var err error
		last, err = serverStats(r.ctx, r.s.Driver.Runtime, "app_s_http")
		return err == nil && ok(last), nil
	}, func() string { return fmt.Sprintf("last stats %v", last) })
	if err != nil {
		r.t.Fatalf("waiting for %s: %v", what, err)
	}
}

func runSwaps(t testing.TB, bin string, load swapLoad) swapResult {
	r := newRig(t, bin)
	endpoints := make([]*http.Server, load.swaps+1)
	swapped := make([]time.Time, load.swaps+1) // when the update that replaced endpoint i-1 by i returned
	swap := func(i int) {
		var addr netip.AddrPort
		endpoints[i], addr = numberedBackend(t, i, nil)
		if i == load.swaps/2 {
			// A reload in the middle (a ConfigMap change) while the last
			// swap's drain may still run.
			r.snap.ConfigMap["timeout-client"] = "49s"
		}
		r.serve(addr)
		swapped[i] = time.Now()
	}
	swap(0)
	r0 := r.reloads()
	url := r.url
	ctx := r.ctx
	stop := make(chan struct{})
	var mu sync.Mutex
	var answers []answer
	var wg sync.WaitGroup
	for _, keepAlive := range []bool{true, true, false, false} {
		c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: !keepAlive, MaxIdleConnsPerHost: 1}}
		wg.Go(func() {
			defer c.CloseIdleConnections()
			tick := time.NewTicker(time.Second / time.Duration(load.rate))
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
				}
				a := ask(c, url, swapHost)
				mu.Lock()
				answers = append(answers, a)
				mu.Unlock()
			}
		})
	}
	period := load.interval
	if load.reloads {
		period /= 2 // a reload on every other tick
	}
	tick := time.NewTicker(period)
	for i := 1; i <= load.swaps; i++ {
		<-tick.C
		if load.reloads {
			r.snap.ConfigMap["timeout-client"] = strconv.Itoa(40+i%2) + "s"
			if err := r.s.Update(ctx, r.snap); err != nil {
				t.Fatalf("reload %d: %v", i, err)
			}
			<-tick.C
		}
		swap(i)
		if i >= 2 {
			// The endpoint replaced one swap ago ends like a terminated pod:
			// in-flight requests finish, then it is gone.
			old := endpoints[i-2]
			wg.Go(func() { _ = old.Shutdown(ctx) })
		}
	}
	tick.Stop()
	// Not a precondition: the load's own spacing, so that the last endpoint
	// serves a little too.
	<-time.After(load.interval)
	close(stop)
	wg.Wait()

	res := swapResult{requests: len(answers), reloads: r.reloads() - r0}
	for _, a := range answers {
		var problem string
		switch {
		case a.ep < 0:
			res.failed++
			problem = a.err
		case a.ep < load.swaps && a.start.After(swapped[a.ep+1]):
			res.stale++
			problem = fmt.Sprintf("endpoint %d answered %v after it was replaced", a.ep, a.start.Sub(swapped[a.ep+1]).Round(time.Millisecond))
		}
		if problem != "" && len(res.examples) < 5 {
			res.examples = append(res.examples, problem)
		}
	}
	return res
}

// ask sends one request and reads which endpoint answered.
func ask(c *http.Client, url, host string) answer {
	a := answer{start: time.Now(), ep: -1}
	trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { a.reused = i.Reused }}
	req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), "GET", url, nil)
	req.Host = host
	resp, err := c.Do(req)
	if err != nil {
		a.err = err.Error()
		return a
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if n, convErr := strconv.Atoi(string(body)); err == nil && convErr == nil && resp.StatusCode == 200 {
		a.ep = n
	} else {
		a.err = fmt.Sprintf("%d %q %v", resp.StatusCode, body, err)
	}
	return a
}

// numberedBackend answers with its number, on a port of its own loopback
// address 127.0.0.(2+i%200), so that consecutive endpoints differ in both;
// with release, requests for /slow wait for it to close.
func numberedBackend(t testing.TB, i int, release <-chan struct{}) (*http.Server, netip.AddrPort) {
	t.Helper()
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.%d:0", 2+i%200))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path == "/slow" && release != nil {
			<-release
		}
		fmt.Fprint(w, i)
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	return srv, ln.Addr().(*net.TCPAddr).AddrPort()
}

// endpointSlice holds one ready endpoint of Service svc's port "http".
func endpointSlice(ns, svc string, ep netip.AddrPort) *discoveryv1.EndpointSlice {
	name, port := "http", int32(ep.Port())
	return &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: ns, Name: svc + "-1", Labels: map[string]string{discoveryv1.LabelServiceName: svc}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: &name, Port: &port}},
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{ep.Addr().String()}}},
	}
}
