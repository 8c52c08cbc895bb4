package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/external-haproxy/kit/controller/model"
)

func check(t *testing.T, args ...string) (string, bool) {
	t.Helper()
	var out bytes.Buffer
	clean, err := checkCommand(args, &out)
	if err != nil {
		t.Fatal(err)
	}
	return out.String(), clean
}

// TestCheckUpstreamConfig: an upstream-style configuration gets one line
// per key its objects set under our prefixes, with what the controller
// makes of it, and check fails.
func TestCheckUpstreamConfig(t *testing.T) {
	out, clean := check(t, "--configmap=ingress-controller/haproxy-ingress", "-f", "testdata/check/upstream.yaml")
	want := []string{
		`OBJECT KEY VALUE STATUS DETAIL`,
		`ConfigMap/ingress-controller/haproxy-ingress config-global "tune.ssl.default-dh-param 2048\n" ignored config-global is a configuration snippet, read only when the controller runs with --allow-config-snippets; ignored`,
		`ConfigMap/ingress-controller/haproxy-ingress max-connections lots invalid invalid value "lots", want an integer from 1 to 500000; using default "2000"`,
		`ConfigMap/ingress-controller/haproxy-ingress path-type regex ignored not read from the global ConfigMap (an Ingress annotation only), ignored`,
		`ConfigMap/ingress-controller/haproxy-ingress ssl-engine rdrand ignored unknown key, ignored`,
		`ConfigMap/ingress-controller/haproxy-ingress timeout-client 30s supported -`,
		`Ingress/shop/web haproxy-ingress.github.io/config-backend "http-response set-header X-Shop yes\n" ignored config-backend is a configuration snippet, read only when the controller runs with --allow-config-snippets; ignored`,
		`Ingress/shop/web haproxy-ingress.github.io/hsts-preload "yes\u202e\x1b[2J" invalid invalid value "yes\u202e\x1b[2J", want true or false; using the default`,
		`Ingress/shop/web haproxy-ingress.github.io/slots-min-free 4 ignored read from the global ConfigMap only so far (upstream scope Backend); ignored`,
		`Ingress/shop/web haproxy-ingress.github.io/ssl-redirect false supported -`,
		`Ingress/shop/web haproxy-ingress.github.io/timeout-connect 3s supported -`,
		`Ingress/shop/web haproxy-ingress.github.io/timeout-server soon invalid invalid value "soon", want a time from 1ms to 2147483647ms (about 24.8 days): digits and a unit us, ms, s, m, h or d; using the default`,
		`Ingress/shop/web haproxy-ingress.github.io/waf modsecurity ignored unknown key, ignored`,
		`Ingress/shop/web ingress.kubernetes.io/max-connections 100 ignored global key, read from the global ConfigMap only; ignored`,
		`Ingress/shop/web ingress.kubernetes.io/ssl-redirect true ignored ignored, annotation haproxy-ingress.github.io/ssl-redirect wins (first prefix of --annotations-prefix)`,
		`Ingress/shop/web-api haproxy-ingress.github.io/timeout-connect 9s ignored backend shop_web_http: value "9s" ignored, Ingress/shop/web is older and sets "3s"`,
		`Service/shop/web haproxy-ingress.github.io/app-root /home ignored Host key, read from Ingresses, not Services; ignored`,
		`Service/shop/web haproxy-ingress.github.io/balance-algorithm leastconn supported -`,
		`17 key(s): 4 supported, 10 ignored, 3 invalid`,
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	for i, l := range lines {
		lines[i] = strings.Join(strings.Fields(l), " ") // the table's padding aside
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("report:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	if clean {
		t.Error("check passed with ignored and invalid keys")
	}
	if code := checkExit(clean, nil); code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
}

// TestCheckClean: with only supported keys check passes; the snippets are
// supported with --allow-config-snippets; -o json carries every field.
func TestCheckClean(t *testing.T) {
	out, clean := check(t, "--configmap=ingress-controller/haproxy-ingress", "-f", "testdata/app.yaml", "-o", "json")
	var uses []model.KeyUse
	if err := json.Unmarshal([]byte(out), &uses); err != nil {
		t.Fatal(err)
	}
	want := map[string]model.KeyStatus{"http-port": model.KeySupported, "syslog-endpoint": model.KeySupported, "no-such-key": model.KeyIgnored}
	for _, u := range uses {
		if u.Object.String() != "ConfigMap/ingress-controller/haproxy-ingress" || want[u.Key] != u.Status {
			t.Errorf("unexpected %+v", u)
		}
		delete(want, u.Key)
	}
	if len(want) > 0 || clean {
		t.Errorf("missing %v in %s (clean %v)", want, out, clean)
	}

	out, _ = check(t, "--allow-config-snippets", "-f", "testdata/check/upstream.yaml")
	if !strings.Contains(strings.Join(strings.Fields(out), " "), `haproxy-ingress.github.io/config-backend "http-response set-header X-Shop yes\n" supported -`) {
		t.Errorf("config-backend not supported with --allow-config-snippets:\n%s", out)
	}
	out, clean = check(t, "-f", "testdata/check/clean.yaml")
	if !clean || !strings.HasSuffix(out, "1 key(s): 1 supported, 0 ignored, 0 invalid\n") || checkExit(clean, nil) != 0 {
		t.Errorf("clean configuration: clean %v\n%s", clean, out)
	}
}
