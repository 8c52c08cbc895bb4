package model_test

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/external-haproxy/kit/controller/model"
	"github.com/external-haproxy/kit/test/haproxybin"
)

// TestGlobalExtraOnHAProxy: every log variable, sample fetch and converter
// that http-log-format accepts, and the odd characters a Server header
// and custom answers may hold, give a configuration haproxy -c takes
// without warnings.
func TestGlobalExtraOnHAProxy(t *testing.T) {
	var format []string
	for _, v := range slices.Sorted(maps.Keys(model.LogVars)) {
		format = append(format, "%"+v, "%{+Q}"+v)
	}
	for _, s := range []string{"src", "src_port", "dst", "dst_port", "var(txn.host)", "capture.req.hdr(0)", "capture.res.hdr(9)",
		"capture.req.uri", "capture.req.method", "ssl_fc_sni", "ssl_fc_protocol", "ssl_fc_cipher", "src,lower,upper,hex,base64"} {
		format = append(format, "%["+s+"]", "%{-Q+E}["+s+"]")
	}
	format = append(format, `'q' "d" #h \b 100%% {}`)
	// Formats of at most 1024 characters, the model's limit.
	var formats []string
	for len(format) > 0 {
		n := 0
		for size := 0; n < len(format) && size+len(format[n]) < 1024; n++ {
			size += len(format[n]) + 1
		}
		formats = append(formats, strings.Join(format[:n], " "))
		format = format[n:]
	}
	var models []*model.Model
	for i, f := range formats {
		cm := map[string]string{"syslog-endpoint": "127.0.0.1:514", "http-log-format": f}
		if i == 0 {
			maps.Copy(cm, map[string]string{
				"server-header":      `it's "50%" #1 \o/`,
				"http-response-404":  "404 Not Here\ncontent-type: text/html; charset=utf-8\nx-odd: '%[src]' \"#\"\n\n<p>100% gone</p>\n",
				"http-response-503":  "\n",
				"worker-max-reloads": "3",
			})
		}
		m, problems := model.Build(&model.Snapshot{ConfigMap: cm}, model.Options{DefaultCertificate: defaultCert(t)})
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
				t.Errorf("format %q: %v", formats[i], err)
			}
		}
	})
}
