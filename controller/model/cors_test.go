package model_test

import (
	"reflect"
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/external-haproxy/kit/controller/model"
)

// upstreamCORS is the policy of cors-enable alone: upstream's defaults.
var upstreamCORS = model.CORS{
	Methods:     []string{"GET", "PUT", "POST", "DELETE", "PATCH", "OPTIONS"},
	Headers:     []string{"DNT", "X-CustomHeader", "Keep-Alive", "User-Agent", "X-Requested-With", "If-Modified-Since", "Cache-Control", "Content-Type", "Authorization"},
	Credentials: true, MaxAge: 86400,
}

func buildCORS(t *testing.T, ann, cm map[string]string) (*model.CORS, []model.Problem) {
	t.Helper()
	ing := ingress("a", "a.test", "/", "web")
	ing.Annotations = map[string]string{}
	for k, v := range ann {
		ing.Annotations["haproxy-ingress.github.io/"+k] = v
	}
	m, problems := model.Build(&model.Snapshot{Ingresses: []*networkingv1.Ingress{ing}, ConfigMap: cm}, model.Options{})
	if len(m.Routes) != 1 {
		t.Fatalf("routes %+v, problems %v", m.Routes, problems)
	}
	// Only the problems of the keys: the snapshot has no Service.
	var keys []model.Problem
	for _, p := range problems {
		if strings.HasPrefix(p.Field, "annotation ") || p.Object == model.ConfigMapRef {
			keys = append(keys, p)
		}
	}
	return m.Routes[0].Policy.CORS, keys
}

func TestCORSPolicy(t *testing.T) {
	with := func(f func(c *model.CORS)) *model.CORS {
		c := upstreamCORS
		f(&c)
		return &c
	}
	for _, c := range []struct {
		name    string
		ann, cm map[string]string
		want    *model.CORS
	}{
		{"off by default", nil, nil, nil},
		{"off when only other keys are set", map[string]string{"cors-allow-origin": "https://a.test"}, nil, nil},
		{"upstream's defaults", map[string]string{"cors-enable": "true"}, nil, &upstreamCORS},
		{"enabled from the ConfigMap", nil, map[string]string{"cors-enable": "true"}, &upstreamCORS},
		{"every key", map[string]string{"cors-enable": "true", "cors-allow-origin": "https://A.test:8443, http://[2001:db8::1], app://x",
			"cors-allow-origin-regex": `^https://[a-z]+\.a\.test$ ^http://localhost(:[0-9]+)?$`, "cors-allow-methods": "GET,POST", "cors-allow-headers": "*",
			"cors-expose-headers": "X-Total, X-Page", "cors-allow-credentials": "false", "cors-max-age": "0"}, nil,
			&model.CORS{Origins: []string{"https://a.test:8443", "http://[2001:db8::1]", "app://x"},
				OriginRegexes: []string{`^https://[a-z]+\.a\.test$`, `^http://localhost(:[0-9]+)?$`},
				Methods:       []string{"GET", "POST"}, Headers: []string{"*"}, Expose: []string{"X-Total", "X-Page"}}},
		{"ConfigMap defaults under annotations", map[string]string{"cors-enable": "true", "cors-max-age": "60"},
			map[string]string{"cors-allow-origin": "https://a.test", "cors-max-age": "5"},
			with(func(c *model.CORS) { c.Origins, c.MaxAge = []string{"https://a.test"}, 60 })},
	} {
		got, problems := buildCORS(t, c.ann, c.cm)
		if !reflect.DeepEqual(got, c.want) || len(problems) != 0 {
			t.Errorf("%s: %+v, want %+v; problems %v", c.name, got, c.want, problems)
		}
	}
}

// TestCORSInvalid: a value that could not land safely in a header or an
// ACL is an error naming the key and the value, the default used, the
// Ingress served.
func TestCORSInvalid(t *testing.T) {
	for key, values := range map[string][]string{
		"cors-allow-origin":       {"", "*, https://a.test", "https://a.test/path", "a.test", "https://a.test:0", "https://a.test:080", "https://a b", "https://a.test\r\nX: y", "null", "https://[fe80::1%eth0]"},
		"cors-allow-origin-regex": {`^https://(a+)+$`, `(?i)a`, "a#b", strings.Repeat("'", 257)},
		"cors-allow-methods":      {"GET;POST", "GET POST", `"GET"`},
		"cors-allow-headers":      {"X-A: 1", "X-(a)", strings.Repeat("X-Header-Name,", 37)},
		"cors-expose-headers":     {"X-A\nX-B"},
		"cors-max-age":            {"-1", "1d"},
		"cors-enable":             {"yes"},
	} {
		for _, v := range values {
			got, problems := buildCORS(t, map[string]string{"cors-enable": "true", key: v}, nil)
			want := &upstreamCORS
			if key == "cors-enable" {
				want = nil
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s %q: %+v, want the default", key, v, got)
			}
			if len(problems) != 1 || problems[0].Field != "annotation haproxy-ingress.github.io/"+key || !strings.Contains(problems[0].Message, "invalid value") {
				t.Errorf("%s %q: problems %v", key, v, problems)
			}
		}
	}
}
