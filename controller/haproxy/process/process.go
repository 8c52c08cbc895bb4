// Package process runs haproxy in master-worker mode as a child of the
// controller (embedded mode): start, restart when it dies, stop gracefully.
package process

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"

	"k8s.io/klog/v2"

	"github.com/external-haproxy/kit/controller/files"
	"github.com/external-haproxy/kit/controller/haproxy/mastercli"
	"github.com/external-haproxy/kit/internal/ctxutil"
)

// Supervisor keeps one haproxy master running.
type Supervisor struct {
	Binary string // default "haproxy"
	Layout files.Layout
	// GracePeriod is how long a soft stop (SIGUSR1) may take before SIGTERM;
	// default 20s, upstream's --haproxy-grace-period.
	GracePeriod time.Duration
	// OnStart is called, from the supervisor's goroutine, each time a new
	// master answers on its socket: it loaded whatever is on disk, and the
	// runtime state (dynamic updates) must be fed again.
	OnStart        func(ctx context.Context, masterPID int)
	Stdout, Stderr io.Writer // default os.Stdout, os.Stderr
}

const (
	minRestartDelay = 100 * time.Millisecond
	maxRestartDelay = 10 * time.Second
	// stableAfter resets the restart backoff: a master that ran this long
	// did not die from its own config.
	stableAfter = 30 * time.Second
)

// Run starts haproxy and keeps it running until ctx is cancelled, then stops
// it gracefully. It returns only after every haproxy process is gone.
func (s *Supervisor) Run(ctx context.Context) error {
	delay := minRestartDelay
	for {
		started := time.Now()
		cmd, exited, err := s.start()
		if err != nil {
			return err
		}
		readyCtx, cancelReady := context.WithCancel(ctx)
		go s.reportReady(readyCtx, cmd.Process.Pid)

		select {
		case <-ctx.Done():
			cancelReady()
			s.stop(cmd, exited)
			return nil
		case err := <-exited:
			cancelReady()
			// A worker outliving its master would keep the ports with
			// SO_REUSEPORT and silently share traffic with the next one.
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			if time.Since(started) > stableAfter {
				delay = minRestartDelay
			}
			klog.Errorf("haproxy master %d exited (%v); restarting in %v", cmd.Process.Pid, err, delay)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(delay):
		}
		delay = min(2*delay, maxRestartDelay)
	}
}

func (s *Supervisor) start() (*exec.Cmd, <-chan error, error) {
	bin := s.Binary
	if bin == "" {
		bin = "haproxy"
	}
	// haproxy exits when the directory of its -S socket is missing.
	if err := os.MkdirAll(s.Layout.Run, 0o755); err != nil {
		return nil, nil, err
	}
	cmd := exec.Command(bin, "-W", "-S", s.Layout.MasterSocket()+",mode,600", "-f", s.Layout.Etc)
	cmd.Stdout, cmd.Stderr = s.Stdout, s.Stderr
	if cmd.Stdout == nil {
		cmd.Stdout = os.Stdout
	}
	if cmd.Stderr == nil {
		cmd.Stderr = os.Stderr
	}
	// Own process group: the master and its workers can be signalled
	// together. Pdeathsig: haproxy must not outlive a killed controller.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	klog.Infof("started haproxy master %d: %v", cmd.Process.Pid, cmd.Args)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	return cmd, exited, nil
}

// reportReady waits for the master to answer on its socket, then calls OnStart.
// A stale socket of the previous master refuses connections until the new one
// binds over it, so answering proves the new master is up.
func (s *Supervisor) reportReady(ctx context.Context, pid int) {
	c := mastercli.New(s.Layout.MasterSocket(), 0)
	for {
		p, err := c.WaitUp(ctx)
		if err != nil {
			if ctx.Err() == nil {
				klog.Errorf("haproxy master %d: %v", pid, err)
			}
			return
		}
		if p.Master.PID == pid {
			if s.OnStart != nil {
				s.OnStart(ctx, pid)
			}
			return
		}
		if err := ctxutil.Sleep(ctx, 10*time.Millisecond); err != nil {
			return
		}
	}
}

// stop soft-stops haproxy (SIGUSR1: listeners close, in-flight requests
// finish), then SIGTERM after the grace period, then SIGKILL for the group.
func (s *Supervisor) stop(cmd *exec.Cmd, exited <-chan error) {
	grace := s.GracePeriod
	if grace <= 0 {
		grace = 20 * time.Second
	}
	pid := cmd.Process.Pid
	defer func() { _ = syscall.Kill(-pid, syscall.SIGKILL) }()
	for _, step := range []struct {
		sig  syscall.Signal
		wait time.Duration
	}{{syscall.SIGUSR1, grace}, {syscall.SIGTERM, 5 * time.Second}, {syscall.SIGKILL, 5 * time.Second}} {
		if err := cmd.Process.Signal(step.sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
			klog.Errorf("signalling haproxy master %d: %v", pid, err)
		}
		select {
		case err := <-exited:
			klog.Infof("haproxy master %d stopped after %v: %v", pid, step.sig, err)
			return
		case <-time.After(step.wait):
		}
	}
}
