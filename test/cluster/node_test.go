package cluster_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/external-haproxy/kit/test/cluster"
	"github.com/external-haproxy/kit/test/e2eenv"
	"github.com/external-haproxy/kit/test/poll"
	"github.com/external-haproxy/kit/test/proc"
)

// TestNodeStopDirCleansUpAfterACrash: a detached cluster with a node runs a
// pod; then every process of it dies by SIGKILL, as when the machine's
// session is killed. StopDir must still leave nothing behind: no process, no
// mount under the dir, no network namespace (node's or pod's).
func TestNodeStopDirCleansUpAfterACrash(t *testing.T) {
	ctx := context.Background()
	node, err := e2eenv.NodeOptions(ctx, "", os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	c, err := cluster.Start(ctx, cluster.Options{Dir: dir, Detach: true, Node: &node})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cluster.StopDir(dir) })
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "echo", Namespace: "default"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "echo", Image: e2eenv.EchoImage, ImagePullPolicy: corev1.PullNever, Args: []string{"-listen", ":8080"},
		}}},
	}
	if _, err := cs.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var podIP string
	if err := poll.Until(ctx, 60*time.Second, func() (bool, error) {
		p, err := cs.CoreV1().Pods("default").Get(ctx, "echo", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		podIP = p.Status.PodIP
		return p.Status.Phase == corev1.PodRunning, nil
	}, nil); err != nil {
		t.Fatal(err)
	}
	t.Logf("pod running at %s on node %s", podIP, c.NodeIP())

	// The crash: SIGKILL to every process of the cluster, containers too.
	for _, pid := range processesUnder(dir) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	if err := cluster.StopDir(dir); err != nil {
		t.Fatal(err)
	}
	if pids := processesUnder(dir); len(pids) > 0 {
		t.Errorf("processes left after StopDir: %v", pids)
	}
	mounts, _ := os.ReadFile("/proc/self/mountinfo")
	if strings.Contains(string(mounts), " "+dir+"/") {
		t.Errorf("mounts left under %s", dir)
	}
	out, _ := exec.Command("ip", "netns", "list").Output()
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		name, _, _ := strings.Cut(line, " ") // "name (id: N)"
		if name == "" {
			continue
		}
		if addrs, err := exec.Command("ip", "-n", name, "-4", "-o", "addr").Output(); err == nil &&
			(strings.Contains(string(addrs), " "+c.NodeIP()+"/") || strings.Contains(string(addrs), " "+podIP+"/")) {
			t.Errorf("network namespace %s still holds the node's or the pod's address", name)
		}
	}
}

// processesUnder lists the processes whose command line names dir (the
// cluster's components) or whose root is inside it (containers): a check
// by other marks than the netns StopDir goes by.
func processesUnder(dir string) []int {
	return proc.Living(func(pid int) bool {
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		root, _ := os.Readlink(fmt.Sprintf("/proc/%d/root", pid))
		return strings.Contains(string(cmdline), dir) || strings.HasPrefix(root, dir+"/")
	})
}
