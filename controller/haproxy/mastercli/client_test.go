package mastercli

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// fakeMaster answers like a 2.6 master: it reads the command up to EOF before
// replying, so a client that does not half-close hangs until its deadline.
type fakeMaster struct {
	mu     sync.Mutex
	answer func(cmd string) string
	ln     net.Listener
}

func startFakeMaster(t *testing.T, path string, answer func(cmd string) string) *fakeMaster {
	t.Helper()
	m, err := listenFakeMaster(path, answer)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.close)
	return m
}

// listenFakeMaster is startFakeMaster without a test, for a master started
// from another goroutine than the test's (which must not call t.Fatal); the
// caller closes it.
func listenFakeMaster(path string, answer func(cmd string) string) (*fakeMaster, error) {
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	m := &fakeMaster{answer: answer, ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				in, err := io.ReadAll(c)
				if err != nil {
					return
				}
				m.mu.Lock()
				out := m.answer(strings.TrimSuffix(string(in), "\n"))
				m.mu.Unlock()
				_, _ = io.WriteString(c, out)
			}()
		}
	}()
	return m, nil
}

func (m *fakeMaster) close() { m.ln.Close() }

func TestCommandHalfCloses(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "master.sock")
	startFakeMaster(t, sock, func(cmd string) string { return "got " + cmd + "\n\n" })
	c := New(sock, 2*time.Second)
	start := time.Now()
	out, err := c.Command(context.Background(), "show version")
	if err != nil {
		t.Fatal(err)
	}
	if out != "got show version\n\n" {
		t.Errorf("reply %q", out)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("command took %v: the client did not half-close", d)
	}
}

// sequence returns show proc replies for a master whose state is changed by reload.
func reloadingMaster(reloadReply string, afterReload string) func(string) string {
	state := showProc26Failed // baseline: reloads 3, worker 21342
	return func(cmd string) string {
		switch cmd {
		case "show proc":
			return state
		case "reload":
			state = afterReload
			return reloadReply
		}
		return "Unknown command.\n"
	}
}

func TestReloadSynchronousReply(t *testing.T) {
	const ok = `#<PID>          <type>          <reloads>       <uptime>        <version>
19661           master          4 [failed: 0]   0d00h00m30s     2.7.1
# workers
22000           worker          0               0d00h00m00s     2.7.1
`
	t.Run("Success=1", func(t *testing.T) {
		sock := filepath.Join(t.TempDir(), "master.sock")
		startFakeMaster(t, sock, reloadingMaster("Success=1\n--\n[NOTICE] Loading success.\n", ok))
		res, err := New(sock, 2*time.Second).Reload(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if res.MasterPID != 19661 || res.Reloads != 4 || res.WorkerPID != 22000 || res.Restarted {
			t.Errorf("result %+v", res)
		}
	})
	t.Run("Success=0", func(t *testing.T) {
		sock := filepath.Join(t.TempDir(), "master.sock")
		startFakeMaster(t, sock, reloadingMaster("Success=0\n--\n[ALERT] unknown keyword 'bogus'\n", showProc26Failed))
		_, err := New(sock, 2*time.Second).Reload(context.Background())
		var re *ReloadError
		if !errors.As(err, &re) || re.Output != "[ALERT] unknown keyword 'bogus'" {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("restarted master", func(t *testing.T) {
		restarted := strings.Replace(ok, "19661           master          4", "30000           master          0", 1)
		sock := filepath.Join(t.TempDir(), "master.sock")
		startFakeMaster(t, sock, reloadingMaster("", restarted))
		res, err := New(sock, 2*time.Second).Reload(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if !res.Restarted || res.MasterPID != 30000 {
			t.Errorf("result %+v", res)
		}
	})
}

func TestWaitUpWaitsForSocket(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "master.sock")
	// The delay is the tested behaviour (WaitUp waits for a socket that is
	// not there yet), not a precondition. The master starts on the timer's
	// goroutine, which must not call t.Fatal: its error comes back on
	// listening, and a failed listen cancels the WaitUp that waits for it.
	const delay = 300 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type listened struct {
		m   *fakeMaster
		err error
	}
	listening := make(chan listened, 1)
	time.AfterFunc(delay, func() {
		m, err := listenFakeMaster(sock, func(string) string { return showProc26 })
		if err != nil {
			cancel()
		}
		listening <- listened{m, err}
	})
	start := time.Now()
	p, err := New(sock, time.Second).WaitUp(ctx)
	waited := time.Since(start)
	l := <-listening
	if l.err != nil {
		t.Fatalf("fake master: %v", l.err)
	}
	defer l.m.close()
	if err != nil {
		t.Fatal(err)
	}
	if p.Master.PID != 19661 || waited < delay {
		t.Errorf("WaitUp returned %+v after %v", p, waited)
	}
}

func TestWaitUpCancel(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := New(filepath.Join(t.TempDir(), "missing.sock"), time.Second).WaitUp(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v, want deadline exceeded", err)
	}
}

func TestNotUpClassification(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, "stale.sock")
	ln, err := net.Listen("unix", stale)
	if err != nil {
		t.Fatal(err)
	}
	// A dead master leaves its socket file behind: ECONNREFUSED.
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	for _, sock := range []string{filepath.Join(dir, "missing.sock"), stale} {
		_, err := New(sock, time.Second).ShowProc(context.Background())
		if !errors.Is(err, ErrNotUp) {
			t.Errorf("%s: err %v, want ErrNotUp", sock, err)
		}
	}
}

// TestPermissionDenied connects to a socket of mode 000. As root, the
// connecting thread drops its filesystem uid (and with it CAP_DAC_OVERRIDE)
// so that the check applies as it would to a controller with another uid.
func TestPermissionDenied(t *testing.T) {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "master.sock")
	startFakeMaster(t, sock, func(string) string { return showProc26 })
	if err := os.Chmod(sock, 0); err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		// The thread is never unlocked: it exits with the goroutine, so the
		// changed fsuid cannot leak into other goroutines.
		runtime.LockOSThread()
		if os.Getuid() == 0 {
			if _, _, e := syscall.RawSyscall(syscall.SYS_SETFSUID, 65534, 0, 0); e != 0 {
				errc <- e
				return
			}
		}
		_, err := New(sock, time.Second).WaitUp(context.Background())
		errc <- err
	}()
	select {
	case err := <-errc:
		var pe *PermissionError
		if !errors.As(err, &pe) {
			t.Fatalf("err %v, want PermissionError", err)
		}
		if !strings.Contains(err.Error(), "same uid") {
			t.Errorf("message does not explain the fix: %v", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("permission error was waited on instead of reported")
	}
}
