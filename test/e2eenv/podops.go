package e2eenv

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/external-haproxy/kit/test/poll"
)

// What a test does to the pod's containers on the node, and reads from them.

// Pod is the pod as the apiserver has it now.
func (e *Env) Pod(ctx context.Context) (*corev1.Pod, error) {
	return e.Admin.CoreV1().Pods(Namespace).Get(ctx, e.PodName, metav1.GetOptions{})
}

// Spec is the pod's spec as the DaemonSet controller made it.
func (e *Env) Spec(ctx context.Context) (*corev1.PodSpec, error) {
	p, err := e.Pod(ctx)
	if err != nil {
		return nil, err
	}
	return &p.Spec, nil
}

// Roll edits the DaemonSet's pod template, as a user's rollout would, and
// waits until the pod it replaces the old one with is running and ready.
func (e *Env) Roll(ctx context.Context, edit func(*corev1.PodSpec)) error {
	if err := e.RollUntil(ctx, edit, nil); err != nil {
		return err
	}
	return e.WaitReady(ctx, 60*time.Second)
}

// RollUntil is Roll waiting for a new pod that ok accepts (nil: every
// container running) instead.
func (e *Env) RollUntil(ctx context.Context, edit func(*corev1.PodSpec), ok func(*corev1.Pod) bool) error {
	ds, err := e.Admin.AppsV1().DaemonSets(Namespace).Get(ctx, Workload, metav1.GetOptions{})
	if err != nil {
		return err
	}
	edit(&ds.Spec.Template.Spec)
	if _, err := e.Admin.AppsV1().DaemonSets(Namespace).Update(ctx, ds, metav1.UpdateOptions{}); err != nil {
		return err
	}
	return e.WaitPod(ctx, 120*time.Second, e.PodUID, ok)
}

// PID is the host PID of a running container's main process (haproxy's
// master for the sidecar).
func (e *Env) PID(ctx context.Context, container string) (int, error) {
	return e.Cluster.ContainerPID(ctx, Namespace, e.PodName, container)
}

// Kill ends a container like a crash or an OOM kill: SIGKILL to its main
// process, which takes the rest of the container with it (the end of its
// PID namespace). The kubelet restarts it; WaitRestarted waits for that.
func (e *Env) Kill(ctx context.Context, container string) (restarts int32, err error) {
	return e.signalMain(ctx, container, syscall.SIGKILL)
}

// Stop asks a container to end gracefully, as the kubelet does on a pod
// deletion: SIGTERM to its main process. The kubelet restarts it.
func (e *Env) Stop(ctx context.Context, container string) (restarts int32, err error) {
	return e.signalMain(ctx, container, syscall.SIGTERM)
}

func (e *Env) signalMain(ctx context.Context, container string, sig syscall.Signal) (int32, error) {
	restarts, err := e.RestartCount(ctx, container)
	if err != nil {
		return 0, err
	}
	pid, err := e.PID(ctx, container)
	if err != nil {
		return 0, err
	}
	return restarts, syscall.Kill(pid, sig)
}

// Signal sends sig to every process of a running container (SIGSTOP and
// SIGCONT pause and resume it): those in its main process's PID namespace.
func (e *Env) Signal(ctx context.Context, container string, sig syscall.Signal) error {
	pids, err := e.processes(ctx, container)
	if err != nil {
		return err
	}
	for _, p := range pids {
		if err := syscall.Kill(p, sig); err != nil {
			return err
		}
	}
	return nil
}

// processes are the host PIDs of a running container's processes: those in
// its main process's PID namespace.
func (e *Env) processes(ctx context.Context, container string) ([]int, error) {
	main, err := e.PID(ctx, container)
	if err != nil {
		return nil, err
	}
	ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", main))
	if err != nil {
		return nil, err
	}
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, ent := range entries {
		p, err := strconv.Atoi(ent.Name())
		if err != nil {
			continue
		}
		if other, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", p)); err == nil && other == ns {
			pids = append(pids, p)
		}
	}
	return pids, nil
}

// RestartCount is how often the kubelet has restarted a container.
func (e *Env) RestartCount(ctx context.Context, container string) (int32, error) {
	p, err := e.Pod(ctx)
	if err != nil {
		return 0, err
	}
	for _, s := range p.Status.ContainerStatuses {
		if s.Name == container {
			return s.RestartCount, nil
		}
	}
	return 0, fmt.Errorf("pod %s has no container %s", p.Name, container)
}

// WaitRestarted waits until the kubelet has restarted a container past
// restarts (a count read before it died) and the new one is running.
func (e *Env) WaitRestarted(ctx context.Context, container string, restarts int32, timeout time.Duration) error {
	last := ""
	return poll.Until(ctx, timeout, func() (bool, error) {
		p, err := e.Pod(ctx)
		if err != nil {
			return false, err
		}
		last = ContainerStates(p)
		for _, s := range p.Status.ContainerStatuses {
			if s.Name == container {
				return s.RestartCount > restarts && s.State.Running != nil, nil
			}
		}
		return false, nil
	}, func() string { return "container " + container + " restarted:" + last })
}

// Path is where a path inside the container's volume mounts lives on the
// node: the kubelet's directory of the emptyDir (and subPath).
func (e *Env) Path(container, inPod string) string {
	spec, err := e.Spec(context.Background())
	if err != nil {
		return ""
	}
	for _, c := range append(append([]corev1.Container{}, spec.Containers...), spec.InitContainers...) {
		if c.Name != container {
			continue
		}
		mounts := append([]corev1.VolumeMount{}, c.VolumeMounts...)
		sort.Slice(mounts, func(i, j int) bool { return len(mounts[i].MountPath) > len(mounts[j].MountPath) })
		for _, m := range mounts {
			if inPod == m.MountPath || strings.HasPrefix(inPod, m.MountPath+"/") {
				return filepath.Join(e.Cluster.KubeletDir(), "pods", e.PodUID, "volumes", "kubernetes.io~empty-dir",
					m.Name, m.SubPath, strings.TrimPrefix(inPod, m.MountPath))
			}
		}
	}
	return ""
}

// Log is everything a container of the pod printed, over all its restarts:
// the kubelet's log files, without their CRI prefix (time, stream, tag).
func (e *Env) Log(container string) string {
	dir := filepath.Join(e.Cluster.PodLogsDir(), Namespace+"_"+e.PodName+"_"+e.PodUID, container)
	files, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	sort.Slice(files, func(i, j int) bool { return logIndex(files[i]) < logIndex(files[j]) })
	var b strings.Builder
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			// "2026-12-02T18:00:00.000000000Z stdout F text"; P marks a
			// partial line continued on the next.
			parts := strings.SplitN(sc.Text(), " ", 4)
			if len(parts) < 4 {
				continue
			}
			b.WriteString(parts[3])
			if parts[2] != "P" {
				b.WriteByte('\n')
			}
		}
		fh.Close()
	}
	return b.String()
}

func logIndex(path string) int {
	n, _ := strconv.Atoi(strings.TrimSuffix(filepath.Base(path), ".log"))
	return n
}

// Tail returns the last n lines of a container's log, for failure messages.
func (e *Env) Tail(container string, n int) string {
	lines := strings.Split(strings.TrimRight(e.Log(container), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// WaitLog waits until a container's log matches re, and returns the match.
func (e *Env) WaitLog(container string, re *regexp.Regexp, timeout time.Duration) (string, error) {
	var m string
	err := poll.Until(context.Background(), timeout, func() (bool, error) {
		m = re.FindString(e.Log(container))
		return m != "", nil
	}, func() string { return fmt.Sprintf("container %s: no log line matching %q", container, re) })
	return m, err
}

// HostPID is the host's PID of the process that is nspid inside a running
// container's PID namespace (haproxy's "show proc" reports those).
func (e *Env) HostPID(ctx context.Context, container string, nspid int) (int, error) {
	pids, err := e.processes(ctx, container)
	if err != nil {
		return 0, err
	}
	for _, p := range pids {
		status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(status), "\n") {
			// "NSpid:	<host pid>	<pid in the container>"
			if f := strings.Fields(line); len(f) >= 3 && f[0] == "NSpid:" && f[len(f)-1] == strconv.Itoa(nspid) {
				return p, nil
			}
		}
	}
	return 0, fmt.Errorf("no process %d in container %s", nspid, container)
}
