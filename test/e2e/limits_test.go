package e2e

import (
	"strings"
	"testing"
	"time"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/external-haproxy/kit/test/e2eenv"
	"github.com/external-haproxy/kit/test/testcert"
)

// TestValuesHAProxyRefusesNeverFreezeUpdates: the values users found that
// haproxy 2.6/3.0 refuse — regex paths Go accepts but PCRE2 does not, a
// TLS Secret with an RSA-1024 key, ConfigMap timeouts over haproxy's limit,
// nbthread above 64, balance random(0) — are each reported with an Event
// (or a log line for the ConfigMap) and left out, and an Ingress created
// afterwards is served as usual.
func TestValuesHAProxyRefusesNeverFreezeUpdates(t *testing.T) {
	r := newRT(t, nil)
	r.service("svc", r.backend("echo"))
	regexIngress := func(name, host, re string) {
		ing := routeIngress(name, e2eenv.ClassName, routeRule(host, routeSpec{re, networkingv1.PathTypeImplementationSpecific, "svc"}))
		ing.Annotations = map[string]string{"haproxy-ingress.github.io/path-type": "regex"}
		r.create(ing)
	}
	regexIngress("regex-q", "q.example.com", `/a\Q`)
	regexIngress("regex-x", "x.example.com", `/a\x{100}`)
	regexIngress("regex-ok", "ok.example.com", `/v[0-9]+/items$`)

	cert, key := testcert.SelfSigned(t, testcert.RSAKey(t, 1024), "weak.example.com", "weak.example.com")
	r.tlsSecret("weak", cert, key)
	weak := routeIngress("weak-tls", e2eenv.ClassName, routeRule("weak.example.com", prefixRoute("/", "svc")))
	weak.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{"weak.example.com"}, SecretName: "weak"}}
	r.create(weak)

	if err := r.env.PatchConfigMap(r.ctx, map[string]string{
		"timeout-client": "25d", "timeout-server": "999999999d", "nbthread": "65", "balance-algorithm": "random(0)",
	}); err != nil {
		t.Fatal(err)
	}

	r.waitServer("ok.example.com", "/v2/items", "echo")
	r.waitFor("weak.example.com on the default certificate", "weak.example.com", "/", true,
		func(resp e2eenv.Response) bool { return answeredBy(resp, "echo") })
	r.waitEvent("Ingress", "regex-q", "InvalidConfiguration", "spec.rules[0].http.paths[0].path", `escape \Q is not supported`, "skipped")
	r.waitEvent("Ingress", "regex-x", "InvalidConfiguration", "spec.rules[0].http.paths[0].path", `escape \x is not supported`, "skipped")
	r.waitEvent("Ingress", "weak-tls", "InvalidConfiguration", "spec.tls[0]", "RSA key of 1024 bits, want at least 2048")
	r.expectStatus("q.example.com", "/a", 404)

	// Every later change is still applied.
	created := time.Now()
	r.create(routeIngress("after", e2eenv.ClassName, routeRule("after.example.com", prefixRoute("/", "svc"))))
	r.waitServer("after.example.com", "/", "echo")
	t.Logf("Ingress created after the refused values served %s after its creation", time.Since(created).Round(time.Millisecond))

	log := r.env.Log(e2eenv.Controller)
	for _, want := range []string{`timeout-client: invalid value "25d"`, `timeout-server: invalid value "999999999d"`,
		`nbthread: invalid value "65"`, `balance-algorithm: invalid value "random(0)"`} {
		if !strings.Contains(log, want) {
			t.Errorf("controller log lacks %q", want)
		}
	}
}
