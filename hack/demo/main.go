// Command demo is `make demo`: the project's main job, locally. It renders
// overlays/external-haproxy with the KRM function and shows what the function
// changed in the DaemonSet, starts a throw-away control plane (etcd +
// kube-apiserver on 127.0.0.1), applies the rendered manifests, runs the pod's
// containers as local processes from the rendered spec (init step, haproxy
// sidecar, controller with only the base's RBAC token), routes an Ingress to a
// backend in a network namespace, turns on haproxy's access log through the
// ConfigMap and shows the reload it causes. Everything it starts is stopped
// and removed on exit, on error and on Ctrl-C / SIGTERM; with --keep it stays
// up until then.
//
// It needs root (network namespaces), iproute2 and haproxy >= 2.6; the
// binaries in bin/ come from `make build tools`. Run it through `make demo`
// (or hack/demo.sh) from the repository.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/kustomize/kyaml/kio"

	"github.com/external-haproxy/kit/internal/ctxutil"
	"github.com/external-haproxy/kit/test/cluster"
	"github.com/external-haproxy/kit/test/e2eenv"
	"github.com/external-haproxy/kit/test/podrun"
)

// What the demo deploys.
const (
	appNamespace = "demo"
	appName      = "echo"
	appHost      = "echo.local"
	backendName  = "echo-1"
	backendPort  = 8080
	overlay      = "overlays/external-haproxy"
)

func main() {
	keep := flag.Bool("keep", false, "leave everything running after the demo, until Ctrl-C or SIGTERM")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: hack/demo.sh [--keep]   (or: make demo DEMO_ARGS=--keep)")
		flag.PrintDefaults()
	}
	flag.Parse()

	// Signals stay caught until cleanup is done: a second Ctrl-C must not
	// leave a half-removed demo behind.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	d := &demo{keep: *keep, t0: time.Now()}
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
	keep     bool
	t0       time.Time
	step     int
	repo     string
	bin      string
	work     string // temp dir: control plane, pod volumes, logs
	cluster  *cluster.Cluster
	env      *e2eenv.Env
	curl     string // path of curl, or "" to use Go's client
	netnsDel string // network namespace name, for the cleanup report
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

func since(t time.Time) string { return time.Since(t).Round(10 * time.Millisecond).String() }

func (d *demo) run(ctx context.Context) error {
	for _, step := range []func(context.Context) error{
		d.preflight, d.render, d.controlPlane, d.pod, d.echoApp, d.accessLog,
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

// preflight checks what the demo needs from the machine, saying what is
// missing and how to get it.
func (d *demo) preflight(context.Context) error {
	var err error
	if d.repo, err = repoRoot(); err != nil {
		return err
	}
	d.bin = filepath.Join(d.repo, "bin")
	fmt.Println("external-haproxy kit demo: HAProxy Ingress controller and haproxy in separate containers of one pod,")
	fmt.Println("run here as local processes against a real kube-apiserver. Needs root, iproute2 and haproxy >= 2.6.")
	var problems []string
	if os.Geteuid() != 0 {
		problems = append(problems, "not root: the echo backend runs in a network namespace (ip netns add), which needs root; run `sudo make demo`")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		problems = append(problems, "`ip` not found: install iproute2 (apt-get install iproute2)")
	}
	hv, err := haproxyVersion()
	if err != nil {
		problems = append(problems, err.Error())
	}
	for _, b := range []string{"external-haproxy-fn", "haproxy-ingress-controller", "echoserver", "kustomize"} {
		if _, err := os.Stat(filepath.Join(d.bin, b)); err != nil {
			problems = append(problems, fmt.Sprintf("%s missing in %s: run `make build tools` (make demo does)", b, d.bin))
		}
	}
	if _, err := exec.LookPath("diff"); err != nil {
		problems = append(problems, "`diff` not found: install diffutils")
	}
	if len(problems) > 0 {
		return fmt.Errorf("this machine is not ready:\n  - %s", strings.Join(problems, "\n  - "))
	}
	d.curl, _ = exec.LookPath("curl")
	fmt.Printf("found: %s, root, iproute2, kustomize %s\n", hv, kustomizeVersion(filepath.Join(d.bin, "kustomize")))
	return nil
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

var haproxyVersionRE = regexp.MustCompile(`(?i)HA-?Proxy version (\d+)\.(\d+)(\S*)`)

func haproxyVersion() (string, error) {
	p, err := exec.LookPath("haproxy")
	if err != nil {
		return "", errors.New("haproxy not found: install haproxy >= 2.6 (make demo installs Debian's with apt-get; elsewhere use your package manager)")
	}
	out, err := exec.Command(p, "-v").Output()
	if err != nil {
		return "", fmt.Errorf("%s -v: %v", p, err)
	}
	m := haproxyVersionRE.FindStringSubmatch(string(out))
	if m == nil {
		return "", fmt.Errorf("%s -v: cannot read a version from %q", p, firstLine(string(out)))
	}
	major, _ := strconv.Atoi(m[1])
	minor, _ := strconv.Atoi(m[2])
	v := fmt.Sprintf("%s.%s%s", m[1], m[2], m[3])
	if major < 2 || (major == 2 && minor < 6) {
		return "", fmt.Errorf("%s is haproxy %s; the controller needs haproxy >= 2.6", p, v)
	}
	return "haproxy " + v, nil
}

func kustomizeVersion(bin string) string {
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		return "(version unknown)"
	}
	return strings.TrimSpace(string(out))
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
		label     string
		manifests []byte
	}{{"base/", base}, {overlay, rendered}} {
		spec, err := podrun.PodSpec(x.manifests, e2eenv.Workload)
		if err != nil {
			return err
		}
		say("%-26s %s", x.label+":", podSummary(spec))
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

// controlPlane starts etcd and kube-apiserver, building them the first time.
func (d *demo) controlPlane(ctx context.Context) error {
	d.heading("Start a local control plane: etcd + kube-apiserver on 127.0.0.1 (RBAC on, no nodes, no controller-manager)")
	progress := &progressWriter{first: func() {
		say("kube-apiserver and etcd are not cached yet: building them from the Go module proxy with hack/k8s-bins.sh.")
		say("This happens once and takes about 5-8 minutes; later runs start in seconds.")
	}}
	binDir, err := cluster.FindBinaries(ctx, progress)
	if err != nil {
		return err
	}
	ver := "kube-apiserver"
	if out, err := exec.Command(filepath.Join(binDir, "kube-apiserver"), "--version").Output(); err == nil {
		ver = strings.TrimSpace(string(out))
	}
	say("binaries: %s (%s)", binDir, ver)

	// A tmpfs makes etcd and the pod's volumes faster.
	parent := ""
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		parent = "/dev/shm"
	}
	if d.work, err = os.MkdirTemp(parent, "kit-demo-"); err != nil {
		return err
	}
	t := time.Now()
	d.cluster, err = cluster.Start(ctx, cluster.Options{Dir: filepath.Join(d.work, "cluster"), BinDir: binDir})
	if err != nil {
		return err
	}
	say("%s ready in %s; admin kubeconfig %s", d.cluster.Host, since(t), d.cluster.Kubeconfig)
	return nil
}

// progressWriter indents the build's progress lines and announces the build
// once, on its first line.
type progressWriter struct {
	first   func()
	started bool
	partial []byte
}

func (w *progressWriter) Write(p []byte) (int, error) {
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

// pod applies the rendered overlay and runs the pod's containers.
func (d *demo) pod(ctx context.Context) error {
	d.heading("Apply the rendered manifests and run the pod's containers as local processes")
	subnet, err := freeSubnet()
	if err != nil {
		return err
	}
	t := time.Now()
	env, err := e2eenv.Start(ctx, e2eenv.Options{
		Cluster: d.cluster, Dir: d.work, Bin: d.bin, Kustomize: filepath.Join(d.bin, "kustomize"),
		Repo: d.repo, Subnet: subnet,
	})
	if err != nil {
		return fmt.Errorf("starting the pod: %w", err)
	}
	d.env = env
	d.netnsDel = env.Net.Name
	objs, _ := objects(env.Manifests)
	say("applied %d objects to the apiserver (server-side apply, as kubectl apply --server-side would)", len(objs))
	say("ConfigMap %s/%s: ports moved to free loopback ports, bound to 127.0.0.1:", e2eenv.Namespace, e2eenv.ConfigMap)
	say("  http-port=%d https-port=%d healthz-port=%d stats-port=%d; controller healthz/metrics on 127.0.0.1:%d",
		env.HTTPPort, env.HTTPSPort, env.HealthzPort, env.StatsPort, env.ControllerPort)
	prefix := env.Pod.Prefix
	say("containers from the rendered DaemonSet; emptyDir volumes under $POD=%s:", prefix)
	short := func(argv []string) string {
		s := strings.Join(argv, " ")
		s = strings.ReplaceAll(s, prefix, "$POD")
		s = strings.ReplaceAll(s, d.bin+"/", "bin/")
		s = strings.ReplaceAll(s, d.work+"/", "$WORK/")
		return s
	}
	for _, c := range env.Pod.Spec.InitContainers {
		if argv, err := env.Pod.Command(&c); err == nil {
			say("  init  %-20s %s   (ran to completion: minimal valid haproxy.cfg)", c.Name, short(argv))
		}
	}
	for _, c := range env.Pod.Spec.Containers {
		if argv, err := env.Pod.Command(&c); err == nil {
			say("  run   %-20s %s", c.Name, short(argv))
		}
	}
	say("$WORK=%s; the controller's kubeconfig holds the token of ServiceAccount %s/%s (base RBAC only)",
		d.work, e2eenv.Namespace, e2eenv.ServiceAccount)
	if p, err := env.MasterProc(ctx); err == nil {
		say("haproxy master pid %d, worker pid %d (%s)", p.Master.PID, p.CurrentWorker(), p.Master.Version)
	}
	say("controller /readyz and haproxy /healthz answer 200 after %s", since(t))
	return nil
}

// freeSubnet picks 10.213.N.0/24 for the network namespace, one that no
// interface or route on this machine uses (tests running meanwhile use
// 101 and up).
func freeSubnet() (int, error) {
	out, err := exec.Command("ip", "-4", "-o", "addr").Output()
	if err != nil {
		return 0, fmt.Errorf("ip addr: %w", err)
	}
	routes, _ := exec.Command("ip", "-4", "route").Output()
	used := string(out) + string(routes)
	for n := 200; n < 255; n++ {
		if !strings.Contains(used, fmt.Sprintf("10.213.%d.", n)) {
			return n, nil
		}
	}
	return 0, errors.New("no free 10.213.N.0/24 subnet for the backend's network namespace")
}

// echoApp deploys the backend, its Service and EndpointSlice, and an Ingress,
// then requests it through haproxy.
func (d *demo) echoApp(ctx context.Context) error {
	d.heading("Deploy an echo app and an Ingress (class %s, host %s), and curl it through haproxy", e2eenv.ClassName, appHost)
	env := d.env
	ip, err := env.AddBackend(ctx, backendName, backendPort)
	if err != nil {
		return err
	}
	say("backend %s: test/echoserver on %s:%d in network namespace %s", backendName, ip, backendPort, env.Net.Name)
	if err := env.Namespace(ctx, appNamespace); err != nil {
		return err
	}
	if err := env.Service(ctx, appNamespace, appName, backendPort); err != nil {
		return err
	}
	if err := env.SetEndpoints(ctx, appNamespace, appName, backendPort, ip); err != nil {
		return err
	}
	say("Service %s/%s (port 80 -> %d) and its EndpointSlice -> %s, written directly: no Deployment, no controller-manager",
		appNamespace, appName, backendPort, ip)
	class := e2eenv.ClassName
	prefix := networkingv1.PathTypePrefix
	ing := &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Namespace: appNamespace, Name: appName},
		Spec: networkingv1.IngressSpec{
			IngressClassName: &class,
			Rules: []networkingv1.IngressRule{{Host: appHost, IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
				Paths: []networkingv1.HTTPIngressPath{{Path: "/", PathType: &prefix, Backend: networkingv1.IngressBackend{
					Service: &networkingv1.IngressServiceBackend{Name: appName, Port: networkingv1.ServiceBackendPort{Name: "http"}}}}},
			}}}},
		},
	}
	if _, err := env.Admin.NetworkingV1().Ingresses(appNamespace).Create(ctx, ing, metav1.CreateOptions{}); err != nil {
		return err
	}
	say("Ingress %s/%s: class %s, host %s, path / (Prefix) -> service %s port http", appNamespace, appName, class, appHost, appName)
	t := time.Now()
	var last string
	for {
		r, err := env.Get(appHost, "/", false)
		if err == nil && r.Status == 200 && strings.Contains(r.Body, "server="+backendName) {
			break
		}
		last = fmt.Sprintf("status %d %q, error %v", r.Status, r.Body, err)
		if time.Since(t) > 30*time.Second {
			return fmt.Errorf("the Ingress was not served after 30s: last answer %s", last)
		}
		if err := ctxutil.Sleep(ctx, 10*time.Millisecond); err != nil {
			return err
		}
	}
	say("haproxy routes it %s after the Ingress was created", since(t))
	return d.request("/")
}

// curlCommand is the command a user can paste to reach the app.
func (d *demo) curlCommand(path string) string {
	return fmt.Sprintf("curl -sS -H 'Host: %s' http://127.0.0.1:%d%s", appHost, d.env.HTTPPort, path)
}

// request sends one request through haproxy with curl (or Go's client) and
// prints the command and the answer.
func (d *demo) request(path string) error {
	say("$ %s", d.curlCommand(path))
	var out string
	if d.curl != "" {
		b, err := exec.Command(d.curl, "-sS", "--max-time", "5", "-H", "Host: "+appHost,
			fmt.Sprintf("http://127.0.0.1:%d%s", d.env.HTTPPort, path)).CombinedOutput()
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
	from := len(env.Log(e2eenv.Controller))
	if err := env.PatchConfigMap(ctx, map[string]string{"syslog-endpoint": "stdout", "syslog-format": "raw"}); err != nil {
		return err
	}
	say("controller log (container %s):", e2eenv.Controller)
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
	if p, err := env.MasterProc(ctx); err == nil {
		say("haproxy master: %d reload(s) so far, new worker pid %d", p.Master.Reloads, p.CurrentWorker())
	}

	fmt.Println()
	say("a request after the reload, and haproxy's access log line for it (container %s, stdout):", e2eenv.Sidecar)
	path := "/after-reload"
	var line string
	from = len(env.Log(e2eenv.Sidecar))
	for attempt := 1; ; attempt++ {
		if attempt == 1 {
			if err := d.request(path); err != nil {
				return err
			}
		} else if _, err := env.Get(appHost, path, false); err != nil {
			return err
		}
		re := regexp.MustCompile(`.*"GET ` + regexp.QuoteMeta(path) + ` HTTP/1\.1".*`)
		if line, err = waitLogAfter(ctx, env, e2eenv.Sidecar, from, re, 2*time.Second); err == nil {
			break
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if attempt == 5 {
			return fmt.Errorf("no access log line in haproxy's output after %d requests: %w\n%s", attempt, err, env.Tail(e2eenv.Sidecar, 15))
		}
	}
	say("  %s", strings.TrimSpace(line))
	return nil
}

var startRE = regexp.MustCompile(`.*starting haproxy update id=(\d+).*`)

// waitLogAfter waits for re in the part of a container's log written after
// offset from (podrun's WaitLog searches the whole log).
func waitLogAfter(ctx context.Context, env *e2eenv.Env, name string, from int, re *regexp.Regexp, timeout time.Duration) (string, error) {
	deadline := time.Now().Add(timeout)
	for {
		if log := env.Log(name); len(log) > from {
			if m := re.FindString(log[from:]); m != "" {
				return m, nil
			}
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("container %s: no log line matching %q after %v:\n%s", name, re, timeout, env.Tail(name, 15))
		}
		if err := ctxutil.Sleep(ctx, 20*time.Millisecond); err != nil {
			return "", err
		}
	}
}

// updateLines returns the log lines from start to finish, at most a dozen.
func updateLines(log, start, finish string) []string {
	var out []string
	in := false
	for _, l := range strings.Split(log, "\n") {
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
	fmt.Printf("\n==> Everything stays up (--keep) until Ctrl-C here or `kill %d`\n", os.Getpid())
	say("app:         %s", d.curlCommand("/"))
	say("kubeconfig:  export KUBECONFIG=%s   # admin (system:masters)", d.cluster.Kubeconfig)
	if _, err := exec.LookPath("kubectl"); err == nil {
		say("             kubectl get ingress,svc,endpointslices -n %s; kubectl -n %s get configmap %s -o yaml",
			appNamespace, e2eenv.Namespace, e2eenv.ConfigMap)
	}
	say("apiserver:   %s", d.cluster.Host)
	say("haproxy:     stats http://127.0.0.1:%d/  healthz http://127.0.0.1:%d/healthz  master socket %s",
		d.env.StatsPort, d.env.HealthzPort, d.env.Pod.Path("/var/run/haproxy/master.sock"))
	say("controller:  http://127.0.0.1:%d/metrics", d.env.ControllerPort)
	say("logs:        %s/{%s,%s}.log  %s/{kube-apiserver,etcd}.log",
		d.work, e2eenv.Controller, e2eenv.Sidecar, d.cluster.Dir)
	say("stop:        Ctrl-C (or kill %d): stops the pod, the network namespace and the control plane, removes %s",
		os.Getpid(), d.work)
}

// failureLogs prints the ends of the pod's logs before cleanup removes them.
func (d *demo) failureLogs() {
	if d.env == nil || d.env.Pod == nil {
		return
	}
	for _, c := range []string{e2eenv.Controller, e2eenv.Sidecar} {
		fmt.Fprintf(os.Stderr, "\n--- last lines of the %s container's log:\n%s\n", c, d.env.Tail(c, 15))
	}
}

// cleanup stops and removes everything run started; it is safe after any
// error.
func (d *demo) cleanup() {
	if d.env == nil && d.cluster == nil && d.work == "" {
		return
	}
	if d.step < steps {
		d.step = steps - 1
	}
	d.heading("Clean up")
	t := time.Now()
	if d.env != nil {
		d.env.Close()
		say("stopped the pod's containers (%s, %s) and the backend; deleted network namespace %s",
			e2eenv.Controller, e2eenv.Sidecar, d.netnsDel)
	}
	if d.cluster != nil {
		d.cluster.Stop()
		say("stopped kube-apiserver and etcd")
	}
	if d.work != "" {
		if err := os.RemoveAll(d.work); err != nil {
			say("could not remove %s: %v", d.work, err)
		} else {
			say("removed %s", d.work)
		}
	}
	say("done in %s", since(t))
}
