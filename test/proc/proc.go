// Package proc runs the long-lived server binaries of the tests and the local
// control plane (etcd, kube-apiserver, Argo CD's servers): output appended to
// DIR/<name>.log, pid in DIR/<name>.pid, one readiness wait with a deadline
// that gives up as soon as the process exits, and a stop that escalates from
// SIGTERM to SIGKILL.
package proc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/external-haproxy/kit/test/netns"
	"github.com/external-haproxy/kit/test/poll"
)

// StopTimeout is how long a process gets to shut down after SIGTERM before it
// is killed. kube-apiserver normally needs 1.5-5 s.
const StopTimeout = 15 * time.Second

// pollInterval is how often WaitReady asks.
const pollInterval = 50 * time.Millisecond

// Process is one running binary started by Start.
type Process struct {
	Name   string   // names the .log and .pid files and the process in errors
	Dir    string   // holds them
	Bin    string   // path of the executable
	Args   []string //
	Env    []string // nil: the caller's environment
	Detach bool     // outlive the caller (own session) instead of dying with it
	Netns  string   // network namespace to run in (test/netns); empty: the caller's

	cmd     *exec.Cmd
	exited  chan struct{} // closed once cmd.Wait returned
	waitErr error
}

func (p *Process) LogPath() string { return filepath.Join(p.Dir, p.Name+".log") }
func (p *Process) pidPath() string { return filepath.Join(p.Dir, p.Name+".pid") }

// Start launches the binary with its output appended to DIR/<name>.log (appended,
// so the log survives a restart) and records its pid in DIR/<name>.pid so that
// another process (hack/local-cluster.sh stop) can stop it.
func (p *Process) Start() error {
	logf, err := os.OpenFile(p.LogPath(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close() // the child holds its own copy of the descriptor
	fmt.Fprintf(logf, "=== %s starting at %s\n", p.Name, time.Now().Format(time.RFC3339))

	cmd := exec.Command(p.Bin, p.Args...)
	if p.Netns != "" {
		cmd = netns.Command(p.Netns, append([]string{p.Bin}, p.Args...)...)
	}
	cmd.Env = p.Env
	cmd.Stdout, cmd.Stderr = logf, logf
	if p.Detach {
		// Own session: the processes outlive the command that started them and
		// do not get the terminal's SIGINT/SIGHUP.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	} else {
		// A test binary that crashes or is killed must not leave a server
		// behind. Pdeathsig fires when the starting OS thread exits, which the Go
		// runtime does only for goroutines that exit while locked to a thread.
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", p.Bin, err)
	}
	p.cmd = cmd
	p.exited = make(chan struct{})
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	return os.WriteFile(p.pidPath(), []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o600)
}

// WaitReady polls ready until it returns nil. It fails as soon as the process
// exits (with the end of its log), ctx ends or timeout passes (with ready's
// last error). ready's context ends with the wait.
func (p *Process) WaitReady(ctx context.Context, timeout time.Duration, ready func(context.Context) error) error {
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last, exited error
	cond := func() (bool, error) {
		if last = ready(rctx); last == nil {
			return true, nil
		}
		exited = p.EarlyExit()
		return false, exited
	}
	err := poll.Every(ctx, timeout, pollInterval, cond, func() string { return fmt.Sprintf("last: %v", last) })
	if err != nil && exited == nil {
		return fmt.Errorf("%s not ready: %w; see %s", p.Name, err, p.LogPath())
	}
	return err
}

// Stop sends SIGTERM, waits for a clean shutdown and kills the process if it
// takes longer than StopTimeout. Stopping a process that already exited is fine.
func (p *Process) Stop() {
	if p.cmd == nil {
		return
	}
	// SIGTERM: a graceful stop (the apiserver closes its watches, etcd
	// syncs); SIGKILL only for a process that outlasts StopTimeout.
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(StopTimeout):
		_ = p.cmd.Process.Kill() // SIGKILL
		<-p.exited
	}
	p.cmd = nil
	_ = os.Remove(p.pidPath())
}

// Kill stops the process with SIGKILL, for servers that do not exit on
// SIGTERM.
func (p *Process) Kill() {
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Kill()
	<-p.exited
	p.cmd = nil
	_ = os.Remove(p.pidPath())
}

// Exited is closed once the started process has exited.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// EarlyExit is ExitError once the process has exited, nil while it runs (or
// for no process), for a wait that must end when the process it waits for
// is gone.
func (p *Process) EarlyExit() error {
	if p == nil {
		return nil
	}
	select {
	case <-p.exited:
		return p.ExitError()
	default:
		return nil
	}
}

// ExitError describes an early exit, with the end of the log since that is
// where servers explain what was wrong (bad flag, port in use).
func (p *Process) ExitError() error {
	return fmt.Errorf("%s exited early (%v); last lines of %s:\n%s", p.Name, p.waitErr, p.LogPath(), p.Tail(15))
}

// Tail is the last n lines of the log.
func (p *Process) Tail(n int) string {
	b, err := os.ReadFile(p.LogPath())
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// StopByPIDFile stops a process started with Detach by an earlier process: it
// is no longer our child, so it can only be found via its pid file. The pid is
// only trusted if that process's command line still mentions dir, so a
// recycled pid never gets a signal meant for the old process.
func StopByPIDFile(dir, name string) error {
	pidFile := filepath.Join(dir, name+".pid")
	pid, ok := RunningPID(dir, name)
	if !ok {
		_ = os.Remove(pidFile)
		return nil
	}
	// SIGTERM: a graceful stop, as Stop does; SIGKILL only for a process
	// that outlasts StopTimeout.
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("stop %s (pid %d): %w", name, pid, err)
	}
	gone := func() (bool, error) { return !Alive(pid), nil }
	if poll.Every(context.Background(), StopTimeout, 100*time.Millisecond, gone, nil) != nil {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	return os.Remove(pidFile)
}

// RunningPID returns the pid recorded in DIR/<name>.pid if that process is
// alive and still belongs to dir.
func RunningPID(dir, name string) (int, bool) {
	b, err := os.ReadFile(filepath.Join(dir, name+".pid"))
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 || !Alive(pid) {
		return 0, false
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || !bytes.Contains(cmdline, []byte(dir)) {
		return 0, false
	}
	return pid, true
}

// Living lists the live processes other than this one for which match
// holds: the one scan of /proc behind a node's teardown and its checks.
func Living(match func(pid int) bool) []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err == nil && pid != os.Getpid() && Alive(pid) && match(pid) {
			out = append(out, pid)
		}
	}
	return out
}

// Alive reports whether pid exists and is not a zombie. Orphaned detached
// processes are reaped by pid 1, and in containers pid 1 often never reaps, so
// a zombie must count as dead or stop would wait for the full timeout.
func Alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// Format: "pid (comm) S ..."; comm may contain spaces and parentheses.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return false
	}
	state := b[i+2]
	return state != 'Z' && state != 'X'
}
