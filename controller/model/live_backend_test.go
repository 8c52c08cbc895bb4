package model_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"maps"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/external-haproxy/kit/controller/haproxy/runtime"
	"github.com/external-haproxy/kit/controller/model"
	"github.com/external-haproxy/kit/test/haproxybin"
	"github.com/external-haproxy/kit/test/liveproxy"
	"github.com/external-haproxy/kit/test/poll"
	"github.com/external-haproxy/kit/test/testcert"
)

// hangs answers nothing until haproxy gives up on the request.
var hangs = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })

// twoEndpoints adds the echo Service ns/name with two endpoints and
// returns their addresses, in slot order.
func twoEndpoints(t *testing.T, snap *model.Snapshot, name string) [2]string {
	a := liveproxy.Backend(t, snap, "ns", name, nil)
	b := liveproxy.Endpoint(t, snap, "ns", name, nil)
	addr := func(p int) string { return "127.0.0.1:" + strconv.Itoa(p) }
	if a > b {
		return [2]string{addr(b), addr(a)}
	}
	return [2]string{addr(a), addr(b)}
}

// served is the endpoint that answered a request for host, failing unless
// it is an echo.
func served(t *testing.T, p *liveproxy.Proxy, host string) string {
	t.Helper()
	r := p.Get(t, "http", host, "/")
	e := r.Echo()
	if r.Status != 200 || e == nil {
		t.Fatalf("%s: status %d %q, want an echo", host, r.Status, r.Body)
	}
	return e.Server
}

// TestLiveTimeoutServer: the backend of the Ingress that sets
// timeout-server answers 504 once its server is silent that long; another
// backend, with the default, still serves.
func TestLiveTimeoutServer(t *testing.T) {
	haproxybin.Run(t, func(t *testing.T, hb haproxybin.Build) {
		snap := &model.Snapshot{}
		liveproxy.Backend(t, snap, "ns", "slow", &http.Server{Handler: hangs})
		liveproxy.Backend(t, snap, "ns", "web", nil)
		slow := ingress("slow", "slow.test", "/", "slow")
		slow.Annotations = map[string]string{"haproxy-ingress.github.io/timeout-server": "200ms"}
		snap.Ingresses = []*networkingv1.Ingress{slow, ingress("web", "web.test", "/", "web")}
		p := liveproxy.Start(t, hb.Path, snap, model.Options{})
		if r := p.Get(t, "http", "slow.test", "/"); r.Status != 504 {
			t.Errorf("slow.test: status %d, want 504 after timeout-server", r.Status)
		}
		served(t, p, "web.test")
	})
}

// TestLiveBalanceAlgorithm: balance-algorithm first sends every request to
// the first server while it is up; the default roundrobin alternates.
func TestLiveBalanceAlgorithm(t *testing.T) {
	haproxybin.Run(t, func(t *testing.T, hb haproxybin.Build) {
		snap := &model.Snapshot{}
		firstEps := twoEndpoints(t, snap, "first")
		rrEps := twoEndpoints(t, snap, "rr")
		first := ingress("first", "first.test", "/", "first")
		first.Annotations = map[string]string{"haproxy-ingress.github.io/balance-algorithm": "first"}
		snap.Ingresses = []*networkingv1.Ingress{first, ingress("rr", "rr.test", "/", "rr")}
		p := liveproxy.Start(t, hb.Path, snap, model.Options{})
		for i := range 4 {
			if got := served(t, p, "first.test"); got != firstEps[0] {
				t.Errorf("first.test request %d: served by %s, want the first server %s", i, got, firstEps[0])
			}
		}
		prev := served(t, p, "rr.test")
		for i := range 4 {
			got := served(t, p, "rr.test")
			if got == prev || got != rrEps[0] && got != rrEps[1] {
				t.Errorf("rr.test request %d: served by %s after %s, want the other of %v", i, got, prev, rrEps)
			}
			prev = got
		}
	})
}

// sticky sends n requests for host with the cookie and fails unless want
// answers each.
func sticky(t *testing.T, p *liveproxy.Proxy, host string, ck *http.Cookie, want string, n int) {
	t.Helper()
	for i := range n {
		req, _ := http.NewRequest("GET", "http://x/", nil)
		req.Host = host
		req.AddCookie(ck)
		r := p.Do(t, req)
		if e := r.Echo(); e == nil || e.Server != want {
			t.Fatalf("%s request %d with cookie %s: answer %d %q, want %s", host, i, ck, r.Status, r.Body, want)
		}
	}
}

// firstCookie is the endpoint that answers a request for host without
// cookie and the affinity cookie it sets.
func firstCookie(t *testing.T, p *liveproxy.Proxy, host, name string) (string, *http.Cookie) {
	t.Helper()
	r := p.Get(t, "http", host, "/")
	e := r.Echo()
	resp := http.Response{Header: r.Header}
	for _, ck := range resp.Cookies() {
		if ck.Name == name && e != nil {
			return e.Server, ck
		}
	}
	t.Fatalf("%s: answer %d %v %q, want an echo setting cookie %s", host, r.Status, r.Header, r.Body, name)
	return "", nil
}

// TestLiveCookieAffinity: the first answer sets the affinity cookie, and
// requests that send it back stay on the endpoint that answered, two
// endpoints roundrobin otherwise. A dynamic cookie follows its endpoint
// when the runtime API moves it to another slot, as the controller does;
// a slot-name cookie (session-cookie-dynamic false) stays with the slot.
func TestLiveCookieAffinity(t *testing.T) {
	haproxybin.Run(t, func(t *testing.T, hb haproxybin.Build) {
		snap := &model.Snapshot{}
		dynEps := twoEndpoints(t, snap, "dyn")
		named := twoEndpoints(t, snap, "named")
		dyn := ingress("dyn", "dyn.test", "/", "dyn")
		dyn.Annotations = map[string]string{"haproxy-ingress.github.io/affinity": "cookie"}
		byName := ingress("named", "named.test", "/", "named")
		byName.Annotations = map[string]string{"haproxy-ingress.github.io/affinity": "cookie", "haproxy-ingress.github.io/session-cookie-dynamic": "false",
			"haproxy-ingress.github.io/session-cookie-name": "SRV"}
		snap.Ingresses = []*networkingv1.Ingress{dyn, byName}
		p := liveproxy.Start(t, hb.Path, snap, model.Options{})

		ep, ck := firstCookie(t, p, "named.test", "SRV")
		slot := map[string]string{named[0]: "srv001", named[1]: "srv002"}[ep]
		if ck.Value != slot {
			t.Errorf("named.test: cookie %s from %s, want the slot name %s", ck, ep, slot)
		}
		sticky(t, p, "named.test", ck, ep, 10)

		ep, ck = firstCookie(t, p, "dyn.test", "INGRESSCOOKIE")
		sticky(t, p, "dyn.test", ck, ep, 10)
		// The endpoint moves from its slot to the free srv003.
		port, _ := strconv.Atoi(ep[len("127.0.0.1:"):])
		from := map[string]string{dynEps[0]: "srv001", dynEps[1]: "srv002"}[ep]
		for _, op := range []model.SlotOp{
			{Backend: "ns_dyn_80", Server: "srv003", Action: model.SlotAddr, Addr: "127.0.0.1", Port: port},
			{Backend: "ns_dyn_80", Server: "srv003", Action: model.SlotReady},
			{Backend: "ns_dyn_80", Server: from, Action: model.SlotMaint},
		} {
			if out := p.Runtime(t, runtime.SetServer(op)); strings.Contains(out, "No such") || strings.Contains(out, "invalid") {
				t.Fatalf("%s: %s", runtime.SetServer(op), out)
			}
		}
		sticky(t, p, "dyn.test", ck, ep, 10)
	})
}

// TestLiveCookieSameSiteShared: session-cookie-same-site sends the cookie
// with SameSite=None and Secure; session-cookie-shared gives it the
// domain of every host routed to the backend, whichever was asked.
func TestLiveCookieSameSiteShared(t *testing.T) {
	haproxybin.Run(t, func(t *testing.T, hb haproxybin.Build) {
		snap := &model.Snapshot{}
		liveproxy.Backend(t, snap, "ns", "web", nil)
		a := ingress("a", "a.b.test", "/", "web")
		a.Annotations = map[string]string{"haproxy-ingress.github.io/affinity": "cookie",
			"haproxy-ingress.github.io/session-cookie-same-site": "true", "haproxy-ingress.github.io/session-cookie-shared": "true"}
		snap.Ingresses = []*networkingv1.Ingress{a, ingress("b", "*.b.test", "/", "web")}
		p := liveproxy.Start(t, hb.Path, snap, model.Options{})
		for host, domain := range map[string]string{"a.b.test": "b.test", "x.b.test": "b.test"} {
			_, ck := firstCookie(t, p, host, "INGRESSCOOKIE")
			if ck.SameSite != http.SameSiteNoneMode || !ck.Secure || strings.TrimPrefix(ck.Domain, ".") != domain {
				t.Errorf("%s: cookie %q, want SameSite=None, Secure and Domain=%s", host, ck.Raw, domain)
			}
		}
	})
}

// TestLiveBackendProtocol: backend-protocol h2 talks HTTP/2 in clear to
// the server, h1-ssl and secure-backends TLS, with the SNI secure-sni
// names, h2-ssl HTTP/2 over TLS; a backend with none of them gets
// HTTP/1.1 in clear.
func TestLiveBackendProtocol(t *testing.T) {
	haproxybin.Run(t, func(t *testing.T, hb haproxybin.Build) {
		crt, key := testcert.SelfSigned(t, testcert.ECKey(t), "backend", "backend")
		pair, err := tls.X509KeyPair(crt, key)
		if err != nil {
			t.Fatal(err)
		}
		tlsServer := func(h2 bool) *http.Server {
			cfg := &tls.Config{Certificates: []tls.Certificate{pair}, NextProtos: []string{"http/1.1"}}
			if h2 {
				cfg.NextProtos = []string{"h2"}
			}
			return &http.Server{TLSConfig: cfg}
		}
		h2c := &http.Server{Protocols: new(http.Protocols)}
		h2c.Protocols.SetUnencryptedHTTP2(true)
		snap := &model.Snapshot{}
		liveproxy.Backend(t, snap, "ns", "plain", nil)
		liveproxy.Backend(t, snap, "ns", "h2c", h2c)
		liveproxy.Backend(t, snap, "ns", "tls", tlsServer(false))
		liveproxy.Backend(t, snap, "ns", "secure", tlsServer(false))
		liveproxy.Backend(t, snap, "ns", "h2tls", tlsServer(true))
		const pre = "haproxy-ingress.github.io/"
		ing := func(name string, ann map[string]string) *networkingv1.Ingress {
			i := ingress(name, name+".test", "/", name)
			i.Annotations = ann
			return i
		}
		snap.Ingresses = []*networkingv1.Ingress{
			ing("plain", nil),
			ing("h2c", map[string]string{pre + "backend-protocol": "h2"}),
			ing("tls", map[string]string{pre + "backend-protocol": "h1-ssl", pre + "secure-sni": "host"}),
			ing("secure", map[string]string{pre + "secure-backends": "true", pre + "secure-sni": "backend.example"}),
			ing("h2tls", map[string]string{pre + "backend-protocol": "grpcs"}),
		}
		p := liveproxy.Start(t, hb.Path, snap, model.Options{})
		for _, c := range []struct {
			host, proto string
			tls         bool
			sni         string
		}{
			{"plain.test", "HTTP/1.1", false, ""},
			{"h2c.test", "HTTP/2.0", false, ""},
			{"tls.test", "HTTP/1.1", true, "tls.test"},
			{"secure.test", "HTTP/1.1", true, "backend.example"},
			{"h2tls.test", "HTTP/2.0", true, ""},
		} {
			r := p.Get(t, "http", c.host, "/")
			e := r.Echo()
			if e == nil || e.Proto != c.proto || e.TLS != c.tls || e.SNI != c.sni {
				t.Errorf("%s: answer %d %q, want an echo of %s, TLS %v, SNI %q", c.host, r.Status, r.Body, c.proto, c.tls, c.sni)
			}
		}
	})
}

// TestLiveBackendTLSSecrets: secure-verify-ca-secret makes haproxy refuse
// a server whose certificate does not chain to the Secret's ca.crt (503)
// and accept one that does; secure-crt-secret presents the Secret's
// certificate to a server that requires one, which fails without.
func TestLiveBackendTLSSecrets(t *testing.T) {
	haproxybin.Run(t, func(t *testing.T, hb haproxybin.Build) {
		serverCrt, serverKey := testcert.SelfSigned(t, testcert.ECKey(t), "backend", "backend")
		otherCrt, _ := testcert.SelfSigned(t, testcert.ECKey(t), "other", "other")
		clientCrt, clientKey := testcert.SelfSigned(t, testcert.ECKey(t), "client", "client")
		pair, err := tls.X509KeyPair(serverCrt, serverKey)
		if err != nil {
			t.Fatal(err)
		}
		server := func(auth tls.ClientAuthType) *http.Server {
			return &http.Server{TLSConfig: &tls.Config{Certificates: []tls.Certificate{pair}, ClientAuth: auth}}
		}
		snap := &model.Snapshot{Secrets: []*corev1.Secret{
			{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "ca"}, Data: map[string][]byte{"ca.crt": serverCrt}},
			{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "other-ca"}, Data: map[string][]byte{"ca.crt": otherCrt}},
			{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "client"}, Type: corev1.SecretTypeTLS,
				Data: map[string][]byte{"tls.crt": clientCrt, "tls.key": clientKey}},
		}}
		const pre = "haproxy-ingress.github.io/"
		var ings []*networkingv1.Ingress
		for _, c := range []struct {
			name string
			auth tls.ClientAuthType
			ann  map[string]string
		}{
			{"trusted", tls.NoClientCert, map[string]string{pre + "secure-verify-ca-secret": "ca"}},
			{"untrusted", tls.NoClientCert, map[string]string{pre + "secure-verify-ca-secret": "other-ca"}},
			{"client", tls.RequireAnyClientCert, map[string]string{pre + "secure-crt-secret": "client"}},
			{"anonymous", tls.RequireAnyClientCert, nil},
		} {
			liveproxy.Backend(t, snap, "ns", c.name, server(c.auth))
			ing := ingress(c.name, c.name+".test", "/", c.name)
			// A short timeout-connect makes haproxy's retries of the
			// refused handshakes quick.
			ing.Annotations = map[string]string{pre + "backend-protocol": "h1-ssl", pre + "secure-sni": "backend", pre + "timeout-connect": "100ms"}
			maps.Copy(ing.Annotations, c.ann)
			ings = append(ings, ing)
		}
		snap.Ingresses = ings
		p := liveproxy.Start(t, hb.Path, snap, model.Options{})
		// The server refuses a missing client certificate once the TLS 1.3
		// handshake is over for haproxy: 502, or 503 if it noticed before
		// sending the request (the 0 here).
		for host, want := range map[string]int{"trusted.test": 200, "untrusted.test": 503, "client.test": 200, "anonymous.test": 0} {
			r := p.Get(t, "http", host, "/")
			if want == 0 && (r.Status == 502 || r.Status == 503) {
				continue
			}
			if r.Status != want || want == 200 && r.Echo() == nil {
				t.Errorf("%s: answer %d %q, want %d", host, r.Status, r.Body, want)
			}
		}
	})
}

// holding answers once release is closed, telling started of each request.
func holding(started chan<- struct{}, release <-chan struct{}) *http.Server {
	echo := liveproxy.EchoHandler("busy")
	return &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		<-release
		echo.ServeHTTP(w, r)
	})}
}

// reply is the status a request got, or the error that kept it from one.
type reply struct {
	status int
	err    error
}

// inBackground sends a GET of http://host/ from a goroutine of its own, as
// a client that waits while the test goes on; the reply comes back on the
// channel, since only the test's goroutine may fail the test.
func inBackground(t *testing.T, p *liveproxy.Proxy, host string, cookies ...*http.Cookie) <-chan reply {
	t.Helper()
	req, err := liveproxy.GetRequest("http", host, "/")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cookies {
		req.AddCookie(c)
	}
	c := make(chan reply, 1)
	go func() {
		r, err := p.Send(req)
		if err != nil {
			c <- reply{err: err}
			return
		}
		c <- reply{status: r.Status}
	}()
	return c
}

// held waits until holding tells of a request on started, failing the test
// if the request in the background ended before that.
func held(t *testing.T, started <-chan struct{}, background <-chan reply) {
	t.Helper()
	select {
	case <-started:
	case r := <-background:
		t.Fatalf("the request ended (status %d, %v) before the backend held it", r.status, r.err)
	}
}

// TestLiveServerLimits: with maxconn-server 1 a second request waits
// while the first is served, answered 503 after timeout-queue.
func TestLiveServerLimits(t *testing.T) {
	haproxybin.Run(t, func(t *testing.T, hb haproxybin.Build) {
		started, release := make(chan struct{}, 2), make(chan struct{})
		snap := &model.Snapshot{}
		liveproxy.Backend(t, snap, "ns", "conn", holding(started, release))
		conn := ingress("conn", "conn.test", "/", "conn")
		conn.Annotations = map[string]string{"haproxy-ingress.github.io/maxconn-server": "1", "haproxy-ingress.github.io/timeout-queue": "200ms"}
		snap.Ingresses = []*networkingv1.Ingress{conn}
		p := liveproxy.Start(t, hb.Path, snap, model.Options{})

		first := inBackground(t, p, "conn.test")
		held(t, started, first)
		r := p.Get(t, "http", "conn.test", "/")
		close(release)
		if r.Status != 503 {
			t.Errorf("conn.test beyond maxconn-server: %d, want 503 after timeout-queue", r.Status)
		}
		if r := <-first; r.status != 200 {
			t.Errorf("held request: %+v, want 200 once released", r)
		}
	})
}

// TestLiveServerQueue: maxqueue-server bounds the queue of a server,
// where requests wait that must go to it (by their affinity cookie): with
// maxconn-server 1 and maxqueue-server 1, a held request and a queued one
// leave no room for a third, answered 503 at once, whatever timeout-queue.
func TestLiveServerQueue(t *testing.T) {
	haproxybin.Run(t, func(t *testing.T, hb haproxybin.Build) {
		started, release := make(chan struct{}, 3), make(chan struct{})
		snap := &model.Snapshot{}
		liveproxy.Backend(t, snap, "ns", "queue", holding(started, release))
		const pre = "haproxy-ingress.github.io/"
		queue := ingress("queue", "queue.test", "/", "queue")
		queue.Annotations = map[string]string{pre + "maxconn-server": "1", pre + "maxqueue-server": "1", pre + "timeout-queue": "1m",
			pre + "affinity": "cookie", pre + "session-cookie-dynamic": "false"}
		snap.Ingresses = []*networkingv1.Ingress{queue}
		p := liveproxy.Start(t, hb.Path, snap, model.Options{})
		srv001 := &http.Cookie{Name: "INGRESSCOOKIE", Value: "srv001"}
		first := inBackground(t, p, "queue.test", srv001)
		held(t, started, first)
		queued := inBackground(t, p, "queue.test", srv001)
		err := poll.Every(context.Background(), 3*time.Second, 10*time.Millisecond, func() (bool, error) {
			return serverQueue(t, p, "ns_queue_80", "srv001") == "1", nil
		}, nil)
		if err != nil {
			close(release)
			t.Fatalf("second request not in the server's queue: %v", err)
		}
		req, err := liveproxy.GetRequest("http", "queue.test", "/")
		if err != nil {
			t.Fatal(err)
		}
		req.AddCookie(srv001)
		s := p.Do(t, req).Status
		close(release)
		if s != 503 {
			t.Errorf("beyond maxqueue-server: %d, want 503", s)
		}
		for _, c := range []<-chan reply{first, queued} {
			if r := <-c; r.status != 200 {
				t.Errorf("held or queued request: %+v, want 200 once released", r)
			}
		}
	})
}

// TestLiveInitialWeight: initial-weight is the weight of every server of
// its backend, the spare slots' too, which endpoints fill at run time;
// other backends keep haproxy's 1.
func TestLiveInitialWeight(t *testing.T) {
	haproxybin.Run(t, func(t *testing.T, hb haproxybin.Build) {
		snap := &model.Snapshot{}
		twoEndpoints(t, snap, "heavy")
		liveproxy.Backend(t, snap, "ns", "plain", nil)
		heavy := ingress("heavy", "heavy.test", "/", "heavy")
		heavy.Annotations = map[string]string{"haproxy-ingress.github.io/initial-weight": "100"}
		snap.Ingresses = []*networkingv1.Ingress{heavy, ingress("plain", "plain.test", "/", "plain")}
		p := liveproxy.Start(t, hb.Path, snap, model.Options{})
		for _, be := range p.Model.Backends {
			want := map[string]string{"heavy": "100", "plain": "1"}[be.Service.Name]
			if want == "" {
				continue
			}
			stats, err := runtime.ParseStat(p.Runtime(t, runtime.ShowStat(be.Name)))
			if err != nil {
				t.Fatal(err)
			}
			if len(stats) < 2 {
				t.Fatalf("%s: stats of %d servers, want its endpoints and spare slots", be.Name, len(stats))
			}
			for name, st := range stats {
				if st["weight"] != want && st["uweight"] != want {
					t.Errorf("%s/%s: weight %q (uweight %q), want %s", be.Name, name, st["weight"], st["uweight"], want)
				}
			}
		}
	})
}

// serverQueue is the current queue (qcur) of server srv of backend be,
// from the runtime API's show stat.
func serverQueue(t *testing.T, p *liveproxy.Proxy, be, srv string) string {
	for _, line := range strings.Split(p.Runtime(t, "show stat"), "\n") {
		if f := strings.Split(line, ","); len(f) > 2 && f[0] == be && f[1] == srv {
			return f[2]
		}
	}
	return ""
}

// TestLiveHealthCheck: the endpoint whose health-check-uri fails is taken
// down, and every request then goes to the healthy one.
func TestLiveHealthCheck(t *testing.T) {
	haproxybin.Run(t, func(t *testing.T, hb haproxybin.Build) {
		snap := &model.Snapshot{}
		echo := liveproxy.EchoHandler("checked")
		sick := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/healthz" {
				w.WriteHeader(500)
				return
			}
			echo.ServeHTTP(w, r)
		})}
		healthy := "127.0.0.1:" + strconv.Itoa(liveproxy.Backend(t, snap, "ns", "checked", nil))
		liveproxy.Endpoint(t, snap, "ns", "checked", sick)
		ing := ingress("checked", "checked.test", "/", "checked")
		ing.Annotations = map[string]string{"haproxy-ingress.github.io/health-check-uri": "/healthz",
			"haproxy-ingress.github.io/health-check-interval": "50ms", "haproxy-ingress.github.io/health-check-fall-count": "1"}
		snap.Ingresses = []*networkingv1.Ingress{ing}
		p := liveproxy.Start(t, hb.Path, snap, model.Options{})
		err := poll.Until(context.Background(), 5*time.Second, func() (bool, error) {
			for range 4 {
				if served(t, p, "checked.test") != healthy {
					return false, nil
				}
			}
			return true, nil
		}, nil)
		if err != nil {
			t.Fatalf("requests still reach the failing endpoint: %v", err)
		}
	})
}

// TestLiveProxyProtocol: with proxy-protocol v1 the server gets a PROXY
// header naming the client's address before the request.
func TestLiveProxyProtocol(t *testing.T) {
	haproxybin.Run(t, func(t *testing.T, hb haproxybin.Build) {
		// Answers each request with the PROXY line its connection began with.
		port := serveConns(t, func(c net.Conn) {
			br := bufio.NewReader(c)
			header, _ := br.ReadString('\n')
			if _, err := http.ReadRequest(br); err != nil {
				return
			}
			fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(header), header)
		})
		snap := &model.Snapshot{}
		liveproxy.ServiceAt(snap, "ns", "pp", port)
		ing := ingress("pp", "pp.test", "/", "pp")
		ing.Annotations = map[string]string{"haproxy-ingress.github.io/proxy-protocol": "v1"}
		snap.Ingresses = []*networkingv1.Ingress{ing}
		p := liveproxy.Start(t, hb.Path, snap, model.Options{})
		if r := p.Get(t, "http", "pp.test", "/"); r.Status != 200 || !strings.HasPrefix(r.Body, "PROXY TCP4 127.0.0.1 127.0.0.1 ") {
			t.Errorf("answer %d %q, want the PROXY v1 header of a loopback client", r.Status, r.Body)
		}
	})
}
