package haproxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/external-haproxy/kit/controller/files"
	"github.com/external-haproxy/kit/controller/haproxy/filestore"
	"github.com/external-haproxy/kit/controller/haproxy/mastercli"
	"github.com/external-haproxy/kit/controller/haproxy/process"
	"github.com/external-haproxy/kit/controller/haproxy/validate"
	"github.com/external-haproxy/kit/internal/loopback"
	"github.com/external-haproxy/kit/test/haproxybin"
)

// haproxyBinary is the build of the haproxybin.Run subtest tb runs in.
func haproxyBinary(tb testing.TB) string {
	tb.Helper()
	return haproxybin.Path(tb)
}

// newLayout returns a layout in a short temp dir (unix socket paths are
// limited to 108 bytes) with the init placeholder written.
func newLayout(tb testing.TB) files.Layout {
	tb.Helper()
	l := files.DefaultLayout(haproxybin.TempDir(tb))
	// The pod's emptyDirs exist before any container starts.
	for _, d := range []string{l.Etc, l.Lib, l.Run} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			tb.Fatal(err)
		}
	}
	if err := WriteInitConfig(l); err != nil {
		tb.Fatal(err)
	}
	return l
}

// startExternal runs haproxy the way the sidecar container does.
func startExternal(tb testing.TB, l files.Layout) *exec.Cmd {
	tb.Helper()
	return haproxybin.StartMaster(tb, haproxyBinary(tb), l.MasterSocket(), l.Etc)
}

// startEmbedded runs haproxy under the supervisor until the test ends.
func startEmbedded(tb testing.TB, l files.Layout) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	s := &process.Supervisor{Binary: haproxyBinary(tb), Layout: l, GracePeriod: time.Second}
	if !testing.Verbose() {
		s.Stdout, s.Stderr = io.Discard, io.Discard
	}
	go func() { done <- s.Run(ctx) }()
	tb.Cleanup(func() { cancel(); <-done })
}

func configSet(l files.Layout, port int, marker string, extra string) files.Set {
	return files.Set{
		{Path: filepath.Join(l.Etc, "00-global.cfg"), Data: []byte("global\n    log stderr format raw local0 notice\n" +
			"    stats socket " + l.AdminSocket() + " mode 600 level admin\n")},
		{Path: filepath.Join(l.Etc, "10-defaults.cfg"), Data: []byte(`defaults
    mode http
    log global
    timeout connect 5s
    timeout client 30s
    timeout server 30s
`)},
		{Path: filepath.Join(l.Etc, "20-frontends.cfg"), Data: []byte(fmt.Sprintf(`frontend fe_http
    bind 127.0.0.1:%d
    http-request set-var(txn.be) req.hdr(host),map(%s,none)
    http-request return status 200 content-type text/plain string %s
%s`, port, filepath.Join(l.Maps(), "hosts.map"), marker, extra))},
		{Path: filepath.Join(l.Maps(), "hosts.map"), Data: []byte("app.example.com be_app\n")},
	}
}

func get(tb testing.TB, port int) string {
	tb.Helper()
	c := http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get(fmt.Sprintf("http://127.0.0.1:%d/", port))
	if err != nil {
		return "error: " + err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return string(body)
}

func snapshot(tb testing.TB, l files.Layout) files.Set {
	tb.Helper()
	s, err := filestore.New(l).Snapshot()
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func TestUpdateReloads(t *testing.T) { haproxybin.Run(t, testUpdateReloads) }

func testUpdateReloads(t *testing.T, _ haproxybin.Build) {
	for _, mode := range []string{"external", "embedded"} {
		t.Run(mode, func(t *testing.T) {
			l := newLayout(t)
			if mode == "external" {
				startExternal(t, l)
			} else {
				startEmbedded(t, l)
			}
			d := New(Options{Layout: l, Binary: haproxyBinary(t), ConnectionTimeout: 10 * time.Second, Mode: mode})
			ctx := context.Background()
			port := loopback.Ports(t, 1)[0]

			var lastWorker int
			for _, gen := range []string{"gen-1", "gen-2"} {
				res, err := d.Update(ctx, configSet(l, port, gen, ""))
				if err != nil {
					t.Fatal(err)
				}
				if !res.Reloaded || res.Reload.WorkerPID == lastWorker {
					t.Fatalf("%s: not reloaded: %+v", gen, res)
				}
				lastWorker = res.Reload.WorkerPID
				if body := get(t, port); body != gen {
					t.Fatalf("served %q, want %q", body, gen)
				}
			}
			if _, err := os.Stat(filepath.Join(l.Etc, InitConfigName)); !os.IsNotExist(err) {
				t.Error("init placeholder still in the -f directory")
			}
			res, err := d.Update(ctx, configSet(l, port, "gen-2", ""))
			if err != nil || res.Reloaded || len(res.Changed) != 0 {
				t.Errorf("unchanged set: %+v, %v", res, err)
			}

			// Runtime API commands reach the worker the last reload started.
			out, err := d.Runtime(ctx, "show info")
			if want := fmt.Sprintf("Pid: %d\n", lastWorker); err != nil || !strings.Contains(out, want) {
				t.Errorf("show info through the master: %v\n%.200s", err, out)
			}
		})
	}
}

// TestUpdateRejectsInvalidConfig: a set haproxy cannot parse is never
// served. With --validate-config=always haproxy -c refuses it before the
// live files change; with auto the reload is refused, the old worker goes
// on serving and the last good files are back on disk. Either way the error
// carries haproxy's messages (on 2.6 from haproxy -c after the refusal, on
// 2.7+ from the reload answer).
func TestUpdateRejectsInvalidConfig(t *testing.T) {
	haproxybin.Run(t, func(t *testing.T, hb haproxybin.Build) {
		for _, mode := range []Validation{ValidateAlways, ValidateAuto} {
			t.Run(string(mode), func(t *testing.T) { testUpdateRejectsInvalidConfig(t, mode) })
		}
	})
}

func testUpdateRejectsInvalidConfig(t *testing.T, mode Validation) {
	l := newLayout(t)
	startExternal(t, l)
	d := New(Options{Layout: l, Binary: haproxyBinary(t), ConnectionTimeout: 10 * time.Second, Validate: mode})
	ctx := context.Background()
	port := loopback.Ports(t, 1)[0]
	good := configSet(l, port, "gen-1", "")
	if _, err := d.Update(ctx, good); err != nil {
		t.Fatal(err)
	}
	onDisk := snapshot(t, l)

	_, err := d.Update(ctx, configSet(l, port, "gen-2", "    bogus-keyword\n"))
	var verr *validate.Error
	var rerr *mastercli.ReloadError
	switch {
	case mode == ValidateAlways && !errors.As(err, &verr):
		t.Fatalf("err %v, want a validation error", err)
	case mode == ValidateAuto && !errors.As(err, &verr) && !(errors.As(err, &rerr) && rerr.Refused && strings.Contains(rerr.Output, "bogus-keyword")):
		t.Fatalf("err %v, want a refused reload with haproxy's message", err)
	case !strings.Contains(err.Error(), "bogus-keyword"):
		t.Fatalf("err %v does not name the line haproxy refused", err)
	}
	t.Logf("rejected: %v", err)
	if !reflect.DeepEqual(snapshot(t, l), onDisk) {
		t.Error("live files not those of the last good set after a rejected one")
	}
	if body := get(t, port); body != "gen-1" {
		t.Errorf("served %q after a rejected set, want gen-1", body)
	}
}

// TestUpdateRestoresAfterFailedReload covers reloads haproxy -c cannot
// predict: a config error with validation off (external mode without a local
// haproxy) and a port taken by another process.
func TestUpdateRestoresAfterFailedReload(t *testing.T) {
	haproxybin.Run(t, testUpdateRestoresAfterFailedReload)
}

func testUpdateRestoresAfterFailedReload(t *testing.T, hb haproxybin.Build) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	takenPort := taken.Addr().(*net.TCPAddr).Port

	for name, tc := range map[string]struct {
		binary string
		extra  string
		cause  string // in haproxy's own message
	}{
		"no validation": {"", "    bogus-keyword\n", "unknown keyword 'bogus-keyword'"},
		"bind conflict": {haproxyBinary(t), fmt.Sprintf("frontend fe_taken\n    bind 127.0.0.1:%d\n", takenPort), "Address already in use"},
	} {
		t.Run(name, func(t *testing.T) {
			l := newLayout(t)
			startExternal(t, l)
			d := New(Options{Layout: l, Binary: tc.binary, ConnectionTimeout: 10 * time.Second})
			ctx := context.Background()
			port := loopback.Ports(t, 1)[0]
			good := configSet(l, port, "gen-1", "")
			if _, err := d.Update(ctx, good); err != nil {
				t.Fatal(err)
			}
			onDisk := snapshot(t, l)

			_, err := d.Update(ctx, configSet(l, port, "gen-2", tc.extra))
			var rerr *ReloadError
			if !errors.As(err, &rerr) || rerr.RestoreErr != nil {
				t.Fatalf("err %v, want a ReloadError with the files restored", err)
			}
			t.Logf("failed: %v", err)
			// 2.7+ answers reload with Success=0 and its startup log, so the
			// error names the cause; 2.6 writes it only to haproxy's stderr.
			var merr *mastercli.ReloadError
			if !errors.As(err, &merr) {
				t.Fatalf("err %v, want a mastercli.ReloadError inside", err)
			}
			if hb.AtLeast("2.7") && (merr.Reason != "haproxy answered Success=0" || !strings.Contains(merr.Output, tc.cause)) {
				t.Errorf("reload reply not reported: reason %q, output %q", merr.Reason, merr.Output)
			}
			if !reflect.DeepEqual(snapshot(t, l), onDisk) {
				t.Error("last good files not restored")
			}
			if body := get(t, port); body != "gen-1" {
				t.Errorf("served %q after a failed reload, want gen-1", body)
			}
			// Retrying the good set reloads although the disk already holds it.
			res, err := d.Update(ctx, good)
			if err != nil || !res.Reloaded {
				t.Errorf("retry: %+v, %v", res, err)
			}
		})
	}
}

func TestUpdateWaitsForMaster(t *testing.T) { haproxybin.Run(t, testUpdateWaitsForMaster) }

func testUpdateWaitsForMaster(t *testing.T, hb haproxybin.Build) {
	l := newLayout(t)
	d := New(Options{Layout: l, Binary: hb.Path, ConnectionTimeout: 10 * time.Second})
	port := loopback.Ports(t, 1)[0]
	// The delay is the tested behaviour (Update waits for a master that is
	// not up yet), not a precondition. haproxy starts on the timer's
	// goroutine, which must not call t.Fatal: its error comes back on
	// started, and a failed start cancels the Update that waits for it.
	const delay = 300 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type launched struct {
		m   *haproxybin.Master
		err error
	}
	started := make(chan launched, 1)
	time.AfterFunc(delay, func() {
		m, err := haproxybin.LaunchMaster(hb.Path, l.MasterSocket(), l.Etc)
		if err != nil {
			cancel()
		}
		started <- launched{m, err}
	})

	start := time.Now()
	res, err := d.Update(ctx, configSet(l, port, "gen-1", ""))
	waited := time.Since(start)
	h := <-started
	if h.m != nil {
		t.Cleanup(h.m.Stop)
	}
	if h.err != nil {
		t.Fatalf("starting haproxy after %v: %v", delay, h.err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if waited < delay || !res.Reloaded {
		t.Errorf("Update returned after %v: %+v", waited, res)
	}
	if body := get(t, port); body != "gen-1" {
		t.Errorf("served %q, want gen-1", body)
	}
}

func TestUpdateCancelledWhileWaiting(t *testing.T) {
	l := newLayout(t)
	d := New(Options{Layout: l, ConnectionTimeout: 10 * time.Second})
	initial := snapshot(t, l)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := d.Update(ctx, configSet(l, loopback.Ports(t, 1)[0], "gen-1", ""))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v, want deadline exceeded", err)
	}
	if !reflect.DeepEqual(snapshot(t, l), initial) {
		t.Error("files not restored after an abandoned update")
	}
}

// TestRuntimeBatch: commands sent on one connection get their own answers,
// in order, a failing one in the middle too, and take effect.
func TestRuntimeBatch(t *testing.T) {
	haproxybin.Run(t, func(t *testing.T, _ haproxybin.Build) {
		l := newLayout(t)
		startExternal(t, l)
		d := New(Options{Layout: l, Binary: haproxyBinary(t), ConnectionTimeout: 10 * time.Second})
		ctx := context.Background()
		port := loopback.Ports(t, 1)[0]
		if _, err := d.Update(ctx, configSet(l, port, "gen-1", "backend be\n    server s1 127.0.0.1:1 disabled\n")); err != nil {
			t.Fatal(err)
		}
		answers, err := d.RuntimeBatch(ctx, []string{"set server be/s1 addr 127.0.0.2 port 8080", "set server be/none state ready",
			"set server be/s1 weight 7", "get weight be/s1"})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"IP changed from '127.0.0.1' to '127.0.0.2'", "No such server", "", "7 (initial 1)"}
		for i, w := range want {
			if got := strings.TrimSpace(answers[i]); w == "" && got != "" || !strings.Contains(got, w) {
				t.Errorf("answer %d: %q, want %q", i, got, w)
			}
		}
		if _, err := d.RuntimeBatch(ctx, []string{"show info; show stat"}); err == nil {
			t.Error("a batched command with ; was sent")
		}
	})
}
