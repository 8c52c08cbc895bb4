package e2e

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/external-haproxy/kit/test/e2eenv"
)

// waitReloads polls the master's reload counter until it exceeds after.
func waitMasterReloads(t *testing.T, env *e2eenv.Env, after int, timeout time.Duration) int {
	t.Helper()
	var n int
	var err error
	if !eventually(timeout, func() bool { n, err = env.Reloads(context.Background()); return err == nil && n > after }) {
		t.Fatalf("master reload counter still %d (err %v) after %v, want > %d\ncontroller:\n%s", n, err, timeout, after, env.Tail(e2eenv.Controller, 25))
	}
	return n
}

// The global ConfigMap changed as in upstream's external-haproxy example:
// haproxy reloads and its access log reaches the haproxy container's stdout.
func TestConfigMapSyslogStdoutReloadsAndLogsAccess(t *testing.T) {
	env, ctx, _ := servingEcho1(t)
	before, err := env.Reloads(ctx)
	if err != nil {
		t.Fatal(err)
	}
	logStart := len(env.Log(e2eenv.Controller))

	if err := env.PatchConfigMap(ctx, map[string]string{"syslog-endpoint": "stdout", "syslog-format": "raw"}); err != nil {
		t.Fatal(err)
	}
	after := waitMasterReloads(t, env, before, 30*time.Second)
	t.Logf("master reload counter %d -> %d", before, after)
	update := regexp.MustCompile(`(?s)starting haproxy update id=(\d+).*finish haproxy update id=(\d+): [^\n]*`)
	var m []string
	if !eventually(15*time.Second, func() bool {
		m = update.FindStringSubmatch(env.Log(e2eenv.Controller)[logStart:])
		return m != nil && m[1] == m[2]
	}) {
		t.Fatalf("no starting/finish haproxy update pair after the ConfigMap change:\n%s", env.Log(e2eenv.Controller)[logStart:])
	}
	t.Logf("controller: %s", strings.TrimSpace(m[0][strings.LastIndex(m[0], "finish"):]))
	global, err := os.ReadFile(env.Path(e2eenv.Controller, "/etc/haproxy/00-global.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(global), "log stdout format raw") {
		t.Errorf("00-global.cfg lacks the stdout log:\n%s", global)
	}

	// A request sent afterwards shows up in haproxy's stdout, with the
	// backend that served it.
	probe := fmt.Sprintf("/access-log-probe-%d", time.Now().UnixNano())
	if r, err := env.Get("echo.example.com", probe, false); err != nil || r.Status != 200 {
		t.Fatalf("request after the reload: %d %v", r.Status, err)
	}
	line, err := env.WaitLog(e2eenv.Sidecar, regexp.MustCompile(`[^\n]*"GET `+regexp.QuoteMeta(probe)+` HTTP/1.1"[^\n]*`), 10*time.Second)
	if err != nil {
		t.Fatalf("%v\nhaproxy:\n%s", err, env.Tail(e2eenv.Sidecar, 20))
	}
	t.Logf("haproxy stdout: %s", line)
	if !strings.Contains(line, " 200 ") || !strings.Contains(line, "http ") {
		t.Errorf("access log line lacks the status or the frontend: %q", line)
	}
}

// An invalid ConfigMap value is named in a warning, the default is kept and
// haproxy keeps serving.
func TestConfigMapInvalidValueKeepsDefault(t *testing.T) {
	env, ctx, _ := servingEcho1(t)
	if err := env.PatchConfigMap(ctx, map[string]string{"timeout-client": "forever"}); err != nil {
		t.Fatal(err)
	}
	warning, err := env.WaitLog(e2eenv.Controller, regexp.MustCompile(`[^\n]*timeout-client[^\n]*invalid value "forever"[^\n]*`), 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("controller: %s", warning)
	if !strings.Contains(warning, `using default "50s"`) {
		t.Errorf("warning does not say which default is used: %q", warning)
	}
	defaults, err := os.ReadFile(env.Path(e2eenv.Controller, "/etc/haproxy/10-defaults.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(defaults), "timeout client 50s\n") || strings.Contains(string(defaults), "forever") {
		t.Errorf("10-defaults.cfg does not keep the default client timeout:\n%s", defaults)
	}
	if err := env.Served("echo.example.com", 10*time.Second, "echo-1"); err != nil {
		t.Fatal(err)
	}
	// A valid value after the invalid one is taken.
	if err := env.PatchConfigMap(ctx, map[string]string{"timeout-client": "42s"}); err != nil {
		t.Fatal(err)
	}
	var b []byte
	if !eventually(20*time.Second, func() bool {
		b, _ = os.ReadFile(env.Path(e2eenv.Controller, "/etc/haproxy/10-defaults.cfg"))
		return strings.Contains(string(b), "timeout client 42s\n")
	}) {
		t.Fatalf("timeout-client: 42s not rendered:\n%s\ncontroller:\n%s", b, env.Tail(e2eenv.Controller, 20))
	}
	if err := env.Served("echo.example.com", 10*time.Second, "echo-1"); err != nil {
		t.Fatal(err)
	}
}
