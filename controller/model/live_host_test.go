package model_test

import (
	"crypto/sha1"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/external-haproxy/kit/controller/model"
	"github.com/external-haproxy/kit/test/haproxybin"
	"github.com/external-haproxy/kit/test/liveproxy"
	"github.com/external-haproxy/kit/test/testcert"
)

const annPrefix = "haproxy-ingress.github.io/"

// hostIngress is ingress() on host with the annotations ann (key names
// without prefix).
func hostIngress(name, host, svc string, ann map[string]string) *networkingv1.Ingress {
	ing := ingress(name, host, "/", svc)
	ing.Annotations = map[string]string{}
	for k, v := range ann {
		ing.Annotations[annPrefix+k] = v
	}
	return ing
}

func caSecret(name string, ca []byte) *corev1.Secret {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"}, Type: corev1.SecretTypeOpaque,
		Data: map[string][]byte{"ca.crt": ca}}
}

// tlsDo sends GET / with Host host over TLS with SNI sni and cfg's client
// settings; a failed handshake or request is the error.
func tlsDo(p *liveproxy.Proxy, sni, host string, cfg *tls.Config, header http.Header) (*http.Response, []byte, error) {
	cfg = cfg.Clone()
	cfg.ServerName, cfg.InsecureSkipVerify = sni, true
	client := &http.Client{Timeout: 5 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport:     &http.Transport{TLSClientConfig: cfg, DisableKeepAlives: true}}
	req, err := http.NewRequest("GET", "https://127.0.0.1:"+strconv.Itoa(p.HTTPSPort)+"/", nil)
	if err != nil {
		return nil, nil, err
	}
	req.Host = host
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp, body, err
}

// TestLiveClientCert: auth-tls-secret on a host: no certificate 496, a
// certificate of another CA 495, of the host's CA 200 with the
// X-SSL-Client-* headers (the client's own replaced), a certificate of
// another host's CA under that host's SNI 421, a revoked one 495 (here
// redirected to the error page); auth-tls-cert-header sends the
// certificate.
func TestLiveClientCert(t *testing.T) {
	ca, other := testcert.NewCA(t, "ca"), testcert.NewCA(t, "other")
	alice, mallory := ca.Client(t, "alice"), other.Client(t, "mallory\r\nX-Evil: 1")
	revoked := caSecret("revoked", ca.PEM)
	revoked.Data["ca.crl"] = ca.CRL(t, alice)
	haproxybin.Run(t, func(t *testing.T, hb haproxybin.Build) {
		snap := &model.Snapshot{Secrets: []*corev1.Secret{caSecret("ca", ca.PEM), caSecret("other", other.PEM), revoked}}
		liveproxy.Backend(t, snap, "ns", "web", nil)
		snap.Services[0].Annotations = map[string]string{annPrefix + "auth-tls-cert-header": "true"}
		snap.Ingresses = []*networkingv1.Ingress{
			hostIngress("a", "a.test", "web", map[string]string{"auth-tls-secret": "ca"}),
			hostIngress("b", "b.test", "web", map[string]string{"auth-tls-secret": "ns/other", "auth-tls-verify-client": "optional"}),
			hostIngress("c", "c.test", "web", map[string]string{"auth-tls-secret": "ca", "auth-tls-verify-client": "optional_no_ca"}),
			hostIngress("r", "r.test", "web", map[string]string{"auth-tls-secret": "revoked", "auth-tls-error-page": "https://e.test/cert"}),
		}
		p := liveproxy.Start(t, hb.Path, snap, model.Options{})
		if len(p.Problems) > 0 {
			t.Fatalf("problems: %v", p.Problems)
		}
		// Sent whatever CAs haproxy names: crypto/tls would keep back a
		// certificate of another CA.
		with := func(c tls.Certificate) *tls.Config {
			return &tls.Config{GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &c, nil }}
		}
		for _, c := range []struct {
			name, sni, host string
			cfg             *tls.Config
			status          int
		}{
			{"no certificate", "a.test", "a.test", &tls.Config{}, 496},
			{"another CA", "a.test", "a.test", with(mallory), 495},
			{"another host's SNI", "b.test", "a.test", with(mallory), 421},
			{"optional: none", "b.test", "b.test", &tls.Config{}, 200},
			{"optional: invalid", "b.test", "b.test", with(alice), 495},
			{"optional_no_ca: none", "c.test", "c.test", &tls.Config{}, 200},
			{"revoked: to the error page", "r.test", "r.test", with(alice), 302},
			{"not revoked", "r.test", "r.test", with(ca.Client(t, "bob")), 200},
		} {
			resp, _, err := tlsDo(p, c.sni, c.host, c.cfg, nil)
			if err != nil || resp.StatusCode != c.status {
				t.Errorf("%s: %v %v, want %d", c.name, resp, err, c.status)
			}
		}
		resp, body, err := tlsDo(p, "a.test", "a.test", with(alice), http.Header{"X-Ssl-Client-Cn": {"root"}, "X-Ssl-Client-Cert": {"forged"}})
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("the host's CA: %v %v, want 200", resp, err)
		}
		e := echoOf(t, body)
		sum := sha1.Sum(alice.Certificate[0])
		for h, want := range map[string]string{
			"X-Ssl-Client-Cn":   "alice",
			"X-Ssl-Client-Dn":   "/CN=alice",
			"X-Ssl-Client-Sha1": strings.ToUpper(hex.EncodeToString(sum[:])),
			"X-Ssl-Client-Cert": base64.StdEncoding.EncodeToString(alice.Certificate[0]),
		} {
			if got := e.Header.Values(h); len(got) != 1 || got[0] != want {
				t.Errorf("backend saw %s %q, want %q", h, got, want)
			}
		}
		// Not verified, so the client wrote the name: haproxy escapes
		// what would end the header line.
		resp, body, err = tlsDo(p, "c.test", "c.test", with(mallory), nil)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("optional_no_ca, another CA: %v %v, want 200", resp, err)
		}
		if e := echoOf(t, body); e.Header.Get("X-Evil") != "" || e.Header.Get("X-Ssl-Client-Cn") != "mallory%0D%0AX-Evil: 1" {
			t.Errorf("a line break in the certificate's name reached the backend: %v", e.Header)
		}
	})
}

// TestLiveServerAlias: the paths of a host answer for its aliases, a
// wildcard alias for one label, and for the hosts its alias regex finds
// but a host of its own; other hosts do not.
func TestLiveServerAlias(t *testing.T) {
	haproxybin.Run(t, func(t *testing.T, hb haproxybin.Build) {
		snap := &model.Snapshot{}
		liveproxy.Backend(t, snap, "ns", "web", nil)
		liveproxy.Backend(t, snap, "ns", "own", nil)
		snap.Ingresses = []*networkingv1.Ingress{
			hostIngress("a", "a.test", "web", map[string]string{"server-alias": "alias.test, *.wild.test", "server-alias-regex": `^app[0-9]+\.test$`}),
			hostIngress("own", "app1.test", "own", nil),
		}
		p := liveproxy.Start(t, hb.Path, snap, model.Options{})
		if len(p.Problems) > 0 {
			t.Fatalf("problems: %v", p.Problems)
		}
		for host, want := range map[string]string{"a.test": "web", "alias.test": "web", "x.wild.test": "web", "app22.test:8080": "web",
			"app1.test": "own", "x.y.wild.test": "", "other.test": "", "app.test": "", "xapp2.test": ""} {
			for _, scheme := range []string{"http", "https"} {
				r := p.Get(t, scheme, host, "/")
				if e := r.Echo(); want == "" && r.Status != 404 || want != "" && (e == nil || e.Service != want) {
					t.Errorf("%s://%s/: %d %s, want service %q (none: 404)", scheme, host, r.Status, r.Body, want)
				}
			}
		}
	})
}

// TestLiveHostTLS: ssl-ciphers, ssl-options-host and tls-alpn of a host
// shape its handshakes only: a client offering only a cipher the host left
// out fails there and succeeds on another host; ALPN gives http/1.1 there,
// h2 elsewhere.
func TestLiveHostTLS(t *testing.T) {
	haproxybin.Run(t, func(t *testing.T, hb haproxybin.Build) {
		snap := &model.Snapshot{}
		liveproxy.Backend(t, snap, "ns", "web", nil)
		snap.Ingresses = []*networkingv1.Ingress{
			hostIngress("c", "c.test", "web", map[string]string{"ssl-ciphers": "ECDHE-ECDSA-AES256-GCM-SHA384",
				"ssl-options-host": "ssl-max-ver TLSv1.2", "tls-alpn": "http/1.1"}),
			hostIngress("d", "d.test", "web", nil),
			// The other options, for haproxy to load them.
			hostIngress("e", "e.test", "web", map[string]string{"ssl-cipher-suites": "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256",
				"ssl-options-host": "ssl-min-ver TLSv1.3 no-ca-names"}),
		}
		p := liveproxy.Start(t, hb.Path, snap, model.Options{})
		if len(p.Problems) > 0 {
			t.Fatalf("problems: %v", p.Problems)
		}
		dial := func(sni string, cfg *tls.Config) (tls.ConnectionState, error) {
			cfg.ServerName, cfg.InsecureSkipVerify = sni, true
			c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", "127.0.0.1:"+strconv.Itoa(p.HTTPSPort), cfg)
			if err != nil {
				return tls.ConnectionState{}, err
			}
			defer c.Close()
			return c.ConnectionState(), nil
		}
		aes128 := func() *tls.Config {
			return &tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}}
		}
		if _, err := dial("c.test", aes128()); err == nil {
			t.Error("c.test accepted a cipher it left out")
		}
		if _, err := dial("d.test", aes128()); err != nil {
			t.Errorf("d.test: %v", err)
		}
		if st, err := dial("c.test", &tls.Config{}); err != nil || st.Version != tls.VersionTLS12 {
			t.Errorf("c.test: version %x, %v; want TLS 1.2 at most", st.Version, err)
		}
		if st, err := dial("e.test", &tls.Config{}); err != nil || st.Version != tls.VersionTLS13 || st.CipherSuite == tls.TLS_AES_128_GCM_SHA256 {
			t.Errorf("e.test: version %x suite %x, %v; want TLS 1.3 without AES-128", st.Version, st.CipherSuite, err)
		}
		for sni, want := range map[string]string{"c.test": "http/1.1", "d.test": "h2"} {
			st, err := dial(sni, &tls.Config{NextProtos: []string{"h2", "http/1.1"}})
			if err != nil || st.NegotiatedProtocol != want {
				t.Errorf("%s: ALPN %q, %v; want %q", sni, st.NegotiatedProtocol, err, want)
			}
		}
	})
}

func echoOf(t *testing.T, body []byte) *liveproxy.Echo {
	t.Helper()
	var e liveproxy.Echo
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	return &e
}

// TestLiveSSLPassthrough: the client of a passthrough host talks TLS with
// the backend itself (its certificate, its answer), plain http goes to
// ssl-passthrough-http-port; other hosts get the https frontend as
// before, the client's address kept.
func TestLiveSSLPassthrough(t *testing.T) {
	crt, key := testcert.SelfSigned(t, testcert.ECKey(t), "backend-own", "p.test")
	own, err := tls.X509KeyPair(crt, key)
	if err != nil {
		t.Fatal(err)
	}
	haproxybin.Run(t, func(t *testing.T, hb haproxybin.Build) {
		snap := &model.Snapshot{}
		tlsPort := int32(liveproxy.Backend(t, snap, "ns", "tls", &http.Server{TLSConfig: &tls.Config{Certificates: []tls.Certificate{own}}}))
		// The Service's plain http port, for ssl-passthrough-http-port.
		plainPort := int32(liveproxy.Backend(t, &model.Snapshot{}, "ns", "tls-plain", nil))
		snap.Services[0].Spec.Ports = []corev1.ServicePort{{Name: "https", Port: 80}, {Name: "http", Port: 8080}}
		https, plain := "https", "http"
		snap.EndpointSlices[0].Ports = []discoveryv1.EndpointPort{{Name: &https, Port: &tlsPort}, {Name: &plain, Port: &plainPort}}
		liveproxy.Backend(t, snap, "ns", "web", nil)
		snap.Ingresses = []*networkingv1.Ingress{
			hostIngress("p", "p.test", "tls", map[string]string{"ssl-passthrough": "true", "ssl-passthrough-http-port": "8080"}),
			hostIngress("d", "d.test", "web", nil),
		}
		p := liveproxy.Start(t, hb.Path, snap, model.Options{})
		if len(p.Problems) > 0 {
			t.Fatalf("problems: %v", p.Problems)
		}
		for sni, want := range map[string]string{"p.test": "backend-own", "d.test": "localhost"} {
			c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", "127.0.0.1:"+strconv.Itoa(p.HTTPSPort),
				&tls.Config{ServerName: sni, InsecureSkipVerify: true})
			if err != nil {
				t.Fatalf("%s: %v", sni, err)
			}
			if cn := c.ConnectionState().PeerCertificates[0].Subject.CommonName; cn != want {
				t.Errorf("%s: certificate %q, want %q", sni, cn, want)
			}
			c.Close()
		}
		resp, body, err := tlsDo(p, "p.test", "p.test", &tls.Config{}, nil)
		if err != nil || resp.StatusCode != 200 || !echoOf(t, body).TLS {
			t.Errorf("p.test: %v %v %s, want the backend's own TLS answer", resp, err, body)
		}
		if r := p.Get(t, "http", "p.test", "/"); r.Echo() == nil || r.Echo().Service != "tls-plain" {
			t.Errorf("http://p.test/: %d %s, want the Service's http port", r.Status, r.Body)
		}
		resp, body, err = tlsDo(p, "d.test", "d.test", &tls.Config{}, nil)
		if err != nil || resp.StatusCode != 200 || echoOf(t, body).Header.Get("X-Forwarded-For") != "127.0.0.1" {
			t.Errorf("d.test: %v %v %s, want 200 with X-Forwarded-For 127.0.0.1", resp, err, body)
		}
	})
}
