package model_test

import (
	"bufio"
	"crypto/tls"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/external-haproxy/kit/controller/model"
	"github.com/external-haproxy/kit/internal/loopback"
	"github.com/external-haproxy/kit/test/haproxybin"
	"github.com/external-haproxy/kit/test/liveproxy"
)

// TestLiveUseProxyProtocol: with use-proxy-protocol the http frontend reads
// the PROXY header of the proxy in front, and the backend sees the client
// address that header names; a connection without the header is refused.
func TestLiveUseProxyProtocol(t *testing.T) {
	haproxybin.Run(t, func(t *testing.T, hb haproxybin.Build) {
		snap := &model.Snapshot{ConfigMap: map[string]string{"use-proxy-protocol": "true"}}
		liveproxy.Backend(t, snap, "ns", "web", nil)
		snap.Ingresses = []*networkingv1.Ingress{ingress("web", "web.test", "/", "web")}
		p := liveproxy.Start(t, hb.Path, snap, model.Options{})
		send := func(header string) (*http.Response, error) {
			conn, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(p.HTTPPort))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			// 192.0.2.9 is only a value in the header (TEST-NET-1): nothing is sent there.
			io.WriteString(conn, header+"GET / HTTP/1.1\r\nHost: web.test\r\nConnection: close\r\n\r\n")
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				return nil, err
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var e liveproxy.Echo
			if json.Unmarshal(body, &e) == nil {
				resp.Header.Set("X-Seen-Forwarded-For", e.Header.Get("X-Forwarded-For"))
			}
			return resp, nil
		}
		resp, err := send("PROXY TCP4 192.0.2.9 127.0.0.1 5555 80\r\n")
		if err != nil || resp.StatusCode != 200 || resp.Header.Get("X-Seen-Forwarded-For") != "192.0.2.9" {
			t.Errorf("with a PROXY header: %v, %+v; want 200 with X-Forwarded-For 192.0.2.9 at the backend", err, resp)
		}
		if resp, err := send(""); err == nil && resp.StatusCode == 200 {
			t.Errorf("without a PROXY header: served (%d), want the connection refused", resp.StatusCode)
		}
	})
}

// TestLiveBindHTTPS: bind-https listens on each of its addresses, and the
// https redirect of a TLS host names the first one's port.
func TestLiveBindHTTPS(t *testing.T) {
	haproxybin.Run(t, func(t *testing.T, hb haproxybin.Build) {
		port := strconv.Itoa(loopback.Ports(t, 1)[0])
		snap := &model.Snapshot{ConfigMap: map[string]string{"bind-https": "127.0.0.1:" + port + ", 127.0.0.2:" + port}}
		liveproxy.Backend(t, snap, "ns", "web", nil)
		web := ingress("web", "web.test", "/", "web")
		web.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{"web.test"}, SecretName: "none"}}
		snap.Ingresses = []*networkingv1.Ingress{web}
		p := liveproxy.Start(t, hb.Path, snap, model.Options{})
		for _, ip := range []string{"127.0.0.1", "127.0.0.2"} {
			c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, DisableKeepAlives: true}}
			req, _ := http.NewRequest("GET", "https://"+ip+":"+port+"/", nil)
			req.Host = "web.test"
			resp, err := c.Do(req)
			if err != nil || resp.StatusCode != 200 {
				t.Errorf("https://%s:%s/: %v %v, want 200", ip, port, resp, err)
				continue
			}
			resp.Body.Close()
		}
		if r := p.Get(t, "http", "web.test", "/a"); r.Status != 302 || r.Header.Get("Location") != "https://web.test:"+port+"/a" {
			t.Errorf("http://web.test/a: %d to %q, want 302 to https://web.test:%s/a", r.Status, r.Header.Get("Location"), port)
		}
	})
}

// TestLiveFrontingProxy: on fronting-proxy-port a request that a load
// balancer ended TLS for (X-Forwarded-Proto https) is served as an https
// one, with HSTS and the client's address; one without is redirected to
// https as on the http port, unless use-forwarded-proto is false.
func TestLiveFrontingProxy(t *testing.T) {
	haproxybin.Run(t, func(t *testing.T, hb haproxybin.Build) {
		for _, forwarded := range []string{"true", "false"} {
			port := strconv.Itoa(loopback.Ports(t, 1)[0])
			snap := &model.Snapshot{ConfigMap: map[string]string{"fronting-proxy-port": port, "use-forwarded-proto": forwarded}}
			liveproxy.Backend(t, snap, "ns", "web", nil)
			web := ingress("web", "web.test", "/", "web")
			web.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{"web.test"}, SecretName: "none"}}
			snap.Ingresses = []*networkingv1.Ingress{web}
			p := liveproxy.Start(t, hb.Path, snap, model.Options{})
			send := func(proto string) (*http.Response, *liveproxy.Echo) {
				t.Helper()
				req, _ := http.NewRequest("GET", "http://127.0.0.1:"+port+"/a", nil)
				req.Host = "web.test"
				if proto != "" {
					req.Header.Set("X-Forwarded-Proto", proto)
				}
				c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true},
					CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
				resp, err := c.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				body, _ := io.ReadAll(resp.Body)
				r := liveproxy.Response{Status: resp.StatusCode, Header: resp.Header, Body: string(body)}
				return resp, r.Echo()
			}
			resp, echo := send("https")
			if resp.StatusCode != 200 || resp.Header.Get("Strict-Transport-Security") == "" || echo == nil ||
				echo.Header.Get("X-Forwarded-Proto") != "https" || echo.Header.Get("X-Forwarded-For") != "127.0.0.1" {
				t.Errorf("use-forwarded-proto %s, X-Forwarded-Proto https: %d, HSTS %q, backend saw %+v; want 200 with HSTS, https and the client's address",
					forwarded, resp.StatusCode, resp.Header.Get("Strict-Transport-Security"), echo)
			}
			for _, proto := range []string{"", "http"} {
				resp, _ := send(proto)
				redirect := "https://web.test:" + strconv.Itoa(p.HTTPSPort) + "/a"
				switch {
				case forwarded == "true" && (resp.StatusCode != 302 || resp.Header.Get("Location") != redirect):
					t.Errorf("X-Forwarded-Proto %q: %d to %q, want 302 to %s", proto, resp.StatusCode, resp.Header.Get("Location"), redirect)
				case forwarded == "false" && (resp.StatusCode != 200 || resp.Header.Get("Strict-Transport-Security") == ""):
					t.Errorf("use-forwarded-proto false, X-Forwarded-Proto %q: %d, HSTS %q; want 200 as https", proto, resp.StatusCode, resp.Header.Get("Strict-Transport-Security"))
				}
			}
		}
	})
}
