package main

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/klog/v2"

	"github.com/external-haproxy/kit/test/haproxybin"
)

// The render command writes what the controller would, where it would, and
// haproxy accepts it.
func TestRenderCommand(t *testing.T) {
	var logs bytes.Buffer
	fs := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(fs)
	_ = fs.Set("logtostderr", "false")
	klog.SetOutput(&logs)
	defer klog.SetOutput(os.Stderr)

	// A prefix that every path in the config must quote.
	prefix := filepath.Join(t.TempDir(), `we ir'd"\#(x)`)
	if err := renderCommand([]string{"--configmap=ingress-controller/haproxy-ingress", "--local-filesystem-prefix=" + prefix, "-f", "testdata"}); err != nil {
		t.Fatal(err)
	}
	klog.Flush()
	prefixMap, err := os.ReadFile(filepath.Join(prefix, "etc/haproxy/maps/http-prefix.map"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(prefixMap), "echo.example.com/ app_echo_http") || strings.Contains(string(prefixMap), "other.example.com") {
		t.Errorf("routes in the prefix map:\n%s", prefixMap)
	}
	frontends, _ := os.ReadFile(filepath.Join(prefix, "etc/haproxy/20-frontends.cfg"))
	if !strings.Contains(string(frontends), ":18080") {
		t.Error("ConfigMap http-port not applied")
	}
	if key, err := os.Stat(filepath.Join(prefix, "var/lib/haproxy/crt/default.pem")); err != nil || key.Mode().Perm() != 0o600 {
		t.Errorf("default certificate missing or not 0600: %v", err)
	}
	for _, want := range []string{"no-such-key", "1 of 2 Ingress(es) ignored"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("warnings lack %q:\n%s", want, logs.String())
		}
	}
	haproxybin.Run(t, func(t *testing.T, hb haproxybin.Build) {
		out, err := exec.Command(hb.Path, "-c", "-f", filepath.Join(prefix, "etc/haproxy")).CombinedOutput()
		if err != nil {
			t.Fatalf("haproxy -c rejects the rendered files: %v\n%s", err, out)
		}
	})
}

func TestRenderNeedsInput(t *testing.T) {
	if err := renderCommand([]string{"--local-filesystem-prefix=" + t.TempDir()}); err == nil || !strings.Contains(err.Error(), "-f") {
		t.Fatalf("got %v, want an error asking for -f", err)
	}
	if err := renderCommand([]string{"--rate-limit-update=100", "-f", "testdata"}); err == nil || !strings.Contains(err.Error(), "--rate-limit-update") {
		t.Fatalf("got %v, want an error naming --rate-limit-update", err)
	}
}
