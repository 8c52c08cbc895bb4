package model_test

import (
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/external-haproxy/kit/controller/files"
	"github.com/external-haproxy/kit/controller/model"
	"github.com/external-haproxy/kit/controller/render"
	"github.com/external-haproxy/kit/test/haproxybin"
)

// policyOf builds ings with the ConfigMap cm and returns the policy of the
// route of each Ingress (one route each), by Ingress name.
func policyOf(t *testing.T, cm map[string]string, ings ...*networkingv1.Ingress) (map[string]model.PathPolicy, []model.Problem) {
	t.Helper()
	m, problems := model.Build(&model.Snapshot{Ingresses: ings, ConfigMap: cm}, model.Options{})
	out := map[string]model.PathPolicy{}
	for _, r := range m.Routes {
		out[r.Source.Name] = r.Policy
	}
	if len(out) != len(ings) {
		t.Fatalf("routes %+v, want one per Ingress; problems %v", m.Routes, problems)
	}
	return out, problems
}

// wantProblem checks that problems name the annotation key of Ingress
// name and its value.
func wantProblem(t *testing.T, problems []model.Problem, name, key, value string) {
	t.Helper()
	for _, p := range problems {
		if p.Object.Name == name && p.Field == "annotation haproxy-ingress.github.io/"+key && strings.Contains(p.Message, strconv.Quote(value)) &&
			strings.Contains(p.Message, "using the default") {
			return
		}
	}
	t.Errorf("no problem naming %s %s=%q in %v", name, key, value, problems)
}

// keyProblems are the problems of key.
func keyProblems(problems []model.Problem, key string) []model.Problem {
	var out []model.Problem
	for _, p := range problems {
		if strings.HasSuffix(p.Field, key) {
			out = append(out, p)
		}
	}
	return out
}

func TestRedirectTo(t *testing.T) {
	ok := map[string]string{
		"plain":   "https://www.app.test/login",
		"port":    "http://127.0.0.1:8080",
		"ipv6":    "https://[2001:db8::1]:8443/a?b=c&d=%41?e",
		"upper":   "https://WWW.App.Test/X",
		"nothing": "https://b.test?x",
	}
	bad := map[string]string{
		"scheme":   "ftp://a.test/",
		"relative": "/login",
		"space":    "https://a.test/a b",
		"newline":  "https://a.test/\nhttp-request deny",
		"userinfo": "https://u:p@a.test/",
		"fragment": "https://a.test/#x",
		"port0":    "https://a.test:0/",
		"noHost":   "https:///x",
		"sample":   "https://a.test/%[src]",
		"quote":    `https://a.test/"`,
	}
	var ings []*networkingv1.Ingress
	for name, v := range ok {
		ings = append(ings, annotated(name, name+".test", "/", "web", map[string]string{"redirect-to": v}))
	}
	for name, v := range bad {
		ings = append(ings, annotated(strings.ToLower(name), strings.ToLower(name)+".test", "/", "web", map[string]string{"redirect-to": v}))
	}
	pols, problems := policyOf(t, map[string]string{"redirect-to-code": "301"}, ings...)
	for name, v := range ok {
		if r := pols[name].RedirectTo; r == nil || r.URL != v || r.Code != 301 {
			t.Errorf("%s: redirect %+v, want %q code 301", name, r, v)
		}
	}
	for name, v := range bad {
		name = strings.ToLower(name)
		if r := pols[name].RedirectTo; r != nil {
			t.Errorf("%s: redirect %+v, want none", name, r)
		}
		wantProblem(t, problems, name, "redirect-to", v)
	}

	// The code defaults to 302; a bad one is reported and defaulted.
	pols, problems = policyOf(t, map[string]string{"redirect-to-code": "200"}, annotated("a", "a.test", "/", "web", map[string]string{"redirect-to": ok["plain"]}))
	if r := pols["a"].RedirectTo; r == nil || r.Code != 302 {
		t.Errorf("redirect-to-code 200: %+v, want 302", r)
	}
	if p := keyProblems(problems, "redirect-to-code"); len(p) != 1 || p[0].Object.Kind != "ConfigMap" || !strings.Contains(p[0].Message, `"200"`) {
		t.Errorf("problems %v, want one on the ConfigMap's redirect-to-code", problems)
	}
}

func TestProxyBodySize(t *testing.T) {
	for v, want := range map[string]int64{
		"0": 0, "unlimited": 0, "1": 1, "100": 100, "1k": 1024, "2K": 2048, "10m": 10 << 20, "3G": 3 << 30, "1g": 1 << 30,
	} {
		pols, problems := policyOf(t, nil, annotated("a", "a.test", "/", "web", map[string]string{"proxy-body-size": v}))
		got := pols["a"].BodyLimit
		switch {
		case len(keyProblems(problems, "proxy-body-size")) > 0:
			t.Errorf("%q: problems %v", v, problems)
		case want == 0 && got != nil:
			t.Errorf("%q: limit %+v, want none", v, got)
		case want > 0 && (got == nil || got.Max != want || got.Wait != 5000):
			t.Errorf("%q: limit %+v, want %d bytes, waiting timeout-http-request", v, got, want)
		}
	}
	for _, v := range []string{"-1", "+1", "1kb", "k", "1.5m", "1t", "9223372036854775807k", " 1", "ten"} {
		pols, problems := policyOf(t, map[string]string{"proxy-body-size": "1m"}, annotated("a", "a.test", "/", "web", map[string]string{"proxy-body-size": v}))
		if l := pols["a"].BodyLimit; l == nil || l.Max != 1<<20 {
			t.Errorf("%q: limit %+v, want the ConfigMap's 1m", v, l)
		}
		wantProblem(t, problems, "a", "proxy-body-size", v)
	}
	// The ConfigMap gives every path its default; "unlimited" lifts it.
	pols, _ := policyOf(t, map[string]string{"proxy-body-size": "1k", "timeout-http-request": "7s"},
		ingress("a", "a.test", "/", "web"), annotated("b", "b.test", "/", "web", map[string]string{"proxy-body-size": "unlimited"}))
	if l := pols["a"].BodyLimit; l == nil || *l != (model.BodyLimit{Max: 1024, Wait: 7000}) {
		t.Errorf("ConfigMap 1k: %+v", l)
	}
	if l := pols["b"].BodyLimit; l != nil {
		t.Errorf("unlimited over the ConfigMap: %+v", l)
	}
}

func TestRedirectFrom(t *testing.T) {
	older := func(ing *networkingv1.Ingress, age int) *networkingv1.Ingress {
		ing.CreationTimestamp.Time = ing.CreationTimestamp.Add(time.Duration(age) * time.Hour)
		return ing
	}
	two := annotated("two", "two-a.test", "/", "web", map[string]string{"redirect-from": "dup.test"})
	two.Spec.Rules = append(two.Spec.Rules, *ingress("", "two-b.test", "/", "web").Spec.Rules[0].DeepCopy())
	m, problems := model.Build(&model.Snapshot{Ingresses: []*networkingv1.Ingress{
		older(annotated("www", "www.app.test", "/", "web", map[string]string{"redirect-from": "App.Test"}), 0),
		older(annotated("shop", "shop.test", "/", "web", map[string]string{"redirect-from": "*.shop.test", "redirect-from-regex": `^shop[0-9]\.test$`}), 1),
		older(ingress("kept", "kept.shop.test", "/x", "web"), 2),
		older(ingress("wild", "*.wild.test", "/", "web"), 3),
		older(annotated("late", "late.test", "/", "web", map[string]string{"redirect-from": "app.test"}), 4),
		older(annotated("served", "served.test", "/", "web", map[string]string{"redirect-from": "kept.shop.test"}), 5),
		older(annotated("bywild", "bywild.test", "/", "web", map[string]string{"redirect-from": "a.wild.test"}), 6),
		older(annotated("towild", "*.to.test", "/", "web", map[string]string{"redirect-from": "to.test"}), 7),
		older(annotated("bad", "bad.test", "/", "web", map[string]string{"redirect-from": "a b", "redirect-from-regex": "(?i)x"}), 8),
		older(two, 9),
		older(ingress("shop1", "shop1.test", "/", "web"), 10),
	}}, model.Options{})
	want := []model.HostRedirect{
		{From: "app.test", To: "www.app.test"},
		{From: "*.shop.test", To: "shop.test", Served: []string{"kept.shop.test"}},
		{From: "dup.test", To: "two-a.test"},
		{From: `^shop[0-9]\.test$`, Regex: true, To: "shop.test", Served: []string{"*.to.test", "*.wild.test", "shop1.test"}},
	}
	if !reflect.DeepEqual(m.HostRedirects, want) {
		t.Errorf("host redirects\n%+v\nwant\n%+v", m.HostRedirects, want)
	}
	for name, msg := range map[string]string{
		"late":   `already redirected to www.app.test`,
		"served": "served by routes",
		"bywild": "served by routes",
		"towild": "wildcard host *.to.test cannot be a redirect target",
		"two":    "already redirected to two-a.test",
	} {
		if !slices.ContainsFunc(problems, func(p model.Problem) bool {
			return p.Object.Name == name && strings.HasPrefix(p.Field, "annotation haproxy-ingress.github.io/redirect-from") && strings.Contains(p.Message, msg)
		}) {
			t.Errorf("%s: no problem %q in %v", name, msg, problems)
		}
	}
	wantProblem(t, problems, "bad", "redirect-from", "a b")
	wantProblem(t, problems, "bad", "redirect-from-regex", "(?i)x")
	if len(m.Routes) != 12 {
		t.Errorf("%d routes, want every Ingress served", len(m.Routes))
	}
}

// TestHostileRedirectKeys puts every hostile token, alone and after a
// valid value, into the redirect keys: a refused value is a problem naming
// the annotation, and every configuration rendered from an accepted one
// passes haproxy -c (2.6 and 3.0). Accepted values change the rendered
// lines, so TestHostileInput's same-shape check does not apply.
func TestHostileRedirectKeys(t *testing.T) {
	l := hostileLayout(haproxybin.TempDir(t))
	distinct := map[string]files.Set{}
	for key, benign := range map[string]string{
		"redirect-to": "https://a.test/x?y=1", "proxy-body-size": "1k",
		"redirect-from": "old.test", "redirect-from-regex": `^old[0-9]\.test$`,
	} {
		for _, tok := range hostileTokens {
			for _, v := range []string{benign + tok, tok} {
				s, o := hostileBase(t)
				ref := hostileIngress(s, func(ing *networkingv1.Ingress) {
					ing.Annotations = map[string]string{"haproxy-ingress.github.io/" + key: v}
				})
				m, problems := model.Build(s, o)
				if p := problemOn(problems, ref, "annotation haproxy-ingress.github.io/"+key); p != nil {
					if len(p.Message) > 1024 {
						t.Errorf("%s %.40q: problem of %d bytes", key, v, len(p.Message))
					}
					continue
				}
				set := render.Render(m, l)
				var b strings.Builder
				for _, f := range set {
					b.WriteString(f.Path + "\x00" + string(f.Data) + "\x00")
				}
				distinct[b.String()] = set
			}
		}
	}
	t.Logf("%d distinct accepted configurations", len(distinct))
	haproxybin.Run(t, func(t *testing.T, hb haproxybin.Build) {
		for _, set := range distinct {
			writeSet(t, set, l)
			if err := haproxyCheck(t, hb.Path, l); err != nil {
				t.Error(err)
			}
		}
	})
}
