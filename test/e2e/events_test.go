package e2e

import (
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/external-haproxy/kit/test/e2eenv"
)

// TestInvalidIngressSkippedWithEvent: Ingresses the apiserver accepts but
// the controller cannot serve safely are skipped, each with a Warning Event
// naming the field and a log line, while every other Ingress keeps being
// served; fixing one serves it. A bad annotation value is only a fallback
// to the key's default, with the same Event.
func TestInvalidIngressSkippedWithEvent(t *testing.T) {
	r := newRT(t, nil)
	r.service("svc", r.backend("echo"))
	const badType, badRegex, missing, good = "bad-type.example.com", "bad-regex.example.com", "missing.example.com", "good.example.com"

	bogus := routeIngress("bad-type", e2eenv.ClassName, routeRule(badType, prefixRoute("/", "svc")))
	bogus.Annotations = map[string]string{"haproxy-ingress.github.io/path-type": "bogus"}
	r.create(bogus)

	regex := routeIngress("bad-regex", e2eenv.ClassName, routeRule(badRegex, routeSpec{"/(", networkingv1.PathTypeImplementationSpecific, "svc"}))
	regex.Annotations = map[string]string{"haproxy-ingress.github.io/path-type": "regex"}
	r.create(regex)

	// A Service that does not exist is a warning: the path answers 503.
	r.create(routeIngress("missing-svc", e2eenv.ClassName, routeRule(missing, prefixRoute("/", "nope"), prefixRoute("/ok", "svc"))))

	r.create(routeIngress("good", e2eenv.ClassName, routeRule(good, prefixRoute("/", "svc"))))
	r.waitServer(good, "/", "echo")
	r.waitServer(missing, "/ok", "echo")
	// A bad annotation value falls back to the key's default (begin): the
	// Ingress is served.
	r.waitServer(badType, "/x", "echo")
	r.expectStatus(badRegex, "/", 404)
	r.expectStatus(missing, "/", 503)

	r.waitEvent("Ingress", "bad-type", "InvalidConfiguration", "annotation haproxy-ingress.github.io/path-type", `"bogus"`, "want begin, prefix, exact or regex; using the default")
	r.waitEvent("Ingress", "bad-regex", "InvalidConfiguration", "spec.rules[0].http.paths[0].path", `"/("`, "skipped")
	r.waitEvent("Ingress", "missing-svc", "ConfigurationWarning", "spec.rules[0].http.paths[0].backend", "app/nope", "not found")

	log := r.env.Log(e2eenv.Controller)
	for _, want := range []string{`Ingress/app/bad-type annotation haproxy-ingress.github.io/path-type: invalid value "bogus"`, `Ingress/app/bad-regex spec.rules[0].http.paths[0].path: invalid regex path "/("`} {
		if !strings.Contains(log, want) {
			t.Errorf("controller log lacks %q", want)
		}
	}

	// Fixed: served.
	r.update("bad-regex", func(ing *networkingv1.Ingress) { ing.Spec.Rules[0].HTTP.Paths[0].Path = "/[a-z]+$" })
	r.waitServer(badRegex, "/abc", "echo")
	r.expectServer(good, "/", "echo")
	r.expectStatus(badRegex, "/1", 404)
}
