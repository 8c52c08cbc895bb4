package haproxybin

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/external-haproxy/kit/test/poll"
)

// Master is an external haproxy started by LaunchMaster.
type Master struct {
	Cmd    *exec.Cmd
	exited chan error
	out    *lockedBuffer
}

// StartMaster runs bin as the external haproxy sidecar does (master-worker,
// master CLI on socket, config directory etc) until the test ends, and
// waits until its master socket answers: a haproxy that exits at start or
// never listens fails the test with its output, where a driver would wait
// for it forever.
func StartMaster(tb testing.TB, bin, socket, etc string) *exec.Cmd {
	tb.Helper()
	m, err := LaunchMaster(bin, socket, etc)
	if m != nil {
		tb.Cleanup(m.Stop)
	}
	if err != nil {
		tb.Fatal(err)
	}
	return m.Cmd
}

// LaunchMaster is StartMaster without a test: it returns the error (with
// haproxy's output) instead of failing one, for a haproxy started from
// another goroutine than the test's, where t.Fatal must not be called. The
// caller stops it with Stop, also after an error (when m is not nil).
func LaunchMaster(bin, socket, etc string) (*Master, error) {
	cmd := exec.Command(bin, "-W", "-S", socket+",mode,600", "-f", etc)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	m := &Master{Cmd: cmd, exited: make(chan error, 1), out: &lockedBuffer{}}
	cmd.Stdout, cmd.Stderr = m.out, m.out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() { m.exited <- cmd.Wait() }()
	err := poll.Every(context.Background(), 10*time.Second, 5*time.Millisecond, func() (bool, error) {
		select {
		case err := <-m.exited:
			m.exited <- err
			return false, fmt.Errorf("haproxy exited at start: %v", err)
		default:
		}
		c, err := net.Dial("unix", socket)
		if err == nil {
			c.Close()
		}
		return err == nil, nil
	}, nil)
	if err != nil {
		return m, fmt.Errorf("external haproxy %s: %v\n%s", bin, err, m.out.String())
	}
	return m, nil
}

// Stop kills the master and its workers and waits for the master. SIGKILL:
// this is the end of a test, not a graceful stop under test; the group, so
// that no worker keeps a port for the next test.
func (m *Master) Stop() {
	_ = syscall.Kill(-m.Cmd.Process.Pid, syscall.SIGKILL)
	err := <-m.exited
	m.exited <- err // Stop may run twice
}

// lockedBuffer collects a process's output while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
