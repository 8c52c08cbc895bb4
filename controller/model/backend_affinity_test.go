package model_test

import (
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/external-haproxy/kit/controller/model"
)

// backendPolicy builds one Ingress to Service web with ann and the global
// ConfigMap cm, and returns its backend's policy and the problems.
func backendPolicy(t *testing.T, cm, ann map[string]string) (model.BackendPolicy, []model.Problem) {
	t.Helper()
	ing := ingress("a", "a.test", "/", "web")
	ing.Annotations = ann
	m, problems := model.Build(&model.Snapshot{Ingresses: []*networkingv1.Ingress{ing}, ConfigMap: cm}, model.Options{})
	for _, be := range m.Backends {
		if be.Name == "ns_web_80" {
			return be.Policy, problems
		}
	}
	t.Fatalf("no backend ns_web_80: %v", problems)
	return model.BackendPolicy{}, nil
}

func TestCookieAffinity(t *testing.T) {
	const pre = "haproxy-ingress.github.io/"
	kw := func(names ...string) []model.CookieKeyword {
		var out []model.CookieKeyword
		for _, n := range names {
			name, arg, _ := strings.Cut(n, "=")
			out = append(out, model.CookieKeyword{Name: name, Arg: arg})
		}
		return out
	}
	def := model.Cookie{On: true, Name: "INGRESSCOOKIE", Strategy: "insert", Keywords: kw("indirect", "nocache", "httponly"), Dynamic: true, ValueStrategy: "server-name"}
	with := func(f func(c *model.Cookie)) model.Cookie {
		c := def
		f(&c)
		return c
	}
	for _, c := range []struct {
		name    string
		cm, ann map[string]string
		want    model.Cookie
		problem string // in the message on the key's annotation; "": none
	}{
		{"off by default", nil, nil, model.Cookie{}, ""},
		{"off: the other keys do nothing", nil, map[string]string{pre + "session-cookie-name": "S"}, model.Cookie{}, ""},
		{"upstream's defaults", nil, map[string]string{pre + "affinity": "cookie"}, def, ""},
		{"ConfigMap turns it on for every backend", map[string]string{"affinity": "cookie", "session-cookie-name": "C"}, nil,
			with(func(c *model.Cookie) { c.Name = "C" }), ""},
		{"every key", nil, map[string]string{pre + "affinity": "cookie", pre + "session-cookie-name": "SESSION", pre + "session-cookie-strategy": "prefix",
			pre + "session-cookie-keywords": "secure  domain .a.test maxidle 30m attr SameSite=None indirect", pre + "session-cookie-dynamic": "false", pre + "session-cookie-preserve": "true"},
			model.Cookie{On: true, Name: "SESSION", Strategy: "prefix", Keywords: kw("secure", "domain=.a.test", "maxidle=30m", "attr=SameSite=None", "indirect", "preserve"),
				Preserve: true, ValueStrategy: "server-name"}, ""},
		{"rewrite has no default keywords", nil, map[string]string{pre + "affinity": "cookie", pre + "session-cookie-strategy": "rewrite"},
			with(func(c *model.Cookie) { c.Strategy, c.Keywords = "rewrite", nil }), ""},
		{"preserve once", nil, map[string]string{pre + "affinity": "cookie", pre + "session-cookie-keywords": "preserve", pre + "session-cookie-preserve": "true"},
			with(func(c *model.Cookie) { c.Keywords, c.Preserve = kw("preserve"), true }), ""},
		{"rewrite refuses indirect and preserve", nil, map[string]string{pre + "affinity": "cookie", pre + "session-cookie-strategy": "rewrite",
			pre + "session-cookie-keywords": "indirect preserve secure"}, with(func(c *model.Cookie) { c.Strategy, c.Keywords = "rewrite", kw("secure") }), "dropped"},
		{"prefix keeps preserve with indirect", nil, map[string]string{pre + "affinity": "cookie", pre + "session-cookie-strategy": "prefix",
			pre + "session-cookie-keywords": "indirect", pre + "session-cookie-preserve": "true"},
			with(func(c *model.Cookie) { c.Strategy, c.Keywords, c.Preserve = "prefix", kw("indirect", "preserve"), true }), ""},
		{"same-site", nil, map[string]string{pre + "affinity": "cookie", pre + "session-cookie-same-site": "true"},
			with(func(c *model.Cookie) {
				c.Keywords, c.SameSite = kw("indirect", "nocache", "httponly", "attr=SameSite=None", "secure"), true
			}), ""},
		{"shared: the host's domain", nil, map[string]string{pre + "affinity": "cookie", pre + "session-cookie-shared": "true"},
			with(func(c *model.Cookie) {
				c.Keywords, c.Shared = kw("indirect", "nocache", "httponly", "domain=.a.test"), true
			}), ""},
		{"unknown affinity", nil, map[string]string{pre + "affinity": "ip"}, model.Cookie{}, `invalid value "ip"`},
		{"cookie name that would end the header", nil, map[string]string{pre + "affinity": "cookie", pre + "session-cookie-name": "a;b"}, def, `"a;b"`},
		{"keyword haproxy does not have", nil, map[string]string{pre + "affinity": "cookie", pre + "session-cookie-keywords": "httponly dynamic"}, def, "dynamic"},
		{"keyword without its argument", nil, map[string]string{pre + "affinity": "cookie", pre + "session-cookie-keywords": "secure domain"}, def, "domain"},
		{"attr that would add an attribute", nil, map[string]string{pre + "affinity": "cookie", pre + "session-cookie-keywords": "attr a;Domain=evil"}, def, "attr"},
		{"pod-uid is not supported", nil, map[string]string{pre + "affinity": "cookie", pre + "session-cookie-value-strategy": "pod-uid"}, def, "pod-uid"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, problems := backendPolicy(t, c.cm, c.ann)
			if !reflect.DeepEqual(p.Cookie, c.want) {
				t.Errorf("cookie %+v, want %+v", p.Cookie, c.want)
			}
			var got []string
			for _, pr := range problems {
				if strings.HasPrefix(pr.Field, "annotation ") {
					got = append(got, pr.String())
				}
			}
			switch {
			case c.problem == "" && len(got) > 0:
				t.Errorf("problems %q, want none", got)
			case c.problem != "" && (len(got) == 0 || !strings.Contains(got[0], c.problem) || !strings.Contains(got[0], "using the default") && !strings.Contains(got[0], "dropped")):
				t.Errorf("problems %q, want one on the key naming %q", got, c.problem)
			}
		})
	}
}

func TestCookieKey(t *testing.T) {
	for v, ok := range map[string]bool{"Ingress": true, "s3cr3t!#": true, "": false, "two words": false, "quo'te": false, strings.Repeat("k", 65): false} {
		m, problems := model.Build(&model.Snapshot{ConfigMap: map[string]string{"cookie-key": v}}, model.Options{DefaultCertificate: defaultCert(t)})
		if want := map[bool]string{true: v, false: "Ingress"}[ok]; m.Global.CookieKey != want || (len(problems) == 0) != ok {
			t.Errorf("cookie-key %q: %q, problems %v; want %q", v, m.Global.CookieKey, problems, want)
		}
	}
}

// TestSharedCookieDomain: session-cookie-shared names the parent domain of
// every host of the backend, a wildcard's too; hosts without one of at
// least two labels get a warning and a cookie per host.
func TestSharedCookieDomain(t *testing.T) {
	for _, c := range []struct {
		hosts  []string
		domain string // "": none, and a warning
	}{
		{[]string{"app.example.com", "api.example.com", "*.eu.example.com"}, ".example.com"},
		{[]string{"a.shop.example", "*.b.shop.example"}, ".shop.example"},
		{[]string{"a.test", "x.b.test"}, ""},
	} {
		var ings []*networkingv1.Ingress
		for i, h := range c.hosts {
			ing := ingress("i"+strconv.Itoa(i), h, "/", "web")
			ing.CreationTimestamp = metav1.NewTime(time.Unix(int64(i), 0))
			if i == 0 {
				ing.Annotations = map[string]string{"haproxy-ingress.github.io/affinity": "cookie", "haproxy-ingress.github.io/session-cookie-shared": "true"}
			}
			ings = append(ings, ing)
		}
		m, problems := model.Build(&model.Snapshot{Ingresses: ings}, model.Options{})
		var domains []string
		for _, be := range m.Backends {
			for _, kw := range be.Policy.Cookie.Keywords {
				if kw.Name == "domain" {
					domains = append(domains, kw.Arg)
				}
			}
		}
		warned := false
		for _, p := range problems {
			warned = warned || p.Field == "annotation haproxy-ingress.github.io/session-cookie-shared" && strings.Contains(p.Message, "no parent domain")
		}
		if want := []string{c.domain}; c.domain == "" && (len(domains) > 0 || !warned) || c.domain != "" && (!slices.Equal(domains, want) || warned) {
			t.Errorf("hosts %v: domains %v, warned %v; want %q", c.hosts, domains, warned, c.domain)
		}
	}
}
