// Package clustertest wires package cluster into Go tests: one control plane
// per test package (started in TestMain), one namespace per test.
//
//	func TestMain(m *testing.M) { clustertest.Main(m) }
//
//	func TestX(t *testing.T) {
//		ns := clustertest.NewNamespace(t)
//		cs := clustertest.Client(t)
//		...
//	}
//
// If kube-apiserver and etcd are neither in $K8S_BIN_DIR nor buildable with
// hack/k8s-bins.sh, the test binary fails with the reason. Setting
// KIT_CLUSTER_TESTS=skip turns that into skipped tests instead.
package clustertest

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/external-haproxy/kit/test/cluster"
)

// SkipEnv, when set to "skip", makes tests skip rather than fail if the
// control-plane binaries are unavailable. Only for machines that cannot build
// them; a skipped suite proves nothing.
const SkipEnv = "KIT_CLUSTER_TESTS"

var (
	shared     *cluster.Cluster
	skipReason string
)

// Main starts the package's shared control plane, runs the tests and stops it.
// Its directory (logs, kubeconfig) is kept and printed when a test failed.
func Main(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctx := context.Background()
	binDir, err := cluster.FindBinaries(ctx, os.Stderr)
	if err != nil {
		if os.Getenv(SkipEnv) != "skip" {
			fmt.Fprintf(os.Stderr, "clustertest: no kube-apiserver/etcd: %v\n(set %s=skip to skip these tests)\n", err, SkipEnv)
			return 1
		}
		skipReason = fmt.Sprintf("no kube-apiserver/etcd and %s=skip: %v", SkipEnv, err)
		return m.Run()
	}
	dir, err := os.MkdirTemp(tempBase(), "kit-cluster-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "clustertest:", err)
		return 1
	}
	shared, err = cluster.Start(ctx, cluster.Options{Dir: dir, BinDir: binDir})
	if err != nil {
		fmt.Fprintf(os.Stderr, "clustertest: start control plane: %v\n(files kept in %s)\n", err, dir)
		return 1
	}
	code := m.Run()
	shared.Stop()
	if code != 0 {
		fmt.Fprintf(os.Stderr, "clustertest: control-plane logs and kubeconfig kept in %s\n", dir)
	} else {
		os.RemoveAll(dir)
	}
	return code
}

// tempBase prefers tmpfs: etcd preallocates its WAL and startup is faster in
// RAM. An explicit TMPDIR wins.
func tempBase() string {
	if os.Getenv("TMPDIR") == "" {
		if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
			return "/dev/shm"
		}
	}
	return os.TempDir()
}

// Shared returns the package's control plane started by Main.
func Shared(t testing.TB) *cluster.Cluster {
	t.Helper()
	if shared == nil {
		if skipReason != "" {
			t.Skip(skipReason)
		}
		t.Fatal("clustertest: no shared control plane; call clustertest.Main(m) from TestMain")
	}
	return shared
}

// Client returns an admin clientset for the shared control plane.
func Client(t testing.TB) kubernetes.Interface {
	t.Helper()
	cs, err := kubernetes.NewForConfig(Shared(t).Config)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// NewNamespace creates a namespace named after the test in the shared control
// plane. It is never deleted: without kube-controller-manager a deleted
// namespace stays Terminating forever, and a unique name already isolates tests.
func NewNamespace(t testing.TB) string {
	t.Helper()
	ns, err := Client(t).CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{GenerateName: namePrefix(t.Name())},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create namespace: %v", err)
	}
	return ns.Name
}

var nonDNS = regexp.MustCompile(`[^a-z0-9-]+`)

// namePrefix turns "TestFoo/sub_case" into "testfoo-sub-case-", short enough
// for the 5 random characters GenerateName appends within 63.
func namePrefix(testName string) string {
	s := strings.Trim(nonDNS.ReplaceAllString(strings.ToLower(testName), "-"), "-")
	if len(s) > 50 {
		s = strings.TrimRight(s[:50], "-")
	}
	if s == "" {
		s = "test"
	}
	return s + "-"
}

// Start gives a test its own control plane, for tests that disrupt it (for
// example with Restart) and so must not share one. It is stopped when the test
// ends; its directory is removed unless the test failed.
func Start(t testing.TB) *cluster.Cluster {
	t.Helper()
	return start(t, cluster.Options{})
}

// StartNode is Start with a node: kube-scheduler, kube-controller-manager,
// containerd, a kubelet and kube-proxy (see cluster.Options.Node).
func StartNode(t testing.TB, node cluster.NodeOptions) *cluster.Cluster {
	t.Helper()
	return start(t, cluster.Options{Node: &node})
}

func start(t testing.TB, opts cluster.Options) *cluster.Cluster {
	t.Helper()
	if shared == nil && skipReason != "" {
		t.Skip(skipReason)
	}
	dir, err := os.MkdirTemp(tempBase(), "kit-cluster-")
	if err != nil {
		t.Fatal(err)
	}
	opts.Dir = dir
	c, err := cluster.Start(context.Background(), opts)
	if err != nil {
		t.Fatalf("start control plane (files in %s): %v", dir, err)
	}
	t.Cleanup(func() {
		c.Stop()
		if t.Failed() {
			t.Logf("control-plane logs and kubeconfig kept in %s", dir)
			return
		}
		os.RemoveAll(dir)
	})
	return c
}
