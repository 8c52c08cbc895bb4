// Package e2eenv sets up the whole external-haproxy pod the way a cluster runs
// it, for the end-to-end tests and `make demo`: the function overlay rendered
// by kustomize and applied to a real kube-apiserver, the pod's containers run
// locally from that rendered spec (init step, haproxy sidecar, controller with
// nothing but the base's RBAC token), and backends in a network namespace.
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
	"github.com/external-haproxy/kit/internal/ctxutil"
	"github.com/external-haproxy/kit/internal/loopback"
	"github.com/external-haproxy/kit/test/cluster"
	"github.com/external-haproxy/kit/test/kubeapply"
	"github.com/external-haproxy/kit/test/netns"
	"github.com/external-haproxy/kit/test/podrun"
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

// Options say where things are.
type Options struct {
	Cluster   *cluster.Cluster
	Dir       string // work dir: pod volumes, logs
	Bin       string // holds external-haproxy-fn, haproxy-ingress-controller and echoserver
	Kustomize string
	Overlay   string // directory to render; default overlays/external-haproxy of the repo
	Repo      string
	Subnet    int // 10.213.<Subnet>.0/24 for the backends
	// ConfigMap entries added to the base's ConfigMap before the controller
	// starts (ports are always set to free loopback ports).
	ConfigMap map[string]string
	// Haproxy is the binary the sidecar runs, and the controller's
	// --haproxy-binary for its checks, so that both are one version. Empty:
	// $KIT_E2E_HAPROXY for the sidecar if set, else haproxy on $PATH (and the
	// controller finds haproxy on $PATH itself).
	Haproxy string
}

// Env is a running pod with its control plane.
type Env struct {
	Opts                                                        Options
	Admin                                                       kubernetes.Interface // system:masters, for the test's own writes
	Manifests                                                   []byte               // the rendered overlay
	Pod                                                         *podrun.Pod
	Net                                                         *netns.Net
	HTTPPort, HTTPSPort, HealthzPort, StatsPort, ControllerPort int
	echoes                                                      map[string]string // address → backend name
}

// Render runs kustomize on the overlay with the function on $PATH.
func Render(kustomize, bin, overlay string) ([]byte, error) {
	cmd := exec.Command(kustomize, "build", "--enable-alpha-plugins", "--enable-exec", overlay)
	cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s: %v: %s", overlay, err, stderr.String())
	}
	return out, nil
}

// Start renders and applies the overlay, then runs the pod; it returns once
// the controller has loaded real configuration into haproxy.
func Start(ctx context.Context, o Options) (*Env, error) {
	if o.Overlay == "" {
		o.Overlay = filepath.Join(o.Repo, "overlays/external-haproxy")
	}
	e := &Env{Opts: o, echoes: map[string]string{}}
	// The test's own client, not the controller's: allowed far more than
	// client-go's default 5 requests/s so that bulk writes measure the
	// controller and not this client's rate limiter.
	admin := rest.CopyConfig(o.Cluster.Config)
	admin.QPS, admin.Burst = 500, 1000
	var err error
	if e.Admin, err = kubernetes.NewForConfig(admin); err != nil {
		return nil, err
	}
	if e.Manifests, err = Render(o.Kustomize, o.Bin, o.Overlay); err != nil {
		return nil, err
	}
	if err := kubeapply.Apply(ctx, o.Cluster.Config, e.Manifests, false); err != nil {
		return nil, fmt.Errorf("applying the rendered overlay: %w", err)
	}
	ports, err := loopback.FreePorts(5)
	if err != nil {
		return nil, err
	}
	e.HTTPPort, e.HTTPSPort, e.HealthzPort, e.StatsPort, e.ControllerPort = ports[0], ports[1], ports[2], ports[3], ports[4]
	data := map[string]string{
		"http-port": strconv.Itoa(e.HTTPPort), "https-port": strconv.Itoa(e.HTTPSPort),
		"healthz-port": strconv.Itoa(e.HealthzPort), "stats-port": strconv.Itoa(e.StatsPort),
		"bind-ip-addr-http": "127.0.0.1", "bind-ip-addr-healthz": "127.0.0.1", "bind-ip-addr-stats": "127.0.0.1",
	}
	for k, v := range o.ConfigMap {
		data[k] = v
	}
	if err := e.PatchConfigMap(ctx, data); err != nil {
		return nil, err
	}
	kubeconfig := filepath.Join(o.Dir, "controller.kubeconfig")
	if _, err := o.Cluster.TokenKubeconfig(ctx, Namespace, ServiceAccount, kubeconfig); err != nil {
		return nil, err
	}
	if e.Net, err = netns.New(o.Subnet); err != nil {
		return nil, err
	}
	spec, err := podrun.PodSpec(e.Manifests, Workload)
	if err != nil {
		e.Close()
		return nil, err
	}
	prefix := filepath.Join(o.Dir, "pod")
	e.Pod = &podrun.Pod{
		Spec:   spec,
		Prefix: prefix,
		Env:    map[string]string{"POD_NAME": Workload + "-local", "POD_NAMESPACE": Namespace, "POD_IP": "127.0.0.1"},
		Binary: func(c *corev1.Container) (string, error) { return binaryFor(o.Bin, o.Haproxy, c) },
		ExtraArgs: map[string][]string{
			Controller: {"--kubeconfig=" + kubeconfig, "--local-filesystem-prefix=" + prefix,
				"--healthz-addr=127.0.0.1:" + strconv.Itoa(e.ControllerPort)},
		},
		LogDir: o.Dir,
	}
	if o.Haproxy != "" {
		e.Pod.ExtraArgs[Controller] = append(e.Pod.ExtraArgs[Controller], "--haproxy-binary="+o.Haproxy)
	}
	for _, c := range spec.InitContainers {
		if c.Args != nil && c.Args[0] == "--init" {
			e.Pod.ExtraArgs[c.Name] = []string{"--local-filesystem-prefix=" + prefix}
		}
	}
	if err := e.Pod.Start(ctx); err != nil {
		e.Close()
		return nil, err
	}
	if err := e.WaitReady(ctx, 60*time.Second); err != nil {
		e.Close()
		return nil, err
	}
	if err := e.checkSidecarVersion(ctx); err != nil {
		e.Close()
		return nil, err
	}
	return e, nil
}

// checkSidecarVersion makes sure the sidecar's master runs the binary chosen
// for it, so that a run meant for haproxy 3.0 cannot pass on 2.6.
func (e *Env) checkSidecarVersion(ctx context.Context) error {
	bin, err := e.Pod.Binary(e.Pod.Container(Sidecar))
	if err != nil {
		return err
	}
	out, err := exec.CommandContext(ctx, bin, "-v").Output()
	if err != nil {
		return fmt.Errorf("%s -v: %w", bin, err)
	}
	p, err := e.MasterProc(ctx)
	if err != nil {
		return err
	}
	if want, _, _ := strings.Cut(string(out), "\n"); !strings.HasPrefix(want, "HAProxy version "+p.Master.Version+" ") {
		return fmt.Errorf("sidecar master runs haproxy %s, want %s (%q)", p.Master.Version, bin, want)
	}
	return nil
}

// binaryFor maps a container image to the local program standing in for it;
// haproxy, when set, is the sidecar's.
func binaryFor(bin, haproxy string, c *corev1.Container) (string, error) {
	name := c.Image
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	name, _, _ = strings.Cut(name, ":")
	name, _, _ = strings.Cut(name, "@")
	switch name {
	case "haproxy-ingress-controller":
		return filepath.Join(bin, "haproxy-ingress-controller"), nil
	case "haproxy":
		if haproxy != "" {
			return haproxy, nil
		}
		// make test runs the reliability tests again with the sidecar on 3.0.
		if p := os.Getenv("KIT_E2E_HAPROXY"); p != "" {
			return p, nil
		}
		return exec.LookPath("haproxy")
	}
	return "", fmt.Errorf("container %s: no local program for image %q", c.Name, c.Image)
}

// WaitReady waits for the controller's /readyz and haproxy's /healthz: both
// turn 200 only once real configuration is live.
func (e *Env) WaitReady(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for _, url := range []string{
		fmt.Sprintf("http://127.0.0.1:%d/readyz", e.ControllerPort),
		fmt.Sprintf("http://127.0.0.1:%d/healthz", e.HealthzPort),
	} {
		for {
			resp, err := quick.Get(url)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					break
				}
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%s not ready after %v\ncontroller:\n%s\nhaproxy:\n%s", url, timeout,
					e.Pod.Tail(Controller, 30), e.Pod.Tail(Sidecar, 30))
			}
			if err := ctxutil.Sleep(ctx, 50*time.Millisecond); err != nil {
				return err
			}
		}
	}
	return nil
}

var quick = &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

// Close stops the pod and removes the network namespace.
func (e *Env) Close() {
	if e.Pod != nil {
		e.Pod.Close()
	}
	if e.Net != nil {
		e.Net.Close()
	}
}

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

// AddBackend starts an echo server named name on a new address of the
// network namespace and returns the address.
func (e *Env) AddBackend(ctx context.Context, name string, port int) (string, error) {
	ip, err := e.Net.AddAddress()
	if err != nil {
		return "", err
	}
	if _, err := e.Net.Start(filepath.Join(e.Opts.Bin, "echoserver"), "-listen", net.JoinHostPort(ip, strconv.Itoa(port)), "-name", name); err != nil {
		return "", err
	}
	e.echoes[ip] = name
	for deadline := time.Now().Add(10 * time.Second); ; {
		c, err := net.DialTimeout("tcp", net.JoinHostPort(ip, strconv.Itoa(port)), time.Second)
		if err == nil {
			c.Close()
			return ip, nil
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("backend %s on %s: %v", name, ip, err)
		}
		if err := ctxutil.Sleep(ctx, 20*time.Millisecond); err != nil {
			return "", err
		}
	}
}

// Service creates a ClusterIP Service with one port named http (port 80 →
// targetPort).
func (e *Env) Service(ctx context.Context, ns, name string, targetPort int) error {
	_, err := e.Admin.CoreV1().Services(ns).Create(ctx, ServiceFor(ns, name, targetPort), metav1.CreateOptions{})
	return err
}

// ServiceFor builds the Service that Service creates.
func ServiceFor(ns, name string, targetPort int) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(int32(targetPort))}},
			Selector: map[string]string{"app": name}},
	}
}

// SetEndpoints writes the Service's EndpointSlice (there is no
// controller-manager to do it) with the given ready addresses.
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
// frontend on loopback, without following redirects.
func (e *Env) Get(host, path string, https bool) (Response, error) {
	scheme, port := "http", e.HTTPPort
	if https {
		scheme, port = "https", e.HTTPSPort
	}
	req, err := http.NewRequest("GET", fmt.Sprintf("%s://127.0.0.1:%d%s", scheme, port, path), nil)
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
	start := time.Now()
	var last Response
	var lastErr error
	for time.Since(start) < timeout {
		r, err := get()
		if err == nil && ok(r) {
			return time.Since(start), r, nil
		}
		last, lastErr = r, err
		time.Sleep(5 * time.Millisecond)
	}
	return time.Since(start), last, fmt.Errorf("condition not met after %v: last response %d %q, error %v\ncontroller log:\n%s",
		timeout, last.Status, last.Body, lastErr, e.Pod.Tail(Controller, 25))
}

// MasterCLI is a client of haproxy's master socket (the path the overlay
// gives the sidecar's -S, under the pod's prefix).
func (e *Env) MasterCLI(timeout time.Duration) *mastercli.Client {
	return mastercli.New(e.Pod.Path("/var/run/haproxy/master.sock"), timeout)
}

// MasterProc is haproxy's "show proc", read from its master socket.
func (e *Env) MasterProc(ctx context.Context) (mastercli.Proc, error) {
	return e.MasterCLI(5 * time.Second).ShowProc(ctx)
}

func ptr[T any](v T) *T { return &v }
