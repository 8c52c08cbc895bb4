// Package e2eenv sets up the external-haproxy pod the way a cluster runs it,
// for the end-to-end tests and `make demo`: the function overlay rendered by
// kustomize (with the locally built images set, as a consumer's overlay sets
// its own) and applied server-side to a real cluster with a real node; the
// DaemonSet controller makes the pod, the kubelet runs it in containerd, and
// backends are pods too.
package e2eenv

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/external-haproxy/kit/controller/haproxy/mastercli"
	"github.com/external-haproxy/kit/test/cluster"
	"github.com/external-haproxy/kit/test/kubeapply"
	"github.com/external-haproxy/kit/test/poll"
)

// Names from base/.
const (
	Namespace      = "ingress-controller"
	Workload       = "haproxy-ingress"
	ServiceAccount = "haproxy-ingress"
	ConfigMap      = "haproxy-ingress"
	ClassName      = "haproxy"
	Controller     = "haproxy-ingress"
	Sidecar        = "haproxy"
)

// Ports the base gives haproxy and the controller; on the node's address.
const (
	HTTPPort       = 80
	HTTPSPort      = 443
	HealthzPort    = 10253
	StatsPort      = 1936
	ControllerPort = 10254
)

// Options say where things are.
type Options struct {
	Cluster   *cluster.Cluster // with a node (cluster.Options.Node)
	Dir       string           // work dir: the rendering overlay, logs
	Bin       string           // holds external-haproxy-fn
	Kustomize string
	Overlay   string // directory to render; default overlays/external-haproxy of the repo
	Repo      string
	// ConfigMap entries added to the base's ConfigMap before the pod starts.
	ConfigMap map[string]string
	// Haproxy is the haproxy version the sidecar runs (an image of
	// HaproxyVersions); empty: $KIT_E2E_HAPROXY, else the first one.
	Haproxy string
}

// Env is a running pod on a node.
type Env struct {
	Opts      Options
	Cluster   *cluster.Cluster
	Admin     kubernetes.Interface // system:masters, for the test's own writes
	Manifests []byte               // the rendered overlay
	NodeIP    string               // where haproxy and the controller serve
	PodName   string
	PodUID    string
	echoes    []string // backend pods, namespace/name
}

// Render runs kustomize on the overlay with the function on $PATH.
func Render(kustomize, bin, overlay string) ([]byte, error) {
	cmd := exec.Command(kustomize, "build", "--enable-alpha-plugins", "--enable-exec", "--load-restrictor=LoadRestrictionsNone", overlay)
	cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s: %v: %s", overlay, err, stderr.String())
	}
	return out, nil
}

// RenderWithLocalImages renders overlay through a kustomization that only
// sets the images to the locally built ones, as a consumer's overlay would
// set its registry's: nothing can be pulled here.
func RenderWithLocalImages(kustomize, bin, overlay, dir, haproxy string) ([]byte, error) {
	wrap := filepath.Join(dir, "overlay")
	if err := os.MkdirAll(wrap, 0o755); err != nil {
		return nil, err
	}
	// kustomize takes a directory resource only as a relative path.
	rel, err := filepath.Rel(wrap, overlay)
	if err != nil {
		return nil, err
	}
	k := fmt.Sprintf(`apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- %s
images:
- name: ghcr.io/external-haproxy/haproxy-ingress-controller
  newName: %s
  newTag: %s
- name: haproxy
  newName: %s
  newTag: %s
`, rel, imageName(ControllerImage), imageTag(ControllerImage), imageName(HaproxyImage(haproxy)), imageTag(HaproxyImage(haproxy)))
	if err := os.WriteFile(filepath.Join(wrap, "kustomization.yaml"), []byte(k), 0o644); err != nil {
		return nil, err
	}
	return Render(kustomize, bin, wrap)
}

func imageName(ref string) string { n, _, _ := strings.Cut(ref, ":"); return n }
func imageTag(ref string) string  { _, t, _ := strings.Cut(ref, ":"); return t }

// HaproxyVersion is the version the environment selects: $KIT_E2E_HAPROXY
// (make test runs the haproxy-facing tests again with 3.0), else the first
// of HaproxyVersions.
func HaproxyVersion() string {
	if v := os.Getenv("KIT_E2E_HAPROXY"); v != "" {
		return v
	}
	return HaproxyVersions[0]
}

// Start renders and applies the overlay and waits for the DaemonSet's pod:
// running on the node, the controller ready (its /readyz turns 200 only once
// real configuration is live in haproxy) and haproxy's /healthz answering.
func Start(ctx context.Context, o Options) (*Env, error) {
	if o.Overlay == "" {
		o.Overlay = filepath.Join(o.Repo, "overlays/external-haproxy")
	}
	if o.Haproxy == "" {
		o.Haproxy = HaproxyVersion()
	}
	if o.Cluster.NodeIP() == "" {
		return nil, fmt.Errorf("e2eenv: the cluster has no node")
	}
	e := &Env{Opts: o, Cluster: o.Cluster, NodeIP: o.Cluster.NodeIP()}
	// The test's own client, not the controller's: allowed far more than
	// client-go's default 5 requests/s so that bulk writes measure the
	// controller and not this client's rate limiter.
	admin := rest.CopyConfig(o.Cluster.Config)
	admin.QPS, admin.Burst = 500, 1000
	var err error
	if e.Admin, err = kubernetes.NewForConfig(admin); err != nil {
		return nil, err
	}
	if e.Manifests, err = RenderWithLocalImages(o.Kustomize, o.Bin, o.Overlay, o.Dir, o.Haproxy); err != nil {
		return nil, err
	}
	// The DaemonSet goes last so that its pod starts with the test's
	// ConfigMap entries (a later apply would take them back).
	isDS := func(kind string) bool { return kind == "DaemonSet" }
	if err := kubeapply.ApplyIf(ctx, o.Cluster.Config, e.Manifests, false, func(k string) bool { return !isDS(k) }); err != nil {
		return nil, fmt.Errorf("applying the rendered overlay: %w", err)
	}
	if len(o.ConfigMap) > 0 {
		if err := e.PatchConfigMap(ctx, o.ConfigMap); err != nil {
			return nil, err
		}
	}
	if err := kubeapply.ApplyIf(ctx, o.Cluster.Config, e.Manifests, false, isDS); err != nil {
		return nil, fmt.Errorf("applying the rendered overlay: %w", err)
	}
	if err := e.WaitPod(ctx, 120*time.Second, "", nil); err != nil {
		return nil, err
	}
	if err := e.WaitReady(ctx, 60*time.Second); err != nil {
		return nil, err
	}
	if err := e.checkSidecarVersion(ctx); err != nil {
		return nil, err
	}
	return e, nil
}

// WaitPod waits for a pod of the DaemonSet, other than the one with UID not,
// that ok accepts (nil: every container running), and remembers its name and
// UID (a deleted pod is replaced by a new one).
func (e *Env) WaitPod(ctx context.Context, timeout time.Duration, not string, ok func(*corev1.Pod) bool) error {
	if ok == nil {
		ok = running
	}
	last := "no pod yet"
	return poll.Until(ctx, timeout, func() (bool, error) {
		pods, err := e.Admin.CoreV1().Pods(Namespace).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=haproxy-ingress"})
		if err != nil {
			return false, err
		}
		for _, p := range pods.Items {
			last = fmt.Sprintf("pod %s: %s%s", p.Name, p.Status.Phase, ContainerStates(&p))
			if string(p.UID) == not {
				continue
			}
			if p.DeletionTimestamp != nil {
				continue
			}
			if ok(&p) {
				e.PodName, e.PodUID = p.Name, string(p.UID)
				return true, nil
			}
			last = fmt.Sprintf("pod %s: %s", p.Name, ContainerStates(&p))
		}
		return false, nil
	}, func() string { return last + "\n" + e.Diagnose(ctx) })
}

func running(p *corev1.Pod) bool {
	if p.Status.Phase != corev1.PodRunning || len(p.Status.ContainerStatuses) != len(p.Spec.Containers) {
		return false
	}
	for _, s := range p.Status.ContainerStatuses {
		if s.State.Running == nil {
			return false
		}
	}
	return true
}

// ContainerStates sums up the states of a pod's containers, for messages.
func ContainerStates(p *corev1.Pod) string {
	var b strings.Builder
	for _, s := range append(append([]corev1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...) {
		switch {
		case s.State.Running != nil:
			fmt.Fprintf(&b, " %s=running(restarts %d)", s.Name, s.RestartCount)
		case s.State.Waiting != nil:
			fmt.Fprintf(&b, " %s=waiting(%s: %s)", s.Name, s.State.Waiting.Reason, s.State.Waiting.Message)
		case s.State.Terminated != nil:
			fmt.Fprintf(&b, " %s=terminated(%s, exit %d)", s.Name, s.State.Terminated.Reason, s.State.Terminated.ExitCode)
		}
	}
	return b.String()
}

// Diagnose says what went wrong with the pod, for failure messages: its
// containers' states and the last lines of their logs.
func (e *Env) Diagnose(ctx context.Context) string {
	var b strings.Builder
	if e.PodName != "" {
		if p, err := e.Admin.CoreV1().Pods(Namespace).Get(ctx, e.PodName, metav1.GetOptions{}); err == nil {
			fmt.Fprintf(&b, "pod %s:%s\n", p.Name, ContainerStates(p))
		}
	}
	for _, c := range []string{Controller, Sidecar} {
		fmt.Fprintf(&b, "%s:\n%s\n", c, e.Tail(c, 25))
	}
	return b.String()
}

// checkSidecarVersion makes sure the sidecar's master runs the version
// chosen for it, so that a run meant for haproxy 3.0 cannot pass on 2.6.
func (e *Env) checkSidecarVersion(ctx context.Context) error {
	if e.Path(Sidecar, "/var/run/haproxy") == "" {
		return nil // embedded: the controller image's haproxy
	}
	p, err := e.MasterProc(ctx)
	if err != nil {
		return err
	}
	if !strings.HasPrefix(p.Master.Version, e.Opts.Haproxy) {
		return fmt.Errorf("sidecar master runs haproxy %s, want %s", p.Master.Version, e.Opts.Haproxy)
	}
	return nil
}

// URL is an address of the pod on the node (hostNetwork).
func (e *Env) URL(port int, path string) string {
	return "http://" + net.JoinHostPort(e.NodeIP, strconv.Itoa(port)) + path
}

// WaitReady waits for the controller's /readyz and haproxy's /healthz: both
// turn 200 only once real configuration is live.
func (e *Env) WaitReady(ctx context.Context, timeout time.Duration) error {
	for _, url := range []string{e.URL(ControllerPort, "/readyz"), e.URL(HealthzPort, "/healthz")} {
		last := ""
		err := poll.Until(ctx, timeout, func() (bool, error) {
			resp, err := quick.Get(url)
			if err != nil {
				last = err.Error()
				return false, nil
			}
			resp.Body.Close()
			last = resp.Status
			return resp.StatusCode == 200, nil
		}, func() string { return url + ": " + last + "\n" + e.Diagnose(ctx) })
		if err != nil {
			return err
		}
	}
	return nil
}

var quick = &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

// PatchConfigMap merges data into the global ConfigMap.
func (e *Env) PatchConfigMap(ctx context.Context, data map[string]string) error {
	cm, err := e.Admin.CoreV1().ConfigMaps(Namespace).Get(ctx, ConfigMap, metav1.GetOptions{})
	if err != nil {
		return err
	}
	if cm.Data == nil {
		cm.Data = map[string]string{}
	}
	for k, v := range data {
		cm.Data[k] = v
	}
	_, err = e.Admin.CoreV1().ConfigMaps(Namespace).Update(ctx, cm, metav1.UpdateOptions{})
	return err
}

// Service creates a Service without selector, one port named http (port 80
// → targetPort), whose endpoints the test writes (SetEndpoints).
func (e *Env) Service(ctx context.Context, ns, name string, targetPort int) error {
	_, err := e.Admin.CoreV1().Services(ns).Create(ctx, ServiceFor(ns, name, targetPort), metav1.CreateOptions{})
	return err
}

// ServiceFor builds the Service that Service creates.
func ServiceFor(ns, name string, targetPort int) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(int32(targetPort))}}},
	}
}

// SetEndpoints writes the EndpointSlice of a Service without selector with
// the given ready addresses: the tests switch endpoints faster and more
// precisely than scaling a Deployment would.
func (e *Env) SetEndpoints(ctx context.Context, ns, svc string, port int, addrs ...string) error {
	es := EndpointSliceFor(ns, svc, port, addrs...)
	name := es.Name
	cur, err := e.Admin.DiscoveryV1().EndpointSlices(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		_, err = e.Admin.DiscoveryV1().EndpointSlices(ns).Create(ctx, es, metav1.CreateOptions{})
		return err
	}
	es.ResourceVersion = cur.ResourceVersion
	_, err = e.Admin.DiscoveryV1().EndpointSlices(ns).Update(ctx, es, metav1.UpdateOptions{})
	return err
}

// EndpointSliceFor builds the EndpointSlice SetEndpoints writes for svc
// (named svc-e2e): port "http" and the given ready addresses.
func EndpointSliceFor(ns, svc string, port int, addrs ...string) *discoveryv1.EndpointSlice {
	es := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: svc + "-e2e", Labels: map[string]string{
			discoveryv1.LabelServiceName: svc, discoveryv1.LabelManagedBy: "e2e.external-haproxy.dev"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: ptr("http"), Port: ptr(int32(port)), Protocol: ptr(corev1.ProtocolTCP)}},
	}
	for _, a := range addrs {
		es.Endpoints = append(es.Endpoints, discoveryv1.Endpoint{Addresses: []string{a}, Conditions: discoveryv1.EndpointConditions{Ready: ptr(true)}})
	}
	return es
}

// Namespace creates a namespace.
func (e *Env) Namespace(ctx context.Context, name string) error {
	_, err := e.Admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	return err
}

// Response is what a request through haproxy got.
type Response struct {
	Status int
	Body   string
	Header http.Header
	Cert   string // CommonName of the certificate served, for https
}

// Get sends one request through haproxy's http (or https with SNI = host)
// frontend on the node, without following redirects.
func (e *Env) Get(host, path string, https bool) (Response, error) {
	port := HTTPPort
	if https {
		port = HTTPSPort
	}
	return e.GetAt(port, host, path, https)
}

// GetAt is Get on another port of the node (host empty: the address's).
func (e *Env) GetAt(port int, host, path string, https bool) (Response, error) {
	scheme := "http"
	if https {
		scheme = "https"
	}
	req, err := http.NewRequest("GET", fmt.Sprintf("%s://%s%s", scheme, net.JoinHostPort(e.NodeIP, strconv.Itoa(port)), path), nil)
	if err != nil {
		return Response{}, err
	}
	req.Host = host
	tr := &http.Transport{DisableKeepAlives: true, TLSClientConfig: &tls.Config{ServerName: host, InsecureSkipVerify: true}} //nolint:gosec // the test inspects the certificate itself
	c := &http.Client{Timeout: 3 * time.Second, Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		return Response{}, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := Response{Status: resp.StatusCode, Body: string(b), Header: resp.Header}
	if resp.TLS != nil && len(resp.TLS.PeerCertificates) > 0 {
		r.Cert = resp.TLS.PeerCertificates[0].Subject.CommonName
	}
	return r, nil
}

// Eventually polls get until ok accepts its response, and returns how long
// that took.
func (e *Env) Eventually(timeout time.Duration, get func() (Response, error), ok func(Response) bool) (time.Duration, Response, error) {
	return e.EventuallyEvery(timeout, 5*time.Millisecond, get, ok)
}

// EventuallyEvery is Eventually polling every interval: benchmarks poll
// more often, so that the wait between polls adds less to what they time.
func (e *Env) EventuallyEvery(timeout, interval time.Duration, get func() (Response, error), ok func(Response) bool) (time.Duration, Response, error) {
	start := time.Now()
	var last Response
	var lastErr error
	err := poll.Every(context.Background(), timeout, interval, func() (bool, error) {
		r, err := get()
		last, lastErr = r, err
		return err == nil && ok(r), nil
	}, func() string {
		return fmt.Sprintf("last response %d %q, error %v\ncontroller log:\n%s", last.Status, last.Body, lastErr, e.Tail(Controller, 25))
	})
	return time.Since(start), last, err
}

// MasterCLI is a client of haproxy's master socket (the path the overlay
// gives the sidecar's -S, in the pod's volume).
func (e *Env) MasterCLI(timeout time.Duration) *mastercli.Client {
	// The kubelet's path to the volume is longer than a unix socket address
	// may be (108 bytes); connect follows a short symlink.
	link := filepath.Join(e.Opts.Dir, "master.sock")
	_ = os.Remove(link)
	_ = os.Symlink(e.Path(Sidecar, "/var/run/haproxy/master.sock"), link)
	return mastercli.New(link, timeout)
}

// MasterProc is haproxy's "show proc", read from its master socket.
func (e *Env) MasterProc(ctx context.Context) (mastercli.Proc, error) {
	return e.MasterCLI(5 * time.Second).ShowProc(ctx)
}

func ptr[T any](v T) *T { return &v }
