package model_test

import (
	"net/http"
	"sync/atomic"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/external-haproxy/kit/controller/model"
	"github.com/external-haproxy/kit/test/haproxybin"
	"github.com/external-haproxy/kit/test/liveproxy"
)

// TestLiveCORS: haproxy answers preflights itself, with the configured
// headers for allowed origins and none for others, and adds
// Access-Control-Allow-Origin (the Origin echoed, or *) to the answers of
// allowed origins only; authentication does not apply to preflights.
func TestLiveCORS(t *testing.T) {
	haproxybin.Run(t, func(t *testing.T, hb haproxybin.Build) {
		const a = "haproxy-ingress.github.io/"
		api := ingress("api", "a.test", "/api", "web")
		api.Annotations = map[string]string{a + "cors-enable": "true", a + "cors-allow-origin": "https://app.test, http://localhost:8080",
			a + "cors-allow-origin-regex": `^https://[a-z]+\.corp\.test$`, a + "cors-expose-headers": "X-Total", a + "cors-max-age": "600"}
		pub := ingress("pub", "a.test", "/pub", "web")
		pub.Annotations = map[string]string{a + "cors-enable": "true", a + "cors-allow-credentials": "false"}
		both := ingress("both", "a.test", "/both", "web")
		both.Annotations = map[string]string{a + "cors-enable": "true", a + "auth-secret": "users"}
		snap := &model.Snapshot{
			Ingresses: []*networkingv1.Ingress{api, pub, both},
			Secrets:   []*corev1.Secret{authSecret("ns", "users", "alice:"+sha512Secret)},
		}
		var options atomic.Int32
		echo := liveproxy.EchoHandler("web")
		liveproxy.Backend(t, snap, "ns", "web", &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == "OPTIONS" {
				options.Add(1)
			}
			echo.ServeHTTP(w, r)
		})})
		p := liveproxy.Start(t, hb.Path, snap, model.Options{})

		do := func(method, path string, header map[string]string) *liveproxy.Response {
			req, err := http.NewRequest(method, "http://x"+path, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Host = "a.test"
			for k, v := range header {
				req.Header.Set(k, v)
			}
			return p.Do(t, req)
		}
		preflight := func(path, origin string) *liveproxy.Response {
			return do("OPTIONS", path, map[string]string{"Origin": origin, "Access-Control-Request-Method": "PUT"})
		}
		check := func(what string, r *liveproxy.Response, status int, want map[string]string) {
			t.Helper()
			if r.Status != status {
				t.Errorf("%s: status %d, want %d", what, r.Status, status)
			}
			for k, v := range want {
				if got := r.Header.Values(k); v == "" && len(got) > 0 || v != "" && (len(got) != 1 || got[0] != v) {
					t.Errorf("%s: %s %q, want %q", what, k, got, v)
				}
			}
		}

		check("preflight of a listed origin", preflight("/api", "https://app.test"), 204, map[string]string{
			"Access-Control-Allow-Origin":      "https://app.test",
			"Access-Control-Allow-Methods":     "GET, PUT, POST, DELETE, PATCH, OPTIONS",
			"Access-Control-Allow-Headers":     "DNT, X-CustomHeader, Keep-Alive, User-Agent, X-Requested-With, If-Modified-Since, Cache-Control, Content-Type, Authorization",
			"Access-Control-Max-Age":           "600",
			"Access-Control-Allow-Credentials": "true",
			"Vary":                             "Origin",
		})
		check("preflight of an origin the regex matches", preflight("/api", "https://dev.corp.test"), 204,
			map[string]string{"Access-Control-Allow-Origin": "https://dev.corp.test"})
		check("preflight of another origin", preflight("/api", "https://evil.test"), 204,
			map[string]string{"Access-Control-Allow-Origin": "", "Access-Control-Allow-Methods": "", "Access-Control-Allow-Credentials": ""})
		check("preflight of any origin with *", preflight("/pub", "https://evil.test"), 204,
			map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Credentials": "", "Vary": ""})
		check("preflight without credentials on an authenticated path", preflight("/both", "https://app.test"), 204,
			map[string]string{"Access-Control-Allow-Origin": "*"})
		if n := options.Load(); n != 0 {
			t.Errorf("%d preflights reached the backend", n)
		}

		r := do("GET", "/api", map[string]string{"Origin": "https://app.test"})
		check("GET of a listed origin", r, 200, map[string]string{"Access-Control-Allow-Origin": "https://app.test",
			"Access-Control-Allow-Credentials": "true", "Access-Control-Expose-Headers": "X-Total", "Vary": "Origin", "Access-Control-Allow-Methods": ""})
		if r.Echo() == nil {
			t.Error("GET did not reach the backend")
		}
		check("GET of the listed origin in upper case", do("GET", "/api", map[string]string{"Origin": "HTTP://LOCALHOST:8080"}), 200,
			map[string]string{"Access-Control-Allow-Origin": "HTTP://LOCALHOST:8080"})
		check("GET of another origin", do("GET", "/api", map[string]string{"Origin": "https://app.test.evil.test"}), 200,
			map[string]string{"Access-Control-Allow-Origin": "", "Access-Control-Allow-Credentials": "", "Access-Control-Expose-Headers": ""})
		check("GET of an origin list", do("GET", "/api", map[string]string{"Origin": "https://app.test, https://evil.test"}), 200,
			map[string]string{"Access-Control-Allow-Origin": ""})
		check("GET with *", do("GET", "/pub", map[string]string{"Origin": "https://x.test"}), 200,
			map[string]string{"Access-Control-Allow-Origin": "*"})
		check("GET without credentials on an authenticated path", do("GET", "/both", map[string]string{"Origin": "https://app.test"}), 401, nil)

		if r := do("OPTIONS", "/api", map[string]string{"Origin": "https://app.test"}); r.Echo() == nil || options.Load() != 1 {
			t.Errorf("an OPTIONS that is no preflight did not reach the backend: %d %s", r.Status, r.Body)
		}
	})
}
