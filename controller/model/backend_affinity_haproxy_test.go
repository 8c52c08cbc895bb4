package model_test

import (
	"testing"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/external-haproxy/kit/controller/model"
	"github.com/external-haproxy/kit/test/haproxybin"
)

// TestCookieOnHAProxy: every strategy with every keyword the model keeps,
// dynamic or not, renders a backend haproxy -c accepts without warnings:
// the combinations haproxy refuses are dropped by the model.
func TestCookieOnHAProxy(t *testing.T) {
	const pre = "haproxy-ingress.github.io/"
	var ings []*networkingv1.Ingress
	for _, strategy := range []string{"insert", "rewrite", "prefix"} {
		for _, kws := range []string{"", "indirect preserve", "preserve", "indirect nocache postonly httponly secure domain .a.test maxidle 30m maxlife 1d attr SameSite=None"} {
			for _, dynamic := range []string{"true", "false"} {
				name := "i" + string(rune('a'+len(ings)))
				ing := ingress(name, name+".test", "/", name)
				ing.Annotations = map[string]string{pre + "affinity": "cookie", pre + "session-cookie-strategy": strategy,
					pre + "session-cookie-keywords": kws, pre + "session-cookie-dynamic": dynamic, pre + "session-cookie-preserve": "true"}
				ings = append(ings, ing)
			}
		}
	}
	m, _ := model.Build(&model.Snapshot{Ingresses: ings, ConfigMap: map[string]string{"cookie-key": "s3cr3t"}}, model.Options{DefaultCertificate: defaultCert(t)})
	haproxybin.Run(t, func(t *testing.T, b haproxybin.Build) {
		if err := haproxyCheck(t, b.Path, writeRendered(t, m, haproxybin.TempDir(t))); err != nil {
			t.Error(err)
		}
	})
}
