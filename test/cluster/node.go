package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"text/template"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/external-haproxy/kit/test/netns"
	"github.com/external-haproxy/kit/test/poll"
	"github.com/external-haproxy/kit/test/proc"
)

// NodeName is the node's name (kubelet --hostname-override).
const NodeName = "kit-node"

const (
	serviceCIDR         = "10.0.0.0/24"
	kubernetesServiceIP = "10.0.0.1" // the first address of serviceCIDR
	// nodeSubnetStart is where the node namespaces' /24s start in
	// 10.213.0.0/16 (test/netns hands them out under a lock).
	nodeSubnetStart = 20
)

// NodeOptions configure the node.
type NodeOptions struct {
	// Labels go on the Node object (kubelet --node-labels).
	Labels map[string]string
	// Images are image archives (docker-save or OCI layout tars) imported
	// into containerd's k8s.io namespace before the kubelet starts: nothing
	// can be pulled here. PauseImage must be among them.
	Images     []string
	PauseImage string
}

// nodeIdentities are the node's components, each with the user name
// Kubernetes' bootstrap RBAC binds (the kubelet's is the Node authorizer's).
var nodeIdentities = []identity{
	{"system:node:" + NodeName, "system:nodes", "kubelet.kubeconfig"},
	{"system:kube-scheduler", "", "scheduler.kubeconfig"},
	{"system:kube-controller-manager", "", "controller-manager.kubeconfig"},
	{"system:kube-proxy", "", "kube-proxy.kubeconfig"},
}

// nodeNet is the cluster's network namespace: the host reaches it over a
// veth at 10.213.S.1, the node (apiserver, kubelet, hostNetwork pods) is
// 10.213.S.2 and pods get addresses of 10.214.S.0/24 on a bridge inside.
type nodeNet struct {
	net       *netns.Net
	ip        string
	podSubnet string
}

// nodeState is what StopDir needs to clean up a node after the process that
// started it is gone.
type nodeState struct {
	Netns     string `json:"netns"`
	PodSubnet string `json:"podSubnet"`
}

func (n *nodeNet) name() string {
	if n == nil {
		return ""
	}
	return n.net.Name
}

func newNodeNet(dir string) (*nodeNet, error) {
	nn, err := netns.New(nodeSubnetStart)
	if err != nil {
		return nil, fmt.Errorf("cluster: node network namespace: %w", err)
	}
	ip, err := nn.AddAddress()
	if err != nil {
		nn.Close()
		return nil, err
	}
	// Service addresses need a route for kube-proxy's DNAT (in OUTPUT,
	// after routing) to see them.
	if err := nn.AddRoute(serviceCIDR); err != nil {
		nn.Close()
		return nil, err
	}
	third := strings.Split(ip, ".")[2]
	n := &nodeNet{net: nn, ip: ip, podSubnet: "10.214." + third + ".0/24"}
	b, _ := json.Marshal(nodeState{Netns: nn.Name, PodSubnet: n.podSubnet})
	if err := os.WriteFile(filepath.Join(dir, "node.json"), b, 0o600); err != nil {
		nn.Close()
		return nil, err
	}
	return n, nil
}

func (n *nodeNet) close() {
	if n != nil {
		n.net.Close()
	}
}

// NodeIP is the node's address (hostNetwork pods serve on it), or "" when
// the cluster has no node.
func (c *Cluster) NodeIP() string {
	if c.node == nil {
		return ""
	}
	return c.node.ip
}

// nodeDir holds everything of the node: configs, containerd's root and
// state, the kubelet's root (pod volumes), pod logs.
func (c *Cluster) nodeDir(parts ...string) string {
	return filepath.Join(append([]string{c.Dir, "node"}, parts...)...)
}

// criSocket is containerd's socket, which the kubelet and this package use.
func criSocket(dir string) string { return filepath.Join(dir, "node", "containerd", "containerd.sock") }

// PodLogsDir is where the kubelet writes container logs
// (NAMESPACE_POD_UID/CONTAINER/N.log).
func (c *Cluster) PodLogsDir() string { return c.nodeDir("pod-logs") }

// KubeletDir is the kubelet's root: pods/UID/volumes/... hold pod volumes.
func (c *Cluster) KubeletDir() string { return c.nodeDir("kubelet") }

func (c *Cluster) startNode(ctx context.Context, o NodeOptions) error {
	for _, d := range []string{"containerd", "kubelet", "kubelet-certs", "cni/net.d", "cni/ipam", "pod-logs"} {
		if err := os.MkdirAll(c.nodeDir(d), 0o700); err != nil {
			return err
		}
	}
	files := map[string]string{
		"containerd/config.toml":    containerdConfig,
		"cni/net.d/10-kit.conflist": cniConfig,
		"kubelet.yaml":              kubeletConfig,
		"kube-proxy.yaml":           kubeProxyConfig,
	}
	data := map[string]string{
		"Dir": c.nodeDir(), "Socket": criSocket(c.Dir), "Pause": o.PauseImage,
		"NodeIP": c.node.ip, "PodSubnet": c.node.podSubnet,
	}
	for name, tmpl := range files {
		var b bytes.Buffer
		if err := template.Must(template.New(name).Parse(tmpl)).Execute(&b, data); err != nil {
			return err
		}
		if err := os.WriteFile(c.nodeDir(name), b.Bytes(), 0o600); err != nil {
			return err
		}
	}
	for _, id := range nodeIdentities {
		if err := writeKubeconfig(c.nodeDir(id.kubeconfig), c.Host, c.CAPEM, id.user, c.pki.tokens[id.user]); err != nil {
			return err
		}
	}

	if err := c.writeKubernetesEndpoints(ctx); err != nil {
		return err
	}
	containerd := c.nodePart("containerd", "containerd", "--config", c.nodeDir("containerd/config.toml"))
	if err := containerd.Start(); err != nil {
		return err
	}
	cri, err := dialCRI(ctx, criSocket(c.Dir), containerd, c.readyTimeout)
	if err != nil {
		return err
	}
	c.cri = cri
	// At once: each import mostly waits for its own unpacking.
	errs := make(chan error, len(o.Images))
	for _, img := range o.Images {
		go func() {
			out, err := exec.CommandContext(ctx, "ctr", "--address", criSocket(c.Dir), "-n", "k8s.io", "images", "import", img).CombinedOutput()
			if err != nil {
				err = fmt.Errorf("cluster: importing %s into containerd: %v: %s", img, err, out)
			}
			errs <- err
		}()
	}
	for range o.Images {
		if err := <-errs; err != nil {
			return err
		}
	}

	var labels []string
	for k, v := range o.Labels {
		labels = append(labels, k+"="+v)
	}
	sort.Strings(labels)
	parts := []*proc.Process{
		c.nodePart("kube-controller-manager", filepath.Join(c.binDir, "kube-controller-manager"),
			"--kubeconfig="+c.nodeDir("controller-manager.kubeconfig"),
			"--bind-address=127.0.0.1", "--leader-elect=false",
			// Each controller acts as its own ServiceAccount, with the
			// bootstrap roles, as kubeadm sets it up.
			"--use-service-account-credentials=true",
			"--service-account-private-key-file="+c.pki.saKey,
			"--root-ca-file="+c.pki.caCert,
			// Pods whose node went away are deleted soon, not after 5 min,
			// and a new node loses its not-ready taint within a second.
			"--node-monitor-grace-period=20s", "--node-monitor-period=1s"),
		c.nodePart("kube-scheduler", filepath.Join(c.binDir, "kube-scheduler"),
			"--kubeconfig="+c.nodeDir("scheduler.kubeconfig"),
			"--bind-address=127.0.0.1", "--leader-elect=false"),
		c.nodePart("kubelet", filepath.Join(c.binDir, "kubelet"),
			"--config="+c.nodeDir("kubelet.yaml"),
			"--kubeconfig="+c.nodeDir("kubelet.kubeconfig"),
			"--root-dir="+c.KubeletDir(), "--cert-dir="+c.nodeDir("kubelet-certs"),
			"--hostname-override="+NodeName, "--node-ip="+c.node.ip,
			"--node-labels="+strings.Join(labels, ",")),
		c.nodePart("kube-proxy", filepath.Join(c.binDir, "kube-proxy"), "--config="+c.nodeDir("kube-proxy.yaml")),
	}
	for _, p := range parts {
		if err := p.Start(); err != nil {
			return err
		}
	}
	return c.waitNodeReady(ctx)
}

// writeKubernetesEndpoints points the kubernetes Service at the apiserver
// (see the --endpoint-reconciler-type note in Start).
func (c *Cluster) writeKubernetesEndpoints(ctx context.Context) error {
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		return err
	}
	name, port, proto, ready := "https", int32(6443), corev1.ProtocolTCP, true
	es := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Name: "kubernetes", Namespace: "default", Labels: map[string]string{
			discoveryv1.LabelServiceName: "kubernetes", discoveryv1.LabelManagedBy: "kit.external-haproxy.dev"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{c.node.ip}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}}},
		Ports:       []discoveryv1.EndpointPort{{Name: &name, Port: &port, Protocol: &proto}},
	}
	_, err = cs.DiscoveryV1().EndpointSlices("default").Create(ctx, es, metav1.CreateOptions{})
	return err
}

// nodePart is a node process run in the cluster's network namespace.
func (c *Cluster) nodePart(name, bin string, args ...string) *proc.Process {
	p := &proc.Process{Name: name, Dir: c.Dir, Bin: bin, Args: args, Detach: c.detach, Netns: c.node.name()}
	c.parts = append(c.parts, p)
	return p
}

// waitNodeReady waits until the node can run pods: Ready, without the
// not-ready taint (the controller-manager removes it), ServiceAccounts being
// made (its token controllers run) and kube-proxy's rules synced.
func (c *Cluster) waitNodeReady(ctx context.Context) error {
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		return err
	}
	hc := &http.Client{Timeout: 2 * time.Second}
	last := "no check yet"
	check := func() bool {
		n, err := cs.CoreV1().Nodes().Get(ctx, NodeName, metav1.GetOptions{})
		if err != nil {
			last = err.Error()
			return false
		}
		if !nodeReady(n) {
			last = "node not Ready"
			return false
		}
		for _, t := range n.Spec.Taints {
			if t.Key == corev1.TaintNodeNotReady {
				last = "node still has the " + t.Key + " taint"
				return false
			}
		}
		if _, err := cs.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{}); err != nil {
			last = "no default ServiceAccount yet: " + err.Error()
			return false
		}
		resp, err := hc.Get("http://" + c.node.ip + ":10256/healthz")
		if err != nil {
			last = "kube-proxy: " + err.Error()
			return false
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			last = "kube-proxy: " + resp.Status
			return false
		}
		return true
	}
	return c.waitParts(ctx, c.readyTimeout, check, func() string { return last })
}

func nodeReady(n *corev1.Node) bool {
	for _, cond := range n.Status.Conditions {
		if cond.Type == corev1.NodeReady {
			return cond.Status == corev1.ConditionTrue
		}
	}
	return false
}

// waitParts polls ok until it holds, failing early with the log of a node
// process that exited.
func (c *Cluster) waitParts(ctx context.Context, timeout time.Duration, ok func() bool, last func() string) error {
	var exited error
	cond := func() (bool, error) {
		if ok() {
			return true, nil
		}
		for _, p := range c.parts {
			if exited = p.EarlyExit(); exited != nil {
				return false, exited
			}
		}
		return false, nil
	}
	err := poll.Every(ctx, timeout, 100*time.Millisecond, cond, last)
	if err != nil && exited == nil {
		return fmt.Errorf("cluster: node not ready: %w; logs in %s", err, c.Dir)
	}
	return err
}

// stopNode stops the kubelet first (it would restart what is removed), then
// every pod through containerd's CRI (so the CNI plugin releases addresses
// and pod namespaces), then the rest; cleanupNode sweeps what is left.
func (c *Cluster) stopNode() {
	if c.node == nil {
		return
	}
	byName := map[string]*proc.Process{}
	for _, p := range c.parts {
		byName[p.Name] = p
	}
	if p := byName["kubelet"]; p != nil {
		p.Stop()
	}
	if c.cri != nil {
		c.cri.removeAllPods()
		c.cri.close()
		c.cri = nil
	}
	for i := len(c.parts) - 1; i >= 0; i-- {
		c.parts[i].Stop()
	}
	c.parts = nil
	_ = cleanupNode(c.Dir, nodeState{Netns: c.node.name(), PodSubnet: c.node.podSubnet})
	c.node.close()
	c.node = nil
}

// nodeParts are the node's processes as stopNodeDir stops them: the kubelet
// first, containerd after the pods.
var nodeParts = []string{"kubelet", "kube-proxy", "kube-scheduler", "kube-controller-manager", "containerd"}

// stopNodeDir is stopNode for a node started by another process (Detach).
func stopNodeDir(dir string) error {
	b, err := os.ReadFile(filepath.Join(dir, "node.json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var st nodeState
	if err := json.Unmarshal(b, &st); err != nil {
		return fmt.Errorf("%s: %w", filepath.Join(dir, "node.json"), err)
	}
	if err := proc.StopByPIDFile(dir, "kubelet"); err != nil {
		return err
	}
	if _, ok := proc.RunningPID(dir, "containerd"); ok {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if cri, err := dialCRI(ctx, criSocket(dir), nil, 10*time.Second); err == nil {
			cri.removeAllPods()
			cri.close()
		}
		cancel()
	}
	for _, name := range nodeParts[1:] {
		if err := proc.StopByPIDFile(dir, name); err != nil {
			return err
		}
	}
	if err := cleanupNode(dir, st); err != nil {
		return err
	}
	return os.Remove(filepath.Join(dir, "node.json"))
}

const containerdConfig = `version = 2
root = "{{.Dir}}/containerd/root"
state = "{{.Dir}}/containerd/state"
[grpc]
  address = "{{.Socket}}"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{{.Pause}}"
  # Root here lacks CAP_SYS_RESOURCE: without this every sandbox fails in
  # runc ("can't get final child's PID from pipe").
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "{{.Dir}}/cni/net.d"
`

// cniConfig: pods on a bridge inside the node's namespace; no masquerade,
// nothing leaves it.
const cniConfig = `{
  "cniVersion": "0.4.0",
  "name": "kit",
  "plugins": [
    {"type": "bridge", "bridge": "kit0", "isGateway": true, "ipMasq": false,
     "ipam": {"type": "host-local", "ranges": [[{"subnet": "{{.PodSubnet}}"}]], "dataDir": "{{.Dir}}/cni/ipam"}},
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
`

// kubeletConfig: what a kubelet needs to run in this sandbox (see
// ../shared notes and the README): cgroup v1 with cgroupfs and no QoS
// hierarchy, no swap check, relaxed eviction. Its API (logs, exec) is
// reachable only inside the namespace and from this host, so anonymous
// access stands in for the apiserver's client certificate.
const kubeletConfig = `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: {{.NodeIP}}
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
authentication:
  anonymous: {enabled: true}
  webhook: {enabled: false}
authorization: {mode: AlwaysAllow}
containerRuntimeEndpoint: unix://{{.Socket}}
cgroupDriver: cgroupfs
failCgroupV1: false
cgroupsPerQOS: false
enforceNodeAllocatable: []
failSwapOn: false
makeIPTablesUtilChains: false
resolvConf: ""
podLogsDir: {{.Dir}}/pod-logs
evictionHard: {memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1%, nodefs.inodesFree: 1%}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
serializeImagePulls: false
`

const kubeProxyConfig = `apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: {{.Dir}}/kube-proxy.kubeconfig}
hostnameOverride: kit-node
mode: iptables
clusterCIDR: {{.PodSubnet}}
healthzBindAddress: {{.NodeIP}}:10256
metricsBindAddress: 127.0.0.1:10249
# nf_conntrack_max is not this namespace's to set; 0 leaves it alone.
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
iptables: {localhostNodePorts: false}
`
