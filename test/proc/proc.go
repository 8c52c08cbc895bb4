package cluster

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// stopTimeout is how long a component gets to shut down after SIGTERM before it
// is killed. kube-apiserver normally needs 1.5-5 s.
const stopTimeout = 15 * time.Second

// process is one running control-plane binary started by this package.
type process struct {
	name    string // "etcd" or "kube-apiserver"; also names the .log and .pid files
	dir     string
	bin     string
	args    []string
	detach  bool
	cmd     *exec.Cmd
	exited  chan struct{} // closed once cmd.Wait returned
	waitErr error
}

func (p *process) logPath() string { return filepath.Join(p.dir, p.name+".log") }
func (p *process) pidPath() string { return filepath.Join(p.dir, p.name+".pid") }

// start launches the binary with its output appended to DIR/<name>.log (appended,
// so the log survives an apiserver Restart) and records its pid in DIR/<name>.pid
// so that another process (hack/local-cluster.sh stop) can stop it.
func (p *process) start() error {
	logf, err := os.OpenFile(p.logPath(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close() // the child holds its own copy of the descriptor
	fmt.Fprintf(logf, "=== %s starting at %s\n", p.name, time.Now().Format(time.RFC3339))

	cmd := exec.Command(p.bin, p.args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if p.detach {
		// Own session: the processes outlive the command that started them and
		// do not get the terminal's SIGINT/SIGHUP.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	} else {
		// A test binary that crashes or is killed must not leave an apiserver
		// behind. Pdeathsig fires when the starting OS thread exits, which the Go
		// runtime does only for goroutines that exit while locked to a thread.
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", p.bin, err)
	}
	p.cmd = cmd
	p.exited = make(chan struct{})
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	return os.WriteFile(p.pidPath(), []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o600)
}

// stop sends SIGTERM, waits for a clean shutdown and kills the process if it
// takes longer than stopTimeout. Stopping a process that already exited is fine.
func (p *process) stop() {
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(stopTimeout):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
	p.cmd = nil
	_ = os.Remove(p.pidPath())
}

// exitError describes an early exit, with the end of the log since that is
// where kube-apiserver and etcd explain what was wrong (bad flag, port in use).
func (p *process) exitError() error {
	return fmt.Errorf("%s exited early (%v); last lines of %s:\n%s", p.name, p.waitErr, p.logPath(), tail(p.logPath(), 15))
}

func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// stopByPIDFile stops a component started with Options.Detach by an earlier
// process: it is no longer our child, so it can only be found via its pid file.
// The pid is only trusted if that process's command line still mentions dir,
// so a recycled pid never gets a signal meant for the old process.
func stopByPIDFile(dir, name string) error {
	pidFile := filepath.Join(dir, name+".pid")
	pid, ok := runningPID(dir, name)
	if !ok {
		_ = os.Remove(pidFile)
		return nil
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("stop %s (pid %d): %w", name, pid, err)
	}
	deadline := time.Now().Add(stopTimeout)
	for alive(pid) {
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	return os.Remove(pidFile)
}

// runningPID returns the pid recorded in DIR/<name>.pid if that process is
// alive and still belongs to the cluster in dir.
func runningPID(dir, name string) (int, bool) {
	b, err := os.ReadFile(filepath.Join(dir, name+".pid"))
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 || !alive(pid) {
		return 0, false
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || !bytes.Contains(cmdline, []byte(dir)) {
		return 0, false
	}
	return pid, true
}

// alive reports whether pid exists and is not a zombie. Orphaned detached
// processes are reaped by pid 1, and in containers pid 1 often never reaps, so
// a zombie must count as dead or stop would wait for the full timeout.
func alive(pid int) bool {
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
