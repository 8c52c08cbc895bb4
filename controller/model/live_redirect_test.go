package model_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/external-haproxy/kit/controller/model"
	"github.com/external-haproxy/kit/test/haproxybin"
	"github.com/external-haproxy/kit/test/liveproxy"
)

// The live tests of the Path and Host request keys: real haproxy on the
// render of a snapshot, real requests from 127.0.0.1.

// annotated is ingress with haproxy-ingress.github.io/ annotations.
func annotated(name, host, path, svc string, keys map[string]string) *networkingv1.Ingress {
	ing := ingress(name, host, path, svc)
	if len(keys) > 0 {
		ing.Annotations = map[string]string{}
		for k, v := range keys {
			ing.Annotations["haproxy-ingress.github.io/"+k] = v
		}
	}
	return ing
}

// withTLS declares the Ingress's host as TLS, with a Secret that does not
// exist: the default certificate is served, but TLS counts as configured.
func withTLS(ing *networkingv1.Ingress) *networkingv1.Ingress {
	ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{ing.Spec.Rules[0].Host}, SecretName: "missing"}}
	return ing
}

// echoSnapshot is a snapshot of ings whose paths all use the echo Service
// ns/web.
func echoSnapshot(t *testing.T, ings ...*networkingv1.Ingress) *model.Snapshot {
	snap := &model.Snapshot{Ingresses: ings}
	liveproxy.Backend(t, snap, "ns", "web", nil)
	return snap
}

// wantEcho checks that r is the echo backend's answer and returns it.
func wantEcho(t *testing.T, what string, r *liveproxy.Response) *liveproxy.Echo {
	t.Helper()
	e := r.Echo()
	if r.Status != 200 || e == nil {
		t.Fatalf("%s: status %d %q, want the echo backend's 200", what, r.Status, r.Body)
	}
	return e
}

// wantStatus checks the status of r, and its Location when location is set.
func wantStatus(t *testing.T, what string, r *liveproxy.Response, status int, location string) {
	t.Helper()
	if r.Status != status || location != "" && r.Header.Get("Location") != location {
		t.Errorf("%s: status %d Location %q, want %d %q", what, r.Status, r.Header.Get("Location"), status, location)
	}
}

func TestLiveSSLRedirect(t *testing.T) {
	haproxybin.Run(t, func(t *testing.T, hb haproxybin.Build) {
		snap := echoSnapshot(t,
			withTLS(ingress("a", "a.test", "/", "web")),
			withTLS(annotated("b", "b.test", "/", "web", map[string]string{"ssl-redirect": "false"})),
			ingress("c", "c.test", "/", "web"))
		p := liveproxy.Start(t, hb.Path, snap, model.Options{})
		https := "https://a.test:" + strconv.Itoa(p.HTTPSPort)
		wantStatus(t, "http to a TLS host", p.Get(t, "http", "a.test", "/x/y?q=1&r"), 302, https+"/x/y?q=1&r")
		wantEcho(t, "https to a TLS host", p.Get(t, "https", "a.test", "/x"))
		wantEcho(t, "ssl-redirect false", p.Get(t, "http", "b.test", "/x"))
		wantEcho(t, "host without TLS", p.Get(t, "http", "c.test", "/x"))
		e := wantEcho(t, "no-tls-redirect-locations", p.Get(t, "http", "a.test", "/.well-known/acme-challenge/x"))
		if e.TLS || e.Header.Get("X-Forwarded-Proto") != "http" || e.Path != "/.well-known/acme-challenge/x" {
			t.Errorf("ACME challenge: %+v, want it over http", e)
		}

		snap.ConfigMap = map[string]string{"ssl-redirect-code": "308", "no-tls-redirect-locations": "/static"}
		p = liveproxy.Start(t, hb.Path, snap, model.Options{})
		https = "https://a.test:" + strconv.Itoa(p.HTTPSPort)
		wantStatus(t, "ssl-redirect-code 308", p.Get(t, "http", "a.test", "/x"), 308, https+"/x")
		wantStatus(t, "ACME path no longer kept on http", p.Get(t, "http", "a.test", "/.well-known/acme-challenge/x"), 308, "")
		wantEcho(t, "no-tls-redirect-locations /static", p.Get(t, "http", "a.test", "/static/a.css"))
	})
}

func TestLiveRewriteTarget(t *testing.T) {
	haproxybin.Run(t, func(t *testing.T, hb haproxybin.Build) {
		p := liveproxy.Start(t, hb.Path, echoSnapshot(t,
			annotated("a", "a.test", "/api", "web", map[string]string{"rewrite-target": "/v1"}),
			annotated("b", "b.test", "/api", "web", map[string]string{"rewrite-target": "/"})), model.Options{})
		for _, c := range []struct{ host, path, want string }{
			{"a.test", "/api/users?x=1", "/v1/users?x=1"},
			{"a.test", "/api", "/v1/"},
			{"b.test", "/api/users?x=1", "/users?x=1"},
			{"b.test", "/api", "/"},
		} {
			if e := wantEcho(t, c.host+c.path, p.Get(t, "http", c.host, c.path)); e.Path != c.want {
				t.Errorf("%s%s reached the backend as %q, want %q", c.host, c.path, e.Path, c.want)
			}
		}
	})
}

func TestLiveAppRoot(t *testing.T) {
	haproxybin.Run(t, func(t *testing.T, hb haproxybin.Build) {
		p := liveproxy.Start(t, hb.Path, echoSnapshot(t,
			annotated("a", "a.test", "/", "web", map[string]string{"app-root": "/app"})), model.Options{})
		wantStatus(t, "app-root", p.Get(t, "http", "a.test", "/"), 302, "/app")
		if e := wantEcho(t, "another path", p.Get(t, "http", "a.test", "/app")); e.Path != "/app" {
			t.Errorf("/app reached the backend as %q", e.Path)
		}
	})
}

// TestLiveSourceRanges: the client is 127.0.0.1. A Service annotation
// overrides the Ingress's, which overrides the IngressClass parameters.
func TestLiveSourceRanges(t *testing.T) {
	haproxybin.Run(t, func(t *testing.T, hb haproxybin.Build) {
		classed := func(ing *networkingv1.Ingress) *networkingv1.Ingress {
			class := "locked"
			ing.Spec.IngressClassName = &class
			return ing
		}
		snap := echoSnapshot(t,
			annotated("allow", "allow.test", "/", "web", map[string]string{"allowlist-source-range": "192.0.2.0/24, 127.0.0.1"}),
			annotated("other", "other.test", "/", "web", map[string]string{"allowlist-source-range": "10.0.0.0/8"}),
			annotated("alias", "alias.test", "/", "web", map[string]string{"whitelist-source-range": "10.0.0.0/8"}),
			annotated("deny", "deny.test", "/", "web", map[string]string{"denylist-source-range": "127.0.0.0/8"}),
			annotated("svc", "svc.test", "/", "locked-svc", map[string]string{"allowlist-source-range": "127.0.0.1"}),
			classed(ingress("class", "class.test", "/", "web")),
			classed(annotated("over", "over.test", "/", "web", map[string]string{"allowlist-source-range": "127.0.0.1"})))
		liveproxy.Backend(t, snap, "ns", "locked-svc", nil)
		svc := snap.Services[len(snap.Services)-1]
		svc.Annotations = map[string]string{"haproxy-ingress.github.io/allowlist-source-range": "10.0.0.0/8"}
		snap.ClassParameters = map[string]model.ClassParameters{"locked": {
			Source: model.Ref{Kind: "ConfigMap", Namespace: "ingress", Name: "locked"},
			Data:   map[string]string{"allowlist-source-range": "10.0.0.0/8"}}}
		p := liveproxy.Start(t, hb.Path, snap, model.Options{})
		for _, c := range []struct {
			host   string
			status int
		}{
			{"allow.test", 200}, {"other.test", 403}, {"alias.test", 403}, {"deny.test", 403},
			{"svc.test", 403}, {"class.test", 403}, {"over.test", 200},
		} {
			if r := p.Get(t, "http", c.host, "/"); r.Status != c.status {
				t.Errorf("%s: status %d, want %d", c.host, r.Status, c.status)
			}
		}
	})
}

// TestLiveHSTS: the header is on https answers of hosts with TLS
// configured only.
func TestLiveHSTS(t *testing.T) {
	haproxybin.Run(t, func(t *testing.T, hb haproxybin.Build) {
		p := liveproxy.Start(t, hb.Path, echoSnapshot(t,
			withTLS(annotated("a", "a.test", "/", "web", map[string]string{"ssl-redirect": "false",
				"hsts-max-age": "60", "hsts-include-subdomains": "true", "hsts-preload": "true"})),
			withTLS(ingress("d", "d.test", "/", "web")),
			ingress("b", "b.test", "/", "web")), model.Options{})
		hsts := func(scheme, host string) string {
			r := p.Get(t, scheme, host, "/")
			wantEcho(t, scheme+"://"+host, r)
			return r.Header.Get("Strict-Transport-Security")
		}
		if got := hsts("https", "a.test"); got != "max-age=60; includeSubDomains; preload" {
			t.Errorf("https a.test: Strict-Transport-Security %q", got)
		}
		if got := hsts("https", "d.test"); got != "max-age=15768000" {
			t.Errorf("https d.test (defaults): Strict-Transport-Security %q", got)
		}
		if got := hsts("http", "a.test"); got != "" {
			t.Errorf("http a.test: Strict-Transport-Security %q, want none on http", got)
		}
		if got := hsts("https", "b.test"); got != "" {
			t.Errorf("https b.test, no spec.tls: Strict-Transport-Security %q, want none", got)
		}
	})
}

func TestLiveRedirectTo(t *testing.T) {
	haproxybin.Run(t, func(t *testing.T, hb haproxybin.Build) {
		snap := echoSnapshot(t,
			annotated("a", "a.test", "/old", "web", map[string]string{"redirect-to": "https://www.app.test/login?from=old%2Fx"}),
			ingress("b", "a.test", "/new", "web"))
		p := liveproxy.Start(t, hb.Path, snap, model.Options{})
		for _, scheme := range []string{"http", "https"} {
			wantStatus(t, scheme+" redirect-to", p.Get(t, scheme, "a.test", "/old/x?y=1"), 302, "https://www.app.test/login?from=old%2Fx")
			wantEcho(t, scheme+" another path", p.Get(t, scheme, "a.test", "/new"))
		}
		snap.ConfigMap = map[string]string{"redirect-to-code": "301"}
		p = liveproxy.Start(t, hb.Path, snap, model.Options{})
		wantStatus(t, "redirect-to-code 301", p.Get(t, "http", "a.test", "/old"), 301, "https://www.app.test/login?from=old%2Fx")
	})
}

// smallReads reads at most 512 bytes at a time: Go sends each read as a
// chunk, and haproxy, which counts the announced rest of the chunk it
// reads, then knows no more of the body than it buffers.
type smallReads struct{ r io.Reader }

func (s smallReads) Read(b []byte) (int, error) { return s.r.Read(b[:min(len(b), 512)]) }

// TestLiveProxyBodySize: 1k refuses 1025 bytes and accepts 1024, whether
// the size is announced (Content-Length) or not (chunked).
func TestLiveProxyBodySize(t *testing.T) {
	haproxybin.Run(t, func(t *testing.T, hb haproxybin.Build) {
		snap := echoSnapshot(t,
			annotated("a", "a.test", "/", "web", map[string]string{"proxy-body-size": "1k"}),
			annotated("b", "b.test", "/", "web", map[string]string{"proxy-body-size": "unlimited"}),
			ingress("c", "c.test", "/", "web"),
			annotated("d", "d.test", "/", "web", map[string]string{"proxy-body-size": "100k"}))
		snap.ConfigMap = map[string]string{"proxy-body-size": "10k"}
		p := liveproxy.Start(t, hb.Path, snap, model.Options{})
		// post writes the request while it reads the answer: haproxy may
		// refuse a body before it is all sent, and a client that waits to
		// finish writing first can meet the closed connection instead.
		post := func(host string, size int, chunked bool) int {
			conn, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(p.HTTPPort))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			body := io.Reader(strings.NewReader(strings.Repeat("x", size)))
			if chunked {
				body = smallReads{body}
			}
			req, err := http.NewRequest("POST", "http://"+host+"/", body)
			if err != nil {
				t.Fatal(err)
			}
			if chunked {
				req.ContentLength, req.TransferEncoding = -1, []string{"chunked"}
			} else {
				req.ContentLength = int64(size)
			}
			go req.Write(conn) // its error is the answer's to tell
			resp, err := http.ReadResponse(bufio.NewReader(conn), req)
			if err != nil {
				t.Fatalf("POST %s, %d bytes, chunked %v: %v", host, size, chunked, err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		for _, c := range []struct {
			host   string
			size   int
			status int
		}{
			{"a.test", 1024, 200}, {"a.test", 1025, 413}, {"a.test", 0, 200},
			{"b.test", 20000, 200},
			{"c.test", 10240, 200}, {"c.test", 10241, 413},
			{"d.test", 100 << 10, 200},
		} {
			for _, chunked := range []bool{false, true} {
				if got := post(c.host, c.size, chunked); got != c.status {
					t.Errorf("%s, %d bytes, chunked %v: status %d, want %d", c.host, c.size, chunked, got, c.status)
				}
			}
		}
		// Beyond haproxy's buffer a Content-Length is still checked; a
		// body of many chunks only on what the buffer holds.
		if got := post("d.test", 100<<10+1, false); got != 413 {
			t.Errorf("d.test, Content-Length over 100k: status %d, want 413", got)
		}
		if got := post("d.test", 100<<10+1, true); got != 200 {
			t.Errorf("d.test, chunked over 100k: status %d, want 200 (only the buffer is checked)", got)
		}
	})
}

// TestLiveRedirectFrom: requests for the source hosts go to the Ingress's
// host, same scheme, port, path and query; hosts that routes serve are not
// redirected.
func TestLiveRedirectFrom(t *testing.T) {
	haproxybin.Run(t, func(t *testing.T, hb haproxybin.Build) {
		snap := echoSnapshot(t,
			annotated("www", "www.app.test", "/", "web", map[string]string{"redirect-from": "app.test"}),
			annotated("wild", "shop.test", "/", "web", map[string]string{"redirect-from": "*.shop.test"}),
			annotated("re", "new.test", "/", "web", map[string]string{"redirect-from-regex": `^old[0-9]+\.test$`}),
			ingress("served", "kept.shop.test", "/only", "web"),
			ingress("old1", "old1.test", "/", "web"))
		p := liveproxy.Start(t, hb.Path, snap, model.Options{})
		httpPort, httpsPort := ":"+strconv.Itoa(p.HTTPPort), ":"+strconv.Itoa(p.HTTPSPort)
		wantStatus(t, "http source", p.Get(t, "http", "app.test", "/a/b?c=d"), 302, "http://www.app.test"+httpPort+"/a/b?c=d")
		wantStatus(t, "https source", p.Get(t, "https", "app.test", "/a?b"), 302, "https://www.app.test"+httpsPort+"/a?b")
		wantStatus(t, "wildcard source", p.Get(t, "http", "x.shop.test", "/"), 302, "http://shop.test"+httpPort+"/")
		wantStatus(t, "regex source", p.Get(t, "http", "old22.test", "/z"), 302, "http://new.test"+httpPort+"/z")
		wantEcho(t, "the target", p.Get(t, "http", "www.app.test", "/a"))
		// A route host is served, even on a path it has no route for.
		wantEcho(t, "host served under a wildcard source", p.Get(t, "http", "kept.shop.test", "/only"))
		wantStatus(t, "host served, other path", p.Get(t, "http", "kept.shop.test", "/other"), 404, "")
		wantEcho(t, "host served under a regex source", p.Get(t, "http", "old1.test", "/"))
		wantStatus(t, "not a source", p.Get(t, "http", "old.test", "/"), 404, "")

		snap.ConfigMap = map[string]string{"redirect-from-code": "301"}
		p = liveproxy.Start(t, hb.Path, snap, model.Options{})
		wantStatus(t, "redirect-from-code 301", p.Get(t, "http", "app.test", "/"), 301, "http://www.app.test:"+strconv.Itoa(p.HTTPPort)+"/")
	})
}
