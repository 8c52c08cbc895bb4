// Package cluster runs a throw-away Kubernetes control plane (etcd and
// kube-apiserver, no controller-manager, no scheduler, no nodes) on 127.0.0.1
// for tests and local work. It needs only client-go and does not import
// testing, so commands (hack/localcluster) use the same code as the tests; the
// testing glue is in the clustertest subpackage.
//
// What a test should know about this control plane:
//   - RBAC is on. The admin kubeconfig uses a static token in system:masters;
//     TokenKubeconfig gives a ServiceAccount's view instead.
//   - Without kube-controller-manager, Services get no EndpointSlices (write
//     them yourself), deleted Namespaces stay Terminating, no default
//     ServiceAccount is created and there is no garbage collection.
//   - EndpointSlice addresses may not be loopback (127.0.0.0/8, ::1) or
//     link-local; use e.g. 10.x or 192.0.2.x (TEST-NET-1) in objects, and never
//     send traffic to them.
package cluster

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/external-haproxy/kit/internal/loopback"
	"github.com/external-haproxy/kit/test/proc"
)

// DefaultReadyTimeout is generous because startup takes 2-3 s on an idle
// machine but more than twice that when other builds share the cores.
const DefaultReadyTimeout = 90 * time.Second

// Options configures Start.
type Options struct {
	// Dir holds everything of this cluster: pki/, etcd/ (data), *.log, *.pid and
	// kubeconfig. It is created if missing; state of an earlier, stopped cluster
	// in it is replaced. Required. A tmpfs (/dev/shm) makes startup faster.
	Dir string
	// BinDir contains kube-apiserver and etcd; empty means FindBinaries.
	BinDir string
	// Detach lets the processes outlive the calling process (for
	// hack/local-cluster.sh); stop them later with StopDir. Without it they are
	// killed when the caller dies.
	Detach bool
	// ReadyTimeout bounds each wait for etcd and kube-apiserver to become ready;
	// zero means DefaultReadyTimeout.
	ReadyTimeout time.Duration
	// Node, when set, adds a real node: kube-scheduler,
	// kube-controller-manager, containerd, a kubelet and kube-proxy, so that
	// workloads run as Kubernetes runs them. Needs root.
	Node *NodeOptions
}

// Cluster is a running control plane.
type Cluster struct {
	Dir        string
	Kubeconfig string       // admin kubeconfig (system:masters), DIR/kubeconfig
	Host       string       // https://127.0.0.1:<port>
	Config     *rest.Config // same identity as Kubeconfig, for client-go
	CAPEM      []byte       // CA that signed the apiserver's serving certificate

	token        string
	readyTimeout time.Duration
	etcd         *proc.Process
	apiserver    *proc.Process

	// The node, when Options.Node is set.
	node   *nodeNet
	pki    *pki
	binDir string
	detach bool
	parts  []*proc.Process // node processes, in start order
	cri    *criClient
}

// Start launches etcd and kube-apiserver on free 127.0.0.1 ports, waits until
// the apiserver's /readyz is OK and writes DIR/kubeconfig. On error nothing is
// left running.
func Start(ctx context.Context, opts Options) (_ *Cluster, err error) {
	if opts.Dir == "" {
		return nil, errors.New("cluster: Options.Dir is required")
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, err
	}
	for _, name := range []string{"etcd", "kube-apiserver"} {
		if pid, ok := proc.RunningPID(dir, name); ok {
			return nil, fmt.Errorf("cluster: %s (pid %d) of an earlier cluster is still running in %s; stop it first", name, pid, dir)
		}
	}
	binDir := opts.BinDir
	if binDir == "" {
		if binDir, err = FindBinaries(ctx, os.Stderr); err != nil {
			return nil, err
		}
	} else if err := checkBinaries(binDir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	// A fresh etcd every time: old data would hold objects and tokens of a
	// cluster whose keys no longer exist.
	for _, stale := range []string{"pki", "etcd", "etcd.log", "kube-apiserver.log", "kubeconfig"} {
		if err := os.RemoveAll(filepath.Join(dir, stale)); err != nil {
			return nil, err
		}
	}
	// A node gets the whole cluster in a network namespace of its own, as kind
	// gives each cluster a container: kube-proxy's iptables rules, the pod
	// bridge and pods binding :80 stay inside it, parallel clusters do not
	// meet, and the apiserver has the non-loopback address that the kubernetes
	// Service's endpoints need. Without a node, everything is on 127.0.0.1.
	var node *nodeNet
	if opts.Node != nil {
		if node, err = newNodeNet(dir); err != nil {
			return nil, err
		}
		defer func() {
			if err != nil {
				node.close()
			}
		}()
	}
	var ips []net.IP
	var ids []identity
	if node != nil {
		ips, ids = []net.IP{net.ParseIP(node.ip), net.ParseIP(kubernetesServiceIP)}, nodeIdentities
	}
	pk, err := writePKI(filepath.Join(dir, "pki"), ips, ids)
	if err != nil {
		return nil, fmt.Errorf("cluster: pki: %w", err)
	}
	var etcdURL, peerURL, bindIP, port string
	if node != nil {
		// The namespace is private: fixed, well-known ports, on the node's
		// address so that this process can check them from outside.
		etcdURL, peerURL, bindIP, port = "http://"+node.ip+":2379", "http://127.0.0.1:2380", node.ip, "6443"
	} else {
		// Free ports are found by binding :0 and closing again; another process could
		// grab one in between, but then the component exits with "address in use" and
		// Start reports it with the log tail instead of hanging.
		ports, err := loopback.FreePorts(3)
		if err != nil {
			return nil, err
		}
		etcdURL = "http://127.0.0.1:" + strconv.Itoa(ports[0])
		peerURL = "http://127.0.0.1:" + strconv.Itoa(ports[1])
		bindIP, port = "127.0.0.1", strconv.Itoa(ports[2])
	}
	host := "https://" + net.JoinHostPort(bindIP, port)

	c := &Cluster{
		Dir:          dir,
		Kubeconfig:   filepath.Join(dir, "kubeconfig"),
		Host:         host,
		CAPEM:        pk.caPEM,
		token:        pk.token,
		readyTimeout: opts.ReadyTimeout,
		node:         node,
		pki:          pk,
		binDir:       binDir,
		detach:       opts.Detach,
	}
	if c.readyTimeout == 0 {
		c.readyTimeout = DefaultReadyTimeout
	}
	defer func() {
		if err != nil {
			c.Stop()
		}
	}()

	c.etcd = &proc.Process{
		Name: "etcd", Dir: dir, Bin: filepath.Join(binDir, "etcd"), Detach: opts.Detach, Netns: node.name(),
		Args: []string{
			"--name=kit", "--data-dir=" + filepath.Join(dir, "etcd"),
			"--listen-client-urls=" + etcdURL, "--advertise-client-urls=" + etcdURL,
			"--listen-peer-urls=" + peerURL, "--initial-advertise-peer-urls=" + peerURL,
			"--initial-cluster=kit=" + peerURL,
			// Test data is disposable; fsync only slows every write down.
			"--unsafe-no-fsync=true",
			"--log-level=warn",
		},
	}
	if err := c.etcd.Start(); err != nil {
		return nil, err
	}
	if err := waitHTTP(ctx, c.etcd, http.DefaultClient, etcdURL+"/health", "", c.readyTimeout); err != nil {
		return nil, err
	}

	c.apiserver = &proc.Process{
		Name: "kube-apiserver", Dir: dir, Bin: filepath.Join(binDir, "kube-apiserver"), Detach: opts.Detach, Netns: node.name(),
		Args: []string{
			"--etcd-servers=" + etcdURL,
			"--bind-address=" + bindIP, "--secure-port=" + port,
			// Otherwise it advertises the default-route interface's address.
			"--advertise-address=" + bindIP,
			"--tls-cert-file=" + pk.serverCert, "--tls-private-key-file=" + pk.serverKey,
			"--token-auth-file=" + pk.tokenFile,
			// The default is AlwaysAllow, which would hide missing RBAC rules.
			// Node: the kubelet gets exactly what its node needs, as in a
			// real cluster, and NodeRestriction keeps it to its own objects.
			"--authorization-mode=Node,RBAC",
			"--enable-admission-plugins=NodeRestriction",
			"--service-account-issuer=https://kubernetes.default.svc",
			"--service-account-key-file=" + pk.saPub,
			"--service-account-signing-key-file=" + pk.saKey,
			// kube-proxy routes these on a node; without one nothing does.
			"--service-cluster-ip-range=" + serviceCIDR,
			// Without it, open watches (any informer) hold a SIGTERM'd apiserver
			// for the full 60 s --request-timeout; with it they are closed and
			// shutdown takes about a second, which keeps Restart and Stop quick.
			"--shutdown-watch-termination-grace-period=2s",
		},
	}
	// Without a node, 127.0.0.1 may not be an endpoint of the kubernetes
	// Service. With one, startNode writes the endpoint once: the lone
	// apiserver would take it out on every stop, and a restart (the outage
	// tests) would then wait for kube-proxy's back-off as well, as when
	// there is no other apiserver or load balancer in front.
	c.apiserver.Args = append(c.apiserver.Args, "--endpoint-reconciler-type=none")
	if node != nil {
		// There is no DNS for the node's name.
		c.apiserver.Args = append(c.apiserver.Args, "--kubelet-preferred-address-types=InternalIP")
	}
	if err := c.startAPIServer(ctx); err != nil {
		return nil, err
	}

	if err := c.writeKubeconfig(); err != nil {
		return nil, err
	}
	if c.Config, err = clientcmd.BuildConfigFromFlags("", c.Kubeconfig); err != nil {
		return nil, err
	}
	if opts.Node != nil {
		if err := c.startNode(ctx, *opts.Node); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (c *Cluster) startAPIServer(ctx context.Context) error {
	if err := c.apiserver.Start(); err != nil {
		return err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(c.CAPEM)
	hc := &http.Client{
		Timeout:   5 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
	}
	defer hc.CloseIdleConnections()
	return waitHTTP(ctx, c.apiserver, hc, c.Host+"/readyz", c.token, c.readyTimeout)
}

// Restart stops kube-apiserver and starts it again on the same port with the
// same etcd, so stored objects survive and clients (informers) reconnect to the
// same address. It returns once /readyz is OK again.
func (c *Cluster) Restart(ctx context.Context) error {
	c.StopAPIServer()
	return c.StartAPIServer(ctx)
}

// StopAPIServer stops kube-apiserver alone, for an outage that lasts until
// StartAPIServer; etcd keeps the objects.
func (c *Cluster) StopAPIServer() { c.apiserver.Stop() }

// StartAPIServer starts kube-apiserver again after StopAPIServer, on the same
// port, and returns once /readyz is OK.
func (c *Cluster) StartAPIServer(ctx context.Context) error { return c.startAPIServer(ctx) }

// Stop terminates the node (its pods first), kube-apiserver, then etcd. It is
// safe to call more than once. Dir is left in place (logs help when a test
// failed); the caller removes it.
func (c *Cluster) Stop() {
	c.stopNode()
	if c.apiserver != nil {
		c.apiserver.Stop()
	}
	if c.etcd != nil {
		c.etcd.Stop()
	}
}

// StopDir stops a cluster that an earlier process started in dir with
// Options.Detach, using the pid files there. A dir without running processes
// is not an error.
func StopDir(dir string) error {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if err := stopNodeDir(dir); err != nil {
		return err
	}
	if err := proc.StopByPIDFile(dir, "kube-apiserver"); err != nil {
		return err
	}
	return proc.StopByPIDFile(dir, "etcd")
}

func (c *Cluster) writeKubeconfig() error {
	return writeKubeconfig(c.Kubeconfig, c.Host, c.CAPEM, adminUser, c.token)
}

// writeKubeconfig writes a single-context kubeconfig named "kit" for a bearer
// token; tokens are the only credentials this control plane hands out.
func writeKubeconfig(path, host string, caPEM []byte, user, token string) error {
	kc := clientcmdapi.NewConfig()
	kc.Clusters["kit"] = &clientcmdapi.Cluster{Server: host, CertificateAuthorityData: caPEM}
	kc.AuthInfos[user] = &clientcmdapi.AuthInfo{Token: token}
	kc.Contexts["kit"] = &clientcmdapi.Context{Cluster: "kit", AuthInfo: user}
	kc.CurrentContext = "kit"
	return clientcmd.WriteToFile(*kc, path)
}

// waitHTTP polls url until it answers 200, p exits, ctx ends or timeout passes.
func waitHTTP(ctx context.Context, p *proc.Process, hc *http.Client, url, token string, timeout time.Duration) error {
	return p.WaitReady(ctx, timeout, func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s: %s", url, resp.Status)
		}
		return nil
	})
}
