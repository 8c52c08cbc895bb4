package model_test

import (
	"maps"
	"slices"
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/external-haproxy/kit/controller/model"
	"github.com/external-haproxy/kit/test/haproxybin"
)

// TestGlobalExtraOnHAProxy: every log variable, sample fetch and converter
// that http-log-format, https-log-format and tcp-log-format accept, and the odd characters
// a Server header and custom answers may hold, give a configuration
// haproxy -c takes without warnings.
func TestGlobalExtraOnHAProxy(t *testing.T) {
	// ssl-passthrough makes the TCP frontend https-log-format is for.
	passthrough := ingress("p", "p.test", "/", "web")
	passthrough.Annotations = map[string]string{annPrefix + "ssl-passthrough": "true"}
	type config struct {
		key    string
		format string
	}
	var configs []config
	for _, f := range []struct {
		key     string
		vars    map[string]bool
		samples []string
	}{
		{"http-log-format", model.LogVars, []string{"src", "src_port", "dst", "dst_port", "var(txn.host)", "capture.req.hdr(0)", "capture.res.hdr(9)",
			"capture.req.uri", "capture.req.method", "ssl_fc_sni", "ssl_fc_protocol", "ssl_fc_cipher", "src,lower,upper,hex,base64"}},
		{"https-log-format", model.TCPLogVars, []string{"src", "src_port", "dst", "dst_port", "var(txn.passthrough)", "dst,lower,upper,hex,base64"}},
		{"tcp-log-format", model.TCPLogVars, []string{"src", "src_port", "dst", "dst_port", "dst,lower,upper,hex,base64"}},
	} {
		var format []string
		for _, v := range slices.Sorted(maps.Keys(f.vars)) {
			format = append(format, "%"+v, "%{+Q}"+v)
		}
		for _, s := range f.samples {
			format = append(format, "%["+s+"]", "%{-Q+E}["+s+"]")
		}
		format = append(format, `'q' "d" #h \b 100%% {}`)
		// Formats of at most 1024 characters, the model's limit.
		for len(format) > 0 {
			n := 0
			for size := 0; n < len(format) && size+len(format[n]) < 1024; n++ {
				size += len(format[n]) + 1
			}
			configs = append(configs, config{f.key, strings.Join(format[:n], " ")})
			format = format[n:]
		}
	}
	var models []*model.Model
	for i, c := range configs {
		cm := map[string]string{"syslog-endpoint": "127.0.0.1:514", c.key: c.format}
		if i == 0 {
			maps.Copy(cm, map[string]string{
				"server-header":      `it's "50%" #1 \o/`,
				"http-response-404":  "404 Not Here\ncontent-type: text/html; charset=utf-8\nx-odd: '%[src]' \"#\"\n\n<p>100% gone</p>\n",
				"http-response-503":  "\n",
				"worker-max-reloads": "3",
			})
		}
		// A TCP service: the frontend tcp-log-format is for.
		tcp := &model.TCPServicesSource{Source: tcpServicesRef, Data: map[string]string{"9000": "ns/web:80"}}
		m, problems := model.Build(&model.Snapshot{ConfigMap: cm, Ingresses: []*networkingv1.Ingress{passthrough}, TCPServices: tcp}, model.Options{DefaultCertificate: defaultCert(t)})
		for _, p := range problems {
			if p.Object == model.ConfigMapRef {
				t.Errorf("refused: %s", p)
			}
		}
		models = append(models, m)
	}
	haproxybin.Run(t, func(t *testing.T, b haproxybin.Build) {
		for i, m := range models {
			if err := haproxyCheck(t, b.Path, writeRendered(t, m, haproxybin.TempDir(t))); err != nil {
				t.Errorf("%s %q: %v", configs[i].key, configs[i].format, err)
			}
		}
	})
}
