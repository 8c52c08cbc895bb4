// Package podrun runs the containers of a rendered pod spec as local
// processes, the way a kubelet would on a node: emptyDir volumes become
// directories under one prefix, init containers run to completion first, and
// each container's image is mapped to a local binary. Arguments are taken
// from the spec as rendered — only paths under volume mounts are moved under
// the prefix — so tests and the demo run what the overlays really produce.
package podrun

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/yaml"
)

// PodSpec finds the DaemonSet or Deployment called name in a kustomize or
// kpt output and returns its pod template spec.
func PodSpec(manifests []byte, name string) (*corev1.PodSpec, error) {
	nodes, err := kio.FromBytes(manifests)
	if err != nil {
		return nil, err
	}
	for _, n := range nodes {
		if n.GetName() != name || (n.GetKind() != "DaemonSet" && n.GetKind() != "Deployment") {
			continue
		}
		s, err := n.String()
		if err != nil {
			return nil, err
		}
		var ds appsv1.DaemonSet // Deployment's spec.template sits at the same path
		if err := yaml.Unmarshal([]byte(s), &ds); err != nil {
			return nil, err
		}
		return &ds.Spec.Template.Spec, nil
	}
	return nil, fmt.Errorf("no DaemonSet or Deployment %q in the manifests", name)
}

// Pod is a running pod.
type Pod struct {
	Spec   *corev1.PodSpec
	Prefix string            // root of the emptyDir volumes
	Env    map[string]string // values of the Downward API env vars (POD_NAME, ...)
	// Binary maps a container to the local program standing in for its image.
	Binary func(c *corev1.Container) (string, error)
	// ExtraArgs are appended for a container (e.g. --kubeconfig for the
	// controller, which in a cluster uses its ServiceAccount).
	ExtraArgs map[string][]string
	LogDir    string

	mu    sync.Mutex
	procs map[string]*proc
}

type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
	log  *os.File
}

// Start creates the volumes, runs init containers to completion (native
// sidecars, restartPolicy Always, are started and left running) and starts
// the containers.
func (p *Pod) Start(ctx context.Context) error {
	p.procs = map[string]*proc{}
	for _, dir := range p.mountDirs() {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	for i := range p.Spec.InitContainers {
		c := &p.Spec.InitContainers[i]
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			if err := p.StartContainer(c.Name); err != nil {
				return err
			}
			continue
		}
		if err := p.runToCompletion(ctx, c); err != nil {
			return err
		}
	}
	for _, c := range p.Spec.Containers {
		if err := p.StartContainer(c.Name); err != nil {
			return err
		}
	}
	return nil
}

// Container returns the spec of a container or init container.
func (p *Pod) Container(name string) *corev1.Container {
	for _, list := range [][]corev1.Container{p.Spec.Containers, p.Spec.InitContainers} {
		for i := range list {
			if list[i].Name == name {
				return &list[i]
			}
		}
	}
	return nil
}

// Command is the local command line of a container.
func (p *Pod) Command(c *corev1.Container) ([]string, error) {
	bin, err := p.Binary(c)
	if err != nil {
		return nil, err
	}
	argv := []string{bin}
	for _, a := range append(append([]string{}, c.Command...), c.Args...) {
		argv = append(argv, p.local(c, p.expand(a)))
	}
	if len(c.Command) > 0 {
		argv = append(argv[:1], argv[2:]...) // command[0] is the image's program, replaced by bin
	}
	return append(argv, p.ExtraArgs[c.Name]...), nil
}

func (p *Pod) runToCompletion(ctx context.Context, c *corev1.Container) error {
	argv, err := p.Command(c)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = p.environ(c)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("init container %s (%s): %v\n%s", c.Name, strings.Join(argv, " "), err, out)
	}
	return nil
}

// StartContainer starts one container, or restarts it after Stop, Kill or
// an exit of its own.
func (p *Pod) StartContainer(name string) error {
	c := p.Container(name)
	if c == nil {
		return fmt.Errorf("no container %q", name)
	}
	argv, err := p.Command(c)
	if err != nil {
		return err
	}
	// A container that exited on its own restarts in place: what is left of
	// its processes goes first, as with a kubelet's restart.
	if old := p.take(name); old != nil {
		old.kill()
	}
	logf, err := os.OpenFile(filepath.Join(p.LogDir, name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	fmt.Fprintf(logf, "### %s %s\n", time.Now().Format(time.RFC3339Nano), strings.Join(argv, " "))
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = p.environ(c)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Own process group: Kill takes haproxy's workers with the master; die
	// with the test or demo process.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("container %s: %w", name, err)
	}
	pr := &proc{cmd: cmd, done: make(chan struct{}), log: logf}
	go func() { _ = cmd.Wait(); close(pr.done) }()
	p.mu.Lock()
	p.procs[name] = pr
	p.mu.Unlock()
	return nil
}

// Stop ends a container gracefully, as the kubelet does: SIGTERM, then
// SIGKILL after grace.
func (p *Pod) Stop(name string, grace time.Duration) {
	pr := p.take(name)
	if pr == nil {
		return
	}
	_ = syscall.Kill(-pr.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-pr.done:
	case <-time.After(grace):
	}
	pr.kill()
}

// Kill ends a container like a crash or an OOM kill: SIGKILL to all its
// processes and nothing else, so no graceful path runs.
func (p *Pod) Kill(name string) {
	if pr := p.take(name); pr != nil {
		pr.kill()
	}
}

// Signal sends sig to every process of a running container (SIGSTOP and
// SIGCONT pause and resume it).
func (p *Pod) Signal(name string, sig syscall.Signal) error {
	p.mu.Lock()
	pr := p.procs[name]
	p.mu.Unlock()
	if pr == nil {
		return fmt.Errorf("container %s is not running", name)
	}
	return syscall.Kill(-pr.cmd.Process.Pid, sig)
}

// Exited is closed when a started container's main process exits on its
// own; nil when the container is not started (or was stopped or killed).
func (p *Pod) Exited(name string) <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	if pr := p.procs[name]; pr != nil {
		return pr.done
	}
	return nil
}

// PID is the process ID of a running container's main process (haproxy's
// master for the sidecar), or 0 when the container is not started.
func (p *Pod) PID(name string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if pr := p.procs[name]; pr != nil {
		return pr.cmd.Process.Pid
	}
	return 0
}

func (p *Pod) take(name string) *proc {
	p.mu.Lock()
	defer p.mu.Unlock()
	pr := p.procs[name]
	delete(p.procs, name)
	return pr
}

// kill ends the process group and waits for the main process.
func (pr *proc) kill() {
	_ = syscall.Kill(-pr.cmd.Process.Pid, syscall.SIGKILL)
	<-pr.done
	pr.log.Close()
}

// Close stops every container.
func (p *Pod) Close() {
	p.mu.Lock()
	var names []string
	for n := range p.procs {
		names = append(names, n)
	}
	p.mu.Unlock()
	for _, n := range names {
		p.Stop(n, 5*time.Second)
	}
}

// Log returns what a container printed so far.
func (p *Pod) Log(name string) string {
	b, _ := os.ReadFile(filepath.Join(p.LogDir, name+".log"))
	return string(b)
}

// WaitLog waits until a container's log matches re, and returns the match.
func (p *Pod) WaitLog(name string, re *regexp.Regexp, timeout time.Duration) (string, error) {
	deadline := time.Now().Add(timeout)
	for {
		if m := re.FindString(p.Log(name)); m != "" {
			return m, nil
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("container %s: no log line matching %q after %v", name, re, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Path is where a path inside the pod's volumes lives locally.
func (p *Pod) Path(inPod string) string { return filepath.Join(p.Prefix, inPod) }

// mountDirs are the local directories of every volume mount.
func (p *Pod) mountDirs() []string {
	seen := map[string]bool{}
	var out []string
	for _, list := range [][]corev1.Container{p.Spec.InitContainers, p.Spec.Containers} {
		for _, c := range list {
			for _, m := range c.VolumeMounts {
				if d := p.Path(m.MountPath); !seen[d] {
					seen[d] = true
					out = append(out, d)
				}
			}
		}
	}
	return out
}

var varRef = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)

// expand resolves $(VAR) from the container's env, as the kubelet does.
func (p *Pod) expand(arg string) string {
	return varRef.ReplaceAllStringFunc(arg, func(ref string) string {
		if v, ok := p.Env[ref[2:len(ref)-1]]; ok {
			return v
		}
		return ref
	})
}

// local moves a path under one of c's mount points under the prefix,
// whether the argument is the path itself or ends in "=path".
func (p *Pod) local(c *corev1.Container, arg string) string {
	mounts := make([]string, 0, len(c.VolumeMounts))
	for _, m := range c.VolumeMounts {
		mounts = append(mounts, m.MountPath)
	}
	sort.Slice(mounts, func(i, j int) bool { return len(mounts[i]) > len(mounts[j]) })
	value, head := arg, ""
	if i := strings.IndexByte(arg, '='); i >= 0 && strings.HasPrefix(arg, "-") {
		head, value = arg[:i+1], arg[i+1:]
	}
	for _, m := range mounts {
		if value == m || strings.HasPrefix(value, m+"/") || strings.HasPrefix(value, m+",") {
			return head + p.Prefix + value
		}
	}
	return arg
}

func (p *Pod) environ(c *corev1.Container) []string {
	env := os.Environ()
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			env = append(env, e.Name+"="+p.expand(e.Value))
		default:
			if v, ok := p.Env[e.Name]; ok {
				env = append(env, e.Name+"="+v)
			}
		}
	}
	return env
}

// Tail returns the last n lines of a container's log, for failure messages.
func (p *Pod) Tail(name string, n int) string {
	lines := bytes.Split([]byte(p.Log(name)), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}
