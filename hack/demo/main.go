// Command demo is `make demo`: the project's main job, locally, on a real
// node. It renders overlays/external-haproxy with the KRM function and shows
// what the function changed in the DaemonSet, starts a throw-away cluster in
// a network namespace of its own (etcd, kube-apiserver, kube-scheduler,
// kube-controller-manager, containerd, a kubelet and kube-proxy), applies the
// rendered overlay server-side with only the images set to locally built
// ones, lets the DaemonSet controller make the pod and the kubelet run it
// until it is Ready, routes an Ingress to an echo Deployment whose
// EndpointSlice the controller-manager writes, and turns on haproxy's access
// log through the ConfigMap. Everything it starts is stopped and removed on
// exit, on error and on Ctrl-C / SIGTERM; with --keep it stays up until then.
//
// It needs root (network namespaces, containerd, the kubelet), containerd,
// runc, the CNI plugins, iptables and iproute2; `make demo` installs them
// from Debian when missing (hack/ensure-debian.sh) and builds bin/ (`make build
// tools`). The Kubernetes binaries and the node's images are built and cached
// on first use. Run it through `make demo` (or hack/demo.sh) from the
// repository.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/yaml"

	"github.com/external-haproxy/kit/test/cluster"
	"github.com/external-haproxy/kit/test/e2eenv"
	"github.com/external-haproxy/kit/test/images"
	"github.com/external-haproxy/kit/test/poll"
)

// What the demo deploys.
const (
	appNamespace = "demo"
	appName      = "echo"
	appHost      = "echo.local"
	appReplicas  = 2
	overlay      = "overlays/external-haproxy"
	podSelector  = "app.kubernetes.io/name=haproxy-ingress"
)

func main() {
	keep := flag.Bool("keep", false, "leave everything running after the demo, until Ctrl-C or SIGTERM")
	haproxy := flag.String("haproxy", e2eenv.HaproxyVersion(), "haproxy version of the sidecar image: "+strings.Join(e2eenv.HaproxyVersions, " or "))
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: hack/demo.sh [--keep] [--haproxy VERSION]   (or: make demo DEMO_ARGS=--keep)")
		flag.PrintDefaults()
	}
	flag.Parse()
	if !slices.Contains(e2eenv.HaproxyVersions, *haproxy) {
		fmt.Fprintf(os.Stderr, "demo: --haproxy %s: there are images for %s only\n", *haproxy, strings.Join(e2eenv.HaproxyVersions, ", "))
		os.Exit(2)
	}

	// Signals stay caught until cleanup is done: a second Ctrl-C must not
	// leave a half-removed demo behind.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	d := &demo{keep: *keep, haproxy: *haproxy, t0: time.Now()}
	err := d.run(ctx)
	interrupted := ctx.Err() != nil // before stop(), which cancels ctx
	if err != nil && !interrupted {
		d.failureLogs()
	}
	d.cleanup()
	stop()
	switch {
	case err != nil && interrupted:
		fmt.Fprintln(os.Stderr, "\ndemo: interrupted; everything it started was stopped and removed")
		os.Exit(130)
	case err != nil:
		fmt.Fprintf(os.Stderr, "\ndemo FAILED: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("\ndemo finished in %v\n", time.Since(d.t0).Round(100*time.Millisecond))
}

type demo struct {
	keep    bool
	haproxy string // sidecar's haproxy version
	t0      time.Time
	step    int
	repo    string
	bin     string
	work    string // temp dir: the cluster and its node, the rendering overlay
	cluster *cluster.Cluster
	netns   string // the cluster's network namespace, for the cleanup report
	env     *e2eenv.Env
	curl    string // path of curl, or "" to use Go's client
}

const steps = 6

func (d *demo) heading(format string, args ...any) {
	d.step++
	fmt.Printf("\n==> %d/%d %s\n", d.step, steps, fmt.Sprintf(format, args...))
}

// say prints an indented line.
func say(format string, args ...any) {
	for _, l := range strings.Split(strings.TrimRight(fmt.Sprintf(format, args...), "\n"), "\n") {
		fmt.Println("    " + l)
	}
}

func since(t time.Time) string { return round(time.Since(t)) }

func round(d time.Duration) string { return d.Round(10 * time.Millisecond).String() }

func (d *demo) run(ctx context.Context) error {
	for _, step := range []func(context.Context) error{
		d.preflight, d.render, d.startCluster, d.pod, d.echoApp, d.accessLog,
	} {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := step(ctx); err != nil {
			return err
		}
	}
	if d.keep {
		d.showKept()
		<-ctx.Done()
		fmt.Println("\nstopping (signal received)")
	}
	return nil
}

// need is one thing the node needs from this machine.
type need struct {
	what string // a command on $PATH, or an absolute path
	pkg  string // the Debian package holding it
}

// nodeNeeds are what the node runs that does not come from bin/ or a cache:
// containerd with its CRI plugin, runc, the CNI plugins of the pod network,
// iptables for kube-proxy, ip and nsenter for the network namespace.
var nodeNeeds = []need{
	{"containerd", "containerd"}, {"ctr", "containerd"}, {"runc", "runc"},
	{"/usr/lib/cni/bridge", "containernetworking-plugins"}, {"/usr/lib/cni/host-local", "containernetworking-plugins"},
	{"/usr/lib/cni/portmap", "containernetworking-plugins"}, {"/usr/lib/cni/loopback", "containernetworking-plugins"},
	{"iptables", "iptables"}, {"ip", "iproute2"}, {"nsenter", "util-linux"}, {"diff", "diffutils"},
}

// preflight checks what the demo needs from the machine, saying what is
// missing and how to get it.
func (d *demo) preflight(context.Context) error {
	var err error
	if d.repo, err = repoRoot(); err != nil {
		return err
	}
	d.bin = filepath.Join(d.repo, "bin")
	fmt.Println("external-haproxy kit demo: HAProxy Ingress controller and haproxy in separate containers of one pod,")
	fmt.Println("run by a real kubelet and containerd on a throw-away node of this machine (its own network namespace).")
	fmt.Println("Needs root, containerd, runc, the CNI plugins, iptables and iproute2 (make demo installs them from Debian).")
	var problems []string
	if os.Geteuid() != 0 {
		problems = append(problems, "not root: the node (network namespace, containerd, kubelet, mounts) needs root; run `sudo make demo`")
	}
	var pkgs []string
	for _, n := range nodeNeeds {
		var err error
		if filepath.IsAbs(n.what) {
			_, err = os.Stat(n.what)
		} else {
			_, err = exec.LookPath(n.what)
		}
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s not found (Debian package %s)", n.what, n.pkg))
			if !slices.Contains(pkgs, n.pkg) {
				pkgs = append(pkgs, n.pkg)
			}
		}
	}
	if len(pkgs) > 0 {
		problems = append(problems, fmt.Sprintf("install them: `make demo` does (hack/ensure-debian.sh), or apt-get install %s", strings.Join(pkgs, " ")))
	}
	if _, err := exec.LookPath("go"); err != nil {
		problems = append(problems, "go not on $PATH: the node's images are built from this checkout with go (Go 1.26)")
	}
	for _, b := range []string{"external-haproxy-fn", "kustomize"} {
		if _, err := os.Stat(filepath.Join(d.bin, b)); err != nil {
			problems = append(problems, fmt.Sprintf("%s missing in %s: run `make build tools` (make demo does)", b, d.bin))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("this machine is not ready:\n  - %s", strings.Join(problems, "\n  - "))
	}
	d.curl, _ = exec.LookPath("curl")
	fmt.Printf("found: root, %s, %s, CNI plugins in /usr/lib/cni, %s, kustomize %s\n",
		version("containerd", "--version", 2), version("runc", "--version", 2), version("iptables", "--version", 1),
		version(filepath.Join(d.bin, "kustomize"), "version", 0))
	fmt.Println("The Kubernetes binaries (hack/k8s-bins.sh) and the node's images (test/images) are built on first use")
	fmt.Println("and cached in ~/.cache/external-haproxy-kit: about 20-25 minutes on 2 cores the first time, with")
	fmt.Println("progress lines in step 3; seconds afterwards.")
	return nil
}

// version is the first line of `bin arg`, without the first skip words.
func version(bin, arg string, skip int) string {
	out, err := exec.Command(bin, arg).Output()
	if err != nil {
		return filepath.Base(bin) + " (version unknown)"
	}
	f := strings.Fields(firstLine(string(out)))
	if skip > len(f) {
		skip = len(f)
	}
	if skip > 0 {
		return filepath.Base(bin) + " " + strings.Join(f[skip:], " ")
	}
	return strings.Join(f, " ")
}

// repoRoot is the checkout around the working directory: the directory
// holding this module's go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil &&
			bytes.HasPrefix(b, []byte("module github.com/external-haproxy/kit\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run the demo from the external-haproxy kit checkout (make demo)")
		}
		dir = parent
	}
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// render shows the function at work: the DaemonSet of base/ against the one
// the function overlay produces.
func (d *demo) render(context.Context) error {
	d.heading("Render %s with the KRM function external-haproxy-fn", overlay)
	t := time.Now()
	kustomize := filepath.Join(d.bin, "kustomize")
	base, err := exec.Command(kustomize, "build", filepath.Join(d.repo, "base")).Output()
	if err != nil {
		return fmt.Errorf("kustomize build base: %w", exitErr(err))
	}
	say("$ PATH=bin:$PATH kustomize build --enable-alpha-plugins --enable-exec %s", overlay)
	rendered, err := e2eenv.Render(kustomize, d.bin, filepath.Join(d.repo, overlay))
	if err != nil {
		return err
	}
	objs, err := objects(rendered)
	if err != nil {
		return err
	}
	say("%d objects: %s", len(objs), strings.Join(objs, ", "))
	a, err := daemonSet(base)
	if err != nil {
		return fmt.Errorf("base: %w", err)
	}
	b, err := daemonSet(rendered)
	if err != nil {
		return fmt.Errorf("%s: %w", overlay, err)
	}
	diff, err := unifiedDiff(a, b, "base/ DaemonSet (embedded haproxy)", overlay+" DaemonSet (external haproxy)")
	if err != nil {
		return err
	}
	for _, x := range []struct {
		label string
		yaml  []byte
	}{{"base/", a}, {overlay, b}} {
		var ds appsv1.DaemonSet
		if err := yaml.Unmarshal(x.yaml, &ds); err != nil {
			return fmt.Errorf("%s: DaemonSet: %w", x.label, err)
		}
		say("%-26s %s", x.label+":", podSummary(&ds.Spec.Template.Spec))
	}
	say("what the function changed in DaemonSet %s/%s (diff -u, %s):", e2eenv.Namespace, e2eenv.Workload, since(t))
	printDiff(diff)
	return nil
}

// podSummary names a pod's containers and their images.
func podSummary(spec *corev1.PodSpec) string {
	list := func(cs []corev1.Container) string {
		var out []string
		for _, c := range cs {
			out = append(out, fmt.Sprintf("%s (%s)", c.Name, c.Image))
		}
		return strings.Join(out, ", ")
	}
	s := "containers " + list(spec.Containers)
	if len(spec.InitContainers) > 0 {
		s = "init " + list(spec.InitContainers) + "; " + s
	}
	return s
}

func exitErr(err error) error {
	var ee *exec.ExitError
	if errors.As(err, &ee) && len(ee.Stderr) > 0 {
		return fmt.Errorf("%v: %s", err, strings.TrimSpace(string(ee.Stderr)))
	}
	return err
}

// objects lists Kind/name of every object in a kustomize output.
func objects(manifests []byte) ([]string, error) {
	nodes, err := kio.FromBytes(manifests)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, n := range nodes {
		out = append(out, n.GetKind()+"/"+n.GetName())
	}
	return out, nil
}

// daemonSet returns the YAML of the workload DaemonSet in a kustomize output.
func daemonSet(manifests []byte) ([]byte, error) {
	nodes, err := kio.FromBytes(manifests)
	if err != nil {
		return nil, err
	}
	for _, n := range nodes {
		if n.GetKind() == "DaemonSet" && n.GetName() == e2eenv.Workload {
			s, err := n.String()
			return []byte(s), err
		}
	}
	return nil, fmt.Errorf("no DaemonSet %s in the output", e2eenv.Workload)
}

// unifiedDiff runs diff -u on two temp files.
func unifiedDiff(a, b []byte, labelA, labelB string) (string, error) {
	dir, err := os.MkdirTemp("", "kit-demo-diff-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	fa, fb := filepath.Join(dir, "a.yaml"), filepath.Join(dir, "b.yaml")
	if err := os.WriteFile(fa, a, 0o644); err != nil {
		return "", err
	}
	if err := os.WriteFile(fb, b, 0o644); err != nil {
		return "", err
	}
	out, err := exec.Command("diff", "-u", "--label", labelA, "--label", labelB, fa, fb).Output()
	var ee *exec.ExitError
	if err != nil && !(errors.As(err, &ee) && ee.ExitCode() == 1) { // 1 = files differ
		return "", fmt.Errorf("diff: %w", exitErr(err))
	}
	if len(out) == 0 {
		return "", errors.New("the function changed nothing in the DaemonSet: was it skipped? (kustomize needs both --enable-alpha-plugins and --enable-exec)")
	}
	return string(out), nil
}

// printDiff prints a diff indented, in colour on a terminal.
func printDiff(diff string) {
	color := isTerminal(os.Stdout) && os.Getenv("NO_COLOR") == ""
	for _, l := range strings.Split(strings.TrimRight(diff, "\n"), "\n") {
		if color {
			switch {
			case strings.HasPrefix(l, "+++"), strings.HasPrefix(l, "---"):
				l = "\x1b[1m" + l + "\x1b[0m"
			case strings.HasPrefix(l, "+"):
				l = "\x1b[32m" + l + "\x1b[0m"
			case strings.HasPrefix(l, "-"):
				l = "\x1b[31m" + l + "\x1b[0m"
			case strings.HasPrefix(l, "@@"):
				l = "\x1b[36m" + l + "\x1b[0m"
			}
		}
		fmt.Println("    " + l)
	}
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// startCluster starts the control plane and the node, building the
// Kubernetes binaries and the node's images the first time.
func (d *demo) startCluster(ctx context.Context) error {
	d.heading("Start a cluster with a real node, in a network namespace of its own")
	binDir, err := cluster.FindBinaries(ctx, newProgressWriter(func() {
		say("The Kubernetes binaries are not cached yet: building etcd, kube-apiserver, kube-scheduler,")
		say("kube-controller-manager, kubelet and kube-proxy from the Go module proxy with hack/k8s-bins.sh.")
		say("This happens once and takes about 15-20 minutes on 2 cores; later runs find them at once.")
	}))
	if err != nil {
		return err
	}
	say("binaries:   %s (%s)", binDir, version(filepath.Join(binDir, "kubelet"), "--version", 1))
	t := time.Now()
	node, err := e2eenv.NodeOptions(ctx, d.haproxy, newProgressWriter(func() {
		say("The node's images are not cached yet: building them without Docker from the project's Dockerfiles,")
		say("a Debian base (mmdebstrap) and haproxy 2.6/3.0 (test/images). This happens once and takes about")
		say("5-10 minutes; later runs reuse them.")
	}))
	if err != nil {
		return err
	}
	say("images:     %s, %s, %s, %s (built locally, in %s, ready in %s; nothing is pulled)",
		images.Pause, e2eenv.ControllerImage, e2eenv.HaproxyImage(d.haproxy), e2eenv.EchoImage,
		shortHome(filepath.Dir(node.Images[0])), since(t))

	// A tmpfs makes etcd and the node's files faster.
	parent := ""
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		parent = "/dev/shm"
	}
	if d.work, err = os.MkdirTemp(parent, "kit-demo-"); err != nil {
		return err
	}
	say("starting etcd, kube-apiserver, kube-scheduler, kube-controller-manager (DaemonSet, Deployment,")
	say("EndpointSlice, ServiceAccount controllers), containerd (CRI, runc, CNI bridge), kubelet, kube-proxy;")
	say("the images are imported into containerd's k8s.io namespace before the kubelet starts")
	dir := filepath.Join(d.work, "cluster")
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	t = time.Now()
	var tl nodeTimeline
	watched := make(chan struct{})
	go func() { defer close(watched); watchNode(wctx, dir, t, &tl) }()
	d.cluster, err = cluster.Start(ctx, cluster.Options{Dir: dir, BinDir: binDir, Node: &node})
	total := time.Since(t)
	cancel()
	<-watched
	if err != nil {
		return err
	}
	d.netns = readNetns(d.cluster.Dir)
	for _, x := range []struct {
		at   time.Duration
		what string
	}{
		{tl.apiserver, "etcd and kube-apiserver ready"},
		{tl.containerd, "containerd started"},
		{tl.kubelet, "images imported; kube-controller-manager, kube-scheduler, kubelet, kube-proxy started"},
		{tl.registered, "kubelet registered Node " + cluster.NodeName},
		{tl.ready, "Node Ready"},
		{total, "not-ready taint gone, default ServiceAccount made, kube-proxy synced: the node takes pods"},
	} {
		if x.at > 0 {
			say("  +%-7s %s", round(x.at), x.what)
		}
	}
	if tl.kubelet > 0 && tl.ready > 0 {
		say("node Ready %s after the kubelet started, %s after the start of the cluster", round(tl.ready-tl.kubelet), round(tl.ready))
	}
	say("network namespace %s; the node is %s, the apiserver %s; admin kubeconfig %s",
		d.netns, d.cluster.NodeIP(), d.cluster.Host, d.cluster.Kubeconfig)
	cs, err := kubernetes.NewForConfig(d.cluster.Config)
	if err != nil {
		return err
	}
	n, err := cs.CoreV1().Nodes().Get(ctx, cluster.NodeName, metav1.GetOptions{})
	if err != nil {
		return err
	}
	say("$ kubectl get nodes -o wide")
	table([]string{"NAME", "STATUS", "AGE", "VERSION", "INTERNAL-IP", "CONTAINER-RUNTIME", "LABELS"},
		[]string{n.Name, nodeStatus(n), age(n.CreationTimestamp), n.Status.NodeInfo.KubeletVersion,
			nodeIP(n), n.Status.NodeInfo.ContainerRuntimeVersion, "role=" + n.Labels["role"]})
	return nil
}

// nodeTimeline is what cluster.Start did, seen from outside by polling its
// directory (pid files, the kubeconfig) and the apiserver, as offsets from
// the start.
type nodeTimeline struct {
	apiserver, containerd, kubelet, registered, ready time.Duration
}

// watchNode polls until the Node is Ready or ctx ends (Start returned).
func watchNode(ctx context.Context, dir string, t0 time.Time, tl *nodeTimeline) {
	var cs kubernetes.Interface
	_ = poll.Every(ctx, 30*time.Minute, 50*time.Millisecond, func() (bool, error) {
		now := time.Since(t0)
		mark := func(d *time.Duration, ok bool) {
			if ok && *d == 0 {
				*d = now
			}
		}
		// Start writes the kubeconfig once the apiserver is ready, and a pid
		// file per process as it starts it.
		if cs == nil {
			if cfg, err := clientcmd.BuildConfigFromFlags("", filepath.Join(dir, "kubeconfig")); err == nil {
				if cs, err = kubernetes.NewForConfig(cfg); err == nil {
					mark(&tl.apiserver, true)
				}
			}
		}
		mark(&tl.containerd, fileExists(filepath.Join(dir, "containerd.pid")))
		mark(&tl.kubelet, fileExists(filepath.Join(dir, "kubelet.pid")))
		if cs == nil || tl.kubelet == 0 {
			return false, nil
		}
		n, err := cs.CoreV1().Nodes().Get(ctx, cluster.NodeName, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		mark(&tl.registered, true)
		mark(&tl.ready, nodeStatus(n) == "Ready")
		return tl.ready > 0, nil
	}, nil)
}

// readNetns is the name of the cluster's network namespace, from the state
// file the cluster keeps for its cleanup.
func readNetns(dir string) string {
	var st struct {
		Netns string `json:"netns"`
	}
	b, _ := os.ReadFile(filepath.Join(dir, "node.json"))
	_ = json.Unmarshal(b, &st)
	return st.Netns
}

func shortHome(p string) string {
	if home, err := os.UserHomeDir(); err == nil && strings.HasPrefix(p, home+"/") {
		return "~" + strings.TrimPrefix(p, home)
	}
	return p
}

func nodeStatus(n *corev1.Node) string {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
			return "Ready"
		}
	}
	return "NotReady"
}

func nodeIP(n *corev1.Node) string {
	for _, a := range n.Status.Addresses {
		if a.Type == corev1.NodeInternalIP {
			return a.Address
		}
	}
	return "<none>"
}

func age(t metav1.Time) string { return duration.HumanDuration(time.Since(t.Time)) }

// table prints rows in columns, as kubectl does.
func table(header []string, rows ...[]string) {
	var b bytes.Buffer
	w := tabwriter.NewWriter(&b, 0, 8, 3, ' ', 0)
	fmt.Fprintln(w, strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(w, strings.Join(r, "\t"))
	}
	w.Flush()
	say("%s", b.String())
}

// progressWriter indents the build's progress lines and announces the build
// once, on its first line. Builds write from several goroutines.
type progressWriter struct {
	mu      sync.Mutex
	first   func()
	started bool
	partial []byte
}

func newProgressWriter(first func()) *progressWriter { return &progressWriter{first: first} }

func (w *progressWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.started {
		w.started = true
		w.first()
	}
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		fmt.Println("    | " + string(w.partial[:i]))
		w.partial = w.partial[i+1:]
	}
	return len(p), nil
}

var _ io.Writer = (*progressWriter)(nil)

// podTimeline is what happened to the DaemonSet's pod, seen by polling the
// apiserver, as offsets from the apply.
type podTimeline struct {
	name                                         string
	created, scheduled, initDone, running, ready time.Duration
}

// watchPod polls the DaemonSet's pod until it is Ready, noting when each step
// was first seen.
func watchPod(ctx context.Context, cs kubernetes.Interface, t0 time.Time, tl *podTimeline) error {
	last := "no pod yet"
	return poll.Every(ctx, 3*time.Minute, 50*time.Millisecond, func() (bool, error) {
		pods, err := cs.CoreV1().Pods(e2eenv.Namespace).List(ctx, metav1.ListOptions{LabelSelector: podSelector})
		if err != nil || len(pods.Items) == 0 {
			return false, nil // not yet, or a blip of the apiserver
		}
		p := &pods.Items[0]
		now := time.Since(t0)
		mark := func(d *time.Duration, ok bool) {
			if ok && *d == 0 {
				*d = now
			}
		}
		tl.name = p.Name
		mark(&tl.created, true)
		mark(&tl.scheduled, p.Spec.NodeName != "")
		initDone := len(p.Status.InitContainerStatuses) > 0
		for _, s := range p.Status.InitContainerStatuses {
			initDone = initDone && s.State.Terminated != nil && s.State.Terminated.ExitCode == 0
		}
		mark(&tl.initDone, initDone)
		running := len(p.Status.ContainerStatuses) == len(p.Spec.Containers)
		for _, s := range p.Status.ContainerStatuses {
			running = running && s.State.Running != nil
		}
		mark(&tl.running, running)
		last = fmt.Sprintf("pod %s %s, ready %s", p.Name, p.Status.Phase, readyCount(p))
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
				mark(&tl.ready, true)
				return true, nil
			}
		}
		return false, nil
	}, func() string { return "the pod did not become Ready: " + last })
}

func readyCount(p *corev1.Pod) string {
	n := 0
	for _, s := range p.Status.ContainerStatuses {
		if s.Ready {
			n++
		}
	}
	return fmt.Sprintf("%d/%d", n, len(p.Spec.Containers))
}

func restarts(p *corev1.Pod) int32 {
	var n int32
	for _, s := range p.Status.ContainerStatuses {
		n += s.RestartCount
	}
	return n
}

// podRows are `kubectl get pods -o wide` rows.
func podRows(pods []corev1.Pod) [][]string {
	var rows [][]string
	for _, p := range pods {
		status := string(p.Status.Phase)
		if p.DeletionTimestamp != nil {
			status = "Terminating"
		}
		rows = append(rows, []string{p.Name, readyCount(&p), status, fmt.Sprint(restarts(&p)), age(p.CreationTimestamp), p.Status.PodIP, p.Spec.NodeName})
	}
	return rows
}

var podHeader = []string{"NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE"}

// pod applies the rendered overlay and waits for the DaemonSet's pod to be
// Ready.
func (d *demo) pod(ctx context.Context) error {
	d.heading("Apply the rendered overlay; the DaemonSet controller makes the pod, the kubelet runs it")
	cs, err := kubernetes.NewForConfig(d.cluster.Config)
	if err != nil {
		return err
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	t0 := time.Now()
	var tl podTimeline
	watched := make(chan error, 1)
	go func() { watched <- watchPod(wctx, cs, t0, &tl) }()

	env, err := e2eenv.Start(ctx, e2eenv.Options{
		Cluster: d.cluster, Dir: filepath.Join(d.work, "e2eenv"), Bin: d.bin, Kustomize: filepath.Join(d.bin, "kustomize"),
		Repo: d.repo, Haproxy: d.haproxy,
	})
	served := time.Since(t0)
	if err != nil {
		cancel()
		<-watched
		return fmt.Errorf("starting the pod: %w", err)
	}
	d.env = env
	objs, _ := objects(env.Manifests)
	wrapper, _ := os.ReadFile(filepath.Join(d.work, "e2eenv", "overlay", "kustomization.yaml"))
	say("rendered through a kustomization that only sets the locally built images, as a consumer's overlay")
	say("sets its registry's (nothing can be pulled here):")
	for _, l := range strings.Split(strings.TrimRight(string(wrapper), "\n"), "\n") {
		say("  | %s", l)
	}
	say("applied %d objects server-side, unchanged otherwise (as `kubectl apply -k --server-side` would)", len(objs))
	say("waiting for the pod's Ready condition: the base's readiness probes run every 10 s (haproxy's after")
	say("initialDelaySeconds 10), so the kubelet marks the pod Ready 10-20 s after its containers start")
	if err := <-watched; err != nil {
		return err
	}
	say("  +%-7s DaemonSet controller created pod %s", round(tl.created), tl.name)
	say("  +%-7s scheduler bound it to %s", round(tl.scheduled), cluster.NodeName)
	say("  +%-7s init container haproxy-ingress-init completed (a minimal valid haproxy.cfg)", round(tl.initDone))
	say("  +%-7s kubelet: containers %s and %s running", round(tl.running), e2eenv.Controller, e2eenv.Sidecar)
	say("  +%-7s controller /readyz and haproxy /healthz answer 200 on %s", round(served), d.cluster.NodeIP())
	say("  +%-7s pod Ready (pod start -> Ready: %s)", round(tl.ready), round(tl.ready-tl.created))
	pods, err := cs.CoreV1().Pods(e2eenv.Namespace).List(ctx, metav1.ListOptions{LabelSelector: podSelector})
	if err != nil {
		return err
	}
	say("$ kubectl -n %s get pods -o wide", e2eenv.Namespace)
	table(podHeader, podRows(pods.Items)...)

	spec, err := env.Spec(ctx)
	if err != nil {
		return err
	}
	for _, c := range spec.Containers {
		pid, _ := env.PID(ctx, c.Name)
		argv := strings.Join(append(append([]string{}, c.Command...), c.Args...), " ")
		say("  %-16s %-42s host pid %-7d %s", c.Name, c.Image, pid, argv)
	}
	if p, err := env.MasterProc(ctx); err == nil {
		say("haproxy %s: master pid %d, worker pid %d (in the container), serving :80 and :443 on the node (hostNetwork)",
			p.Master.Version, p.Master.PID, p.CurrentWorker())
	}
	say("the controller uses the ServiceAccount token the kubelet projects into the pod (%s/%s: base RBAC only)",
		e2eenv.Namespace, e2eenv.ServiceAccount)
	return nil
}

// echoApp deploys the echo app as a Deployment and a Service with a
// selector, and an Ingress, then requests it through haproxy.
func (d *demo) echoApp(ctx context.Context) error {
	d.heading("Deploy an echo app and an Ingress (class %s, host %s), and curl it through haproxy", e2eenv.ClassName, appHost)
	env := d.env
	if err := env.Namespace(ctx, appNamespace); err != nil {
		return err
	}
	if err := env.EchoDeployment(ctx, appNamespace, appName, appReplicas); err != nil {
		return err
	}
	say("Deployment %s/%s: %d replicas of %s, each answering with its pod name on :8080", appNamespace, appName, appReplicas, e2eenv.EchoImage)
	say("Service %s/%s: selector app=%s, port http 80 -> 8080", appNamespace, appName, appName)
	if err := env.CreateIngress(ctx, appNamespace, appName, appHost, appName); err != nil {
		return err
	}
	say("Ingress %s/%s: class %s, host %s, path / (Prefix) -> service %s port http", appNamespace, appName, e2eenv.ClassName, appHost, appName)
	seen := map[string]bool{}
	took, _, err := env.Eventually(90*time.Second, func() (e2eenv.Response, error) { return env.Get(appHost, "/", false) },
		func(r e2eenv.Response) bool {
			if r.Status == 200 && strings.HasPrefix(r.Body, "server="+appName+"-") {
				seen[strings.Fields(r.Body)[0]] = true
			}
			return len(seen) == appReplicas
		})
	if err != nil {
		return fmt.Errorf("the Ingress was not served by both replicas: %w", err)
	}
	say("haproxy routes it to both replicas %s after the Ingress was created (pods started, EndpointSlice written)", round(took))
	if ips, err := env.IngressStatusIPs(ctx, appNamespace, appName); err == nil && len(ips) > 0 {
		say("Ingress status: address %s, the node's, published by the controller", strings.Join(ips, ","))
	}
	pods, err := env.Admin.CoreV1().Pods(appNamespace).List(ctx, metav1.ListOptions{LabelSelector: "app=" + appName})
	if err != nil {
		return err
	}
	say("$ kubectl -n %s get pods -o wide", appNamespace)
	table(podHeader, podRows(pods.Items)...)
	eps, err := env.Admin.DiscoveryV1().EndpointSlices(appNamespace).List(ctx, metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=" + appName})
	if err != nil {
		return err
	}
	for _, es := range eps.Items {
		var list []string
		for _, ep := range es.Endpoints {
			ref := ""
			if ep.TargetRef != nil {
				ref = " (" + ep.TargetRef.Name + ")"
			}
			ready := ep.Conditions.Ready != nil && *ep.Conditions.Ready
			list = append(list, fmt.Sprintf("%s%s ready=%v", strings.Join(ep.Addresses, ","), ref, ready))
		}
		say("EndpointSlice %s/%s, %s=%s: %s", appNamespace, es.Name, discoveryv1.LabelManagedBy, es.Labels[discoveryv1.LabelManagedBy], strings.Join(list, "; "))
	}
	say("  written by the controller-manager's EndpointSlice controller from the Service's selector, not by the demo")
	for range appReplicas {
		if err := d.request("/"); err != nil {
			return err
		}
	}
	return nil
}

// curlCommand is the command a user can paste to reach the app.
func (d *demo) curlCommand(path string) string {
	return fmt.Sprintf("curl -sS -H 'Host: %s' http://%s%s", appHost, d.cluster.NodeIP(), path)
}

// request sends one request through haproxy on the node's port 80 with curl
// (or Go's client) and prints the command and the answer.
func (d *demo) request(path string) error {
	say("$ %s", d.curlCommand(path))
	var out string
	if d.curl != "" {
		b, err := exec.Command(d.curl, "-sS", "--max-time", "5", "-H", "Host: "+appHost,
			"http://"+d.cluster.NodeIP()+path).CombinedOutput()
		if err != nil {
			return fmt.Errorf("curl: %v: %s", err, b)
		}
		out = string(b)
	} else {
		r, err := d.env.Get(appHost, path, false)
		if err != nil {
			return err
		}
		if r.Status != 200 {
			return fmt.Errorf("GET %s: status %d: %s", path, r.Status, r.Body)
		}
		out = r.Body + "    (curl not found: sent with Go's http client)"
	}
	say("%s", out)
	return nil
}

// accessLog patches the ConfigMap as upstream's external-haproxy example does
// and shows the controller's update and haproxy's access log.
func (d *demo) accessLog(ctx context.Context) error {
	d.heading("Patch the ConfigMap like upstream's external-haproxy example: syslog-endpoint=stdout, syslog-format=raw")
	env := d.env
	before, _ := env.StableMasterProc(ctx, 10*time.Second)
	from := len(env.Log(e2eenv.Controller))
	if err := env.PatchConfigMap(ctx, map[string]string{"syslog-endpoint": "stdout", "syslog-format": "raw"}); err != nil {
		return err
	}
	say("controller log (container %s, from the kubelet's log file):", e2eenv.Controller)
	start, err := waitLogAfter(ctx, env, e2eenv.Controller, from, startRE, 20*time.Second)
	if err != nil {
		return err
	}
	id := startRE.FindStringSubmatch(start)[1]
	finishRE := regexp.MustCompile(`.*(?:finish haproxy update id=` + id + `:|haproxy update id=` + id + ` failed).*`)
	finish, err := waitLogAfter(ctx, env, e2eenv.Controller, from, finishRE, 30*time.Second)
	if err != nil {
		return err
	}
	for _, l := range updateLines(env.Log(e2eenv.Controller)[from:], start, finish) {
		say("  %s", l)
	}
	if strings.Contains(finish, "failed") {
		return fmt.Errorf("the controller could not apply the ConfigMap change: %s", finish)
	}
	if p, err := env.StableMasterProc(ctx, 10*time.Second); err == nil {
		say("haproxy master: reloaded (%d reload(s) so far), worker pid %d -> %d, same master pid %d, container not restarted",
			p.Master.Reloads, before.CurrentWorker(), p.CurrentWorker(), p.Master.PID)
	}

	fmt.Println()
	say("a request after the reload, and haproxy's access log line for it (container %s, stdout):", e2eenv.Sidecar)
	path := "/after-reload"
	re := regexp.MustCompile(`.*"GET ` + regexp.QuoteMeta(path) + ` HTTP/1\.1".*`)
	from = len(env.Log(e2eenv.Sidecar))
	if err := d.request(path); err != nil {
		return err
	}
	// A request that an old worker still took during the reload is not
	// logged: send another now and then until a line shows up.
	var line string
	polls := 0
	err = poll.Until(ctx, 20*time.Second, func() (bool, error) {
		if log := env.Log(e2eenv.Sidecar); len(log) > from {
			if line = re.FindString(log[from:]); line != "" {
				return true, nil
			}
		}
		if polls++; polls%50 == 0 { // once a second
			if _, err := env.Get(appHost, path, false); err != nil {
				return false, err
			}
		}
		return false, nil
	}, func() string { return "no access log line in haproxy's output:\n" + env.Tail(e2eenv.Sidecar, 15) })
	if err != nil {
		return err
	}
	say("  %s", strings.TrimSpace(line))
	return nil
}

var startRE = regexp.MustCompile(`.*starting haproxy update id=(\d+).*`)

// waitLogAfter waits for re in the part of a container's log written after
// offset from (Env.WaitLog searches the whole log).
func waitLogAfter(ctx context.Context, env *e2eenv.Env, name string, from int, re *regexp.Regexp, timeout time.Duration) (string, error) {
	var m string
	err := poll.Until(ctx, timeout, func() (bool, error) {
		if log := env.Log(name); len(log) > from {
			m = re.FindString(log[from:])
		}
		return m != "", nil
	}, func() string {
		return fmt.Sprintf("container %s: no log line matching %q:\n%s", name, re, env.Tail(name, 15))
	})
	return m, err
}

// updateLines returns the log lines from start to finish, at most a dozen.
func updateLines(log, start, finish string) []string {
	var out []string
	in := false
	sc := bufio.NewScanner(strings.NewReader(log))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		l := sc.Text()
		if l == start {
			in = true
		}
		if in {
			out = append(out, l)
		}
		if l == finish {
			break
		}
	}
	if len(out) > 12 {
		out = append(append(out[:5], fmt.Sprintf("... %d more lines ...", len(out)-11)), out[len(out)-6:]...)
	}
	return out
}

// showKept says how to reach what --keep leaves running.
func (d *demo) showKept() {
	env, c := d.env, d.cluster
	fmt.Printf("\n==> Everything stays up (--keep) until Ctrl-C here or `kill %d`\n", os.Getpid())
	say("app:         %s", d.curlCommand("/"))
	say("kubeconfig:  export KUBECONFIG=%s   # admin (system:masters)", c.Kubeconfig)
	say("             kubectl get pods -A -o wide; kubectl -n %s get ingress,svc,endpointslices", appNamespace)
	say("             kubectl -n %s logs ds/%s -c %s; kubectl -n %s edit configmap %s",
		e2eenv.Namespace, e2eenv.Workload, e2eenv.Sidecar, e2eenv.Namespace, e2eenv.ConfigMap)
	say("apiserver:   %s (inside network namespace %s, reachable from this host)", c.Host, d.netns)
	ip := c.NodeIP()
	say("haproxy:     http://%s/ https://%s/  stats http://%s:%d/  healthz http://%s:%d/healthz",
		ip, ip, ip, e2eenv.StatsPort, ip, e2eenv.HealthzPort)
	say("             master socket %s", filepath.Join(d.work, "e2eenv", "master.sock"))
	say("             (a link into the pod's run volume: the kubelet's path is too long for a unix socket address)")
	say("controller:  http://%s:%d/metrics  http://%s:%d/readyz", ip, e2eenv.ControllerPort, ip, e2eenv.ControllerPort)
	say("pod logs:    %s", filepath.Join(c.PodLogsDir(), e2eenv.Namespace+"_"+env.PodName+"_"+env.PodUID, "{"+e2eenv.Controller+","+e2eenv.Sidecar+"}", "0.log"))
	say("node logs:   %s/{etcd,kube-apiserver,kube-scheduler,kube-controller-manager,containerd,kubelet,kube-proxy}.log", c.Dir)
	if sock := filepath.Join(c.Dir, "node", "containerd", "containerd.sock"); fileExists(sock) {
		say("containerd:  ctr --address %s -n k8s.io containers ls", sock)
	}
	say("node netns:  nsenter --net=/run/netns/%s iptables-save   # kube-proxy's rules", d.netns)
	say("stop:        Ctrl-C (or kill %d): stops the node (pods, mounts, network namespace) and the", os.Getpid())
	say("             control plane, removes %s", d.work)
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// failureLogs prints the pod's state and the ends of its logs before cleanup
// removes them (a failed start says so in its error already).
func (d *demo) failureLogs() {
	if d.env == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	fmt.Fprintf(os.Stderr, "\n--- the pod before cleanup:\n%s\n", d.env.Diagnose(ctx))
}

// cleanup stops and removes everything run started; it is safe after any
// error.
func (d *demo) cleanup() {
	if d.cluster == nil && d.work == "" {
		return
	}
	if d.step < steps {
		d.step = steps - 1
	}
	d.heading("Clean up")
	t := time.Now()
	if d.cluster != nil {
		d.cluster.Stop()
		say("stopped the kubelet, removed the pods through containerd's CRI, stopped kube-proxy, kube-scheduler,")
		say("kube-controller-manager, containerd, kube-apiserver and etcd")
		if d.netns != "" {
			if fileExists("/run/netns/" + d.netns) {
				say("network namespace %s is still there", d.netns)
			} else {
				say("deleted network namespace %s (with the node's veth and the pods' bridge)", d.netns)
			}
		}
	}
	if d.work != "" {
		if n := mountsUnder(d.work); n > 0 {
			say("%d mounts are left under %s", n, d.work)
		}
		if err := os.RemoveAll(d.work); err != nil {
			say("could not remove %s: %v", d.work, err)
		} else {
			say("no mounts left; removed %s", d.work)
		}
	}
	say("done in %s", since(t))
}

// mountsUnder counts the mounts at or below dir.
func mountsUnder(dir string) int {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return 0
	}
	n := 0
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) > 4 && (f[4] == dir || strings.HasPrefix(f[4], dir+"/")) {
			n++
		}
	}
	return n
}
