package model_test

import (
	"net/http"
	"testing"

	"golang.org/x/crypto/bcrypt"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/external-haproxy/kit/controller/model"
	"github.com/external-haproxy/kit/test/haproxybin"
	"github.com/external-haproxy/kit/test/liveproxy"
)

// sha512Secret is the sha512-crypt hash of "secret" with salt "saltsalt"
// (openssl passwd -6 -salt saltsalt secret).
const sha512Secret = "$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1"

// TestLiveAuthBasic: haproxy challenges requests without valid credentials
// of the Secret's users (bcrypt, sha512-crypt and plain), serves the
// others, and refuses every request of a path whose Secret is missing.
func TestLiveAuthBasic(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("wonderland"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	haproxybin.Run(t, func(t *testing.T, hb haproxybin.Build) {
		priv := ingress("priv", "a.test", "/priv", "web")
		priv.Annotations = map[string]string{"haproxy-ingress.github.io/auth-secret": "users", "haproxy-ingress.github.io/auth-realm": "Kit's 100% test"}
		broken := ingress("broken", "a.test", "/broken", "web")
		broken.Annotations = map[string]string{"haproxy-ingress.github.io/auth-secret": "missing"}
		snap := &model.Snapshot{
			Ingresses: []*networkingv1.Ingress{priv, broken, ingress("open", "a.test", "/open", "web")},
			Secrets: []*corev1.Secret{{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "users"}, Type: corev1.SecretTypeOpaque,
				Data: map[string][]byte{"auth": []byte("alice:" + string(hash) + "\nbob:" + sha512Secret + "\r\ncarol::plain pass\nmallory:$apr1$x$y\n")}}},
		}
		liveproxy.Backend(t, snap, "ns", "web", nil)
		p := liveproxy.Start(t, hb.Path, snap, model.Options{})

		get := func(path, user, pass string) *liveproxy.Response {
			req, err := http.NewRequest("GET", "http://x"+path, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Host = "a.test"
			if user != "" {
				req.SetBasicAuth(user, pass)
			}
			return p.Do(t, req)
		}
		for _, c := range []struct {
			name, path, user, pass string
			status                 int
		}{
			{"no credentials", "/priv", "", "", 401},
			{"wrong password", "/priv", "alice", "looking-glass", 401},
			{"unknown user", "/priv", "eve", "wonderland", 401},
			{"bcrypt", "/priv", "alice", "wonderland", 200},
			{"sha512-crypt", "/priv", "bob", "secret", 200},
			{"plain", "/priv", "carol", "plain pass", 200},
			{"skipped apr1 line", "/priv", "mallory", "y", 401},
			{"missing Secret fails closed", "/broken", "alice", "wonderland", 403},
			{"path without auth", "/open", "", "", 200},
		} {
			r := get(c.path, c.user, c.pass)
			if r.Status != c.status {
				t.Errorf("%s: status %d, want %d (%s)", c.name, r.Status, c.status, r.Body)
			}
			if e := r.Echo(); (e != nil) != (c.status == 200) {
				t.Errorf("%s: reached the backend: %v", c.name, e != nil)
			}
			if c.status == 401 && r.Header.Get("WWW-Authenticate") != `Basic realm="Kit's 100% test"` {
				t.Errorf("%s: WWW-Authenticate %q", c.name, r.Header.Get("WWW-Authenticate"))
			}
		}
	})
}
